"""Colour-slice figure: one panel per coordinate of a cube's first axis, colours as square patches.

Design decisions:
- Axis roles come from `cube.space`: first axis = one panel per coordinate, second = image rows (row 0
  at the top, as in the seed era), third = image columns.
- Each cell is a patch of the `colors` variable (outer, e.g. the reconstruction). With `colors_compare`
  a centred square of side 0.3 cell shows the compare colour (inner, e.g. the true colour). Patches are
  an `imshow` (nearest, exact cell boundaries) plus one `PolyCollection` of inner squares: a handful of
  artists however large the cube, so rendering stays fast.
- Layout follows the reference: panels are wrapped into rows so a row is at most ~70 cells wide, and the
  figure size is derived from `patch_size` (inches per cell). Only the bottom visible panel of each
  column gets x ticks, only the first column y ticks.
- The figure title is `<title> · <Y> vs <X> by <MAIN>` (axis letters upper-case), or just the axis part
  when `title` is empty, so a caller never produces a doubled separator.

Deliberately not done here: no theme-specific colours (the displayer's rc sheets style text and
backgrounds; the patches are data), no colour-space conversion (`color` is always RGB).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from ex_color.data.color_cube import ColorCube
from ex_color.vis.axis_format import axis_name, format_value, index_ticks, is_pretty, resolve_colors

INNER_FRACTION = 0.3
"""Side of the inner (compare) square, as a fraction of a cell."""

_MAX_ROW_CELLS = 70


def draw_color_slice(
    ax: Axes,
    colors: np.ndarray,  # [Y, X, 3]
    colors_compare: np.ndarray | None = None,  # [Y, X, 3]
    inner: float = INNER_FRACTION,
) -> None:
    """Draw a grid of colour patches (row 0 at the top); cell (r, c) is centred at data (c, r)."""
    if colors.ndim != 3 or colors.shape[-1] != 3:
        raise ValueError(f'colors: expected shape [Y, X, 3], got {colors.shape}')
    ny, nx = colors.shape[:2]
    ax.imshow(
        np.clip(colors, 0, 1),
        interpolation='nearest',
        origin='upper',
        extent=(-0.5, nx - 0.5, ny - 0.5, -0.5),
        aspect='equal',
    )
    if colors_compare is not None:
        if colors_compare.shape != colors.shape:
            raise ValueError(f'colors_compare: expected shape {colors.shape}, got {colors_compare.shape}')
        rows, cols = np.mgrid[0:ny, 0:nx]
        h = inner / 2
        corners = np.array([[-h, -h], [h, -h], [h, h], [-h, h]])  # [4, 2]
        centres = np.stack([cols.ravel(), rows.ravel()], axis=-1).astype(float)  # [N, 2]
        verts = centres[:, None, :] + corners[None, :, :]  # [N, 4, 2]
        ax.add_collection(
            PolyCollection(
                verts,
                facecolors=np.clip(colors_compare, 0, 1).reshape(-1, 3),
                edgecolors='none',
                linewidths=0,
            ),
            autolim=False,
        )
    ax.set_xlim(-0.5, nx - 0.5)
    ax.set_ylim(ny - 0.5, -0.5)


def _grid_shape(n_panels: int, nx: int) -> tuple[int, int]:
    total = nx * n_panels + (n_panels - 1)
    rows = math.ceil(total / _MAX_ROW_CELLS)
    cols = math.ceil(n_panels / rows)
    rows = math.ceil(n_panels / cols)
    return rows, cols


def plot_colors(
    cube: ColorCube,
    pretty: bool | str = True,
    patch_size: float = 0.25,
    title: str = '',
    colors: str | np.ndarray | None = None,
    colors_compare: str | np.ndarray | None = None,
) -> Figure:
    """Colour slices of `cube`: outer patches `colors` (default `color`), inner squares `colors_compare`."""
    if patch_size <= 0:
        raise ValueError(f'patch_size must be positive, got {patch_size!r}')
    outer = resolve_colors(cube, 'color' if colors is None else colors, 'colors')
    inner = None if colors_compare is None else resolve_colors(cube, colors_compare, 'colors_compare')
    main, ylet, xlet = tuple(cube.space)  # the three axis letters, e.g. 'hsv'
    n_panels, ny, nx = cube.shape
    rows, cols = _grid_shape(n_panels, nx)
    fig, axs = plt.subplots(
        rows,
        cols,
        figsize=(cols * patch_size * nx, rows * (patch_size * ny + 0.5)),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    xt = index_ticks(cube.coordinates[2], xlet, pretty)
    yt = index_ticks(cube.coordinates[1], ylet, pretty)
    for idx, ax in enumerate(axs.flat):
        if idx >= n_panels:
            ax.set_visible(False)
            continue
        c = idx % cols
        draw_color_slice(ax, outer[idx], None if inner is None else inner[idx])
        value = format_value(cube.coordinates[0][idx], is_pretty(pretty, main))
        ax.set_title(f'{axis_name(main)} = {value}')
        ax.set_xticks(xt.positions, xt.labels)
        ax.set_yticks(yt.positions, yt.labels)
        # The bottom visible panel of each column carries the x axis; the first column the y axis.
        bottom = idx + cols >= n_panels
        ax.tick_params(labelbottom=bottom, bottom=bottom, labelleft=c == 0, left=c == 0)
        if bottom:
            ax.set_xlabel(axis_name(xlet))
        if c == 0:
            ax.set_ylabel(axis_name(ylet))
    axes_part = f'{ylet.upper()} vs {xlet.upper()} by {main.upper()}'
    fig.suptitle(f'{title} · {axes_part}' if title else axes_part)
    return fig
