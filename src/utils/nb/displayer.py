"""`displayer_mpl`: render a matplotlib figure in light and dark variants and show it as `<picture>`.

Usage (the figure factory may take a `theme` keyword; that is detected from its signature):

    with displayer_mpl('large-assets/ex-2.10-dopesheet.png', alt_text='Schedule, titled "{title}"') as show:
        show(lambda theme: plot_dopesheet(dopesheet, theme=theme))

Design decisions:
- The factory is called once per variant inside that variant's rc context, so theme-dependent rcParams
  (backgrounds, text colours, dpi) apply when the figure is *created*. Variants: light (written to
  `path`) and dark (written to `<stem>.dark.png`), both at 150 dpi; plus an optional live preview.
- All variants are rendered to bytes before any file is written, so a factory that raises leaves no
  file behind (nor any open figure) and the exception propagates unchanged.
- Paths resolve as described in `utils.nb.paths` (repository root, `EX_COLOR_FIGURES_DIR`); the HTML
  refers to the files by paths relative to the working directory, which is where Jupyter resolves them.
- The `?v=` cache buster is a hash of each file's bytes, so re-running an unchanged figure reproduces
  the notebook output exactly. There is no sleep anywhere.
- `{title}` in the alt text is replaced by the figure's suptitle (plain substitution, so other braces in
  the text are left alone). The output's text/plain form is the alt text.
- Without a running IPython kernel, `display` just prints the alt text; files are written either way.
- If the body of the `with` block raises, nothing is rendered and the exception propagates.
- With ``key=`` (a string that changes whenever the figure would: its data and the code that draws
  it), the rendered variants are kept under ``<runs>/figures`` (`utils.paths.runs_root`, which smoke
  runs and tests point elsewhere) and a later call with the same key, styles and matplotlib version
  writes the kept bytes instead of drawing again: a re-run of an unchanged notebook re-draws nothing.
  The files and the output are byte for byte what drawing would give. Without a key, every call draws.

Deliberately not done here: no Git LFS handling, no SVG/PDF output, no figure styling beyond applying
the variant's sheets (figures decide their own colours via `Theme`).
"""

from __future__ import annotations

import hashlib
import html
import inspect
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from utils.atomic import write_atomic
from utils.nb.paths import resolve_figure_path, staged_path, url_for
from utils.nb.png import content_token, render_png
from utils.paths import runs_root
from utils.plt import Style, Theme, ThemeName, use_theme

if TYPE_CHECKING:  # pyplot is imported when a figure is drawn: a figure served from the cache needs none
    from matplotlib.figure import Figure

FigureFactory = Callable[..., 'Figure']

DEFAULT_LIGHT: tuple[Style, ...] = ('base', 'light', {'figure.dpi': 150})
DEFAULT_DARK: tuple[Style, ...] = ('base', 'dark', {'figure.dpi': 150})
DEFAULT_LIVE: tuple[Style, ...] = ('base', 'transparent', {'figure.dpi': 90})
DEFAULT_ALT_TEXT = 'Figure titled "{title}"'


@dataclass(frozen=True)
class RenderedFigure:
    """What `displayer_mpl` wrote and displayed."""

    files: dict[str, Path]
    """Absolute path of each written variant, keyed by variant name ('light', 'dark')."""
    html: str
    """The `<picture>` element that was displayed."""
    alt_text: str
    """Alt text after `{title}` substitution (also the output's text/plain form)."""


@dataclass(frozen=True)
class FigureHTML:
    """An IPython-displayable HTML snippet whose plain-text form is its alt text."""

    html: str
    alt_text: str

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {'text/html': self.html, 'text/plain': self.alt_text}

    def __repr__(self) -> str:
        return self.alt_text


def _accepts_theme(factory: FigureFactory) -> bool:
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        # Some builtins/C callables have no inspectable signature; they cannot expect a theme keyword.
        return False
    return 'theme' in params


def _render(
    factory: FigureFactory, theme: Theme, styles: Sequence[Style], autoclose: bool
) -> tuple[bytes, str]:
    """Call the factory in the variant's rc context; return (PNG bytes, suptitle)."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    before = set(plt.get_fignums())
    with use_theme(*styles):
        try:
            fig = factory(theme=theme) if _accepts_theme(factory) else factory()
            if not isinstance(fig, Figure):
                raise TypeError(
                    f'displayer_mpl: the figure factory must return a Figure, got {type(fig).__name__}'
                )
            data = render_png(fig)
            title = fig.get_suptitle()
        except BaseException:
            for num in set(plt.get_fignums()) - before:
                plt.close(num)
            raise
    if autoclose:
        plt.close(fig)
    return data, title


def _variant_path(path: Path, variant: str) -> Path:
    return path if variant == 'light' else path.with_name(f'{path.stem}.{variant}{path.suffix}')


def _picture_html(urls: dict[str, str], alt_text: str) -> str:
    def attr(text: str) -> str:
        return html.escape(text, quote=True)

    return (
        '<picture>'
        f'<source media="(prefers-color-scheme: dark)" srcset="{attr(urls["dark"])}">'
        f'<source media="(prefers-color-scheme: light)" srcset="{attr(urls["light"])}">'
        f'<img src="{attr(urls["light"])}" alt="{attr(alt_text)}">'
        '</picture>'
    )


@dataclass
class FigureShow:
    """The callable yielded by `displayer_mpl`: `show(factory)` registers the figure factory."""

    path: Path
    alt_template: str
    variants: dict[ThemeName, tuple[Style, ...]]
    live_styles: tuple[Style, ...] | None
    autoclose: bool
    key: str | None = None
    factory: FigureFactory | None = None
    result: RenderedFigure | None = None
    """Set when the `with` block exits successfully."""
    _handle: Any = field(default=None, repr=False)

    def __call__(self, factory: FigureFactory) -> None:
        """Use `factory` for this figure (the last call wins); with `live`, preview it immediately."""
        if not callable(factory):
            raise TypeError(f'show: expected a callable returning a Figure, got {type(factory).__name__}')
        self.factory = factory
        if self.live_styles is not None:
            from IPython.display import Image, display

            data, _ = _render(factory, Theme('indeterminate'), self.live_styles, self.autoclose)
            if self._handle is None:
                self._handle = display(Image(data=data), display_id=True)
            else:
                self._handle.update(Image(data=data))

    def finish(self) -> RenderedFigure:
        """Render every variant, write the files, and display the `<picture>`."""
        from IPython.display import display

        if self.factory is None:
            raise RuntimeError(f'displayer_mpl({str(self.path)!r}): show(factory) was never called')
        kept = _FigureCache(self.key, self.variants) if self.key is not None else None
        rendered = kept.get() if kept is not None else None
        if rendered is None:
            rendered = {
                name: _render(self.factory, Theme(name), styles, self.autoclose)
                for name, styles in self.variants.items()
            }
            if kept is not None:
                kept.put(rendered)
        files: dict[str, Path] = {name: _variant_path(self.path, name) for name in rendered}
        for name, (data, _) in rendered.items():
            write_atomic(staged_path(files[name]), data)
        urls: dict[str, str] = {
            name: f'{quote(url_for(files[name]), safe="/:")}?v={content_token(data)}'
            for name, (data, _) in rendered.items()
        }
        alt_text = self.alt_template.replace('{title}', rendered['light'][1])
        out = FigureHTML(_picture_html(urls, alt_text), alt_text)
        if self._handle is not None:
            self._handle.update(out)
        else:
            display(out)
        self.result = RenderedFigure(files=files, html=out.html, alt_text=alt_text)
        return self.result


@contextmanager
def displayer_mpl(
    path: str | os.PathLike[str],
    alt_text: str | None = None,
    *,
    live: bool = False,
    autoclose: bool = True,
    live_theme: Sequence[Style] | None = None,
    light_theme: Sequence[Style] | None = None,
    dark_theme: Sequence[Style] | None = None,
    key: str | None = None,
) -> Iterator[FigureShow]:
    """Context manager yielding `show`; on exit writes `<path>` (light) and `<stem>.dark.png` and displays.

    `*_theme` replace the default style sequences for a variant (sheet names and/or rcParam dicts).
    With `autoclose` (default) every figure is closed once rendered. `key`: reuse the variants drawn
    before under this key (see the module docstring).
    """
    if not str(path).endswith('.png'):
        raise ValueError(f'displayer_mpl: path must end with .png, got {str(path)!r}')
    show = FigureShow(
        path=resolve_figure_path(path),
        alt_template=alt_text if alt_text is not None else DEFAULT_ALT_TEXT,
        variants={
            'light': tuple(light_theme if light_theme is not None else DEFAULT_LIGHT),
            'dark': tuple(dark_theme if dark_theme is not None else DEFAULT_DARK),
        },
        live_styles=tuple(live_theme if live_theme is not None else DEFAULT_LIVE) if live else None,
        autoclose=autoclose,
        key=key,
    )
    yield show
    show.finish()


class _FigureCache:
    """The rendered variants of one figure, by its key, the variants' styles and matplotlib's version."""

    def __init__(self, key: str, variants: dict[ThemeName, tuple[Style, ...]]) -> None:
        from importlib.metadata import version

        h = hashlib.sha256(key.encode())
        h.update(repr(sorted(variants.items())).encode())
        h.update(version('matplotlib').encode())
        digest = h.hexdigest()
        self.folder = runs_root() / 'figures' / digest[:2] / digest
        self.names = list(variants)

    def get(self) -> dict[str, tuple[bytes, str]] | None:
        try:
            titles = json.loads((self.folder / 'titles.json').read_text())
            return {name: ((self.folder / f'{name}.png').read_bytes(), titles[name]) for name in self.names}
        except (FileNotFoundError, KeyError):
            return None
        except ValueError as e:
            raise ValueError(
                f'figure cache {self.folder} is damaged ({e}); delete it to draw again'
            ) from None

    def put(self, rendered: dict[str, tuple[bytes, str]]) -> None:
        for name, (data, _) in rendered.items():
            write_atomic(self.folder / f'{name}.png', data)
        # written last: a folder without it is incomplete and is drawn again
        titles = {name: title for name, (_, title) in rendered.items()}
        write_atomic(self.folder / 'titles.json', json.dumps(titles, sort_keys=True).encode())
