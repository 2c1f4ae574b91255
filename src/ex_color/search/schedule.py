"""`ScheduleSearch`, the loop a notebook runs, and the rules that pick from its trials.

`ScheduleSearch` batches until the study holds `n_trials` trials (so a re-run or a resumed session
only trains what is missing), starting from the template's own point, and `trials()` is the study
as a table with a ``feasible`` column. `feasible_front` is that table's Pareto front among feasible
trials; `choose` applies a notebook's choice rule to it.

Design decisions:
- The study is named by a fingerprint of everything that defines it (template text, space,
  objectives, constraints, seeds, batch size), so a changed declaration starts a new study in the
  same file instead of mixing points of two searches.
- Trials an interrupted session left RUNNING are marked FAIL ("interrupted") and replaced. When the
  template's own point was among them, it is asked again, so it is measured even when the first batch
  was interrupted; the ``template`` column marks its attempts that were not interrupted.
- One search at a time per study file: `run` holds the file's `study_lock` until it returns or
  raises. A second search would mark the first one's trials "interrupted" and make it crash when it
  tells them, so it is refused, naming the file and the process that holds it.
- A batch in which no trial gave finite objectives stops the search with an error naming the
  objectives (a score that returns NaN would otherwise be asked for new points for ever).

Deliberately not here: the choice of objectives and space (a notebook declares them), plotting.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from ex_color.evaluation.ablation import Threshold
from ex_color.search.study import (
    AsyncTrain,
    Objective,
    Score,
    Train,
    TrialOutcome,
    batch_steps,
    drive,
    drive_async,
    open_study,
    optuna_module,
    study_errors,
    study_lock,
)
from ex_color.training.results import RunResult
from ex_color.training.specs import MemberSpec
from mini.temporal.template import SheetTemplate

log = logging.getLogger(__name__)

INTERRUPTED = 'interrupted before it was told'
"""The ``error`` of a trial an interrupted session left running."""


@dataclass
class ScheduleSearch:
    """A declared search over a schedule template, stored in an Optuna study; `run` it, read `trials()`."""

    path: str | Path
    """The study's SQLite file (e.g. under ``runs/``)."""
    prefix: str
    """Start of the study's name; a fingerprint of the declaration follows it."""
    template: SheetTemplate
    objectives: Sequence[Objective]
    train: Train | AsyncTrain
    """Trains a batch's member specs; `run` needs a plain function, `run_async` takes either."""
    score: Score
    """Scores a batch's members in one call (one mapping of metrics per member, in order)."""
    seeds: Sequence[int] = (0, 1, 2, 3)
    batch_size: int = 32
    constraints: Sequence[Threshold] = ()
    sampler_seed: int = 0
    _study: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.batch_size < 1 or not self.seeds:
            raise ValueError(
                f'ScheduleSearch: need batch_size >= 1 and at least one seed, got {self.batch_size}, {list(self.seeds)}'
            )

    @property
    def name(self) -> str:
        """The study's name: `prefix` and a fingerprint of the declaration."""
        declaration = {
            'template': self.template.csv,
            'space': [(p.name, p.lines, p.column, p.low, p.high, p.log) for p in self.template.space],
            'objectives': [(o.metric, o.direction) for o in self.objectives],
            'constraints': [(c.metric, c.limit, c.at_most) for c in self.constraints],
            'seeds': list(self.seeds),
            'batch_size': self.batch_size,
            'sampler_seed': self.sampler_seed,
        }
        digest = hashlib.sha256(json.dumps(declaration, sort_keys=True).encode()).hexdigest()[:10]
        return f'{self.prefix}-{digest}'

    @property
    def study(self) -> Any:
        if self._study is None:
            self._study = open_study(
                self.path,
                self.name,
                self.objectives,
                seed=self.sampler_seed,
                population=self.batch_size,
            )
        return self._study

    def run(self, n_trials: int, *, start_from_template: bool = True) -> list[TrialOutcome]:
        """Train batches until the study holds `n_trials` trained trials; returns the new outcomes.

        A new study's first trial is the template's own point (`start_from_template`), so the
        hand-made schedule is measured under the search's seeds and is on its figures. Trials an
        interrupted session left running are marked failed (``error``: interrupted) and retried as new
        points (the template's own point as itself); invalid points do not count towards `n_trials`,
        but a batch with no valid point at all is an error (the space is unlikely to be what was
        meant), and so is a batch whose every trial scored a NaN or infinite objective.

        Raises:
            StudyFileError: if another search is running on the study file, or the file is not a
                usable SQLite database.
        """
        return drive(self._batches(n_trials, start_from_template), self.train)  # type: ignore[arg-type]

    async def run_async(self, n_trials: int, *, start_from_template: bool = True) -> list[TrialOutcome]:
        """`run`, awaiting `train` when it is async (a notebook whose batches go to Modal)."""

        async def train(specs: list[MemberSpec]) -> RunResult:
            out = self.train(specs)
            return await out if inspect.isawaitable(out) else out

        return await drive_async(self._batches(n_trials, start_from_template), train)

    def _batches(
        self, n_trials: int, start_from_template: bool
    ) -> Generator[list[MemberSpec], RunResult, list[TrialOutcome]]:
        if n_trials < 1:
            raise ValueError(f'ScheduleSearch.run: n_trials must be >= 1, got {n_trials}')
        with study_lock(self.path), study_errors(Path(self.path)):
            return (yield from self._locked_batches(n_trials, start_from_template))

    def _locked_batches(
        self, n_trials: int, start_from_template: bool
    ) -> Generator[list[MemberSpec], RunResult, list[TrialOutcome]]:
        optuna = optuna_module()

        study = self.study
        states = optuna.trial.TrialState
        for t in study.get_trials(deepcopy=False, states=(states.RUNNING,)):
            study._storage.set_trial_user_attr(t._trial_id, 'error', INTERRUPTED)
            study.tell(t.number, state=states.FAIL)
        attempts = [t for t in study.trials if t.user_attrs.get('template')]
        never_measured = bool(attempts) and all(_interrupted(t) for t in attempts)
        if start_from_template and (not study.trials or never_measured):
            current = self.template.current()
            empty = [n for n, v in current.items() if v is None]
            if empty:
                raise ValueError(
                    f'{self.template.source}: cannot start from the template: its cells for {empty} are empty'
                )
            study.enqueue_trial(current, user_attrs={'template': True})

        def trained() -> int:
            return len(study.get_trials(deepcopy=False, states=(states.COMPLETE,)))

        outcomes: list[TrialOutcome] = []
        if trained() >= n_trials:
            log.info(
                f'study {self.name}: {trained()} trials stored, none to train (delete the study to redo it)'
            )
        elif trained():
            log.info(f'study {self.name}: resuming from {trained()} stored trials')
        while (done := trained()) < n_trials:
            size = min(self.batch_size, n_trials - done)
            start = time.perf_counter()
            new = yield from batch_steps(
                study,
                self.template,
                self.objectives,
                batch_size=size,
                seeds=self.seeds,
                score=self.score,
                constraints=self.constraints,
            )
            outcomes += new
            failed = sum(o.medians is None for o in new)
            if failed == len(new):
                not_finite = list(dict.fromkeys(m for o in new for m in o.not_finite))
                if not_finite:
                    batch = study.trials[new[0].number].user_attrs.get('batch')
                    named = ', '.join(repr(m) for m in not_finite)
                    raise ValueError(
                        f'{self.path}: no trial of batch {batch} gave a finite value of objective '
                        f'{named} (e.g. trial {new[0].number}: {new[0].error}); the search stops rather '
                        'than ask for new points that score the same way. Check `score`'
                    )
                raise ValueError(
                    f'{self.template.source}: every point of a batch made an invalid sheet, e.g. {new[0].error}'
                )
            log.info(
                f'batch of {size} trials x {len(self.seeds)} seeds in {time.perf_counter() - start:.0f} s '
                f'({trained()}/{n_trials} trained{f"; {failed} invalid" if failed else ""})'
            )
        return outcomes

    def trials(self) -> pd.DataFrame:
        """One row per trial (index ``trial``): state, batch, parameters, the seed medians of every
        scored metric, the worst seed of each objective (``worst:<metric>``), ``feasible``,
        ``template`` (the template's own point), and its batch's ``batch_seconds``, ``train_seconds``,
        ``members`` and ``cached_members`` (how many of them the run cache gave, untrained)."""
        rows = {}
        for t in self.study.trials:
            attrs = t.user_attrs
            row: dict[str, Any] = {'state': t.state.name, 'batch': attrs.get('batch')}
            row.update(t.params)
            row.update(attrs.get('medians', {}))
            row.update({f'worst:{k}': v for k, v in attrs.get('worst', {}).items()})
            cons = attrs.get('constraints')
            row['feasible'] = t.state.name == 'COMPLETE' and (cons is None or all(c <= 0 for c in cons))
            row['template'] = bool(attrs.get('template', False)) and not _interrupted(t)
            row['batch_seconds'] = attrs.get('batch_seconds')
            row['train_seconds'] = attrs.get('train_seconds')
            row['members'] = attrs.get('members')
            row['cached_members'] = attrs.get('cached_members', 0)
            row['error'] = attrs.get('error')
            rows[t.number] = row
        df = pd.DataFrame.from_dict(rows, orient='index')
        df.index.name = 'trial'
        return df


def _interrupted(trial: Any) -> bool:
    """Whether `trial` was left running by an interrupted session (and so never measured)."""
    return trial.state.name == 'FAIL' and trial.user_attrs.get('error') == INTERRUPTED


def feasible_front(trials: pd.DataFrame, objectives: Sequence[Objective]) -> pd.DataFrame:
    """The feasible trained trials that no other feasible trial beats on every objective (empty when
    no trial is feasible)."""
    from ex_color.evaluation.pareto import pareto_front

    ok = trials[trials['feasible'].astype(bool)]
    if ok.empty:
        return ok
    return pareto_front(
        ok,
        minimize=[o.metric for o in objectives if o.direction == 'minimize'],
        maximize=[o.metric for o in objectives if o.direction == 'maximize'],
    )


def choose(trials: pd.DataFrame, *, maximize: str, at_most: Mapping[str, float]) -> int | None:
    """The feasible trial with the highest `maximize` among those whose metrics stay at most the
    given values (e.g. the template's own collateral); None when no trial does.

    A limit that is NaN is an error: compared with NaN, no trial would pass, and the
    choice would read as "nothing beats the reference" when the reference was never measured."""
    missing = [m for m in (maximize, *at_most) if m not in trials.columns]
    if missing:
        raise KeyError(f'choose: the trials table has no column(s) {missing}')
    unmeasured = {m: v for m, v in at_most.items() if math.isnan(float(v))}
    if unmeasured:
        metric, value = next(iter(unmeasured.items()))
        raise ValueError(
            f'choose: at_most[{metric!r}] is {value}, not a number to compare with: the reference it '
            'was read from was not measured (e.g. a template trial that failed or was interrupted; '
            "see the trials table's state and error columns)"
        )
    ok = trials[trials['feasible'].astype(bool)]
    for metric, limit in at_most.items():
        ok = ok[ok[metric].astype(float) <= limit]
    return None if ok.empty else int(cast(int, ok[maximize].astype(float).idxmax()))  # trial numbers index it
