"""Intervals for the claims the notebooks make about rates.

`wilson(k, n)`: the Wilson score interval of a pass rate of k seeds in n (no continuity correction), the
interval every pass rate in the notebooks and the README carries. It is computed in closed form (the
same formula as ``scipy.stats.binomtest(k, n).proportion_ci(method='wilson')``, which the tests compare
it with), so the notebooks that only need rates do not import scipy's statistics (half a second).
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ['wilson']


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """(low, high) of the Wilson score interval for k successes in n trials."""
    if isinstance(k, bool) or isinstance(n, bool) or not isinstance(k, int) or not isinstance(n, int):
        raise TypeError(f'wilson: k and n must be ints, got k={k!r}, n={n!r}')
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f'wilson: need 0 <= k <= n and n >= 1, got k={k}, n={n}')
    if not 0 < confidence < 1:
        raise ValueError(f'wilson: confidence must lie strictly between 0 and 1, got {confidence!r}')
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    z2 = z * z
    centre = (k + z2 / 2) / (n + z2)
    half = z / (n + z2) * math.sqrt(k * (n - k) / n + z2 / 4)
    # at k = 0 (k = n) the lower (upper) bound is exactly 0 (1); the formula reaches it only up to rounding
    low = 0.0 if k == 0 else centre - half
    high = 1.0 if k == n else centre + half
    return low, high
