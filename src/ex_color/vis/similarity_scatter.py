"""Error-vs-similarity scatter: does a model's error fall off with distance to an anchor colour?

Every cell of a cube is one point: x = `hsv_similarity`(cell, anchor)^power (angular, hemi — the same
predictor `ex_color.evaluation.error_correlation` scores), y = the cell's error (``MSE`` by default).
A dashed least-squares line is labelled with Pearson r and R², so the figure shows the number a sweep
ranks by.

Design decisions:
- Given a `TestSet`, the scatter uses its **latent cube** (RGB 20³), the cube `error_correlation`
  documents for a whole test set, so the printed score and the figure describe the same points.
- HSV is recomputed from each cell's RGB ``color`` (`rgb2hsv`), so any cube works whatever its axes.
- Point colour is the true colour; alpha = 0.1 + 0.9·(x + y/max y)/2, clipped to [0, 1]. The error is
  normalised by its maximum so alpha means "how far towards the top right", whatever the error's units.
- Points are drawn in order of increasing alpha, so the informative, opaque points sit on top.
- A constant x or y (r undefined) or a non-finite error is a ValueError, as in `error_correlation`: a
  figure that claimed an r would be wrong.
- The anchor is an argument, never assumed to be red; the x label names it (``sim_red``) when it is a
  named hue at full saturation and value, else ``sim_anchor``.

Deliberately not done here: no density estimate or binning, no log axes, no per-theme point colours
(the points are data; only the fit line follows the theme).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from ex_color.data.color_cube import ColorCube
from ex_color.data.colors import hues12, rgb2hsv
from ex_color.evaluation.correlation import Correlation, check_power, correlation_cube
from ex_color.evaluation.similarity import hsv_similarity
from ex_color.vis.cube_series import grid_variable
from utils.plt import Theme

if TYPE_CHECKING:
    from ex_color.evaluation.test_set import TestSet

_HUE_TOLERANCE = 1e-6


class SimilarityFit(NamedTuple):
    """The least-squares line and correlation drawn on an error-vs-similarity scatter."""

    slope: float
    """Slope of the fitted line (error per unit of similarity^power)."""
    intercept: float
    """Error predicted at zero similarity."""
    correlation: Correlation
    """Pearson r (and p) between x and the error; `correlation.r_squared` is R²."""


class SimilarityPoints(NamedTuple):
    """The scatter's data, one entry per cube cell (flattened in grid order)."""

    x: NDArray[np.float64]
    """Similarity to the anchor raised to `power`, [N]."""
    y: NDArray[np.float64]
    """The error variable, [N]."""
    colors: NDArray[np.float64]
    """True RGB colour of each cell, [N, 3]."""


def _check_anchor(anchor_hsv: ArrayLike) -> NDArray[np.float64]:
    anchor = np.asarray(anchor_hsv, dtype=np.float64)
    if anchor.shape != (3,):
        raise ValueError(f'anchor_hsv: expected 3 values (h, s, v), got shape {anchor.shape}')
    return anchor


def anchor_label(anchor_hsv: ArrayLike) -> str:
    """``red`` for (0, 1, 1) and the other named hues at s = v = 1; otherwise ``anchor``."""
    h, s, v = _check_anchor(anchor_hsv)
    if s == 1 and v == 1:
        for name, hue in hues12.items():
            if abs((h - hue + 0.5) % 1.0 - 0.5) < _HUE_TOLERANCE:
                return name
    return 'anchor'


def similarity_points(
    cube: ColorCube, anchor_hsv: ArrayLike, power: float, var: str = 'MSE'
) -> SimilarityPoints:
    """x = similarity(cell, anchor)^power and y = `var` for every cell of `cube`."""
    anchor = _check_anchor(anchor_hsv)
    power = check_power(power)
    y = grid_variable(cube, var).reshape(-1)
    if not np.all(np.isfinite(y)):
        raise ValueError(f'var {var!r}: not finite at flat index {int(np.flatnonzero(~np.isfinite(y))[0])}')
    rgb = np.asarray(cube.rgb_grid, dtype=np.float64).reshape(-1, 3)
    x = hsv_similarity(rgb2hsv(rgb), anchor, hemi=True, mode='angular') ** power
    return SimilarityPoints(x=x, y=y, colors=np.clip(rgb, 0.0, 1.0))


def point_alpha(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """0.1 + 0.9·(x + y/max y)/2, clipped to [0, 1] (y/max y is 0 when y is all zero)."""
    top = float(np.max(y)) if y.size else 0.0
    y_norm = y / top if top > 0 else np.zeros_like(y)
    return np.clip(0.1 + 0.9 * (x + y_norm) / 2, 0.0, 1.0)


def fit_similarity(points: SimilarityPoints, var: str = 'MSE') -> SimilarityFit:
    """Least-squares line (`numpy.polyfit`, degree 1) and Pearson r of y on x."""
    from scipy import stats  # imported here: half a second that most callers never need

    if np.ptp(points.x) == 0:
        raise ValueError('error vs similarity: the similarity is constant over the cube, so r is undefined')
    if np.ptp(points.y) == 0:
        raise ValueError(f'error vs similarity: {var!r} is constant over the cube, so r is undefined')
    slope, intercept = np.polyfit(points.x, points.y, 1)
    result = stats.pearsonr(points.x, points.y)
    return SimilarityFit(
        slope=float(slope),
        intercept=float(intercept),
        correlation=Correlation(float(result.statistic), float(result.pvalue)),
    )


def draw_error_vs_similarity(
    ax: Axes,
    cube: ColorCube,
    anchor_hsv: ArrayLike,
    power: float,
    *,
    var: str = 'MSE',
    theme: Theme | None = None,
) -> SimilarityFit:
    """Scatter `var` against similarity^`power` for every cell of `cube`, with a labelled fit line."""
    theme = theme or Theme('indeterminate')
    pts = similarity_points(cube, anchor_hsv, power, var)
    fit = fit_similarity(pts, var)
    alpha = point_alpha(pts.x, pts.y)
    order = np.argsort(alpha, kind='stable')
    rgba = np.concatenate([pts.colors, alpha[:, None]], axis=-1)[order]
    ax.scatter(pts.x[order], pts.y[order], s=2, c=rgba, linewidths=0)

    corr = fit.correlation
    x_line = np.array([float(pts.x.min()), float(pts.x.max())])
    ax.plot(
        x_line,
        fit.slope * x_line + fit.intercept,
        linestyle='--',
        linewidth=1,
        color=theme.val('#888', light='#000c', dark='#fffc'),
        label=f'$r = {corr.r:.3f}$, $R^2 = {corr.r_squared:.3f}$',
    )
    exponent = f'{int(power)}' if float(power).is_integer() else f'{power:g}'
    ax.set_xlabel(rf'$\mathrm{{sim}}_{{\mathrm{{{anchor_label(anchor_hsv)}}}}}^{{{exponent}}}$')
    ax.set_ylabel(var)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(bottom=min(0.0, float(pts.y.min())))
    ax.legend(loc='upper left')
    return fit


def plot_error_vs_similarity(
    data: ColorCube | TestSet,
    anchor_hsv: ArrayLike = (0.0, 1.0, 1.0),
    power: float = 3,
    *,
    var: str = 'MSE',
    title: str = '',
    figsize: tuple[float, float] = (4, 4),
    theme: Theme | None = None,
) -> Figure:
    """4×4 in figure of `draw_error_vs_similarity`; a `TestSet` contributes its latent cube."""
    cube = correlation_cube(data)
    fig, ax = plt.subplots(figsize=figsize)
    try:
        draw_error_vs_similarity(ax, cube, anchor_hsv, power, var=var, theme=theme)
    except BaseException:
        plt.close(fig)
        raise
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
