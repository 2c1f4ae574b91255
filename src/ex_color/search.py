"""Schedule search: Optuna proposes a batch of schedules, one run of the engine trains them all over seeds.

`open_study(path, name, objectives)` opens (or creates) a multi-objective Optuna study stored in an
SQLite file, so a search can stop and resume, and Optuna's own tools can read it. `search_batch`
asks the study for a batch of points of a `SheetTemplate`'s search space, trains every point × k seeds
as one `train_members` run (`train`, which receives the member specs), scores every member
(`score`), and tells the study each trial's objectives as medians over its seeds; the worst seed's
values, the medians of every scored metric, the batch and its wall time are kept as user attributes.
`ScheduleSearch` is the loop a notebook runs: batches until the study holds `n_trials` trials (so a
re-run or a resumed session only trains what is missing), starting from the template's own point,
and `trials()` is the study as a table.

Constraints (e.g. "the baseline reconstruction stays within its thresholds") are `Threshold`s on
seed medians; they are set on each trial (``Trial.set_constraint``), Optuna's samplers rank a point
that breaks one behind every point that keeps them all, and `trials()` says which are feasible.

Design decisions:
- A point whose sheet is invalid (e.g. a transition moved past the next keyframe) is told as FAILED
  with the reader's message (file, line, column) as its ``error`` attribute and logged, never
  trained and never silently dropped.
- Member names carry the trial number and the seed (``trial-7 seed-2``), so results map back
  without relying on order.
- The stored study must have the objectives' directions; a study file made for other objectives is
  an error naming the file, not a study silently extended with mismatched values. `ScheduleSearch`
  names its study by a fingerprint of everything that defines it (template text, space, objectives,
  constraints, seeds, batch size), so a changed declaration starts a new study in the same file
  instead of mixing points of two searches.
- With more than one objective the sampler is NSGA-II with a population of one batch: every batch
  is one generation, bred from the trials told so far.

Deliberately not here: the choice of objectives and space (a notebook declares them), plotting.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ex_color.evaluation.ablation import Threshold
from ex_color.training.run import MemberResult, MemberSpec, RunResult
from mini.temporal.headers import DopesheetError
from mini.temporal.template import SheetTemplate

__all__ = [
    'Objective',
    'ScheduleSearch',
    'TrialOutcome',
    'choose',
    'constraint_values',
    'feasible_front',
    'open_study',
    'search_batch',
    'search_batch_async',
]

log = logging.getLogger(__name__)


def _optuna() -> Any:
    """Optuna, imported without tqdm's warning that ipywidgets is missing (it names the install path)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='IProgress not found')
        import optuna
    return optuna


@dataclass(frozen=True)
class Objective:
    """A metric to optimise, as `score` names it."""

    metric: str
    direction: str = 'minimize'

    def __post_init__(self) -> None:
        if self.direction not in ('minimize', 'maximize'):
            raise ValueError(
                f'Objective {self.metric!r}: direction must be minimize or maximize, got {self.direction!r}'
            )


@dataclass(frozen=True)
class TrialOutcome:
    """One trial of a batch: its point, and its objectives over seeds (None when it failed)."""

    number: int
    values: dict[str, float]
    medians: dict[str, float] | None
    worst: dict[str, float] | None
    error: str | None = None


def constraint_values(medians: Mapping[str, float], constraints: Sequence[Threshold]) -> list[float]:
    """Optuna's constraint values (<= 0 is kept) of each threshold, relative to its limit."""
    out = []
    for th in constraints:
        if th.metric not in medians:
            raise KeyError(f'constraint {th.label!r}: score returned no {th.metric!r}')
        v = medians[th.metric]
        out.append((v - th.limit if th.at_most else th.limit - v) / abs(th.limit or 1.0))
    return out


def open_study(
    path: str | Path,
    name: str,
    objectives: Sequence[Objective],
    *,
    seed: int = 0,
    population: int = 50,
) -> Any:
    """The study `name` in the SQLite file `path` (created if absent), with `objectives`' directions.

    `population` is NSGA-II's generation size (several objectives). Constraints need no setting here:
    `search_batch` sets them on each trial (``Trial.set_constraint``) and the samplers read them.
    """
    optuna = _optuna()

    if not objectives:
        raise ValueError('open_study: give at least one Objective')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    directions = [o.direction for o in objectives]
    storage = f'sqlite:///{path}'
    sampler = (
        optuna.samplers.NSGAIISampler(seed=seed, population_size=max(population, 2))
        if len(objectives) > 1
        else optuna.samplers.TPESampler(seed=seed)
    )
    study = optuna.create_study(
        study_name=name, storage=storage, directions=directions, load_if_exists=True, sampler=sampler
    )
    stored = [d.name.lower() for d in study.directions]
    if stored != directions:
        raise ValueError(f'{path}: study {name!r} was made for directions {stored}, not {directions}')
    study.set_user_attr('objectives', [o.metric for o in objectives])
    return study


def _worst(values: np.ndarray, direction: str) -> float:
    return float(values.max() if direction == 'minimize' else values.min())


Train = Callable[[list[MemberSpec]], RunResult]
"""Trains member specs as one run of the engine (``train_members`` with the experiment's settings)."""
AsyncTrain = Callable[[list[MemberSpec]], Awaitable[RunResult]]
"""The same, awaited (e.g. `train_members_on` a Modal backend)."""


def _drive(steps: Generator[list[MemberSpec], RunResult, Any], train: Train) -> Any:
    """Run a search generator to its end, training each batch of specs it yields with `train`."""
    try:
        specs = next(steps)
        while True:
            specs = steps.send(_checked(train(specs)))
    except StopIteration as done:
        return done.value


async def _drive_async(steps: Generator[list[MemberSpec], RunResult, Any], train: AsyncTrain) -> Any:
    try:
        specs = next(steps)
        while True:
            specs = steps.send(_checked(await train(specs)))
    except StopIteration as done:
        return done.value


def _checked(result: Any) -> RunResult:
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()  # never to run: do not leave it to warn
        raise TypeError(
            'search: train returned an awaitable; use the async form (search_batch_async, run_async)'
        )
    return result


def _batch(
    study: Any,
    template: SheetTemplate,
    objectives: Sequence[Objective],
    *,
    batch_size: int,
    seeds: Sequence[int],
    score: Callable[[MemberResult], Mapping[str, float]],
    constraints: Sequence[Threshold] = (),
    batch: int | None = None,
) -> Generator[list[MemberSpec], RunResult, list[TrialOutcome]]:
    """One batch: ask, yield the specs to train, receive their run, score and tell."""
    optuna = _optuna()

    start = time.perf_counter()
    if batch_size < 1 or not seeds:
        raise ValueError(
            f'search_batch: need batch_size >= 1 and at least one seed, got {batch_size}, {list(seeds)}'
        )
    if batch is None:
        batch = 1 + max((t.user_attrs.get('batch', -1) for t in study.trials), default=-1)
    asked, specs, outcomes = {}, [], {}
    for _ in range(batch_size):
        trial = study.ask()
        values = {p.name: trial.suggest_float(p.name, p.low, p.high, log=p.log) for p in template.space}
        trial.set_user_attr('batch', batch)
        try:
            sheet = template.fill(values, f'trial {trial.number}')
        except DopesheetError as e:
            trial.set_user_attr('error', str(e))
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            log.warning('trial %d not trained: %s', trial.number, e)
            outcomes[trial.number] = TrialOutcome(trial.number, values, None, None, str(e))
            continue
        asked[trial.number] = (trial, values)
        specs += [
            MemberSpec(seed, dopesheet=sheet, name=f'trial-{trial.number} seed-{seed}') for seed in seeds
        ]
    if specs:
        trained_at = time.perf_counter()
        result = yield specs
        train_seconds = time.perf_counter() - trained_at
        by_trial: dict[int, list[Mapping[str, float]]] = {n: [] for n in asked}
        for member in result:
            number = int(member.name.split(' ')[0].removeprefix('trial-'))
            by_trial[number].append(score(member))
        seconds = time.perf_counter() - start
        for number, (trial, values) in asked.items():
            scores = by_trial[number]
            missing = [o.metric for o in objectives if any(o.metric not in s for s in scores)]
            if missing:
                raise KeyError(f'search_batch: score returned no {missing} for trial {number}')
            everything = {m: float(np.median([s[m] for s in scores])) for m in scores[0]}
            medians = {o.metric: everything[o.metric] for o in objectives}
            worst = {
                o.metric: _worst(np.array([s[o.metric] for s in scores]), o.direction) for o in objectives
            }
            trial.set_user_attr('worst', worst)
            trial.set_user_attr('medians', everything)
            trial.set_user_attr('batch_seconds', seconds)
            trial.set_user_attr('train_seconds', train_seconds)
            trial.set_user_attr('members', len(specs))
            if constraints:
                values_ = constraint_values(everything, constraints)
                trial.set_user_attr('constraints', values_)
                for th, v in zip(constraints, values_, strict=True):
                    trial.set_constraint(th.label, v)
            study.tell(trial, [medians[o.metric] for o in objectives])
            outcomes[number] = TrialOutcome(number, values, medians, worst)
    return [outcomes[n] for n in sorted(outcomes)]


def search_batch(
    study: Any, template: SheetTemplate, objectives: Sequence[Objective], *, train: Train, **kw: Any
) -> list[TrialOutcome]:
    """Ask for `batch_size` points, train each over `seeds` in one run (`train`), score every member
    (`score`), tell the study; see the module doc. Keywords: ``batch_size``, ``seeds``, ``score``,
    ``constraints`` (thresholds on seed medians) and ``batch`` (the batch's number in the trials'
    attributes; default one more than the study's last)."""
    return _drive(_batch(study, template, objectives, **kw), train)


async def search_batch_async(
    study: Any, template: SheetTemplate, objectives: Sequence[Objective], *, train: AsyncTrain, **kw: Any
) -> list[TrialOutcome]:
    """`search_batch` with an awaited `train` (a batch on Modal: `train_members_on`)."""
    return await _drive_async(_batch(study, template, objectives, **kw), train)


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
    score: Callable[[MemberResult], Mapping[str, float]]
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
        points; invalid points do not count towards `n_trials`, but a batch with no valid point at all
        is an error (the space is unlikely to be what was meant).
        """
        return _drive(self._batches(n_trials, start_from_template), self.train)  # type: ignore[arg-type]

    async def run_async(self, n_trials: int, *, start_from_template: bool = True) -> list[TrialOutcome]:
        """`run`, awaiting `train` when it is async (a notebook whose batches go to Modal)."""

        async def train(specs: list[MemberSpec]) -> RunResult:
            out = self.train(specs)
            return await out if inspect.isawaitable(out) else out

        return await _drive_async(self._batches(n_trials, start_from_template), train)

    def _batches(
        self, n_trials: int, start_from_template: bool
    ) -> Generator[list[MemberSpec], RunResult, list[TrialOutcome]]:
        optuna = _optuna()

        if n_trials < 1:
            raise ValueError(f'ScheduleSearch.run: n_trials must be >= 1, got {n_trials}')
        study = self.study
        states = optuna.trial.TrialState
        for t in study.get_trials(deepcopy=False, states=(states.RUNNING,)):
            study._storage.set_trial_user_attr(t._trial_id, 'error', 'interrupted before it was told')
            study.tell(t.number, state=states.FAIL)
        if start_from_template and not study.trials:
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
            new = yield from _batch(
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
        scored metric, the worst seed of each objective (``worst:<metric>``), ``feasible`` and
        ``template`` (the template's own point)."""
        rows = {}
        for t in self.study.trials:
            attrs = t.user_attrs
            row: dict[str, Any] = {'state': t.state.name, 'batch': attrs.get('batch')}
            row.update(t.params)
            row.update(attrs.get('medians', {}))
            row.update({f'worst:{k}': v for k, v in attrs.get('worst', {}).items()})
            cons = attrs.get('constraints')
            row['feasible'] = t.state.name == 'COMPLETE' and (cons is None or all(c <= 0 for c in cons))
            row['template'] = bool(attrs.get('template', False))
            row['batch_seconds'] = attrs.get('batch_seconds')
            row['train_seconds'] = attrs.get('train_seconds')
            row['members'] = attrs.get('members')
            row['error'] = attrs.get('error')
            rows[t.number] = row
        df = pd.DataFrame.from_dict(rows, orient='index')
        df.index.name = 'trial'
        return df


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
    given values (e.g. the template's own collateral); None when no trial does."""
    missing = [m for m in (maximize, *at_most) if m not in trials.columns]
    if missing:
        raise KeyError(f'choose: the trials table has no column(s) {missing}')
    ok = trials[trials['feasible'].astype(bool)]
    for metric, limit in at_most.items():
        ok = ok[ok[metric].astype(float) <= limit]
    return None if ok.empty else int(ok[maximize].astype(float).idxmax())
