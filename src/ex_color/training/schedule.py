"""`Schedule`: the learning rate and every regulariser weight at every step, for M members.

Built once from ``(dopesheet, regularizers)`` and read by everything that trains: the training module
looks up step k as one row of each table, the progress bar and the run's hyper-parameters read it,
and a run of many members stacks one schedule per member (`Schedule.stack`). A schedule is a pure
function of the step, so resuming needs no replay: the position is the global step.

Design decisions:

* **Names are checked both ways, here.** A train-phase regulariser with no dopesheet column, or a
  column (other than ``lr``) with no regulariser, is an error unless listed in `unscheduled` (weight
  1.0 throughout) or `ignore_columns`. The sheet must have an ``lr`` column. Each error names the
  dopesheet's source and, in a stack, the member.
* **Tables are [S, M] float64 arrays.** Row k is step k; a single model is M = 1. Weights are exactly
  the dopesheet's realised values (`Timeline.values`) times the member's weight scale, so a weight
  of exactly 0 stays exactly 0 (the training module skips such terms).
* **Steps past the end clamp to the last row**, as Lightning may run a few batches past the sheet
  when `max_steps` exceeds its length.

Deliberately not here: turning values into tensors on a device (the training module does that once),
and the per-step semantics of weights (see `ex_color.training.module`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ex_color.loss import RegularizerConfig
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline

__all__ = ['RESERVED_COLUMNS', 'Schedule']

RESERVED_COLUMNS = frozenset({'lr'})
"""Dopesheet columns that are not regulariser weights."""


@dataclass(frozen=True)
class Schedule:
    """Per-step learning rate and regulariser weights of M members."""

    lr: np.ndarray
    """Learning rate, [S, M]."""
    weights: dict[str, np.ndarray]
    """Weight of every regulariser (by name, in regulariser order), [S, M]."""
    phase_starts: dict[int, str] = field(default_factory=dict)
    """Steps at which member 0's dopesheet starts a phase, with the phase's name."""
    sources: tuple[str, ...] = ()
    """Where each member's dopesheet came from (file name or label), for error messages."""

    def __post_init__(self) -> None:
        if self.lr.ndim != 2 or self.lr.shape[0] < 1 or self.lr.shape[1] < 1:
            raise ValueError(f'Schedule.lr must have shape [S, M] with S, M >= 1, got {self.lr.shape}')
        for name, w in self.weights.items():
            if w.shape != self.lr.shape:
                raise ValueError(f'Schedule.weights[{name!r}] has shape {w.shape}; lr has {self.lr.shape}')

    @classmethod
    def build(
        cls,
        dopesheet: Dopesheet,
        regularizers: Sequence[RegularizerConfig],
        *,
        unscheduled: Collection[str] = (),
        ignore_columns: Collection[str] = (),
        weight_scale: Mapping[str, float] | None = None,
        member: str = '',
        timeline: Timeline | None = None,
    ) -> Schedule:
        """The schedule of one member (M = 1); `weight_scale` multiplies named regularisers' weights.

        `timeline` is `dopesheet` already realised (`Timeline(dopesheet)`), for callers building many
        members from one sheet: realising the Ex 2.10 sheet costs about 65 ms, 4 s of a 60-member run.
        """
        where = f'{dopesheet.source}' + (f' (member {member})' if member else '')
        names = [r.name for r in regularizers]
        _check_names(names, set(dopesheet.props), set(unscheduled), set(ignore_columns), where, regularizers)
        scale = dict(weight_scale or {})
        unknown = sorted(set(scale) - set(names))
        if unknown:
            raise ValueError(
                f'{where}: weights={scale} names no regulariser: {unknown} (regularisers: {names})'
            )
        for key in dopesheet.keyframes('lr') if 'lr' in dopesheet.props else ():
            if key.value < 0:
                raise dopesheet.error_at(
                    'lr',
                    key.t,
                    f'learning rate {key.value:g} at step {key.t} is negative (it would train by '
                    'gradient ascent); use 0 to pause training',
                )
        if timeline is None:
            timeline = Timeline(dopesheet)
        elif timeline.dopesheet is not dopesheet:
            raise ValueError(f'{where}: timeline= realises {timeline.dopesheet.source}, not this dopesheet')
        n = len(timeline)
        weights = {}
        for name in names:
            values = timeline.values(name) if name in dopesheet.props else np.ones(n)
            weights[name] = (values * float(scale.get(name, 1.0)))[:, None].copy()
        starts = {s: timeline.at(s).phase for s in range(n) if dopesheet[s].is_phase_start}
        return cls(timeline.values('lr')[:, None].copy(), weights, starts, (where,))

    @classmethod
    def stack(cls, schedules: Sequence[Schedule]) -> Schedule:
        """Members side by side: every schedule must have the same steps and regulariser names."""
        if not schedules:
            raise ValueError('Schedule.stack: no schedules given')
        first = schedules[0]
        for i, s in enumerate(schedules):
            who = s.sources[0] if s.sources else f'member {i}'
            if s.steps != first.steps:
                raise ValueError(
                    f'{who}: the dopesheet has {s.steps} steps, but member 0 ({first.sources[0]}) has '
                    f'{first.steps}; every member of a run trains for the same number of steps'
                )
            if list(s.weights) != list(first.weights):
                raise ValueError(
                    f'{who}: regularisers {list(s.weights)} differ from member 0: {list(first.weights)}'
                )
        return cls(
            np.concatenate([s.lr for s in schedules], axis=1),
            {name: np.concatenate([s.weights[name] for s in schedules], axis=1) for name in first.weights},
            dict(first.phase_starts),
            tuple(src for s in schedules for src in s.sources),
        )

    @property
    def steps(self) -> int:
        """Number of schedule steps (S)."""
        return self.lr.shape[0]

    @property
    def members(self) -> int:
        """Number of members (M)."""
        return self.lr.shape[1]

    def row(self, step: int) -> int:
        """The table row that training step `step` uses (clamped to the last)."""
        return min(step, self.steps - 1)

    def member(self, i: int) -> Schedule:
        """Member i's schedule alone (M = 1)."""
        if not -self.members <= i < self.members:
            raise IndexError(f'member {i} out of range for a schedule of {self.members} members')
        pick = slice(i, i + 1) if i >= 0 else slice(i, (i + 1) or None)
        return Schedule(
            self.lr[:, pick].copy(),
            {k: v[:, pick].copy() for k, v in self.weights.items()},
            dict(self.phase_starts),
            self.sources[pick] if self.sources else (),
        )


def _check_names(
    names: list[str],
    props: set[str],
    unscheduled: set[str],
    ignore_columns: set[str],
    where: str,
    regularizers: Sequence[RegularizerConfig],
) -> None:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f'Regulariser names must be unique; repeated: {dupes}')
    reserved = sorted(set(names) & RESERVED_COLUMNS)
    if reserved:
        raise ValueError(f'Regulariser names {reserved} are reserved for dopesheet columns; rename them')
    if 'lr' not in props:
        raise ValueError(
            f"{where}: the dopesheet has no 'lr' column; the learning rate must be scheduled explicitly"
        )
    missing = [
        r.name
        for r in regularizers
        if 'train' in r.phases and r.name not in props and r.name not in unscheduled
    ]
    if missing:
        raise ValueError(
            f'{where}: regularisers {missing} have no dopesheet column (columns: {sorted(props)}). '
            'Add a column, or pass unscheduled=[...] to give them a constant weight of 1.0.'
        )
    unused = sorted(props - set(names) - RESERVED_COLUMNS - ignore_columns)
    if unused:
        raise ValueError(
            f'{where}: dopesheet columns {unused} match no regulariser (regularisers: {names}). '
            'Fix the name, or pass ignore_columns=[...] to leave them unused.'
        )
