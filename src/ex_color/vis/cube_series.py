"""Line plots of a per-colour variable (e.g. reconstruction error) along each cube's first axis.

Design decisions:
- One panel per cube, side by side, widths proportional to each cube's first-axis length, sharing y.
  Within a panel every (second, third) axis combination is one polyline of `var` against the first
  axis' coordinates.
- Lines are drawn as segments coloured by the true `color` at each segment's start (clipped to [0, 1]),
  all in a single `LineCollection` per panel: one artist, so thousands of segments render quickly.
  Segments touching a NaN are skipped rather than bridged.
- The colour is the data, so a segment too faint on its background (yellow, cyan or white on white;
  black on the dark theme) keeps its colour and gains a rim in a shade of it with 3:1 contrast against
  the panel's background (`utils.plt.edges.ContrastEdge`). The background is read from the axes, so the
  rule holds in every theme; on a transparent figure (a live preview) the page is unknown and no rim
  is drawn.
- A legend names the lines where their colour cannot: in a panel whose x axis is hue, each line runs
  through every hue and lines differ only by the held axes (the value levels of the error figure), so
  the legend, one row above the panel, names each line by the held coordinates that vary (titled with
  their axis, plus any held axis that is constant: "Value (saturation 1)"). Each entry is drawn in the
  line's colour where the line peaks, which is where a reader compares them. In saturation and value
  panels every line keeps one hue, and its colour names it; `draw_cube_series(legend=True)` labels
  those too when asked.
- `var` may be a plain grid `[*shape]` (preferred) or carry a trailing singleton axis `[*shape, 1]`;
  anything else is a ValueError naming the variable.
- Hue axes are unwrapped so a range crossing red is drawn left to right without a jump.
- y runs from the global minimum (or `y_min`) to the global maximum plus 5% of the span.
- Size: `figsize`, else the theme's: 12 x 3 in at full width, or one paper column (see
  `utils.plt.Theme.figsize`). A column is too narrow for three panels in a row (a 0.4 in value panel
  cannot hold its own axis label), so there the first cube (hue, the one with the legend) takes the
  top row and the others share the row below; the suptitle wraps to the figure's width.

Deliberately not done here: no log scale.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patheffects import AbstractPathEffect, Normal

from ex_color.data.color_cube import ColorCube
from ex_color.vis.axis_format import axis_name, continuous_ticks, coordinate_label, unwrap_hue
from utils.plt import Theme, surface_color
from utils.plt.edges import ContrastEdge

FULL_SIZE = (12.0, 3.0)
COLUMN_ASPECT = 0.85
_RIM_FRACTION = 0.2


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


def line_labels(cube: ColorCube) -> tuple[str, list[str]]:
    """Legend title and one label per line of `cube`, in the order (j, k) the lines are drawn."""
    held = (1, 2)
    varying = [a for a in held if len(cube.coordinates[a]) > 1]
    constant = [a for a in held if len(cube.coordinates[a]) == 1]
    names = [axis_name(cube.space[a]) for a in varying] or ['Line']
    title = ', '.join(names)
    if constant:
        fixed = ', '.join(
            f'{axis_name(cube.space[a]).lower()} {coordinate_label(cube.coordinates[a][0], cube.space[a])}'
            for a in constant
        )
        title = f'{title} ({fixed})'
    labels = []
    for j in range(cube.shape[1]):
        for k in range(cube.shape[2]):
            parts = [coordinate_label(cube.coordinates[a][(j, k)[a - 1]], cube.space[a]) for a in varying]
            labels.append(', '.join(parts) or str(j * cube.shape[2] + k + 1))
    return title, labels


def _edges(ax: Axes, min_contrast: float | None, linewidth: float) -> tuple[float, list[AbstractPathEffect]]:
    """The core width of each line and the path effects that rim it (none on an unknown page)."""
    background = surface_color(ax) if min_contrast is not None else None
    if min_contrast is None or background is None:
        return linewidth, []
    rim = _RIM_FRACTION * linewidth
    return linewidth - 2 * rim, [ContrastEdge(background, min_ratio=min_contrast, width=rim), Normal()]


def draw_cube_series(
    ax: Axes,
    cube: ColorCube,
    var: str,
    *,
    linewidth: float = 1.4,
    pretty: bool | str = True,
    legend: bool = False,
    min_contrast: float | None = 3.0,
) -> None:
    """Draw `var` against the first axis for every (j, k) of `cube`, coloured by the true colour.

    `linewidth`: each line's width, rim included. `legend`: name each line above the panel (see the
    module docstring). `min_contrast`: the contrast each line's rim has against the panel's background;
    None draws no rims.
    """
    values = grid_variable(cube, var)  # [A, B, C]
    x = _x_coords(cube)  # [A]
    colors = np.clip(np.asarray(cube['color'], dtype=np.float64), 0, 1)  # [A, B, C, 3]
    # Segment i of line (j, k) runs from point i to i + 1 and takes the colour at point i.
    x0, x1 = x[:-1, None, None], x[1:, None, None]
    y0, y1 = values[:-1], values[1:]
    x0, x1 = np.broadcast_to(x0, y0.shape), np.broadcast_to(x1, y1.shape)
    segs = np.stack([np.stack([x0, y0], -1), np.stack([x1, y1], -1)], axis=-2)  # [A-1, B, C, 2, 2]
    keep = np.isfinite(y0) & np.isfinite(y1)
    core, effects = _edges(ax, min_contrast, linewidth)
    lines = LineCollection(segs[keep], colors=colors[:-1][keep], linewidths=core, capstyle='round')
    if effects:
        lines.set_path_effects(effects)
    ax.add_collection(lines, autolim=False)
    ax.set_xlim(float(x[0]), float(x[-1]))
    ticks = continuous_ticks(cube.coordinates[0], cube.space[0], pretty)
    ax.set_xticks(ticks.positions, ticks.labels)
    ax.set_xlabel(axis_name(cube.space[0]))
    if legend:
        _draw_legend(ax, values, colors, cube, core, effects)


def _draw_legend(
    ax: Axes,
    values: np.ndarray,  # [A, B, C]
    colors: np.ndarray,  # [A, B, C, 3]
    cube: ColorCube,
    linewidth: float,
    effects: list[AbstractPathEffect],
) -> None:
    title, labels = line_labels(cube)
    handles = []
    for j in range(cube.shape[1]):
        for k in range(cube.shape[2]):
            line = values[:, j, k]
            finite = np.flatnonzero(np.isfinite(line))
            peak = int(finite[np.argmax(line[finite])]) if finite.size else 0
            handles.append(
                Line2D([], [], color=colors[peak, j, k], linewidth=linewidth, path_effects=effects or None)
            )
    ax.legend(
        handles,
        labels,
        title=title,
        alignment='left',
        loc='lower left',
        bbox_to_anchor=(0.0, 1.0),
        ncols=len(handles),
        frameon=False,
    )


def _panels(fig: Figure, widths: list[int], *, stacked: bool) -> list[Axes]:
    """One axes per cube sharing y, widths proportional to `widths`: in one row, or (`stacked`, for a
    narrow figure) the first cube alone on a top row and the rest side by side below it."""
    if not stacked or len(widths) == 1:
        grid = fig.add_gridspec(1, len(widths), width_ratios=widths)
        cells = [grid[0, i] for i in range(len(widths))]
    else:
        grid = fig.add_gridspec(2, len(widths) - 1, width_ratios=widths[1:])
        cells = [grid[0, :], *(grid[1, i] for i in range(len(widths) - 1))]
    axs = [fig.add_subplot(cells[0])]
    axs += [fig.add_subplot(cell, sharey=axs[0]) for cell in cells[1:]]
    return axs


def plot_cube_series(
    *cubes: ColorCube,
    title: str,
    var: str,
    pretty: bool | str = True,
    linewidth: float | None = None,
    figsize: tuple[float, float] | None = None,
    y_min: float | None = None,
    legend: bool = True,
    theme: Theme | None = None,
) -> Figure:
    """One panel per cube showing `var` along its first axis; see the module docstring.

    `linewidth`: default 1.4 pt at full width, 1.2 pt at column width. `legend`: name the lines of every
    panel whose x axis is hue. `theme`: only its width is used (colours come from the rc context); at
    column width the first cube gets a row of its own, the others share the row below.
    """
    if not cubes:
        raise ValueError('plot_cube_series: give at least one cube')
    theme = theme or Theme('indeterminate')
    values = [grid_variable(c, var) for c in cubes]
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    if finite.size == 0:
        raise ValueError(f'plot_cube_series: var {var!r} has no finite values')
    lo = float(finite.min()) if y_min is None else float(y_min)
    hi = float(finite.max())
    span = hi - lo
    if linewidth is None:
        linewidth = 1.4 if theme.width == 'full' else 1.2
    fig = plt.figure(figsize=figsize or theme.figsize(FULL_SIZE, COLUMN_ASPECT))
    axs = _panels(fig, [c.shape[0] for c in cubes], stacked=theme.width == 'column')
    for ax, cube in zip(axs, cubes, strict=True):
        draw_cube_series(
            ax, cube, var, linewidth=linewidth, pretty=pretty, legend=legend and cube.space[0] == 'h'
        )
    # A flat series still gets a visible band rather than a zero-height axis.
    axs[0].set_ylim(lo, hi + (0.05 * span if span > 0 else max(abs(hi), 1.0) * 0.05))
    for ax in axs:
        if ax.get_subplotspec().colspan.start == 0:  # type: ignore[union-attr]  # made by a gridspec
            ax.set_ylabel(var if var[:1].isupper() else var.capitalize())
        else:
            ax.tick_params(labelleft=False)
    fig.suptitle(title, fontsize='medium', wrap=theme.width == 'column')
    return fig
