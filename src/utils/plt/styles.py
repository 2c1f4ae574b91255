"""Matplotlib style sheets and the `use_theme` context manager.

Design decisions:
- Sheets are plain Python mappings of rcParams rather than `.mplstyle` files: they need no package-data
  configuration, load identically whatever the working directory or install mode, and are validated by
  matplotlib the moment they are applied.
- `base` carries layout and typography shared by every variant; `light`, `dark` and `transparent` only
  set colours. Combine them in order, later entries winning: `use_theme('base', 'dark', {'figure.dpi':
  150})`.
- Fonts are kept at matplotlib's default size for titles and labels and one step smaller for ticks and
  legends, which stays legible in a 150 dpi PNG shown at half size on a high-density screen.
- The dark sheet gives the figure a solid #333 background (not transparent), so the saved file reads the
  same on any page background.
- `COLUMN_STYLE` is for print: figures `COLUMN_WIDTH_IN` (3.35 in) wide, printed at the size they are saved.
  Every font size is absolute (8 pt text, 7 pt ticks and legends), because the relative sizes of `base`
  ('small' = 0.83 x 8 pt) would fall below the 7 pt print minimum. Lines and spines are thinner to
  match. PDF and PostScript embed TrueType (Type 42) fonts, which journals' checkers accept where
  matplotlib's default Type 3 fonts are often refused. Apply it after `base` and a colour sheet:
  `use_theme('base', 'light', COLUMN_STYLE)`.

Deliberately not done here: no global state is changed; `use_theme` wraps `matplotlib.rc_context`, so
settings are restored on exit even when drawing raises. Unknown sheet names are a KeyError naming the
available sheets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

import matplotlib as mpl

from utils.plt.theme import COLUMN_WIDTH_IN, MIN_PRINT_PT

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

_BASE: dict[str, Any] = {
    'font.size': 10,
    'axes.titlesize': 'medium',
    'axes.labelsize': 'medium',
    'figure.titlesize': 'large',
    'xtick.labelsize': 'small',
    'ytick.labelsize': 'small',
    'legend.fontsize': 'small',
    'legend.frameon': False,
    'axes.grid': False,
    # No border around the whole figure; the background patch itself stays so saved files are opaque.
    'figure.edgecolor': 'none',
    'figure.constrained_layout.use': True,
    'lines.solid_capstyle': 'round',
    'lines.dash_capstyle': 'round',
    'axes3d.xaxis.panecolor': (0.0, 0.0, 0.0, 0.0),
    'axes3d.yaxis.panecolor': (0.0, 0.0, 0.0, 0.0),
    'axes3d.zaxis.panecolor': (0.0, 0.0, 0.0, 0.0),
    'savefig.dpi': 'figure',
}

_LIGHT: dict[str, Any] = {
    'figure.facecolor': 'white',
    'axes.facecolor': 'white',
    'savefig.facecolor': 'white',
    'text.color': 'black',
    'axes.labelcolor': 'black',
    'axes.titlecolor': 'black',
    'axes.edgecolor': '#ccc',
    'axes.linewidth': 0.4,
    'xtick.color': '#0008',
    'ytick.color': '#0008',
    'xtick.labelcolor': '#000c',
    'ytick.labelcolor': '#000c',
    'legend.labelcolor': 'black',
}

_DARK: dict[str, Any] = {
    'figure.facecolor': '#333',
    'savefig.facecolor': '#333',
    'axes.facecolor': '#1118',
    'axes.spines.left': False,
    'axes.spines.right': False,
    'axes.spines.top': False,
    'axes.spines.bottom': False,
    'axes.edgecolor': '#fff8',
    'text.color': 'white',
    'axes.labelcolor': 'white',
    'axes.titlecolor': 'white',
    'xtick.color': '#fff8',
    'ytick.color': '#fff8',
    'xtick.labelcolor': '#fffc',
    'ytick.labelcolor': '#fffc',
    'legend.labelcolor': 'white',
}

_TRANSPARENT: dict[str, Any] = {
    'figure.facecolor': 'none',
    'axes.facecolor': 'none',
    'savefig.facecolor': 'none',
    'savefig.transparent': True,
    'text.color': '#888',
    'axes.labelcolor': '#888',
    'axes.titlecolor': '#888',
    'axes.edgecolor': '#888',
    'xtick.color': '#888',
    'ytick.color': '#888',
    'xtick.labelcolor': '#888',
    'ytick.labelcolor': '#888',
    'legend.labelcolor': '#888',
}

_COLUMN: dict[str, Any] = {
    'figure.figsize': (COLUMN_WIDTH_IN, round(COLUMN_WIDTH_IN * 0.7, 3)),
    'font.size': 8,
    'axes.titlesize': 8,
    'axes.labelsize': 8,
    'figure.titlesize': 8,
    'figure.labelsize': 8,
    'xtick.labelsize': MIN_PRINT_PT,
    'ytick.labelsize': MIN_PRINT_PT,
    'legend.fontsize': MIN_PRINT_PT,
    'legend.title_fontsize': MIN_PRINT_PT,
    'legend.handlelength': 1.5,
    'legend.columnspacing': 1.0,
    'legend.handletextpad': 0.4,
    'legend.borderaxespad': 0.2,
    'lines.linewidth': 1.0,
    'axes.linewidth': 0.5,
    'xtick.major.width': 0.5,
    'ytick.major.width': 0.5,
    'xtick.major.size': 2.5,
    'ytick.major.size': 2.5,
    'xtick.major.pad': 2.0,
    'ytick.major.pad': 2.0,
    'axes.titlepad': 3.0,
    'axes.labelpad': 2.0,
    # constrained layout's padding around the figure and between panels, in inches (default 3 pt)
    'figure.constrained_layout.h_pad': 0.02,
    'figure.constrained_layout.w_pad': 0.02,
    'pdf.fonttype': 42,
    'ps.fonttype': 42,
    'savefig.dpi': 300,
}

STYLE_SHEETS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        'base': MappingProxyType(_BASE),
        'light': MappingProxyType(_LIGHT),
        'dark': MappingProxyType(_DARK),
        'transparent': MappingProxyType(_TRANSPARENT),
    }
)
"""The named sheets accepted by `use_theme` (read-only)."""

COLUMN_STYLE: Mapping[str, Any] = MappingProxyType(_COLUMN)
"""rcParams for figures printed one paper column wide (read-only); pass it to `use_theme` after the
colour sheets. A mapping rather than a named sheet: it sets sizes, not colours, and is meant to be
combined with the light sheet for print."""

Style = str | Mapping[str, Any]


def resolve_styles(*styles: Style) -> dict[str, Any]:
    """Merge sheet names and rcParam mappings, later entries winning. KeyError for unknown sheet names."""
    merged: dict[str, Any] = {}
    for i, style in enumerate(styles):
        if isinstance(style, str):
            if style not in STYLE_SHEETS:
                raise KeyError(
                    f'use_theme: argument {i} names unknown style sheet {style!r}; '
                    f'available: {", ".join(STYLE_SHEETS)}'
                )
            merged.update(STYLE_SHEETS[style])
        elif isinstance(style, Mapping):
            merged.update(style)
        else:
            raise TypeError(
                f'use_theme: argument {i} must be a sheet name or a mapping of rcParams, '
                f'got {type(style).__name__}'
            )
    return merged


@contextmanager
def use_theme(*styles: Style) -> Iterator[dict[str, Any]]:
    """Temporarily apply style sheets (by name) and/or rcParam overrides; yields the merged settings."""
    merged = resolve_styles(*styles)
    # rc_context validates every key and value on entry, so typos in overrides fail here, loudly.
    with mpl.rc_context(cast('dict[RcKeyType, Any]', merged)):
        yield merged
