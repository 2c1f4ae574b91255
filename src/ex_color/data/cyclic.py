"""Evenly spaced values on a cyclic axis (e.g. hue), reduced modulo the period.

Design decisions:
- `lower` is reduced modulo `period`. `upper` defaults to one full turn after `lower`; an explicit
  `upper` is reduced modulo `period` too, and if it then lies at or below `lower` it is moved one period
  further, so a range always runs forwards. (The reference only did this when `upper` was strictly
  below `lower`, which made `arange_cyclic(0, 1)` silently empty; here equal bounds mean a full turn.)
- The number of values is computed with a small relative tolerance, so floating-point steps such as
  1/240 give exactly 240 values instead of np.arange's occasional extra element.
- `inclusive=True` extends `upper` by half a step, so a value landing on `upper` is included.

Deliberately not done: no rounding of the returned values (0.1 * 3 stays 0.30000000000000004).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

# Relative slack when counting steps: absorbs float error in (upper - lower) / step_size.
_COUNT_TOLERANCE = 1e-9


def arange_cyclic(
    lower: float = 0,
    upper: float | None = None,
    step_size: float = 1 / 12,
    period: float = 1,
    inclusive: bool = False,
) -> NDArray[np.float64]:
    """Evenly spaced values from `lower` (inclusive) towards `upper` (exclusive), modulo `period`."""
    if not math.isfinite(step_size) or step_size <= 0:
        raise ValueError(f'step_size must be a positive finite number, got {step_size!r}')
    if not math.isfinite(period) or period <= 0:
        raise ValueError(f'period must be a positive finite number, got {period!r}')
    if not math.isfinite(lower):
        raise ValueError(f'lower must be finite, got {lower!r}')
    if upper is not None and not math.isfinite(upper):
        raise ValueError(f'upper must be finite or None, got {upper!r}')

    lower = lower % period
    if upper is None:
        upper = lower + period
    else:
        upper = upper % period
        if upper <= lower:
            upper += period
    if inclusive:
        upper += step_size / 2

    span = (upper - lower) / step_size
    count = max(0, math.ceil(span - _COUNT_TOLERANCE * max(1.0, span)))
    values = lower + step_size * np.arange(count, dtype=np.float64)
    return np.mod(values, period)
