"""Dynamic properties: a value that moves towards targets under a timing function, one step at a time.

A ``DynamicProperty`` holds a current value and at most one running transition with its own clock.
``set(target, duration)`` starts a transition *from the current state* (value, velocity and
acceleration of the running transition, or at rest), so retargeting mid-flight is C²-continuous under
``minjerk``. ``LogDynamicProperty`` runs the same logic on ``ln(max(x, 1e-10))`` and reads back
``exp(·)``, which makes interpolation geometric.

Design decisions (kept from the reference because realised schedules depend on them):
* A zero duration jumps straight to the target.
* Setting the target it already rests at starts nothing.
* Setting the same target and duration as the running transition keeps it (the clock is not reset),
  so re-issuing a keyframe is harmless.
* When the clock reaches the duration (within 1e-10) the transition ends and the value becomes exactly
  the target.
* Log space clamps inputs to the floor 1e-10 and never reads below it (dopesheets cannot key a value
  <= 0 in a ``:log`` column: the reader refuses it, naming line and column);
  at rest it returns the clamped target itself, not ``exp(ln(target))``, so keyed values are exact.

This module deliberately knows nothing about dopesheets or step numbers; ``Timeline`` drives it.
"""

from __future__ import annotations

import math

from mini.temporal.timing import EPSILON, MotionState, TimingFunction, get_timing_function

LOG_FLOOR = 1e-10
"""Smallest value a log-space property can hold."""


class DynamicProperty:
    """A value in linear space, moved by transitions of one timing function."""

    def __init__(self, value: float, interpolator: str = 'minjerk') -> None:
        self._function: type[TimingFunction] = get_timing_function(interpolator)
        self._value = float(value)
        self._transition: TimingFunction | None = None
        self._clock = 0.0
        self._duration = 0.0

    @property
    def is_running(self) -> bool:
        """True while a transition is in progress."""
        return self._transition is not None

    @property
    def value(self) -> float:
        """Current value."""
        if self._transition is None:
            return self._value
        return self._transition.value(self._clock)

    @property
    def state(self) -> MotionState:
        """Current (value, velocity, acceleration); at rest the derivatives are zero."""
        if self._transition is None:
            return MotionState(self._value, 0.0, 0.0)
        return self._transition.state(self._clock)

    def set(self, target: float, duration: float) -> None:
        """Move to ``target`` over ``duration`` steps, starting from the current state."""
        target = float(target)
        if not duration >= 0:
            raise ValueError(f'duration must be >= 0, got {duration!r}')
        running = self._transition
        if duration < EPSILON:
            self._value, self._transition, self._clock = target, None, 0.0
        elif running is None and self._value == target:
            pass
        elif running is not None and running.y1 == target and running.duration == duration:
            pass
        else:
            y, v, a = self.state
            self._transition = self._function(y0=y, y1=target, duration=duration, v0=v, a0=a)
            self._clock = 0.0
        self._duration = float(duration)

    def step(self, n: int = 1) -> None:
        """Advance the clock by ``n`` steps, ending the transition when it reaches its duration."""
        if self._transition is None:
            return
        self._clock += n
        if self._clock >= self._transition.duration - EPSILON:
            self._value = self._transition.y1
            self._transition = None
            self._clock = 0.0


class LogDynamicProperty:
    """A positive value interpolated geometrically: the transition runs on ``ln(max(x, 1e-10))``."""

    def __init__(self, value: float, interpolator: str = 'minjerk') -> None:
        start = _floor(value)
        self._inner = DynamicProperty(math.log(start), interpolator)
        # Linear-space value to report at rest, so keyed values come back exactly.
        self._rest = start

    @property
    def is_running(self) -> bool:
        """True while a transition is in progress."""
        return self._inner.is_running

    @property
    def value(self) -> float:
        """Current value, never below ``LOG_FLOOR``."""
        if not self._inner.is_running:
            return self._rest
        return max(LOG_FLOOR, math.exp(self._inner.value))

    def set(self, target: float, duration: float) -> None:
        """Move geometrically to ``target`` (clamped to the floor) over ``duration`` steps."""
        target = _floor(target)
        self._inner.set(math.log(target), duration)
        self._rest = target

    def step(self, n: int = 1) -> None:
        """Advance the clock by ``n`` steps."""
        self._inner.step(n)


def _floor(value: float) -> float:
    return max(float(value), LOG_FLOOR)


def make_property(value: float, space: str, interpolator: str) -> DynamicProperty | LogDynamicProperty:
    """A dynamic property for a dopesheet column's space (``linear`` or ``log``) and interpolator."""
    if space == 'linear':
        return DynamicProperty(value, interpolator)
    if space == 'log':
        return LogDynamicProperty(value, interpolator)
    raise ValueError(f'unknown space {space!r}; known: linear, log')
