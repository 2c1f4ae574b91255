"""`Theme`: which colour scheme, and which width, a figure is being drawn for.

Design decisions:
- A theme is a tiny immutable value (`Theme('dark')`), compared and hashed by its fields, so figure
  factories can branch on it (`theme.val('#eee', dark='#111')`) without knowing how the displayer styles
  figures.
- Three names only: `light` and `dark` are the two files a notebook figure is saved as; `indeterminate`
  is for live/transparent previews whose background is not known. Anything else is a ValueError, so a
  typo ('Dark') cannot silently pick the default branch.
- Two widths: `full` (the default: each figure picks its own notebook size) and `column`, a paper's
  column, `COLUMN_WIDTH_IN` (3.35 in, the single column of two-column journal and conference
  templates). A figure drawn for the column is printed at the size it is saved, so its text must be at
  least `MIN_PRINT_PT` (7 pt) there; the `column` style sheet sets fonts to match. `Theme.figsize`
  gives a figure its size for the width, so factories need not repeat the column arithmetic.

Deliberately not done here: no rcParams are touched; styling lives in `utils.plt.styles`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

ThemeName = Literal['light', 'dark', 'indeterminate']
THEME_NAMES: tuple[ThemeName, ...] = ('light', 'dark', 'indeterminate')
WidthName = Literal['full', 'column']
WIDTH_NAMES: tuple[WidthName, ...] = ('full', 'column')

COLUMN_WIDTH_IN = 3.35
"""Width of one column of a two-column paper, in inches (the figure width a `column` theme draws for)."""
MIN_PRINT_PT = 7.0
"""The smallest text, in points at the saved size, that a figure meant for print may carry."""

T = TypeVar('T')


class _Unset:
    """Marker for 'no value given for this theme' (None is a legitimate value)."""

    def __repr__(self) -> str:
        return '<unset>'


_UNSET = _Unset()


@dataclass(frozen=True)
class Theme:
    """The colour scheme a figure is drawn for."""

    name: ThemeName
    """One of 'light', 'dark' or 'indeterminate'."""
    width: WidthName = 'full'
    """'full': the figure's own notebook size; 'column': `COLUMN_WIDTH_IN` wide, for print."""

    def __post_init__(self):
        if self.name not in THEME_NAMES:
            raise ValueError(f'Theme name: expected one of {", ".join(THEME_NAMES)}; got {self.name!r}')
        if self.width not in WIDTH_NAMES:
            raise ValueError(f'Theme width: expected one of {", ".join(WIDTH_NAMES)}; got {self.width!r}')

    def figsize(self, full: tuple[float, float], column_aspect: float) -> tuple[float, float]:
        """The figure size for this width: `full` (inches) at full width; at column width
        `COLUMN_WIDTH_IN` wide and `column_aspect` times that tall."""
        if not column_aspect > 0:
            raise ValueError(f'Theme.figsize: column_aspect must be > 0, got {column_aspect!r}')
        if self.width == 'full':
            return full
        return (COLUMN_WIDTH_IN, round(COLUMN_WIDTH_IN * column_aspect, 3))

    def val(
        self,
        default: T,
        *,
        light: T | _Unset = _UNSET,
        dark: T | _Unset = _UNSET,
        indeterminate: T | _Unset = _UNSET,
    ) -> T:
        """Return the value given for this theme, or `default` when none was given for it."""
        chosen = {'light': light, 'dark': dark, 'indeterminate': indeterminate}[self.name]
        return default if isinstance(chosen, _Unset) else chosen

    def palette(self) -> dict[str, str]:
        """The colours every figure shares: text and edges (``fg``), the data's main colour
        (``data``) and its band (``band``), an ``accent`` for what is picked out, and ``faint`` guides."""
        return {
            'fg': self.val('#888', light='#333', dark='#ddd'),
            'data': self.val('#58c', light='#1f5fa8', dark='#8bf'),
            'band': self.val('#58c4', light='#1f5fa833', dark='#8bf3'),
            'accent': self.val('#c60', light='#b34700', dark='#fa6'),
            'faint': self.val('#8884', light='#0002', dark='#fff3'),
        }

    def __repr__(self) -> str:
        width = '' if self.width == 'full' else f', width={self.width!r}'
        return f'Theme({self.name!r}{width})'
