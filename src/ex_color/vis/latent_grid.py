"""Latent-space figure: each panel projects unit-norm latents onto three chosen dimensions.

Design decisions:
- A panel for dims (i, j, k) is an orthographic view from directly above: x = latent i, y = latent j,
  and latent k is depth. It is drawn on a plain 2-D axes with points sorted by depth (largest k last, so
  nearer points sit on top) instead of matplotlib 3-D axes: identical picture, far faster to render.
- Behind the points: a filled unit disc (light #eee, dark #111, otherwise translucent grey); on top: a
  thin unit-circle outline. Limits are ±1.07 rather than ±1 so dots and the outline at the rim are not
  cut in half.
- Each point is one marker: its fill is `colors_compare` (the true colour in the notebooks) and its ring
  is `colors` (the reconstruction). The ring is 0.4 × `dot_radius` wide and lies inside the radius. With
  no `colors_compare`, fill and ring are both `colors`.
- Optional cone annotations (`ConeAnnotation`) mark a direction with a given full apex angle: the cone's
  base circle on the unit sphere is projected (an ellipse) and two silhouette lines join it to the
  origin. A direction with more than three components is restricted to the panel's three dims and
  re-normalised, which is exact when the other components are zero.
- Latent dimensions are named e₀, e₁, … (`latent_name`, Unicode subscripts rather than mathtext, which
  prints subscripts at 70% of the text size). A panel labels its x and y axes with the names of the
  dims it projects onto and is titled with all three, depth last ("e₁, e₀ · depth e₂"), so a reader
  never has to decode an index triple. There are no ticks: the unit circle is the scale.
- The title is used verbatim as the suptitle; callers join their tags themselves (§19.33).
- Size: `figsize_per_plot`, else the theme's: 6 x 6 in panels at full width; at column width the row of
  up to three panels spans one paper column, and the suptitle wraps. `dot_radius` defaults to 10 pt on
  a 6 in panel and scales with the panel's width, so the cloud looks the same at any size.

Deliberately not done here: no interactivity, no perspective projection, no ticks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Circle
from matplotlib.transforms import IdentityTransform

from ex_color.data.color_cube import ColorCube
from ex_color.vis.axis_format import resolve_colors
from ex_color.vis.occlusion import DepthCulledDots
from utils.plt import COLUMN_WIDTH_IN, Theme

_LIMIT = 1.07
_RING_FRACTION = 0.4
_FULL_PANEL = (6.0, 6.0)
_FULL_DOT_RADIUS = 10.0
_COLUMN_PANEL_ASPECT = 1.12  # height / width: a column panel's labels take a larger share of it
_SUBSCRIPTS = str.maketrans('0123456789', '₀₁₂₃₄₅₆₇₈₉')


def latent_name(index: int) -> str:
    """The name of latent dimension `index`: 'e₀', 'e₁', … 'e₁₂'."""
    if index < 0:
        raise ValueError(f'latent_name: index must be >= 0, got {index}')
    return 'e' + str(index).translate(_SUBSCRIPTS)


@dataclass(frozen=True)
class ConeAnnotation:
    """A cone from the origin around `direction` (latent space), drawn as a projected outline."""

    direction: Sequence[float]
    """Cone axis in latent space (any non-zero length; normalised per panel)."""
    angle: float
    """Full apex angle in radians, in (0, pi)."""
    linestyle: str = '--'
    """Matplotlib line style for the outline."""

    def __post_init__(self):
        if not 0 < self.angle < math.pi:
            raise ValueError(
                f'ConeAnnotation.angle: expected a full angle in (0, pi) radians, got {self.angle!r}'
            )
        if not np.any(np.asarray(self.direction, dtype=float)):
            raise ValueError('ConeAnnotation.direction: must be non-zero')


def _cone_outline(axis3: np.ndarray, half_angle: float, n: int = 181) -> tuple[np.ndarray, list[np.ndarray]]:
    """Projected base ellipse [n, 2] and silhouette end points of a cone around unit `axis3`."""
    helper = np.eye(3)[np.argmin(np.abs(axis3))]
    u = np.cross(axis3, helper)
    u /= np.linalg.norm(u)
    w = np.cross(axis3, u)
    t = np.linspace(0, 2 * math.pi, n)
    ring = math.cos(half_angle) * axis3 + math.sin(half_angle) * (
        np.cos(t)[:, None] * u + np.sin(t)[:, None] * w
    )
    ellipse = ring[:, :2]
    centre = axis3[:2] * math.cos(half_angle)
    if np.linalg.norm(centre) < 1e-9:
        return ellipse, []
    # Silhouette lines touch the ellipse where the angle seen from the origin is extreme.
    cross = centre[0] * ellipse[:, 1] - centre[1] * ellipse[:, 0]
    rel = np.arctan2(cross, ellipse @ centre)
    if np.ptp(rel) > math.pi:
        return ellipse, []  # origin inside the projected base: no silhouette
    return ellipse, [ellipse[np.argmin(rel)], ellipse[np.argmax(rel)]]


def draw_latent_panel(
    ax: Axes,
    latents: np.ndarray,  # [N, D]
    dims: tuple[int, int, int],
    colors: np.ndarray,  # [N, 3]
    colors_compare: np.ndarray | None = None,  # [N, 3]
    *,
    dot_radius: float = 10,
    theme: Theme | None = None,
    annotations: Sequence[ConeAnnotation] = (),
    cull_hidden: bool = True,
) -> None:
    """Draw one top-down projection of `latents` onto `dims` (x, y, depth) into `ax`.

    With `cull_hidden`, dots completely covered by nearer ones are skipped at draw time (same pixels,
    much faster; see `ex_color.vis.occlusion`).
    """
    theme = theme or Theme('indeterminate')
    i, j, k = dims
    order = np.argsort(latents[:, k], kind='stable')
    fill = colors if colors_compare is None else colors_compare
    ring = _RING_FRACTION * dot_radius
    ax.add_patch(
        Circle((0, 0), 1, facecolor=theme.val('#8888', light='#eee', dark='#111'), edgecolor='none', zorder=0)
    )
    # The marker edge is centred on its outline, so shrink the marker by one ring width to keep the
    # outer edge at dot_radius.
    diameter = 2 * dot_radius - ring
    marker = MarkerStyle('o')
    dots_cls = DepthCulledDots if cull_hidden else PathCollection
    extra = {'radius_points': dot_radius} if cull_hidden else {}
    dots = dots_cls(
        (marker.get_path().transformed(marker.get_transform()),),
        sizes=[diameter**2],
        offsets=np.stack([latents[order, i], latents[order, j]], axis=-1),
        offset_transform=ax.transData,
        facecolors=fill[order],
        edgecolors=colors[order],
        linewidths=ring,
        zorder=1,
        **extra,
    )
    # Marker paths are in points around each offset (as scatter does), not in data coordinates.
    dots.set_transform(IdentityTransform())
    ax.add_collection(dots, autolim=False)
    outline = theme.val('#0005', dark='#fff4')
    ax.add_patch(Circle((0, 0), 1, fill=False, edgecolor=outline, linewidth=0.8, zorder=3))
    for ann in annotations:
        direction = np.asarray(ann.direction, dtype=float)
        axis3 = direction[[i, j, k]]
        if not np.any(axis3):
            continue  # the cone axis is orthogonal to this panel's dims
        ellipse, tips = _cone_outline(axis3 / np.linalg.norm(axis3), ann.angle / 2)
        style: dict[str, Any] = {
            'color': theme.val('#000a', dark='#fffa'),
            'linestyle': ann.linestyle,
            'linewidth': 1,
            'zorder': 4,
        }
        ax.plot(ellipse[:, 0], ellipse[:, 1], **style)
        for tip in tips:
            ax.plot([0, tip[0]], [0, tip[1]], **style)
    ax.set_xlim(-_LIMIT, _LIMIT)
    ax.set_ylim(-_LIMIT, _LIMIT)
    ax.set_aspect('equal')
    # The axes stay on for their labels; frame, ticks and background go (the disc is the backdrop).
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_frame_on(False)
    ax.set_xlabel(latent_name(i))
    ax.set_ylabel(latent_name(j), rotation=0, horizontalalignment='right', verticalalignment='center')
    ax.set_title(f'{latent_name(i)}, {latent_name(j)} · depth {latent_name(k)}')


def plot_latent_grid_3d_from_cube(
    cube: ColorCube,
    colors: str | np.ndarray = 'color',
    colors_compare: str | np.ndarray | None = None,
    latents: str | np.ndarray = 'latents',
    *,
    dims: Sequence[tuple[int, int, int]],
    title: str | None = None,
    figsize_per_plot: tuple[float, float] | None = None,
    dot_radius: float | None = None,
    theme: Theme | None = None,
    annotations: Sequence[ConeAnnotation] | None = None,
) -> Figure:
    """Grid of latent projections (3 columns), one panel per entry of `dims`.

    `figsize_per_plot` and `dot_radius` default to the theme's width (see the module docstring)."""
    lat = np.asarray(cube[latents] if isinstance(latents, str) else latents, dtype=np.float64)
    if lat.ndim < 4 or lat.shape[:3] != cube.shape:
        raise ValueError(f'latents: expected shape [*{cube.shape}, D], got {lat.shape}')
    lat = lat.reshape(-1, lat.shape[-1])  # [N, D]
    n_dims = lat.shape[1]
    if not dims:
        raise ValueError('dims: give at least one (i, j, k) triple')
    for d in dims:
        if len(d) != 3 or not all(0 <= int(x) < n_dims for x in d):
            raise IndexError(f'dims: {tuple(d)} is not three latent indices in 0..{n_dims - 1}')
    fill_true = None if colors_compare is None else resolve_colors(cube, colors_compare, 'colors_compare')
    ring = resolve_colors(cube, colors, 'colors').reshape(-1, 3)
    n = len(dims)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    if figsize_per_plot is None:
        width = (theme or Theme('indeterminate')).width
        side = COLUMN_WIDTH_IN / cols
        figsize_per_plot = _FULL_PANEL if width == 'full' else (side, round(side * _COLUMN_PANEL_ASPECT, 3))
    if dot_radius is None:
        dot_radius = _FULL_DOT_RADIUS * figsize_per_plot[0] / _FULL_PANEL[0]
    fig, axs = plt.subplots(
        rows, cols, figsize=(cols * figsize_per_plot[0], rows * figsize_per_plot[1]), squeeze=False
    )
    for idx, ax in enumerate(axs.flat):
        if idx >= n:
            ax.set_visible(False)
            continue
        i, j, k = (int(x) for x in dims[idx])
        draw_latent_panel(
            ax,
            lat,
            (i, j, k),
            ring,
            None if fill_true is None else fill_true.reshape(-1, 3),
            dot_radius=dot_radius,
            theme=theme,
            annotations=annotations or (),
        )
    if title:
        fig.suptitle(title, wrap=theme is not None and theme.width == 'column')
    return fig
