"""`Theme`: which colour scheme a figure is being drawn for.

Design decisions:
- A theme is a tiny immutable value (`Theme('dark')`), compared and hashed by name, so figure factories
  can branch on it (`theme.val('#eee', dark='#111')`) without knowing how the displayer styles figures.
- Three names only: `light` and `dark` are the two files a notebook figure is saved as; `indeterminate`
  is for live/transparent previews whose background is not known. Anything else is a ValueError, so a
  typo ('Dark') cannot silently pick the default branch.

Deliberately not done here: no rcParams are touched; styling lives in `utils.plt.styles`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

ThemeName = Literal['light', 'dark', 'indeterminate']
THEME_NAMES: tuple[ThemeName, ...] = ('light', 'dark', 'indeterminate')

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

    def __post_init__(self):
        if self.name not in THEME_NAMES:
            raise ValueError(f'Theme name: expected one of {", ".join(THEME_NAMES)}; got {self.name!r}')

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
        return f'Theme({self.name!r})'
