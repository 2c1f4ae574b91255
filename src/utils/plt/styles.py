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

STYLE_SHEETS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        'base': MappingProxyType(_BASE),
        'light': MappingProxyType(_LIGHT),
        'dark': MappingProxyType(_DARK),
        'transparent': MappingProxyType(_TRANSPARENT),
    }
)
"""The named sheets accepted by `use_theme` (read-only)."""

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
