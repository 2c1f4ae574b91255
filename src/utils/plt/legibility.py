"""Legibility measures for figures: colour contrast (WCAG 2) and print-size text checks.

Design decisions:
- Contrast is the WCAG 2 ratio of relative luminances, (L1 + 0.05) / (L2 + 0.05), with sRGB decoded to
  linear light. 3:1 is WCAG's minimum for graphical objects (lines, markers), which is what the
  figures' lines need against their background.
- `shade_for_contrast` moves a colour toward black (on backgrounds where black contrasts more than
  white) or toward white, by mixing in linear light, the least that reaches the ratio. Luminance is
  linear in that mix, so the amount is solved exactly; the target sits 2% above the ratio so rounding
  to 8-bit colour in a saved file cannot undercut it. A ratio the background cannot give (3:1 against
  mid grey in one direction) is a ValueError, never a silently weaker colour.
- `surface_color` is the opaque colour behind an axes: its face over the figure's face, composited the
  way renderers blend. A figure whose face is not opaque lies on an unknown page, so it has no surface
  colour (None) and callers decide what that means (the cube series then draws no contrast edges).
- `print_problems` lists why a figure would not print legibly at a given width: a different width, text
  under the minimum size (mathtext sub- and superscripts print smaller than their text's size, so they
  count as too small), or content reaching past the figure's edge (clipped in the saved file).

Deliberately not done here: no drawing (the edge that applies these measures is `utils.plt.edges`),
and nothing imports pyplot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matplotlib.colors import to_rgba

from utils.plt.theme import COLUMN_WIDTH_IN, MIN_PRINT_PT

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RGB = tuple[float, float, float]
_MARGIN = 1.02
_WIDTH_TOLERANCE_IN = 0.005
_EDGE_TOLERANCE_IN = 0.01


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _encode(c: float) -> float:
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def _opaque(color: Any, argument: str) -> RGB:
    r, g, b, a = to_rgba(color)
    if a < 1:
        raise ValueError(f'{argument}: expected an opaque colour, got {color!r} (alpha {a:g})')
    return (r, g, b)


def relative_luminance(color: Any) -> float:
    """WCAG 2 relative luminance of an opaque matplotlib colour: 0 for black, 1 for white."""
    r, g, b = (_linear(c) for c in _opaque(color, 'relative_luminance'))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def composite(color: Any, background: Any) -> RGB:
    """`color` (possibly translucent) painted over the opaque `background`."""
    r, g, b, a = to_rgba(color)
    under = _opaque(background, 'composite background')
    return (a * r + (1 - a) * under[0], a * g + (1 - a) * under[1], a * b + (1 - a) * under[2])


def contrast_ratio(color: Any, background: Any) -> float:
    """WCAG 2 contrast ratio, from 1 (same luminance) to 21 (black on white); a translucent `color`
    is measured as painted over `background`."""
    fg = relative_luminance(composite(color, background))
    bg = relative_luminance(background)
    hi, lo = max(fg, bg), min(fg, bg)
    return (hi + 0.05) / (lo + 0.05)


def shade_for_contrast(color: Any, background: Any, min_ratio: float = 3.0) -> RGB:
    """`color` (painted over `background`), or the nearest shade of it toward black or white that has
    at least `min_ratio` contrast against `background`; see the module docstring."""
    if not min_ratio >= 1:
        raise ValueError(f'shade_for_contrast: min_ratio must be >= 1, got {min_ratio!r}')
    rgb = composite(color, background)
    if contrast_ratio(rgb, background) >= min_ratio:
        return rgb
    bg = relative_luminance(background)
    to_black = (bg + 0.05) / 0.05 >= 1.05 / (bg + 0.05)
    target = min_ratio * _MARGIN
    # luminance the shade must reach, and the luminance of the end it is mixed toward
    wanted, end = ((bg + 0.05) / target - 0.05, 0.0) if to_black else (target * (bg + 0.05) - 0.05, 1.0)
    if not 0 <= wanted <= 1:
        raise ValueError(
            f'shade_for_contrast: no shade of {color!r} reaches {min_ratio:g}:1 against {background!r} '
            f'(the most is {max((bg + 0.05) / 0.05, 1.05 / (bg + 0.05)):.2f}:1)'
        )
    lin = [_linear(c) for c in rgb]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    t = (lum - wanted) / (lum - end)
    r, g, b = (min(1.0, max(0.0, _encode((1 - t) * c + t * end))) for c in lin)
    return (r, g, b)


def surface_color(ax: Axes) -> RGB | None:
    """The opaque colour behind `ax`'s data, or None when the figure's face is not opaque."""
    fig = ax.get_figure(root=True)
    if fig is None:
        raise ValueError('surface_color: the axes is not in a figure')
    page = to_rgba(fig.get_facecolor())
    if page[3] < 1:
        return None
    return composite(ax.get_facecolor(), page[:3])


def print_problems(fig: Figure, width_in: float = COLUMN_WIDTH_IN, min_pt: float = MIN_PRINT_PT) -> list[str]:
    """Why `fig` would not print legibly `width_in` inches wide with text of at least `min_pt` points
    (an empty list when it would). Lays the figure out (without rendering) to measure it."""
    from matplotlib.cbook import is_math_text
    from matplotlib.text import Text

    problems = []
    w, h = fig.get_size_inches()
    if abs(w - width_in) > _WIDTH_TOLERANCE_IN:
        problems.append(f'the figure is {w:.2f} in wide, not {width_in:.2f} in')
    fig.draw_without_rendering()
    for text in fig.findobj(Text):
        label = text.get_text()
        if not text.get_visible() or not label.strip():
            continue
        size = float(text.get_fontsize())
        if size < min_pt:
            problems.append(f'{label!r} is set in {size:.3g} pt, under {min_pt:g} pt')
        elif is_math_text(label) and any(mark in label for mark in '_^'):
            problems.append(
                f'{label!r} has mathtext sub- or superscripts, printed smaller than {size:.3g} pt'
            )
    box = fig.get_tightbbox()
    if box is not None:
        over = max(-box.x0, -box.y0, box.x1 - w, box.y1 - h)
        if over > _EDGE_TOLERANCE_IN:
            problems.append(
                f'content reaches {over:.2f} in past the edge of the figure (it would be cut off)'
            )
    return problems
