"""A static site of executed notebooks: ``python -m utils.nb.site [--out _site] [--open]``.

The index page is the README; every notebook gets a page of its own, titled by its first markdown
heading. Pages come from nbconvert's JupyterLab template, so they read like the notebook in the lab.

Design decisions:
- Notebooks are rendered as committed, never executed: the site shows exactly the outputs a reader
  of the repository sees.
- The site follows the reader's colour scheme. JupyterLab's light theme is the default and its dark
  theme applies under ``prefers-color-scheme: dark``, the same switch the figures' ``<picture>``
  elements use, so a dark figure never sits on a white page. The stylesheets are files shared by
  every page (``static/``), not inlined into each: a page holds its own content only.
- Input prompts (``In [3]:``) are left out and each code cell's source is folded into a
  ``<details>``: a page reads as prose and figures, and the code is one click away. The cell tagged
  ``parameters`` is shown open: it says what the run was.
- A page works offline: math is MathML written at build time and numbers keep to one line
  (`utils.nb.site_markup`), and a page loads no script and nothing from another host.
- Links are rewritten on the rendered HTML, in the page's ``<main>`` only (the site's own header and
  footer link pages directly). A link to a rendered notebook or to the README points at its page
  (``ex-2.9-….ipynb`` → ``ex-2.9-….html``); a link to any other existing file under the root copies
  that file into the site at the same relative path; a link to a folder, a missing file or a file
  outside the root becomes plain text, since a static site cannot show it. Images are copied only if
  a page refers to them (``src`` or ``srcset``), and a missing one is an error.
- No image is inlined as base64: PNG and JPEG outputs are written out as files under ``outputs/``,
  and a page that still holds a ``data:image`` URI is an error.
- The build is atomic (`utils.atomic.replacing_dir`): a failed build leaves the previous site whole.
- ``--out`` is replaced only when it is missing, empty, or a site this command built, which it knows
  by the marker file `MARKER` it writes into every site. Any other folder is refused before any
  work: pointed at ``notebooks/`` by mistake, the build must not swap the notebooks for a site.

Deliberately not here: execution, search, and any JavaScript.
"""

from __future__ import annotations

import argparse
import functools
import html
import re
import sys
import threading
import time
import webbrowser
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nbformat
from nbconvert import HTMLExporter

from utils.atomic import replacing_dir
from utils.nb.site_markup import DARK_IMG, as_picture, keep_numbers_whole, make_exporter
from utils.nb.site_math import TexError
from utils.nb.site_theme import SITE_CSS, THEME_FILES
from utils.nbrun import all_notebooks
from utils.paths import project_root

__all__ = [
    'MARKER',
    'Page',
    'Rewritten',
    'SiteError',
    'SiteSummary',
    'build_site',
    'check_out',
    'main',
    'rewrite_links',
    'serve',
]

INDEX = 'index.html'
OUTPUTS = 'outputs'  # where image outputs of the notebooks are written, relative to the site
# a start tag whose URL attributes are rewritten: bs4, which serialises nbconvert's output, escapes
# every `<` and `>` of text and attribute values, so this matches real tags only
URL_TAG = re.compile(r'<(?:a|img|source)\b[^>]*>', re.IGNORECASE)
URL_ATTR = re.compile(r'(\s(?:href|src|srcset)=)"([^"]*)"', re.IGNORECASE)
LINK = re.compile(r'<a\b[^>]*>(.*?)</a>', re.IGNORECASE | re.DOTALL)
HEADING = re.compile(r'^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$', re.MULTILINE)
DROPPED = 'data-site-dropped'  # marks, for one pass, a link whose target the site lacks
IMAGE_SUFFIXES = {'.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp'}
MARKER = '.ex-color-site'
"""File every site holds, so a later build knows the folder as its own output and may replace it."""


class SiteError(Exception):
    """Bad input for the site (a missing README, a file that is not a notebook, a missing figure, math
    the site cannot typeset)."""


@dataclass(frozen=True)
class Page:
    """One page of the site."""

    source: Path
    """The README or notebook it is rendered from (resolved)."""
    name: str
    """Its file name in the site: ``index.html`` for the README, ``<stem>.html`` for a notebook."""
    title: str
    """Its title: the source's first markdown heading, else the file's stem."""


@dataclass
class Rewritten:
    """A page's HTML with its links rewritten for the site."""

    html: str
    files: set[Path] = field(default_factory=set)
    """Files under the root the page refers to (resolved), to be copied into the site."""
    dropped: list[str] = field(default_factory=list)
    """Link targets that the site cannot show, whose links became plain text."""


@dataclass(frozen=True)
class SiteSummary:
    """What a build wrote."""

    out: Path
    """The site's folder."""
    pages: int
    """HTML pages, the index included."""
    images: int
    """Image files: copied figures and extracted notebook outputs."""
    page_bytes: int
    """Bytes of HTML and CSS."""
    image_bytes: int
    """Bytes of the image files."""
    seconds: float
    """Wall-clock time of the build."""


def first_heading(markdown: str) -> str | None:
    """The text of the first ATX heading (``# Title``) in `markdown`, or None."""
    match = HEADING.search(markdown)
    return match.group(1) if match else None


def rewrite_links(
    page_html: str,
    source: Path,
    *,
    root: Path,
    pages: Mapping[Path, str],
    keep: Collection[str] = (),
) -> Rewritten:
    """Rewrite the relative URLs of `page_html`'s ``<main>`` for a page rendered from `source`.

    Relative URLs resolve against `source`'s folder; a resolved path in `pages` (source → page name)
    becomes that page, an existing file under `root` its path relative to `root` (pages sit at the
    site's top level). URLs in `keep` are already relative to the site and left as they are.

    Raises:
        SiteError: if an image (``src``, ``srcset``) refers to a file that does not exist under `root`.
    """
    head, start, rest = page_html.partition('<main>')
    body, end, tail = rest.rpartition('</main>')
    if not (start and end):
        head, start, body, end, tail = '', '', page_html, '', ''
    out = Rewritten(html='')

    def target(url: str, *, image: bool) -> str | None:
        """The site URL for `url`, or None for a link to drop."""
        parts = urlsplit(url)
        if url in keep or parts.scheme or parts.netloc or not parts.path:
            return url  # absolute, protocol-relative, a fragment or query of this page, or the site's own
        path = (source.parent / parts.path).resolve()
        fragment = f'#{parts.fragment}' if parts.fragment else ''
        if path in pages:
            return pages[path] + fragment
        if path.is_file() and path.is_relative_to(root):
            out.files.add(path)
            query = f'?{parts.query}' if parts.query else ''  # a figure's cache-busting token stays
            return path.relative_to(root).as_posix() + query + fragment
        if image:
            raise SiteError(f'{source}: image {url!r} is not a file under {root}')
        out.dropped.append(url)
        return None

    def attribute(match: re.Match[str]) -> str:
        prefix, value = match.group(1), html.unescape(match.group(2))
        name = prefix.strip().lower()
        if name == 'srcset=':
            candidates = [c.split() for c in value.split(',') if c.strip()]
            new = ', '.join(' '.join([target(url, image=True) or url, *rest]) for url, *rest in candidates)
        elif (found := target(value, image=name == 'src=')) is not None:
            new = found
        else:
            return f' {DROPPED}'
        return f'{prefix}"{html.escape(new)}"'

    body = DARK_IMG.sub(as_picture, body)  # notebook figures: their dark variant follows the reader's scheme
    body = URL_TAG.sub(lambda tag: URL_ATTR.sub(attribute, tag.group(0)), body)
    # a link whose target was dropped keeps its text and loses its tag
    body = LINK.sub(lambda a: a.group(1) if DROPPED in a.group(0) else a.group(0), body)
    out.html = head + start + body + end + tail
    return out


def read_notebook(path: Path) -> Any:
    """The notebook at `path`, or a SiteError that names it."""
    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises OSError, NotJSONError, ValidationError, AttributeError…
        raise SiteError(f'{path}: not a readable notebook ({type(err).__name__}: {err})') from err


def theme_file(exporter: HTMLExporter, name: str) -> bytes:
    """A file of nbconvert's lab template (e.g. ``static/index.css``), found on its template path."""
    for folder in exporter.template_paths:
        path = Path(folder) / name
        if path.is_file():
            return path.read_bytes()
    raise SiteError(f'nbconvert lab template file {name} not found on {exporter.template_paths}')


def render_page(
    exporter: HTMLExporter,
    page: Page,
    nb: Any,
    *,
    site: Mapping[str, object],
    root: Path,
    pages: Mapping[Path, str],
) -> tuple[Rewritten, dict[str, bytes]]:
    """`page`'s HTML with its links rewritten, and its extracted image outputs (site path → bytes)."""
    nb.metadata['title'] = page.title
    resources: dict[str, Any] = {
        'metadata': {'name': Path(page.name).stem},
        'unique_key': Path(page.name).stem,
        'output_files_dir': OUTPUTS,
        'site': {**site, 'current': page},
    }
    try:
        body, written = exporter.from_notebook_node(nb, resources=resources)
    except TexError as err:
        raise SiteError(f'{page.source}: math the site cannot typeset: {err}') from err
    extracted: dict[str, bytes] = written.get('outputs', {})
    rewritten = rewrite_links(body, page.source, root=root, pages=pages, keep=set(extracted))
    rewritten.html = keep_numbers_whole(rewritten.html)
    if 'data:image' in rewritten.html:
        raise SiteError(f'{page.source}: an image is inlined as a data: URI; show it as a file')
    return rewritten, extracted


def write(folder: Path, name: str, data: bytes) -> int:
    """Write `data` to `folder`/`name`, creating folders; return its size."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def check_out(out: Path) -> None:
    """Refuse `out` unless it is missing, an empty folder, or a site an earlier build wrote (`MARKER`)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise SiteError(f'{out}: exists and is not a folder; give --out a folder for the site')
    if (out / MARKER).is_file() or not any(out.iterdir()):
        return
    raise SiteError(
        f'{out}: holds files and is not a site this command built (no {MARKER} marker), so it is left '
        'as it is; give --out a new or empty folder, or delete this one yourself'
    )


def build_site(
    readme: Path, notebooks: Sequence[Path], out: Path, *, root: Path | None = None
) -> SiteSummary:
    """Render `readme` as ``index.html`` and each of `notebooks` as a page into `out`, atomically.

    `root` (default: the README's folder) bounds what the site may copy: files are copied to their
    path relative to it. Link targets the site lacks are reported on stderr.

    Raises:
        SiteError: for an `out` that holds anything but an earlier site (`check_out`), a missing
            README, a file that is not a notebook, or a missing figure.
    """
    start = time.perf_counter()
    check_out(Path(out))
    readme = Path(readme).resolve()
    root = (Path(root) if root is not None else readme.parent).resolve()
    if not readme.is_file():
        raise SiteError(f'{readme}: README not found')
    readme_text = readme.read_text(encoding='utf-8')
    books = {Path(p).resolve(): read_notebook(Path(p).resolve()) for p in notebooks}
    index = Page(readme, INDEX, first_heading(readme_text) or readme.stem)
    listed = [Page(path, f'{path.stem}.html', notebook_title(nb) or path.stem) for path, nb in books.items()]
    sources = {
        index.source: (index, nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(readme_text)]))
    }
    sources |= {p.source: (p, books[p.source]) for p in listed}
    pages = {p.source: p.name for p, _ in sources.values()}
    if len(set(pages.values())) != len(pages):
        raise SiteError(f'two sources give the same page name among {sorted(pages.values())}')

    exporter = make_exporter()
    page_bytes = image_bytes = images = 0
    with replacing_dir(out) as stage:
        files: set[Path] = set()
        for page, nb in sources.values():
            rewritten, extracted = render_page(
                exporter, page, nb, site={'home': index, 'pages': listed}, root=root, pages=pages
            )
            for url in rewritten.dropped:
                print(
                    f'site: {page.source.name}: {url} is not on the site; its link is plain text',
                    file=sys.stderr,
                )
            page_bytes += write(stage, page.name, rewritten.html.encode('utf-8'))
            image_bytes += sum(write(stage, name, blob) for name, blob in extracted.items())
            images += len(extracted)
            files |= rewritten.files
        for path in sorted(files):
            size = write(stage, path.relative_to(root).as_posix(), path.read_bytes())
            if path.suffix.lower() in IMAGE_SUFFIXES:
                images += 1
                image_bytes += size
        page_bytes += sum(write(stage, name, theme_file(exporter, name)) for name in THEME_FILES)
        page_bytes += write(stage, 'static/site.css', SITE_CSS.encode('utf-8'))
        write(stage, MARKER, b'Built by python -m utils.nb.site; the next build replaces this folder.\n')
    return SiteSummary(
        out=Path(out),
        pages=len(sources),
        images=images,
        page_bytes=page_bytes,
        image_bytes=image_bytes,
        seconds=time.perf_counter() - start,
    )


def notebook_title(nb: Any) -> str | None:
    """The first markdown heading of a notebook's markdown cells, or None."""
    for cell in nb.cells:
        if cell.cell_type == 'markdown' and (title := first_heading(cell.source)):
            return title
    return None


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # a request log line per figure would bury the summary


def serve(folder: Path, host: str = '127.0.0.1', port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server for `folder` on `host`:`port` (0: a free port), serving in a daemon thread.

    Stop it with ``server.shutdown()``; ``server.server_address`` says where it listens.
    """
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: Sequence[str] | None = None) -> None:
    root = project_root()
    parser = argparse.ArgumentParser(
        prog='python -m utils.nb.site',
        description='Build a static site of the README and the executed notebooks.',
    )
    parser.add_argument('notebooks', nargs='*', type=Path, help='default: notebooks/ex-*.ipynb')
    parser.add_argument('--readme', type=Path, default=root / 'README.md', help='the index page (README.md)')
    parser.add_argument('--out', type=Path, default=root / '_site', help='the site folder (_site)')
    parser.add_argument('--open', action='store_true', help='serve the site and open it in a browser')
    parser.add_argument('--port', type=int, default=8000, help='port for --open (8000; 0: any free one)')
    args = parser.parse_args(argv)
    notebooks = args.notebooks or all_notebooks(root / 'notebooks')
    try:
        summary = build_site(args.readme, notebooks, args.out)
    except SiteError as err:
        raise SystemExit(f'site: {err}') from None
    print(
        f'site: {summary.pages} pages ({summary.page_bytes / 1e6:.1f} MB of HTML and CSS), '
        f'{summary.images} images ({summary.image_bytes / 1e6:.1f} MB) in {summary.seconds:.1f} s '
        f'-> {summary.out}'
    )
    if args.open:
        server = serve(args.out, port=args.port)
        host, port = server.server_address[:2]
        url = f'http://{host!s}:{port}/{INDEX}'
        print(f'site: serving {url} (Ctrl-C stops)')
        webbrowser.open(url)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            server.shutdown()


if __name__ == '__main__':
    main()
