"""How well a model's reconstruction error follows similarity to an anchor colour.

`error_correlation(data, anchor_hsv, power)` is the Pearson correlation, over every cell of a cube,
between x = `hsv_similarity`(cell, anchor)^power (angular, hemi) and the cell's ``MSE``. After ablating
the anchored direction, a model that really concentrated "red" there loses red the most and similar
colours progressively less, so r is close to 1. `vibrancy_error_correlation` is the same with
x = (S·V)^power.

Design decisions:
- One sampling: given a `TestSet`, the **latent cube** (RGB 20³) is used, always, for the score, the
  printed line and the scatter figure alike (the reference mixed the HSV loss cube and the RGB cube).
  An HSV grid would over-weight greys and dark colours, which it repeats across hues.
- HSV is recomputed from each cell's RGB ``color`` (`rgb2hsv`), so any cube works, whatever its axes.
- The anchor is always an argument, never assumed to be red.
- A constant x or MSE (Pearson r undefined) is a ValueError, not a NaN with a warning: a NaN score
  would silently sort last (or first) in a sweep. Non-finite MSE is a ValueError too.

Deliberately not done: no plotting, no significance correction; p is scipy's two-sided p-value,
which treats the (deterministic, grid-sampled) cells as independent samples, so read it loosely.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ex_color.data.color_cube import ColorCube
from ex_color.data.colors import rgb2hsv
from ex_color.evaluation.similarity import hsv_similarity

if TYPE_CHECKING:
    from ex_color.evaluation.test_set import TestSet

_SUPERSCRIPTS = str.maketrans('0123456789.-', '⁰¹²³⁴⁵⁶⁷⁸⁹·⁻')


class Correlation(NamedTuple):
    """Pearson correlation between a predictor and the per-cell error."""

    r: float
    """Pearson correlation coefficient in [−1, 1]."""
    p: float
    """Two-sided p-value for r = 0 (see the module docstring's caveat)."""

    @property
    def r_squared(self) -> float:
        """r², the score a seed sweep ranks by."""
        return self.r**2


def correlation_cube(data: ColorCube | TestSet) -> ColorCube:
    """The cube a correlation is computed over: `data` itself, or a test set's latent cube."""
    if isinstance(data, ColorCube):
        return data
    cube = getattr(data, 'latent_cube', None)
    if not isinstance(cube, ColorCube):
        raise TypeError(f'data: expected a ColorCube or a TestSet, got {type(data).__name__}')
    return cube


def _mse(cube: ColorCube) -> NDArray[np.float64]:
    if 'MSE' not in cube:
        raise KeyError("data: the cube has no 'MSE' variable; evaluate the model on it first")
    mse = np.asarray(cube['MSE'], dtype=np.float64)
    if mse.ndim == 4 and mse.shape[-1] == 1:
        mse = mse[..., 0]
    if mse.shape != cube.shape:
        raise ValueError(f"data: 'MSE' must have shape {cube.shape} (or with a trailing 1), got {mse.shape}")
    if not np.all(np.isfinite(mse)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(mse))[0])
        raise ValueError(f"data: 'MSE' is not finite at grid index {bad}")
    return mse.reshape(-1)


def check_power(power: float) -> float:
    """`power` as a float, or a ValueError when it is not a finite number > 0."""
    if (
        isinstance(power, bool)
        or not isinstance(power, int | float)
        or not math.isfinite(power)
        or power <= 0
    ):
        raise ValueError(f'power must be a finite number > 0, got {power!r}')
    return float(power)


def _pearson(x: NDArray[np.float64], y: NDArray[np.float64], what: str) -> Correlation:
    from scipy import stats  # imported here: half a second that most callers never need

    if np.ptp(x) == 0:
        raise ValueError(f'error_correlation: {what} is constant over the cube, so r is undefined')
    if np.ptp(y) == 0:
        raise ValueError('error_correlation: MSE is constant over the cube, so r is undefined')
    result = stats.pearsonr(x, y)
    return Correlation(float(result.statistic), float(result.pvalue))


def error_correlation(data: ColorCube | TestSet, anchor_hsv: ArrayLike, power: float) -> Correlation:
    """Pearson (r, p) between similarity-to-`anchor_hsv`^`power` and MSE over all cells of the cube."""
    cube = correlation_cube(data)
    power = check_power(power)
    anchor = np.asarray(anchor_hsv, dtype=np.float64)
    if anchor.shape != (3,):
        raise ValueError(f'anchor_hsv: expected 3 values (h, s, v), got shape {anchor.shape}')
    mse = _mse(cube)
    hsv = rgb2hsv(cube.rgb_grid).reshape(-1, 3)
    x = hsv_similarity(hsv, anchor, hemi=True, mode='angular') ** power
    return _pearson(x, mse, f'similarity to {tuple(anchor.tolist())}')


def vibrancy_error_correlation(data: ColorCube | TestSet, power: float) -> Correlation:
    """Pearson (r, p) between (S·V)^`power` and MSE over all cells of the cube."""
    cube = correlation_cube(data)
    power = check_power(power)
    mse = _mse(cube)
    hsv = rgb2hsv(cube.rgb_grid).reshape(-1, 3)
    x = (hsv[:, 1] * hsv[:, 2]) ** power
    return _pearson(x, mse, 'vibrancy')


def format_correlation(corr: Correlation, power: float, tags: Sequence[str]) -> str:
    """One line like ``MSE,sim³ ablated: r = 0.98, R²: 0.95, p = 0`` (tags joined by commas)."""
    power = check_power(power)
    exponent = str(int(power)) if power.is_integer() else f'{power:g}'
    label = ','.join(tags)
    return (
        f'MSE,sim{exponent.translate(_SUPERSCRIPTS)} {label}: '
        f'r = {corr.r:.2f}, R²: {corr.r_squared:.2f}, p = {corr.p:.3g}'
    )
