"""Plot theming: `Theme` values, named matplotlib style sheets applied with `use_theme`, the column
(print) style, and the contrast and text-size checks that keep a figure legible.

`utils.plt.edges.ContrastEdge` is imported from its module: it needs matplotlib's renderer classes,
which a notebook served from the figure cache need not load."""

from utils.plt.legibility import (
    composite,
    contrast_ratio,
    print_problems,
    relative_luminance,
    shade_for_contrast,
    surface_color,
)
from utils.plt.styles import COLUMN_STYLE, STYLE_SHEETS, Style, resolve_styles, use_theme
from utils.plt.theme import (
    COLUMN_WIDTH_IN,
    MIN_PRINT_PT,
    THEME_NAMES,
    WIDTH_NAMES,
    Theme,
    ThemeName,
    WidthName,
)

__all__ = [
    'COLUMN_STYLE',
    'COLUMN_WIDTH_IN',
    'MIN_PRINT_PT',
    'STYLE_SHEETS',
    'THEME_NAMES',
    'WIDTH_NAMES',
    'Style',
    'Theme',
    'ThemeName',
    'WidthName',
    'composite',
    'contrast_ratio',
    'print_problems',
    'relative_luminance',
    'resolve_styles',
    'shade_for_contrast',
    'surface_color',
    'use_theme',
]
