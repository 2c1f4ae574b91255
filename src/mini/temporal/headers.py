"""Dopesheet column headers: ``name[:space[:interpolator]]`` and the errors raised for bad input.

Design decisions:
* Every part after the name may be empty and then takes its default (space ``linear``, interpolator
  ``minjerk``): ``lr``, ``lr:log``, ``z::step-end``, ``lr:log:minjerk``.
* Unknown spaces or interpolators, more than two colons and empty names are errors, never a silent
  fallback to the defaults (a typo in a header would otherwise change a schedule unnoticed).
* The interpolator alias ``step`` is normalised to ``step-end`` so that equal configs compare equal.
* ``DopesheetError`` is a ``ValueError`` whose message names the file, the 1-based CSV line (the header
  is line 1) and the column, so a bad cell can be found without a debugger.

This module does not read files; ``mini.temporal.dopesheet`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from mini.temporal.timing import DEFAULT_TIMING_FUNCTION, TIMING_FUNCTIONS

RESERVED_COLUMNS = ('STEP', 'PHASE', 'ACTION')
"""Columns read as text; every other column is a numeric property."""

SPACES = ('linear', 'log')
"""Interpolation spaces a property header may name; ``linear`` is the default."""

DEFAULT_SPACE = 'linear'

# Aliases accepted in headers, mapped to the canonical name stored in PropConfig.
_INTERPOLATOR_ALIASES = {'step': 'step-end'}


class DopesheetError(ValueError):
    """Bad dopesheet input, located by file, line and column."""

    def __init__(self, source: str, line: int, column: str, problem: str) -> None:
        self.source = source
        """Path (or other name) of the CSV."""
        self.line = line
        """1-based CSV line; the header is line 1."""
        self.column = column
        """Header of the offending column, as written in the file."""
        self.problem = problem
        """What is wrong."""
        super().__init__(f'{source}, line {line}, column {column!r}: {problem}')


@dataclass(frozen=True)
class PropConfig:
    """How one property column is interpolated."""

    name: str
    """Bare property name (the header without its ``:space:interpolator`` suffix)."""
    space: str = DEFAULT_SPACE
    """``linear`` or ``log`` (geometric interpolation on ``ln(x)``; the reader refuses values <= 0)."""
    interpolator: str = DEFAULT_TIMING_FUNCTION
    """Timing function name: ``minjerk``, ``linear`` or ``step-end``."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError('name: must not be empty')
        if ':' in self.name:
            raise ValueError(f'name: must not contain ":", got {self.name!r}')
        if self.name in RESERVED_COLUMNS:
            raise ValueError(f'name: {self.name!r} is a reserved column')
        if self.space not in SPACES:
            raise ValueError(f'space: unknown space {self.space!r}; known: {", ".join(SPACES)}')
        if self.interpolator not in TIMING_FUNCTIONS:
            known = ', '.join(sorted(TIMING_FUNCTIONS))
            raise ValueError(f'interpolator: unknown interpolator {self.interpolator!r}; known: {known}')

    @property
    def header(self) -> str:
        """The shortest header that parses back to this config (defaults omitted)."""
        interpolator = '' if self.interpolator == DEFAULT_TIMING_FUNCTION else self.interpolator
        space = '' if self.space == DEFAULT_SPACE else self.space
        if interpolator:
            return f'{self.name}:{space}:{interpolator}'
        if space:
            return f'{self.name}:{space}'
        return self.name


def parse_header(header: str) -> PropConfig:
    """Parse a property header ``name[:space[:interpolator]]``; raises ``ValueError`` if malformed."""
    parts = header.split(':')
    if len(parts) > 3:
        raise ValueError(
            f'header {header!r} has {len(parts) - 1} colons; expected name[:space[:interpolator]]'
        )
    name = parts[0]
    if not name:
        raise ValueError(f'header {header!r} has an empty property name')
    space = parts[1] if len(parts) > 1 and parts[1] else DEFAULT_SPACE
    interpolator = parts[2] if len(parts) > 2 and parts[2] else DEFAULT_TIMING_FUNCTION
    if space not in SPACES:
        raise ValueError(f'unknown space {space!r} in header {header!r}; known: {", ".join(SPACES)}')
    if interpolator not in TIMING_FUNCTIONS:
        known = ', '.join(sorted(TIMING_FUNCTIONS))
        raise ValueError(f'unknown interpolator {interpolator!r} in header {header!r}; known: {known}')
    return PropConfig(name, space, _INTERPOLATOR_ALIASES.get(interpolator, interpolator))
