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
- The title is used verbatim as the suptitle; callers join their tags themselves (§19.33).

Deliberately not done here: no interactivity, no perspective projection, no axes or ticks.
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
from utils.plt import Theme

_LIMIT = 1.07
_RING_FRACTION = 0.4


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
    ax.set_axis_off()
    ax.set_title(f'({i},{j},{k})')


def plot_latent_grid_3d_from_cube(
    cube: ColorCube,
    colors: str | np.ndarray = 'color',
    colors_compare: str | np.ndarray | None = None,
    latents: str | np.ndarray = 'latents',
    *,
    dims: Sequence[tuple[int, int, int]],
    title: str | None = None,
    figsize_per_plot: tuple[float, float] = (6, 6),
    dot_radius: float = 10,
    theme: Theme | None = None,
    annotations: Sequence[ConeAnnotation] | None = None,
) -> Figure:
    """Grid of latent projections (3 columns), one panel per entry of `dims`."""
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
        fig.suptitle(title)
    return fig
