"""`ContrastEdge`: a path effect that rims each line in a shade of its colour legible on the background.

A line's colour often *is* its data (the cube series colour each segment by the true colour), so a pale
yellow on white cannot simply be drawn darker. Instead every path gets, underneath it, a stroke `width`
points wider on each side in the nearest shade of its own colour that has `min_ratio` contrast against
the background (`shade_for_contrast`): a faint line keeps its colour in the middle and gains a visible
rim, and a line with enough contrast gets a rim of its own colour, which only widens it. Rimming every
path, rather than only the faint ones, keeps a line's width constant where its colour crosses the
threshold (a line whose rim appeared at orange would thicken there, suggesting a change in the data).

Use it before `Normal`: ``artist.set_path_effects([ContrastEdge(background), patheffects.Normal()])``.
On a collection matplotlib then draws every edge first and every line over them, so one line's edge
never covers its neighbour. The colour of each path is read at draw time from the graphics context, so
one effect serves a `LineCollection` of many colours, and legend handles copied from it.

Deliberately not done here: choosing the background (pass the colour behind the axes, e.g.
`surface_color(ax)`); markers and fills (only strokes are outlined).
"""

from __future__ import annotations

from typing import Any

from matplotlib.colors import to_rgba
from matplotlib.patheffects import AbstractPathEffect

from utils.plt.legibility import composite, shade_for_contrast


class ContrastEdge(AbstractPathEffect):
    """Rim every stroke in the nearest shade of its colour with `min_ratio` contrast against `background`."""

    def __init__(self, background: Any, *, min_ratio: float = 3.0, width: float = 0.5) -> None:
        super().__init__()
        r, g, b, a = to_rgba(background)
        if a < 1:
            raise ValueError(f'ContrastEdge: background must be an opaque colour, got {background!r}')
        if not min_ratio >= 1:
            raise ValueError(f'ContrastEdge: min_ratio must be >= 1, got {min_ratio!r}')
        if not width > 0:
            raise ValueError(f'ContrastEdge: width must be > 0 points, got {width!r}')
        self.background = (r, g, b)
        self.min_ratio = min_ratio
        self.width = width

    def edge_color(self, color: Any) -> tuple[float, float, float]:
        """The rim drawn under a stroke of `color` (the colour itself, opaque, when it has the contrast)."""
        return shade_for_contrast(composite(color, self.background), self.background, self.min_ratio)

    def draw_path(self, renderer, gc, tpath, affine, rgbFace=None):  # noqa: N803 (matplotlib's name)
        rgba = gc.get_rgb()
        alpha = gc.get_alpha() if gc.get_forced_alpha() else (rgba[3] if len(rgba) == 4 else 1.0)
        if gc.get_linewidth() <= 0:
            return
        edge = self.edge_color((*rgba[:3], alpha))
        gc0 = renderer.new_gc()
        gc0.copy_properties(gc)
        gc0.set_alpha(1.0)
        gc0.set_foreground(edge)
        gc0.set_linewidth(gc.get_linewidth() + 2 * self.width)
        renderer.draw_path(gc0, tpath, affine, None)
        gc0.restore()
