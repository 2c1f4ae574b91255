"""Line plots of a per-colour variable (e.g. reconstruction error) along each cube's first axis.

Design decisions:
- One panel per cube, side by side, widths proportional to each cube's first-axis length, sharing y.
  Within a panel every (second, third) axis combination is one polyline of `var` against the first
  axis' coordinates.
- Lines are drawn as segments coloured by the true `color` at each segment's start (clipped to [0, 1]),
  all in a single `LineCollection` per panel: one artist, so thousands of segments render quickly.
  Segments touching a NaN are skipped rather than bridged.
- `var` may be a plain grid `[*shape]` (preferred) or carry a trailing singleton axis `[*shape, 1]`;
  anything else is a ValueError naming the variable.
- Hue axes are unwrapped so a range crossing red is drawn left to right without a jump.
- y runs from the global minimum (or `y_min`) to the global maximum plus 5% of the span.

Deliberately not done here: no legend (colour is the legend), no log scale.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ex_color.data.color_cube import ColorCube
from ex_color.vis.axis_format import axis_name, continuous_ticks, unwrap_hue


def grid_variable(cube: ColorCube, var: str) -> np.ndarray:
    """`cube[var]` as a plain `[*shape]` float array (a trailing singleton axis is dropped)."""
    arr = np.asarray(cube[var], dtype=np.float64)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.shape != cube.shape:
        raise ValueError(f'var {var!r}: expected shape {cube.shape} or {(*cube.shape, 1)}, got {arr.shape}')
    return arr


def _x_coords(cube: ColorCube) -> np.ndarray:
    coords = cube.coordinates[0]
    return unwrap_hue(coords) if cube.space[0] == 'h' else np.asarray(coords, dtype=np.float64)


def draw_cube_series(
    ax: Axes, cube: ColorCube, var: str, *, linewidth: float = 1.4, pretty: bool | str = True
) -> None:
    """Draw `var` against the first axis for every (j, k) of `cube`, coloured by the true colour."""
    values = grid_variable(cube, var)  # [A, B, C]
    x = _x_coords(cube)  # [A]
    colors = np.clip(np.asarray(cube['color'], dtype=np.float64), 0, 1)  # [A, B, C, 3]
    # Segment i of line (j, k) runs from point i to i + 1 and takes the colour at point i.
    x0, x1 = x[:-1, None, None], x[1:, None, None]
    y0, y1 = values[:-1], values[1:]
    x0, x1 = np.broadcast_to(x0, y0.shape), np.broadcast_to(x1, y1.shape)
    segs = np.stack([np.stack([x0, y0], -1), np.stack([x1, y1], -1)], axis=-2)  # [A-1, B, C, 2, 2]
    keep = np.isfinite(y0) & np.isfinite(y1)
    ax.add_collection(
        LineCollection(
            segs[keep],
            colors=colors[:-1][keep],
            linewidths=linewidth,
            capstyle='round',
        ),
        autolim=False,
    )
    ax.set_xlim(float(x[0]), float(x[-1]))
    ticks = continuous_ticks(cube.coordinates[0], cube.space[0], pretty)
    ax.set_xticks(ticks.positions, ticks.labels)
    ax.set_xlabel(axis_name(cube.space[0]))


def plot_cube_series(
    *cubes: ColorCube,
    title: str,
    var: str,
    pretty: bool | str = True,
    linewidth: float = 1.4,
    figsize: tuple[float, float] | None = None,
    y_min: float | None = None,
) -> Figure:
    """One panel per cube showing `var` along its first axis; see the module docstring."""
    if not cubes:
        raise ValueError('plot_cube_series: give at least one cube')
    values = [grid_variable(c, var) for c in cubes]
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    if finite.size == 0:
        raise ValueError(f'plot_cube_series: var {var!r} has no finite values')
    lo = float(finite.min()) if y_min is None else float(y_min)
    hi = float(finite.max())
    span = hi - lo
    fig, axs = plt.subplots(
        1,
        len(cubes),
        sharey=True,
        squeeze=False,
        figsize=figsize,
        width_ratios=[c.shape[0] for c in cubes],
    )
    for i, (ax, cube) in enumerate(zip(axs[0], cubes, strict=True)):
        draw_cube_series(ax, cube, var, linewidth=linewidth, pretty=pretty)
        if i > 0:
            ax.tick_params(labelleft=False)
    # A flat series still gets a visible band rather than a zero-height axis.
    axs[0, 0].set_ylim(lo, hi + (0.05 * span if span > 0 else max(abs(hi), 1.0) * 0.05))
    axs[0, 0].set_ylabel(var if var[:1].isupper() else var.capitalize())
    fig.suptitle(title, fontsize=10)
    return fig
