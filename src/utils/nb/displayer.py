"""`displayer_mpl`: render a matplotlib figure in light and dark variants and show it as an `<img>`.

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
- The output is one `<img>` of the light variant carrying the dark one's URL in ``data-dark-src``,
  not a `<picture>`: JupyterLab resolves an output's ``src`` against the notebook's folder but not a
  `<source>`'s ``srcset``, so a `<picture>` in a trusted output (a cell just run, or a notebook
  saved in the lab) showed a broken image. The site (`utils.nb.site`) turns ``data-dark-src`` back
  into a `<picture>` whose dark source follows the reader's colour scheme.
- `{title}` in the alt text is replaced by the figure's suptitle (plain substitution, so other braces in
  the text are left alone). The output's text/plain form is the alt text.
- Without a running IPython kernel, `display` just prints the alt text; files are written either way.
- If the body of the `with` block raises, nothing is rendered and the exception propagates.
- With ``key=`` (a string that changes whenever the figure would: its data and the code that draws
  it), the rendered variants are kept under ``<runs>/figures`` (`utils.paths.runs_root`, which smoke
  runs and tests point elsewhere) and a later call with the same key, styles, formats and matplotlib
  version writes the kept bytes instead of drawing again: a re-run of an unchanged notebook re-draws
  nothing. The files and the output are byte for byte what drawing would give. Without a key, every
  call draws.
- Vector copies for papers: ``formats=('png', 'pdf', 'svg')``, or the environment variable
  ``EX_COLOR_FIGURE_FORMATS=pdf,svg`` for every figure of a run, adds `<stem>.pdf` and `<stem>.svg`
  beside the PNGs, in the light theme, written like them (atomically, staged, redirected by
  `EX_COLOR_FIGURES_DIR`). The two PNGs are always written: they are what the notebook shows.
  ``vector_width`` (or ``EX_COLOR_FIGURE_WIDTH``) says how wide: ``'full'`` (default) saves the light
  PNG's own figure as vectors; ``'column'`` draws the figure once more with the factory given
  ``Theme('light', width='column')`` and `COLUMN_STYLE`, and then checks that it will print legibly
  (`utils.plt.print_problems`: 3.35 in wide, no text under 7 pt, nothing cut off). A factory that does
  not size itself from its theme fails that check with a ValueError naming the file, rather than
  writing a 12 in figure under a column-width name. A figure that has no column layout says so
  (``column_layout=False``): its vectors are then written at full width, and the log names it.

Deliberately not done here: no Git LFS handling, no figure styling beyond applying the variant's sheets
(figures decide their own colours and sizes via `Theme`).
"""

from __future__ import annotations

import hashlib
import html
import inspect
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from utils.atomic import write_atomic
from utils.nb.paths import resolve_figure_path, staged_path, url_for
from utils.nb.png import VECTOR_FORMATS, check_formats, content_token, render_formats
from utils.paths import runs_root
from utils.plt import COLUMN_STYLE, WIDTH_NAMES, Style, Theme, WidthName, print_problems, use_theme

if TYPE_CHECKING:  # pyplot is imported when a figure is drawn: a figure served from the cache needs none
    from matplotlib.figure import Figure

FigureFactory = Callable[..., 'Figure']

DEFAULT_LIGHT: tuple[Style, ...] = ('base', 'light', {'figure.dpi': 150})
DEFAULT_DARK: tuple[Style, ...] = ('base', 'dark', {'figure.dpi': 150})
DEFAULT_LIVE: tuple[Style, ...] = ('base', 'transparent', {'figure.dpi': 90})
DEFAULT_ALT_TEXT = 'Figure titled "{title}"'
log = logging.getLogger(__name__)

FORMATS_ENV = 'EX_COLOR_FIGURE_FORMATS'
"""Environment variable: comma-separated formats every figure is also saved in (e.g. ``pdf,svg``)."""
WIDTH_ENV = 'EX_COLOR_FIGURE_WIDTH'
"""Environment variable: ``full`` or ``column``, the width vector copies are drawn for."""


@dataclass(frozen=True)
class RenderedFigure:
    """What `displayer_mpl` wrote and displayed."""

    files: dict[str, Path]
    """Absolute path of each written file: the PNGs by variant ('light', 'dark'), vector copies by
    format ('pdf', 'svg')."""
    html: str
    """The `<img>` element that was displayed (light variant; the dark one's URL in ``data-dark-src``)."""
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


@dataclass(frozen=True)
class Variant:
    """One drawing of a figure: the theme its factory is given, the rc styles, the formats saved."""

    theme: Theme
    styles: tuple[Style, ...]
    formats: tuple[str, ...]


def _render(
    factory: FigureFactory, variant: Variant, autoclose: bool, path: Path
) -> tuple[dict[str, bytes], str]:
    """Call the factory in the variant's rc context; return (bytes per format, suptitle)."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    before = set(plt.get_fignums())
    with use_theme(*variant.styles):
        try:
            theme = variant.theme
            fig = factory(theme=theme) if _accepts_theme(factory) else factory()
            if not isinstance(fig, Figure):
                raise TypeError(
                    f'displayer_mpl: the figure factory must return a Figure, got {type(fig).__name__}'
                )
            if theme.width == 'column' and (problems := print_problems(fig)):
                raise ValueError(
                    f'displayer_mpl({str(path)!r}): the column-width figure would not print legibly: '
                    + '; '.join(problems)
                    + '. Its factory must take `theme` and size itself from it (Theme.figsize), or its call say '
                    + 'column_layout=False (vectors at full width).'
                )
            data = render_formats(fig, variant.formats)
            title = fig.get_suptitle()
        except BaseException:
            for num in set(plt.get_fignums()) - before:
                plt.close(num)
            raise
    if autoclose:
        plt.close(fig)
    return data, title


def _file_path(path: Path, variant: str, fmt: str) -> Path:
    """Where a variant's file in `fmt` goes: PNGs by variant, vector copies by format."""
    if fmt != 'png':
        return path.with_suffix(f'.{fmt}')
    return _variant_path(path, variant)


def _from_env(value: str | None, env: str) -> str | None:
    given = os.environ.get(env, '') if value is None else value
    return given.strip() or None


def _variants(
    light: Sequence[Style],
    dark: Sequence[Style],
    formats: Sequence[str] | None,
    width: WidthName | None,
    column_layout: bool = True,
    path: Path | None = None,
) -> dict[str, Variant]:
    """The light and dark PNG variants, and the vector copies `formats` (or the environment) asks for."""
    if formats is None:
        listed = _from_env(None, FORMATS_ENV)
        formats = [f.strip() for f in listed.split(',')] if listed else []
        argument = f'{FORMATS_ENV}={os.environ.get(FORMATS_ENV)!r}'
    else:
        argument = 'displayer_mpl formats'
    vector = tuple(f for f in check_formats(formats, argument) if f in VECTOR_FORMATS)
    chosen = _from_env(width, WIDTH_ENV) or 'full'
    if chosen not in WIDTH_NAMES:
        where = 'displayer_mpl vector_width' if width is not None else WIDTH_ENV
        raise ValueError(f'{where}: expected one of {", ".join(WIDTH_NAMES)}, got {chosen!r}')
    if vector and chosen == 'column' and not column_layout:
        log.info(
            '%s has no column layout: its %s at full width',
            path.name if path else 'a figure',
            '/'.join(vector),
        )
        chosen = 'full'
    variants = {
        'light': Variant(Theme('light'), tuple(light), ('png', *vector) if chosen == 'full' else ('png',)),
        'dark': Variant(Theme('dark'), tuple(dark), ('png',)),
    }
    if vector and chosen == 'column':
        variants['column'] = Variant(Theme('light', width='column'), (*light, COLUMN_STYLE), vector)
    return variants


def _variant_path(path: Path, variant: str) -> Path:
    return path if variant == 'light' else path.with_name(f'{path.stem}.{variant}{path.suffix}')


def _figure_html(urls: dict[str, str], alt_text: str) -> str:
    def attr(text: str) -> str:
        return html.escape(text, quote=True)

    return f'<img src="{attr(urls["light"])}" data-dark-src="{attr(urls["dark"])}" alt="{attr(alt_text)}">'


@dataclass
class FigureShow:
    """The callable yielded by `displayer_mpl`: `show(factory)` registers the figure factory."""

    path: Path
    alt_template: str
    variants: dict[str, Variant]
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

            preview = Variant(Theme('indeterminate'), self.live_styles, ('png',))
            data = _render(factory, preview, self.autoclose, self.path)[0]['png']
            if self._handle is None:
                self._handle = display(Image(data=data), display_id=True)
            else:
                self._handle.update(Image(data=data))

    def finish(self) -> RenderedFigure:
        """Render every variant, write the files, and display the `<img>`."""
        from IPython.display import display

        if self.factory is None:
            raise RuntimeError(f'displayer_mpl({str(self.path)!r}): show(factory) was never called')
        kept = _FigureCache(self.key, self.variants) if self.key is not None else None
        rendered = kept.get() if kept is not None else None
        if rendered is None:
            rendered = {
                name: _render(self.factory, variant, self.autoclose, self.path)
                for name, variant in self.variants.items()
            }
            if kept is not None:
                kept.put(rendered)
        files: dict[str, Path] = {}
        for name, (data, _) in rendered.items():
            for fmt, content in data.items():
                target = _file_path(self.path, name, fmt)
                write_atomic(staged_path(target), content)
                files[name if fmt == 'png' else fmt] = target
        urls: dict[str, str] = {
            name: f'{quote(url_for(files[name]), safe="/:")}?v={content_token(rendered[name][0]["png"])}'
            for name in ('light', 'dark')
        }
        alt_text = self.alt_template.replace('{title}', rendered['light'][1])
        out = FigureHTML(_figure_html(urls, alt_text), alt_text)
        if self._handle is not None:
            self._handle.update(out)
        else:
            display(out)
        self.result = RenderedFigure(files=files, html=out.html, alt_text=alt_text)
        _RENDERED.pop(files['light'], None)  # a figure drawn again (a cell re-run) moves to the end
        _RENDERED[files['light']] = self.result
        return self.result


_RENDERED: dict[Path, RenderedFigure] = {}
"""The figures rendered in this process since `forget_rendered_figures`, by light PNG path."""


def rendered_figures() -> list[RenderedFigure]:
    """Every figure rendered in this process since `forget_rendered_figures`, each once (as last drawn),
    in the order last drawn: what a notebook has shown, for a record of it (a tracking run)."""
    return list(_RENDERED.values())


def forget_rendered_figures() -> None:
    """Start `rendered_figures` afresh (a notebook's set-up does, so a kernel re-used for another
    notebook does not carry the first one's figures)."""
    _RENDERED.clear()


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
    formats: Sequence[str] | None = None,
    vector_width: WidthName | None = None,
    column_layout: bool = True,
) -> Iterator[FigureShow]:
    """Context manager yielding `show`; on exit writes `<path>` (light) and `<stem>.dark.png` and displays.

    `*_theme` replace the default style sequences for a variant (sheet names and/or rcParam dicts).
    With `autoclose` (default) every figure is closed once rendered. `key`: reuse the variants drawn
    before under this key. `formats` (default: `EX_COLOR_FIGURE_FORMATS`, else PNG only) and
    `vector_width` (default: `EX_COLOR_FIGURE_WIDTH`, else 'full'): vector copies beside the PNGs.
    ``column_layout=False`` declares a figure that has no column layout: its vectors are full width
    (a two-column figure in a paper) whatever the width asked, and the log says so.
    See the module docstring.
    """
    if not str(path).endswith('.png'):
        raise ValueError(f'displayer_mpl: path must end with .png, got {str(path)!r}')
    show = FigureShow(
        path=resolve_figure_path(path),
        alt_template=alt_text if alt_text is not None else DEFAULT_ALT_TEXT,
        variants=_variants(
            light_theme if light_theme is not None else DEFAULT_LIGHT,
            dark_theme if dark_theme is not None else DEFAULT_DARK,
            formats,
            vector_width,
            column_layout,
            Path(path),
        ),
        live_styles=tuple(live_theme if live_theme is not None else DEFAULT_LIVE) if live else None,
        autoclose=autoclose,
        key=key,
    )
    yield show
    show.finish()


class _FigureCache:
    """The rendered variants of one figure, by its key, the variants (styles, themes, formats) and
    matplotlib's version."""

    def __init__(self, key: str, variants: dict[str, Variant]) -> None:
        from importlib.metadata import version

        h = hashlib.sha256(key.encode())
        h.update(repr(sorted(variants.items())).encode())
        h.update(version('matplotlib').encode())
        digest = h.hexdigest()
        self.folder = runs_root() / 'figures' / digest[:2] / digest
        self.formats = {name: variant.formats for name, variant in variants.items()}

    def get(self) -> dict[str, tuple[dict[str, bytes], str]] | None:
        try:
            titles = json.loads((self.folder / 'titles.json').read_text())
            return {
                name: ({fmt: (self.folder / f'{name}.{fmt}').read_bytes() for fmt in formats}, titles[name])
                for name, formats in self.formats.items()
            }
        except (FileNotFoundError, KeyError):
            return None
        except ValueError as e:
            raise ValueError(
                f'figure cache {self.folder} is damaged ({e}); delete it to draw again'
            ) from None

    def put(self, rendered: dict[str, tuple[dict[str, bytes], str]]) -> None:
        for name, (data, _) in rendered.items():
            for fmt, content in data.items():
                write_atomic(self.folder / f'{name}.{fmt}', content)
        # written last: a folder without it is incomplete and is drawn again
        titles = {name: title for name, (_, title) in rendered.items()}
        write_atomic(self.folder / 'titles.json', json.dumps(titles, sort_keys=True).encode())
