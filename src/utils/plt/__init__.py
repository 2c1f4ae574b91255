"""Plot theming: `Theme` values and named matplotlib style sheets applied with `use_theme`."""

from utils.plt.styles import STYLE_SHEETS, Style, resolve_styles, use_theme
from utils.plt.theme import THEME_NAMES, Theme, ThemeName

__all__ = ['STYLE_SHEETS', 'THEME_NAMES', 'Style', 'Theme', 'ThemeName', 'resolve_styles', 'use_theme']
