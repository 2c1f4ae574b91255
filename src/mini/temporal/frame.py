"""Result types of dopesheet lookups: ``Keyframe`` (one keyed cell) and ``Frame`` (one step).

Plain frozen dataclasses with documented fields; they carry no behaviour beyond a derived duration.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Keyframe:
    """A keyed property value and the next key of the same property (if any)."""

    prop: str
    """Bare property name."""
    t: int
    """Step of this key."""
    value: float
    """Keyed value."""
    next_t: int | None
    """Step of the next key of this property, or None if this is its last key."""
    next_value: float | None
    """Value of the next key, or None if this is its last key."""

    @property
    def duration(self) -> int | None:
        """Steps until the next key (``next_t - t``), or None if this is the last key."""
        return None if self.next_t is None else self.next_t - self.t


@dataclass(frozen=True)
class Frame:
    """What the dopesheet says about one step."""

    t: int
    """The step."""
    phase: str
    """Most recent PHASE at or before this step; '' before the first phase."""
    is_phase_start: bool
    """True when a row at exactly this step sets a phase."""
    is_phase_end: bool
    """True on the step before the next phase starts, or on the last step when no phase follows."""
    actions: list[str] = field(default_factory=list)
    """Actions of the row at exactly this step (ACTION split on ','); empty without such a row."""
    keyed_props: dict[str, Keyframe] = field(default_factory=dict)
    """Keys of the row at exactly this step, by property; empty without such a row."""
