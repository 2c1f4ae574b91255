"""Schedule search: Optuna proposes a batch of schedules, one run of the engine trains them all over seeds.

`open_study(path, name, objectives)` opens (or creates) a multi-objective Optuna study stored in an
SQLite file, so a search can stop and resume, and Optuna's own tools can read it. `search_batch`
asks the study for a batch of points of a `SheetTemplate`'s search space, trains every point × k seeds
as one `train_members` run (`train`, which receives the member specs), scores every member
(`score`), and tells the study each trial's objectives as medians over its seeds; the worst seed's
values are kept as a user attribute.

Design decisions:
- A point whose sheet is invalid (e.g. a transition moved past the next keyframe) is told as FAILED
  with the reader's message (file, line, column) as its ``error`` attribute and logged, never
  trained and never silently dropped.
- Member names carry the trial number and the seed (``trial-7 seed-2``), so results map back
  without relying on order.
- The stored study must have the objectives' directions; a study file made for other objectives is
  an error naming the file, not a study silently extended with mismatched values.

Deliberately not here: the choice of objectives and space (a notebook declares them), plotting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ex_color.training.run import MemberResult, MemberSpec, RunResult
from mini.temporal.headers import DopesheetError
from mini.temporal.template import SheetTemplate

__all__ = ['Objective', 'TrialOutcome', 'open_study', 'search_batch']

log = logging.getLogger(__name__)


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


def open_study(path: str | Path, name: str, objectives: Sequence[Objective], *, seed: int = 0) -> Any:
    """The study `name` in the SQLite file `path` (created if absent), with `objectives`' directions."""
    import optuna

    if not objectives:
        raise ValueError('open_study: give at least one Objective')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    directions = [o.direction for o in objectives]
    storage = f'sqlite:///{path}'
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        directions=directions,
        load_if_exists=True,
        sampler=optuna.samplers.NSGAIISampler(seed=seed)
        if len(objectives) > 1
        else optuna.samplers.TPESampler(seed=seed),
    )
    stored = [d.name.lower() for d in study.directions]
    if stored != directions:
        raise ValueError(f'{path}: study {name!r} was made for directions {stored}, not {directions}')
    study.set_user_attr('objectives', [o.metric for o in objectives])
    return study


def _worst(values: np.ndarray, direction: str) -> float:
    return float(values.max() if direction == 'minimize' else values.min())


def search_batch(
    study: Any,
    template: SheetTemplate,
    objectives: Sequence[Objective],
    *,
    batch_size: int,
    seeds: Sequence[int],
    train: Callable[[list[MemberSpec]], RunResult],
    score: Callable[[MemberResult], Mapping[str, float]],
) -> list[TrialOutcome]:
    """Ask for `batch_size` points, train each over `seeds` in one run, tell the study; see the module doc."""
    import optuna

    if batch_size < 1 or not seeds:
        raise ValueError(
            f'search_batch: need batch_size >= 1 and at least one seed, got {batch_size}, {list(seeds)}'
        )
    asked, specs, outcomes = {}, [], {}
    for _ in range(batch_size):
        trial = study.ask()
        values = {p.name: trial.suggest_float(p.name, p.low, p.high, log=p.log) for p in template.space}
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
        result = train(specs)
        by_trial: dict[int, list[Mapping[str, float]]] = {n: [] for n in asked}
        for member in result:
            number = int(member.name.split(' ')[0].removeprefix('trial-'))
            by_trial[number].append(score(member))
        for number, (trial, values) in asked.items():
            scores = by_trial[number]
            missing = [o.metric for o in objectives if any(o.metric not in s for s in scores)]
            if missing:
                raise KeyError(f'search_batch: score returned no {missing} for trial {number}')
            medians = {o.metric: float(np.median([s[o.metric] for s in scores])) for o in objectives}
            worst = {
                o.metric: _worst(np.array([s[o.metric] for s in scores]), o.direction) for o in objectives
            }
            trial.set_user_attr('worst', worst)
            study.tell(trial, [medians[o.metric] for o in objectives])
            outcomes[number] = TrialOutcome(number, values, medians, worst)
    return [outcomes[n] for n in sorted(outcomes)]
