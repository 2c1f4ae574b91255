"""``Timeline``: the realised value of every dopesheet property at every step.

Semantics (the reference's): each property starts at ``dopesheet.get_initial_values()``; whenever a
property is keyed at step ``s`` and has a later key, it starts a transition towards that next key's
value lasting until the next key's step, from its current state (``mini.temporal.dynamic``). The value
written in a keyed cell is therefore only ever the *target* of the previous segment; with well-formed
sheets each transition ends exactly at the next key, so the value at a key equals the keyed value.
After the last key a property holds its last value.

Design decisions:
* All values are computed once, at construction, by stepping dynamic properties through steps
  ``0 .. len(dopesheet) - 1``. ``at(step)`` and ``values(prop)`` then read the table: a schedule is a
  pure function of the step, so resuming, plotting and testing need no replay.
* The timeline covers exactly the dopesheet's steps: ``step()`` from the last step raises
  ``IndexError`` (the reference allowed one step past the last key).
* Stepping is a convenience cursor over the table; ``at`` never moves it.

The timeline does not plot (see ``mini.temporal.vis``) and does not mutate its dopesheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mini.temporal.dopesheet import Dopesheet
from mini.temporal.dynamic import make_property


@dataclass(frozen=True)
class TStep:
    """The schedule at one step."""

    step: int
    """The step."""
    phase: str
    """Current phase ('' before the first PHASE)."""
    actions: list[str] = field(default_factory=list)
    """Actions keyed at exactly this step."""
    props: dict[str, float] = field(default_factory=dict)
    """Value of every property at this step."""
    is_phase_start: bool = False
    """True when a phase starts at this step."""
    is_phase_end: bool = False
    """True on the last step of a phase."""


class Timeline:
    """Precomputed property values for every step of a dopesheet, with a stepping cursor."""

    def __init__(self, dopesheet: Dopesheet) -> None:
        self.dopesheet = dopesheet
        """The schedule this timeline realises."""
        self._values = _realise(dopesheet)
        for column in self._values.values():
            column.flags.writeable = False
        self._step = 0

    def __len__(self) -> int:
        return len(self.dopesheet)

    def __repr__(self) -> str:
        return f'Timeline({self.dopesheet!r}, step={self._step})'

    @property
    def props(self) -> list[str]:
        """Property names, in dopesheet order."""
        return list(self._values)

    @property
    def current_step(self) -> int:
        """Step the cursor is on."""
        return self._step

    @property
    def state(self) -> TStep:
        """The schedule at the cursor."""
        return self.at(self._step)

    def step(self) -> TStep:
        """Move the cursor one step forward and return the new state; ``IndexError`` past the end."""
        if self._step + 1 >= len(self):
            raise IndexError(f'timeline ends at step {len(self) - 1}; cannot step past it')
        self._step += 1
        return self.state

    def at(self, step: int) -> TStep:
        """The schedule at ``step`` (0 to ``len - 1``), without moving the cursor."""
        frame = self.dopesheet[step]  # validates the step (IndexError / TypeError)
        return TStep(
            step=frame.t,
            phase=frame.phase,
            actions=list(frame.actions),
            props={name: float(column[frame.t]) for name, column in self._values.items()},
            is_phase_start=frame.is_phase_start,
            is_phase_end=frame.is_phase_end,
        )

    def values(self, prop: str) -> np.ndarray:
        """Read-only float64 array of ``prop`` at steps ``0 .. len - 1``."""
        try:
            return self._values[prop]
        except KeyError:
            raise KeyError(
                f'no property {prop!r} in {self.dopesheet.source}; properties: {self.props}'
            ) from None


def _realise(dopesheet: Dopesheet) -> dict[str, np.ndarray]:
    """Step dynamic properties through the whole sheet, recording each value."""
    initial = dopesheet.get_initial_values()
    dynamic = {}
    for name in dopesheet.props:
        config = dopesheet.get_prop_config(name)
        dynamic[name] = make_property(initial[name], config.space, config.interpolator)
    n = len(dopesheet)
    out = {name: np.empty(n, dtype=np.float64) for name in dynamic}
    key_steps = set(dopesheet.steps)
    for s in range(n):
        if s > 0:
            for prop in dynamic.values():
                prop.step(1)
        if s in key_steps:
            for name, key in dopesheet[s].keyed_props.items():
                if key.next_t is not None and key.next_value is not None:
                    dynamic[name].set(key.next_value, key.next_t - s)
        for name, prop in dynamic.items():
            out[name][s] = prop.value
    return out
