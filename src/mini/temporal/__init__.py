"""Keyframed parameter schedules: dopesheets, timing functions and timelines.

Plotting lives in ``mini.temporal.vis`` and is deliberately not imported here, so importing the
schedules does not import matplotlib.
"""

from mini.temporal.dopesheet import Dopesheet
from mini.temporal.dynamic import LOG_FLOOR, DynamicProperty, LogDynamicProperty, make_property
from mini.temporal.frame import Frame, Keyframe
from mini.temporal.headers import SPACES, DopesheetError, PropConfig, parse_header
from mini.temporal.steps import resolve_steps
from mini.temporal.timeline import Timeline, TStep
from mini.temporal.timing import (
    DEFAULT_TIMING_FUNCTION,
    TIMING_FUNCTIONS,
    Linear,
    MinJerk,
    MotionState,
    StepEnd,
    TimingFunction,
    get_timing_function,
)

__all__ = [
    'DEFAULT_TIMING_FUNCTION',
    'LOG_FLOOR',
    'SPACES',
    'TIMING_FUNCTIONS',
    'Dopesheet',
    'DopesheetError',
    'DynamicProperty',
    'Frame',
    'Keyframe',
    'Linear',
    'LogDynamicProperty',
    'MinJerk',
    'MotionState',
    'PropConfig',
    'StepEnd',
    'TStep',
    'Timeline',
    'TimingFunction',
    'get_timing_function',
    'make_property',
    'parse_header',
    'resolve_steps',
]
