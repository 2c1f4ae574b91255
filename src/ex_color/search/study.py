"""One batch of a schedule search: Optuna proposes points, one engine run trains them all over seeds.

`open_study(path, name, objectives)` opens (or creates) a multi-objective Optuna study stored in an
SQLite file, so a search can stop and resume, and Optuna's own tools can read it. `search_batch`
asks the study for a batch of points of a `SheetTemplate`'s search space, trains every point x k seeds
as one `train_members` run (`train`, which receives the member specs), scores the run's members in
one call (`score`, which receives them all and returns one mapping of metrics each, so a stacked
scorer such as `stacked_metrics` passes over every model at once), and tells the study each trial's
objectives as medians over its seeds; the worst seed's values, the medians of every scored metric,
the batch and its wall time are kept as user attributes.

Constraints (e.g. "the baseline reconstruction stays within its thresholds") are `Threshold`s on
seed medians; they are set on each trial (``Trial.set_constraint``), and Optuna's samplers rank a
point that breaks one behind every point that keeps them all.

Design decisions:
- A point whose sheet is invalid (e.g. a transition moved past the next keyframe) is told as FAILED
  with the reader's message (file, line, column) as its ``error`` attribute and logged, never
  trained and never silently dropped.
- Member names carry the trial number and the seed (``trial-7 seed-2``), so results map back
  without relying on order.
- The stored study must have the objectives' directions; a study file made for other objectives is
  an error naming the file, not a study silently extended with mismatched values.
- With more than one objective the sampler is NSGA-II with a population of one batch: every batch
  is one generation, bred from the trials told so far.
- The batch is a generator that yields member specs and receives their results, so the plain and
  the awaited (Modal) paths share every line but the call to `train`. The drivers close it however
  they end, so whatever it holds (`ScheduleSearch`'s lock) is let go at once, not when the garbage
  collector (or a notebook's kept traceback) lets go of the generator.
- A trial whose objective is not finite (NaN or inf) for some seed is told as FAILED with the objective
  and the seeds in its ``error`` attribute: Optuna would fail it anyway, with a warning that names
  neither, and a loop that counts completed trials would ask for replacements for ever.
- A study file that is not SQLite, is locked by another connection, or is held by another search is
  a `StudyFileError` naming the file, never a bare SQLAlchemy error.
- `study_lock` is an exclusive ``flock`` on ``<study file>.lock``: the kernel releases it when its
  holder exits, even on ``kill -9``, so a crashed search never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import inspect
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ex_color.evaluation.ablation import Threshold
from ex_color.training.results import MemberResult, RunResult
from ex_color.training.specs import MemberSpec
from mini.temporal.headers import DopesheetError
from mini.temporal.template import SheetTemplate

log = logging.getLogger(__name__)


def optuna_module() -> Any:
    """Optuna, imported without tqdm's warning that ipywidgets is missing (it names the install path)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='IProgress not found')
        import optuna
    return optuna


class StudyFileError(Exception):
    """A study file that cannot be used: not an SQLite database, locked, or held by another search."""


@contextmanager
def study_errors(path: Path) -> Iterator[None]:
    """Turn the storage's errors on `path` (SQLAlchemy's, or Optuna's wrapping of them) into a
    `StudyFileError` that names the file and says what is wrong with it."""
    import sqlalchemy.exc

    optuna = optuna_module()
    try:
        yield
    except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as err:
        cause = err.__cause__ if isinstance(err, optuna.exceptions.StorageInternalError) else err
        text = str(getattr(cause, 'orig', None) or cause).splitlines()[0]
        if 'not a database' in text:
            why = 'not an SQLite database (is it the study file?)'
        elif 'locked' in text:
            why = 'the database is locked by another connection (an open sqlite3 shell, or another tool writing it)'
        else:
            why = f'the study storage failed ({text})'
        raise StudyFileError(f'{path}: {why}') from err


@contextmanager
def study_lock(path: str | Path) -> Iterator[Path]:
    """Hold ``<path>.lock`` exclusively for the block, so one search at a time runs on the study file
    `path`; yields the lock file. Another live holder (another process, or another open lock in this
    one) makes it a `StudyFileError` that names the file and the holder's process id."""
    path = Path(path)
    lock = path.with_name(path.name + '.lock')
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors='replace').strip() or 'unknown'
            raise StudyFileError(
                f'{path}: another search is running on this study file (process {holder}, holding {lock}); '
                'wait for it to finish, or give this search a study file of its own'
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f'{os.getpid()}\n'.encode(), 0)
        yield lock
    finally:
        os.close(fd)  # releases the lock; the file stays, empty of meaning until the next holder writes


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
    not_finite: tuple[str, ...] = ()
    """The objectives some seed scored NaN or inf for (the trial then failed)."""


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

    Raises:
        StudyFileError: if `path` is not an SQLite database or another connection holds it locked.
    """
    optuna = optuna_module()

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
    with study_errors(path):
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
Score = Callable[[Sequence[MemberResult]], Sequence[Mapping[str, float]]]
"""Scores a batch's members, in order: one mapping of metric name to value per member."""


def drive(steps: Generator[list[MemberSpec], RunResult, Any], train: Train) -> Any:
    """Run a search generator to its end, training each batch of specs it yields with `train`."""
    try:
        specs = next(steps)
        while True:
            specs = steps.send(_checked(train(specs)))
    except StopIteration as done:
        return done.value
    finally:
        steps.close()


async def drive_async(steps: Generator[list[MemberSpec], RunResult, Any], train: AsyncTrain) -> Any:
    """`drive` with an async `train` (a batch awaited on the experiment's backend)."""
    try:
        specs = next(steps)
        while True:
            specs = steps.send(_checked(await train(specs)))
    except StopIteration as done:
        return done.value
    finally:
        steps.close()


def _checked(result: Any) -> RunResult:
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()  # never to run: do not leave it to warn
        raise TypeError(
            'search: train returned an awaitable; use the async form (search_batch_async, run_async)'
        )
    return result


def batch_steps(
    study: Any,
    template: SheetTemplate,
    objectives: Sequence[Objective],
    *,
    batch_size: int,
    seeds: Sequence[int],
    score: Score,
    constraints: Sequence[Threshold] = (),
    batch: int | None = None,
) -> Generator[list[MemberSpec], RunResult, list[TrialOutcome]]:
    """One batch: ask, yield the specs to train, receive their run, score and tell."""
    optuna = optuna_module()

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
        members = list(result)
        scored = list(score(members))
        if len(scored) != len(members):
            raise ValueError(
                f'search_batch: score returned {len(scored)} results for the {len(members)} members of '
                f'batch {batch} (it must return one mapping per member, in order)'
            )
        by_trial: dict[int, list[tuple[int, Mapping[str, float]]]] = {n: [] for n in asked}
        for member, metrics in zip(members, scored, strict=True):
            trial_part, seed_part = member.name.split(' ')
            by_trial[int(trial_part.removeprefix('trial-'))].append(
                (int(seed_part.removeprefix('seed-')), metrics)
            )
        seconds = time.perf_counter() - start
        for number, (trial, values) in asked.items():
            seeded = by_trial[number]
            scores = [s for _, s in seeded]
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
            trial.set_user_attr('cached_members', result.cached)
            if not_finite := _not_finite(objectives, seeded):
                problem = '; '.join(not_finite.values()) + ' (Optuna takes finite objectives only)'
                trial.set_user_attr('error', problem)
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                log.warning('trial %d failed: %s', number, problem)
                outcomes[number] = TrialOutcome(number, values, None, None, problem, tuple(not_finite))
                continue
            if constraints:
                values_ = constraint_values(everything, constraints)
                trial.set_user_attr('constraints', values_)
                for th, v in zip(constraints, values_, strict=True):
                    trial.set_constraint(th.label, v)
            study.tell(trial, [medians[o.metric] for o in objectives])
            outcomes[number] = TrialOutcome(number, values, medians, worst)
    return [outcomes[n] for n in sorted(outcomes)]


def _not_finite(
    objectives: Sequence[Objective], scores: Sequence[tuple[int, Mapping[str, float]]]
) -> dict[str, str]:
    """The objectives some seed scored NaN or inf for, each with the seeds and values (empty: all finite)."""
    out = {}
    for o in objectives:
        bad = [(seed, s[o.metric]) for seed, s in scores if not math.isfinite(s[o.metric])]
        if len(bad) == 1:
            out[o.metric] = f'objective {o.metric!r} is {bad[0][1]} for seed {bad[0][0]}'
        elif bad:
            listed = ', '.join(f'{seed} ({value})' for seed, value in bad)
            out[o.metric] = f'objective {o.metric!r} is not finite for seeds {listed}'
    return out


def search_batch(
    study: Any, template: SheetTemplate, objectives: Sequence[Objective], *, train: Train, **kw: Any
) -> list[TrialOutcome]:
    """Ask for `batch_size` points, train each over `seeds` in one run (`train`), score the members
    (`score`, all at once), tell the study; see the module doc. Keywords: ``batch_size``,
    ``seeds``, ``score``, ``constraints`` (thresholds on seed medians) and ``batch`` (the batch's
    number in the trials' attributes; default one more than the study's last)."""
    return drive(batch_steps(study, template, objectives, **kw), train)


async def search_batch_async(
    study: Any, template: SheetTemplate, objectives: Sequence[Objective], *, train: AsyncTrain, **kw: Any
) -> list[TrialOutcome]:
    """`search_batch` with an awaited `train` (a batch on Modal: `train_members_on`)."""
    return await drive_async(batch_steps(study, template, objectives, **kw), train)
