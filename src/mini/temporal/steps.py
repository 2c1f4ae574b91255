"""Resolution of the STEP column: absolute anchors plus steps relative to them.

Syntax of a STEP cell (surrounding whitespace ignored):
* ``N`` — digits only: an absolute step, and an *anchor* for relative rows.
* ``+N`` / ``-N`` — N a positive integer without leading zero: previous anchor + N / next anchor − N.
* ``+F`` / ``-F`` — F a decimal literal strictly between 0 and 1 (``0.5``, ``.5``), between the
  previous anchor P and the next anchor Q: ``+F`` → P + F·(Q−P), ``-F`` → Q − F·(Q−P).

"Previous" and "next" are in file order, and only absolute rows anchor: relative rows never anchor
other relative rows, so ``0, +10, +0.5, 750`` resolves to 0, 10, 375, 750.

Design decisions (deliberate departures from the reference, which warned and produced NA rows):
* Every unresolvable cell is a ``DopesheetError`` (a ``ValueError``) naming file, line and column:
  bad syntax, a fraction outside (0, 1), a missing anchor, a negative result (the reference clamped to
  0, so ``0, -5, 3`` gave 0, 0, 3 and a silent duplicate), and two rows resolving to the same step.
* No step may exceed ``MAX_STEP`` (one million): a schedule is realised step by step into arrays, so
  a typo like ``1e8`` or ``100000000`` would otherwise mean a MemoryError or a minutes-long hang.
* Fractions round half up, ``floor(x + 1/2)``, computed exactly with ``Fraction`` from the decimal
  text (so ``+0.33`` between 0 and 750 is exactly 247.5 → 248; the reference's round-half-to-even gave
  the same answer here by luck of the float error).

This module does not sort rows; the caller orders them by the resolved steps.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction

from mini.temporal.headers import DopesheetError

MAX_STEP = 1_000_000
"""The largest step a dopesheet may resolve to (Ex 2.10 trains 1,501 steps)."""

_ABSOLUTE = re.compile(r'\d+')
_OFFSET = re.compile(r'([+-])([1-9]\d*)')
_FRACTION = re.compile(r'([+-])(\d*\.\d+|\d+\.\d*)')


def resolve_steps(cells: Sequence[str], lines: Sequence[int], source: str, column: str = 'STEP') -> list[int]:
    """Resolve STEP ``cells`` (in file order) to integer steps.

    ``lines`` gives the 1-based CSV line of each cell and ``source`` the file name, both only for
    error messages. Raises ``DopesheetError`` for any cell that cannot be resolved, for negative
    results and for duplicate steps.
    """
    if len(cells) != len(lines):
        raise ValueError(f'cells and lines differ in length ({len(cells)} != {len(lines)})')
    texts = [cell.strip() for cell in cells]

    def fail(i: int, problem: str) -> DopesheetError:
        return DopesheetError(source, lines[i], column, problem)

    anchors: list[int | None] = [int(t) if _ABSOLUTE.fullmatch(t) else None for t in texts]
    steps: list[int] = []
    for i, text in enumerate(texts):
        absolute = anchors[i]
        if absolute is not None:
            steps.append(absolute)
            continue
        previous = next((a for a in reversed(anchors[:i]) if a is not None), None)
        following = next((a for a in anchors[i + 1 :] if a is not None), None)
        if m := _OFFSET.fullmatch(text):
            sign, n = m.group(1), int(m.group(2))
            if sign == '+':
                if previous is None:
                    raise fail(i, f'relative step {text!r} has no absolute step before it to count from')
                step = previous + n
            else:
                if following is None:
                    raise fail(i, f'relative step {text!r} has no absolute step after it to count back from')
                step = following - n
        elif m := _FRACTION.fullmatch(text):
            sign, fraction = m.group(1), Fraction(m.group(2))
            if not 0 < fraction < 1:
                raise fail(i, f'fraction in {text!r} must lie strictly between 0 and 1')
            if previous is None or following is None:
                raise fail(i, f'fractional step {text!r} needs absolute steps both before and after it')
            span = following - previous
            exact = previous + fraction * span if sign == '+' else following - fraction * span
            step = math.floor(exact + Fraction(1, 2))
        else:
            raise fail(i, f'invalid step {text!r}; expected N, +N, -N, +F or -F (0 < F < 1)')
        if step < 0:
            raise fail(i, f'step {text!r} resolves to {step}, which is negative')
        steps.append(step)
    for i, step in enumerate(steps):
        if step > MAX_STEP:
            raise fail(i, f'step {texts[i]!r} resolves to {step}, beyond the limit of {MAX_STEP:,} steps')

    first_line: dict[int, int] = {}
    for i, step in enumerate(steps):
        if step in first_line:
            raise fail(i, f'step {texts[i]!r} resolves to {step}, already used on line {first_line[step]}')
        first_line[step] = lines[i]
    return steps
