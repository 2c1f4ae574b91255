"""Timing functions: how one property moves from its current state to a target over a duration.

Every timing function is built from the *current state* (value ``y0``, velocity ``v0``, acceleration
``a0``) and a target ``y1`` reached after ``duration`` steps. It answers ``value(t)`` and
``state(t)`` (value, velocity, acceleration) for a clock ``t`` measured from the start of the
transition. Velocity is per step and acceleration per step², so a new transition can start from the
exact state of an interrupted one.

Design decisions:
* Time is clamped to ``[0, duration]``: before the start the function reads ``y0``, after the end it
  reads ``y1`` (at rest).
* A duration of (almost) zero means "no transition": the function holds ``y0`` at rest, and the
  target is ignored. Jumps are the caller's business (see ``mini.temporal.dynamic``).
* ``minjerk`` snaps to exactly ``y1`` (velocity and acceleration 0) at the end, so a keyed value is
  reproduced bit for bit, not merely to rounding error.
* Names are looked up in ``TIMING_FUNCTIONS``; an unknown name is a ``ValueError`` rather than a quiet
  fallback to the default.

This module deliberately knows nothing about steps, dopesheets or log space.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# Durations and clock positions closer than this are treated as equal (avoids 1 - 1e-17 artefacts).
EPSILON = 1e-10


class MotionState(NamedTuple):
    """Instantaneous state of a transition."""

    value: float
    """Position."""
    velocity: float
    """First derivative with respect to steps."""
    acceleration: float
    """Second derivative with respect to steps."""


@dataclass(frozen=True)
class TimingFunction:
    """Base class: a transition from ``(y0, v0, a0)`` to ``y1`` (at rest) over ``duration`` steps."""

    y0: float
    """Start value."""
    y1: float
    """Target value, reached at ``t = duration``."""
    duration: float
    """Length of the transition in steps; (almost) zero means no transition."""
    v0: float = 0.0
    """Initial velocity, per step."""
    a0: float = 0.0
    """Initial acceleration, per step²."""

    def __post_init__(self) -> None:
        if not self.duration >= 0:
            raise ValueError(f'duration must be >= 0, got {self.duration!r}')

    @property
    def is_instant(self) -> bool:
        """True when the duration is too short to be a transition (the value stays ``y0``)."""
        return self.duration < EPSILON

    def value(self, t: float) -> float:
        """Value at clock ``t`` (clamped to ``[0, duration]``)."""
        return self.state(t).value

    def state(self, t: float) -> MotionState:
        """(value, velocity, acceleration) at clock ``t`` (clamped to ``[0, duration]``)."""
        if self.is_instant:
            return MotionState(self.y0, 0.0, 0.0)
        t = min(max(t, 0.0), self.duration)
        return self._state(t)

    def _state(self, t: float) -> MotionState:
        raise NotImplementedError


@dataclass(frozen=True)
class MinJerk(TimingFunction):
    """Quintic with the given start value, velocity and acceleration, ending at rest on ``y1``.

    In normalised time ``τ = t/T`` the polynomial ``y(τ) = Σ cᵢ τⁱ`` satisfies ``y(0)=y0``,
    ``y'(0)=v0·T``, ``y''(0)=a0·T²``, ``y(1)=y1``, ``y'(1)=0``, ``y''(1)=0``. From rest this is the
    classic ease-in-out ``y0 + (y1-y0)(10τ³ - 15τ⁴ + 6τ⁵)``.
    """

    def _coefficients(self) -> tuple[float, float, float, float, float, float]:
        T = self.duration
        c0 = self.y0
        c1 = self.v0 * T
        c2 = self.a0 * T * T / 2
        # Remaining end-point conditions after the start conditions are satisfied.
        b1 = self.y1 - c0 - c1 - c2
        b2 = -c1 - 2 * c2
        b3 = -2 * c2
        c3 = 10 * b1 - 4 * b2 + b3 / 2
        c4 = -15 * b1 + 7 * b2 - b3
        c5 = 6 * b1 - 3 * b2 + b3 / 2
        return c0, c1, c2, c3, c4, c5

    def _state(self, t: float) -> MotionState:
        T = self.duration
        tau = t / T
        if tau >= 1 - EPSILON:
            # Snap: the keyed target is reproduced exactly, and the next segment starts at rest.
            return MotionState(self.y1, 0.0, 0.0)
        c0, c1, c2, c3, c4, c5 = self._coefficients()
        y = c0 + tau * (c1 + tau * (c2 + tau * (c3 + tau * (c4 + tau * c5))))
        dy = c1 + tau * (2 * c2 + tau * (3 * c3 + tau * (4 * c4 + tau * 5 * c5)))
        ddy = 2 * c2 + tau * (6 * c3 + tau * (12 * c4 + tau * 20 * c5))
        return MotionState(y, dy / T, ddy / (T * T))


@dataclass(frozen=True)
class Linear(TimingFunction):
    """Constant velocity from ``y0`` to ``y1``; the initial velocity and acceleration are ignored."""

    def _state(self, t: float) -> MotionState:
        if t >= self.duration - EPSILON:
            return MotionState(self.y1, 0.0, 0.0)
        rate = (self.y1 - self.y0) / self.duration
        return MotionState(self.y0 + t * rate, rate, 0.0)


@dataclass(frozen=True)
class StepEnd(TimingFunction):
    """Holds ``y0`` while ``t < duration`` and jumps to ``y1`` at ``t = duration`` (CSS ``step-end``)."""

    def _state(self, t: float) -> MotionState:
        if t >= self.duration - EPSILON:
            return MotionState(self.y1, 0.0, 0.0)
        return MotionState(self.y0, 0.0, 0.0)


DEFAULT_TIMING_FUNCTION = 'minjerk'

TIMING_FUNCTIONS: dict[str, type[TimingFunction]] = {
    'minjerk': MinJerk,
    'linear': Linear,
    'step-end': StepEnd,
    'step': StepEnd,
}
"""Interpolator names accepted in dopesheet headers; ``step`` is an alias of ``step-end``."""


def get_timing_function(name: str) -> type[TimingFunction]:
    """The timing function class registered under ``name``; unknown names raise ``ValueError``."""
    try:
        return TIMING_FUNCTIONS[name]
    except KeyError:
        known = ', '.join(sorted(TIMING_FUNCTIONS))
        raise ValueError(f'unknown interpolator {name!r}; known: {known}') from None
