"""Stacked results figure: one model's latents, reconstructed colours and error in a single 5×5.3 in image.

Rows (height ratios 2.5 : 1.8 : 1.2), from an evaluated `TestSet` (or its three cubes):
1. two latent panels side by side (`draw_latent_panel`, dot radius 5; default dims (1,0,2) and (2,0,1)),
   optionally with cone annotations marking the anchored direction, from ``latent_cube``;
2. the full-saturation colour slice of ``color_slice_cube`` (outer patch = reconstruction, inner square
   = true colour), value increasing upwards, hue left to right;
3. the hue-wise error (``MSE``) of ``loss_cube`` at full saturation for 5 value levels, y in
   [0, `max_error`].

Design decisions:
- Latent panels keep `draw_latent_panel`'s ±1.07 limits. The reference used ±0.65 on matplotlib 3-D
  axes, whose projection shrinks the data box, so its unit circle filled the panel; on the plain 2-D
  axes used here ±1.07 gives that same framing, whereas ±0.65 would cut the sphere off.
- "Full saturation" is the largest saturation coordinate of each HSV cube. In the slice, rows with
  value 0 are dropped: they are black at every hue and carry no information (for the default test set
  that is row 0, as in the reference). Value runs upwards, as in the later reference figures.
- The 5 value levels of the series are the top one and then every ⌊(n − 1)/4⌋-th below it (for the
  default 24 levels: indices 23, 18, 13, 8, 3, the same levels the seed's loss figure draws); with fewer
  than 5 levels every level is drawn.
- `max_error` fixes the y range so figures of different models compare at a glance; None uses the
  plotted maximum plus 5%.
- Missing variables (an un-evaluated test set) are a KeyError naming the cube and the variable.

Deliberately not done here: no tables, no correlation score (see `similarity_scatter`), no choice of
which model to show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ex_color.data.color_cube import ColorCube
from ex_color.vis.axis_format import format_value, index_ticks
from ex_color.vis.color_slices import draw_color_slice
from ex_color.vis.cube_series import draw_cube_series, grid_variable
from ex_color.vis.latent_grid import ConeAnnotation, draw_latent_panel

if TYPE_CHECKING:
    from ex_color.evaluation.test_set import TestSet
    from utils.plt import Theme

CUBE_NAMES = ('latent_cube', 'color_slice_cube', 'loss_cube')
HEIGHT_RATIOS = (2.5, 1.8, 1.2)
_N_LEVELS = 5


def _cubes(data: TestSet | Mapping[str, ColorCube]) -> dict[str, ColorCube]:
    cubes = data if isinstance(data, Mapping) else getattr(data, 'cubes', None)
    if not isinstance(cubes, Mapping):
        raise TypeError(
            f'test_set_or_cubes: expected a TestSet or a mapping of {CUBE_NAMES}, got {type(data).__name__}'
        )
    out = {}
    for name in CUBE_NAMES:
        if name not in cubes:
            raise KeyError(f'test_set_or_cubes: missing cube {name!r}')
        if not isinstance(cubes[name], ColorCube):
            raise TypeError(
                f'test_set_or_cubes[{name!r}]: expected a ColorCube, got {type(cubes[name]).__name__}'
            )
        out[name] = cubes[name]
    return out


def _require(cube: ColorCube, cube_name: str, *variables: str) -> None:
    for var in variables:
        if var not in cube:
            raise KeyError(f'{cube_name}: no {var!r} variable; evaluate the test set on a model first')


def _full_saturation(cube: ColorCube, space: str, cube_name: str) -> ColorCube:
    """`cube` in axis order `space` (which starts or continues with 's'), cut at its largest saturation."""
    if cube.canonical_space != 'hsv':
        raise ValueError(f'{cube_name}: expected an HSV cube, got one built in {cube.canonical_space!r}')
    cube = cube.permute(space)
    s_axis = space.index('s')
    top = int(np.argmax(cube.coordinates[s_axis]))
    key: list[slice | int] = [slice(None)] * 3
    key[s_axis] = top
    return cube[tuple(key)]


def draw_full_saturation_slice(ax: Axes, cube: ColorCube, *, pretty: bool = True) -> None:
    """Reconstructed (outer) and true (inner) colours at full saturation, value up, hue across."""
    _require(cube, 'color_slice_cube', 'recon')
    sl = _full_saturation(cube, 'svh', 'color_slice_cube')
    v = sl.coordinates[1]
    keep = np.flatnonzero(v > 0)[::-1]  # value increasing upwards: the top image row is the largest v
    if keep.size == 0:
        raise ValueError('color_slice_cube: every value coordinate is 0; nothing to show')
    recon = np.clip(np.asarray(sl['recon'], dtype=np.float64)[0, keep], 0, 1)
    true = np.clip(np.asarray(sl['color'], dtype=np.float64)[0, keep], 0, 1)
    draw_color_slice(ax, recon, true)
    ax.set_aspect('auto')  # fill the row's width; cells need not be square
    xt = index_ticks(sl.coordinates[2], 'h', pretty)
    ax.set_xticks(xt.positions, xt.labels)
    rows = [0, keep.size - 1] if keep.size > 1 else [0]
    ax.set_yticks(rows, [format_value(v[keep[r]], pretty) for r in rows])
    ax.set_ylabel('Value')
    ax.tick_params(length=0)
    ax.set_title(f'Saturation = {format_value(sl.coordinates[0][0], pretty)}', fontsize='small')


def value_levels(n: int) -> np.ndarray:
    """Indices of the (up to) 5 value levels drawn by the series, from the top down."""
    if n < 1:
        raise ValueError(f'value_levels: need at least one level, got {n}')
    if n <= _N_LEVELS:
        return np.arange(n - 1, -1, -1)
    step = (n - 1) // (_N_LEVELS - 1)
    return (n - 1) - step * np.arange(_N_LEVELS)


def draw_hue_error(ax: Axes, cube: ColorCube, *, max_error: float | None = None) -> None:
    """`MSE` against hue at full saturation for 5 value levels; y from 0 to `max_error`."""
    _require(cube, 'loss_cube', 'MSE')
    grid_variable(cube, 'MSE')  # shape check with a clear message before slicing
    sl = _full_saturation(cube, 'hsv', 'loss_cube')
    sl = sl[:, :, value_levels(sl.shape[2])]
    draw_cube_series(ax, sl, 'MSE', linewidth=1.2)
    if max_error is None:
        values = grid_variable(sl, 'MSE')
        finite = values[np.isfinite(values)]
        top = float(finite.max()) * 1.05 if finite.size else 1.0
        max_error = top if top > 0 else 1.0
    elif not np.isfinite(max_error) or max_error <= 0:
        raise ValueError(f'max_error must be a finite number > 0, got {max_error!r}')
    ax.set_ylim(0, max_error)
    ax.set_ylabel('MSE')
    ax.set_xlabel('')


def plot_results(
    test_set_or_cubes: TestSet | Mapping[str, ColorCube],
    *,
    title: str,
    latent_dims: Sequence[tuple[int, int, int]] = ((1, 0, 2), (2, 0, 1)),
    anchor_annotation: ConeAnnotation | Sequence[ConeAnnotation] | None = None,
    max_error: float | None = None,
    dot_radius: float = 5,
    figsize: tuple[float, float] = (5, 5.3),
    theme: Theme | None = None,
) -> Figure:
    """The stacked results figure described in the module docstring."""
    cubes = _cubes(test_set_or_cubes)
    given = [tuple(int(i) for i in d) for d in latent_dims]
    if len(given) != 2:
        raise ValueError(f'latent_dims: expected exactly two (i, j, k) triples, got {len(given)}')
    lat_cube = cubes['latent_cube']
    _require(lat_cube, 'latent_cube', 'recon', 'latents')
    lat = np.asarray(lat_cube['latents'], dtype=np.float64)
    lat = lat.reshape(-1, lat.shape[-1])  # [N, D]
    triples: list[tuple[int, int, int]] = []
    for d in given:
        if len(d) != 3 or not all(0 <= i < lat.shape[1] for i in d):
            raise IndexError(f'latent_dims: {d} is not three latent indices in 0..{lat.shape[1] - 1}')
        triples.append(d)
    if isinstance(anchor_annotation, ConeAnnotation):
        annotations: Sequence[ConeAnnotation] = (anchor_annotation,)
    else:
        annotations = tuple(anchor_annotation or ())
    recon = np.clip(np.asarray(lat_cube['recon'], dtype=np.float64).reshape(-1, 3), 0, 1)
    true = np.clip(np.asarray(lat_cube.rgb_grid, dtype=np.float64).reshape(-1, 3), 0, 1)

    fig = plt.figure(figsize=figsize)
    try:
        grid = fig.add_gridspec(3, 2, height_ratios=HEIGHT_RATIOS)
        for col, dims in enumerate(triples):
            ax = fig.add_subplot(grid[0, col])
            draw_latent_panel(
                ax, lat, dims, recon, true, dot_radius=dot_radius, theme=theme, annotations=annotations
            )
        draw_full_saturation_slice(fig.add_subplot(grid[1, :]), cubes['color_slice_cube'])
        draw_hue_error(fig.add_subplot(grid[2, :]), cubes['loss_cube'], max_error=max_error)
    except BaseException:
        plt.close(fig)
        raise
    if title:
        fig.suptitle(title)
    return fig
