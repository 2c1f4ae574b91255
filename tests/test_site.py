"""The notebook site (`utils.nb.site`): links, figures and colour schemes, checked in a real browser.

The fast tests build a tiny project (a README, one notebook, a few figures) and read the HTML: pages
link each other, only the figures a page shows are copied, image outputs become files, bad input is
an error that names its file, and a failed build leaves the previous site whole.

The browser test builds the real site from the committed notebooks into a temporary folder, serves
it over HTTP from a thread and opens every page in headless Chromium through playwright, in the light
and the dark colour scheme: every image loads and is the variant of that scheme, nothing is logged as
an error, every relative link resolves, and no page is large or inlines an image. No page asks for
anything from another host (math is MathML written at build time, not MathJax from a CDN): any such
request is recorded, answered empty so the test never touches the network, and fails the test.
Full-page screenshots of Ex 2.10's page in both schemes are kept (and copied to /tmp/site-shots/).

It uses Debian's Chromium (``apt-get install chromium``), never a browser fetched by ``playwright
install``, and is skipped where Chromium or playwright is missing, except under CI (``CI`` set),
where a missing browser is a failure: `.ci/run` installs Chromium first.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import os
import re
import shutil
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urlsplit

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

from ex_color.experiments.readme import END, START
from utils.nb.site import MARKER, SiteError, SiteSummary, build_site, main, serve
from utils.paths import project_root

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

ROOT = project_root()
MAX_PAGE_BYTES = 3_000_000
SHOTS = Path('/tmp/site-shots')
SHOT_PAGE = 'ex-2.10-delete-only-red-5d-no-subspace'


def png(width: int = 4, height: int = 3) -> bytes:
    out = io.BytesIO()
    Image.new('RGB', (width, height), (200, 30, 30)).save(out, format='png')
    return out.getvalue()


def picture(stem: str, prefix: str = '') -> str:
    return (
        f'<picture><source media="(prefers-color-scheme: dark)" srcset="{prefix}large-assets/{stem}.dark.png?v=d">'
        f'<source media="(prefers-color-scheme: light)" srcset="{prefix}large-assets/{stem}.png?v=l">'
        f'<img src="{prefix}large-assets/{stem}.png?v=l" alt="a figure"></picture>'
    )


def notebook_figure(stem: str, prefix: str = '') -> str:
    """A figure as a notebook output holds it (`displayer_mpl`): the light `<img>`, the dark URL beside."""
    return (
        f'<img src="{prefix}large-assets/{stem}.png?v=l" data-dark-src="{prefix}large-assets/{stem}.dark.png?v=d" '
        'alt="a figure">'
    )


def tiny_project(root: Path) -> tuple[Path, Path]:
    """A README and one notebook, as this repository lays them out; returns (readme, notebook)."""
    (root / 'large-assets').mkdir(parents=True)
    for stem in ('hero', 'fig', 'unused'):
        (root / 'large-assets' / f'{stem}.png').write_bytes(png())
        (root / 'large-assets' / f'{stem}.dark.png').write_bytes(png())
    (root / 'notebooks').mkdir()
    (root / 'notebooks' / 'ex-1-dopesheet.csv').write_text('step,lr\n0,1\n')
    (root / 'src').mkdir()
    readme = root / 'README.md'
    readme.write_text(
        f'# Demo project\n\n{picture("hero")}\n\n'
        f'{START}\n| Notebook |\n|---|\n| [Ex 1](notebooks/ex-1-demo.ipynb) |\n{END}\n\n'
        'Its [schedule](notebooks/ex-1-dopesheet.csv), [the source](src/) and [a lost file](gone.txt).\n'
    )
    notebook = root / 'notebooks' / 'ex-1-demo.ipynb'
    outputs = [
        new_output('display_data', data={'text/html': notebook_figure('fig', '../'), 'text/plain': 'fig'}),
        new_output('display_data', data={'image/png': base64.b64encode(png()).decode(), 'text/plain': 'p'}),
    ]
    nb = new_notebook(
        cells=[
            new_markdown_cell(
                'Some words first.\n\n# Ex 1: a demo\n\nBack to [the README](../README.md#demo).'
            ),
            new_code_cell('x = 1\nprint(x)', execution_count=1, outputs=outputs),
        ]
    )
    nbformat.write(nb, notebook)
    return readme, notebook


def test_pages_link_each_other_and_carry_only_the_figures_they_show(tmp_path):
    readme, notebook = tiny_project(tmp_path / 'project')
    out = tmp_path / 'site'
    summary = build_site(readme, [notebook], out)
    index, page = (out / 'index.html').read_text(), (out / 'ex-1-demo.html').read_text()
    # the results table's notebook link, and the link back, point at pages
    assert 'href="ex-1-demo.html"' in index and 'notebooks/ex-1-demo.ipynb' not in index
    assert 'href="index.html#demo"' in page
    # the figures resolve from the pages, with their cache-busting tokens; unused ones stay behind
    assert 'srcset="large-assets/fig.dark.png?v=d"' in page and 'src="large-assets/fig.png?v=l"' in page
    assert 'srcset="large-assets/hero.dark.png?v=d"' in index
    assert sorted(p.name for p in (out / 'large-assets').iterdir()) == [
        'fig.dark.png',
        'fig.png',
        'hero.dark.png',
        'hero.png',
    ]
    # an inlined PNG output is written out as a file and referenced
    extracted = sorted((out / 'outputs').iterdir())
    assert len(extracted) == 1 and f'src="outputs/{extracted[0].name}"' in page
    assert 'data:image' not in index + page
    # a linked file is copied; a folder and a missing file lose their links but keep their text
    assert 'href="notebooks/ex-1-dopesheet.csv"' in index and (out / 'notebooks/ex-1-dopesheet.csv').is_file()
    assert 'the source' in index and 'a lost file' in index
    assert 'href="src/"' not in index and 'gone.txt' not in index
    # the title is the first heading; no prompts; code folded; the index lists every notebook
    assert '<title>Ex 1: a demo</title>' in page and '<title>Demo project</title>' in index
    assert 'In&nbsp;[' not in page and '<details class="site-code">' in page
    assert re.search(r'<footer.*href="ex-1-demo.html">Ex 1: a demo</a>', index, re.DOTALL)
    assert summary == SiteSummary(
        out=out,
        pages=2,
        images=5,
        page_bytes=summary.page_bytes,
        image_bytes=5 * len(png()),
        seconds=summary.seconds,
    )


def test_a_missing_figure_is_an_error_that_names_the_page(tmp_path):
    readme, notebook = tiny_project(tmp_path / 'project')
    (tmp_path / 'project' / 'large-assets' / 'fig.dark.png').unlink()
    with pytest.raises(SiteError, match=r'ex-1-demo\.ipynb: image .*fig\.dark\.png'):
        build_site(readme, [notebook], tmp_path / 'site')


def test_bad_input_is_an_error_that_names_the_file(tmp_path, capsys):
    readme, notebook = tiny_project(tmp_path / 'project')
    with pytest.raises(SiteError, match=r'nowhere\.md: README not found'):
        build_site(tmp_path / 'nowhere.md', [notebook], tmp_path / 'site')
    notebook.write_text('{"cells": [')
    with pytest.raises(SiteError, match=r'ex-1-demo\.ipynb: not a readable notebook'):
        build_site(readme, [notebook], tmp_path / 'site')
    # the command line says the same, without a traceback
    with pytest.raises(SystemExit, match=r'^site: .*ex-1-demo\.ipynb: not a readable notebook'):
        main(['--readme', str(readme), '--out', str(tmp_path / 'site'), str(notebook)])


def test_a_failed_build_leaves_the_previous_site_whole(tmp_path):
    readme, notebook = tiny_project(tmp_path / 'project')
    out = tmp_path / 'site'
    build_site(readme, [notebook], out)
    before = sorted(p.relative_to(out) for p in out.rglob('*'))
    notebook.write_text('not json')
    with pytest.raises(SiteError):
        build_site(readme, [notebook], out)
    assert sorted(p.relative_to(out) for p in out.rglob('*')) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith('.')] == []


def test_out_pointing_at_a_folder_the_site_did_not_make_is_refused_and_left_alone(tmp_path):
    readme, notebook = tiny_project(tmp_path / 'project')
    notebooks = tmp_path / 'project' / 'notebooks'
    before = sorted(p.relative_to(notebooks) for p in notebooks.rglob('*'))
    with pytest.raises(SiteError, match=rf'{re.escape(str(notebooks))}: .*not a site this command built'):
        build_site(readme, [notebook], notebooks)
    assert sorted(p.relative_to(notebooks) for p in notebooks.rglob('*')) == before
    assert notebook.is_file() and (notebooks / 'ex-1-dopesheet.csv').is_file()
    # the command line says the same, without a traceback, and an empty folder is fine to build into
    with pytest.raises(SystemExit, match=rf'^site: {re.escape(str(notebooks))}: '):
        main(['--readme', str(readme), '--out', str(notebooks), str(notebook)])
    assert notebook.is_file()
    (tmp_path / 'empty').mkdir()
    assert build_site(readme, [notebook], tmp_path / 'empty').pages == 2


def test_a_second_build_replaces_the_first_atomically(tmp_path):
    readme, notebook = tiny_project(tmp_path / 'project')
    out = tmp_path / 'site'
    build_site(readme, [notebook], out)
    assert (out / MARKER).is_file(), "the site marks itself as this command's output"
    (out / 'stale.html').write_text('from the first build')
    first_inode = out.stat().st_ino
    build_site(readme, [notebook], out)
    # a new folder took the old one's name (two renames), so the stale page is gone with it
    assert out.stat().st_ino != first_inode
    assert not (out / 'stale.html').exists() and (out / 'index.html').is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith('.')] == []


@pytest.fixture(scope='module')
def real_site(tmp_path_factory) -> SiteSummary:
    """The site of this repository's README and committed notebooks, built into a temporary folder."""
    out = tmp_path_factory.mktemp('real-site') / '_site'
    return build_site(ROOT / 'README.md', sorted((ROOT / 'notebooks').glob('*.ipynb')), out, root=ROOT)


def test_the_real_site_has_a_page_for_every_notebook_of_the_results_table(real_site):
    site = real_site.out
    table = (ROOT / 'README.md').read_text().split(START, 1)[1].split(END, 1)[0]
    linked = re.findall(r'\]\(notebooks/([^)]+)\.ipynb\)', table)
    assert linked, 'the results table links no notebook'
    index = (site / 'index.html').read_text()
    for name in linked:
        assert f'href="{name}.html"' in index and (site / f'{name}.html').is_file()
    assert real_site.pages == 1 + len(list((ROOT / 'notebooks').glob('*.ipynb')))
    assert real_site.seconds < 60
    for page in site.glob('*.html'):
        text = page.read_text()
        assert len(text.encode()) < MAX_PAGE_BYTES and 'data:image' not in text, page.name


def browser_executable() -> str:
    """Debian's Chromium, or a skip (a failure under CI) that says what is missing."""
    chromium = shutil.which('chromium') or (
        '/usr/bin/chromium' if Path('/usr/bin/chromium').exists() else None
    )
    missing = []
    if importlib.util.find_spec('playwright') is None:
        missing.append('the playwright package (pip install playwright)')
    if chromium is None:
        missing.append('Chromium (apt-get install chromium)')
    if missing:
        why = f'{" and ".join(missing)} not installed (never `playwright install`, which downloads a browser)'
        if os.environ.get('CI'):
            pytest.fail(f'{why}; CI must run the browser test')
        pytest.skip(why)
    assert chromium is not None
    return chromium


@dataclass(frozen=True)
class Shown:
    """One `<img>` as the browser shows it."""

    current: str
    """The URL it shows (for a `<picture>`, the source the colour scheme picked)."""
    width: int
    """Its natural width: 0 when it did not load."""
    dark: bool
    """Whether it sits in a `<picture>` with a dark-scheme source."""


@dataclass
class Visit:
    """What one page showed in one colour scheme."""

    images: list[Shown]
    links: list[str]
    """Absolute URLs of the page's relative links, fragments removed."""
    errors: list[str] = field(default_factory=list)


IMAGES_JS = """() => Array.from(document.images).map(img => ({
  current: img.currentSrc,
  width: img.naturalWidth,
  dark: img.parentElement.tagName === 'PICTURE'
    && img.parentElement.querySelector('source[media*="dark"]') !== null,
}))"""
LINKS_JS = """els => els.map(a => [a.getAttribute('href'), a.href])"""


def visit(context: BrowserContext, url: str, scheme: str, shot: Path | None = None) -> Visit:
    page = context.new_page()
    errors: list[str] = []
    page.on('console', lambda message: errors.append(message.text) if message.type == 'error' else None)
    page.on('pageerror', lambda error: errors.append(str(error)))
    page.emulate_media(color_scheme='dark' if scheme == 'dark' else 'light')
    page.goto(url, wait_until='load')
    images = [Shown(**shown) for shown in page.evaluate(IMAGES_JS)]
    hrefs = page.eval_on_selector_all('a[href]', LINKS_JS)
    links = [
        urldefrag(absolute)[0] for href, absolute in hrefs if not urlsplit(href).scheme and href[:1] != '#'
    ]
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    page.close()
    return Visit(images=images, links=links, errors=errors)


def test_every_page_shows_its_figures_in_both_colour_schemes_and_links_only_to_what_exists(
    real_site, tmp_path
):
    chromium = browser_executable()
    from playwright.sync_api import Route, sync_playwright

    site = real_site.out
    server = serve(site)
    base = f'http://127.0.0.1:{server.server_address[1]}/'
    external: list[str] = []

    def stub(route: Route) -> None:
        external.append(route.request.url)
        route.fulfill(status=200, content_type='application/javascript', body='')

    pages = sorted(p.name for p in site.glob('*.html'))
    links: set[str] = set()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            for scheme in ('light', 'dark'):
                context = browser.new_context(viewport={'width': 1280, 'height': 900})
                context.route(lambda url: not url.startswith(base), stub)
                for name in pages:
                    shot = tmp_path / f'{SHOT_PAGE}.{scheme}.png' if name == f'{SHOT_PAGE}.html' else None
                    seen = visit(context, base + name, scheme, shot)
                    assert seen.errors == [], f'{name} ({scheme}): {seen.errors}'
                    assert seen.images, f'{name} shows no image'
                    for image in seen.images:
                        current = urlsplit(image.current).path
                        assert image.width > 0, f'{name} ({scheme}): {current} did not load'
                        if image.dark:
                            assert current.endswith('.dark.png') == (scheme == 'dark'), f'{name}: {current}'
                    links.update(seen.links)
                context.close()
            browser.close()
        for url in sorted(links):
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200, url
        for name in pages:
            with urllib.request.urlopen(base + name, timeout=5) as response:
                body = response.read()
            assert len(body) < MAX_PAGE_BYTES and b'data:image' not in body, name
    finally:
        server.shutdown()
        server.server_close()
    # nothing would leave the machine: the site works offline
    assert external == []
    assert any(url.endswith('.html') for url in links)
    SHOTS.mkdir(exist_ok=True)
    for scheme in ('light', 'dark'):
        shutil.copy(tmp_path / f'{SHOT_PAGE}.{scheme}.png', SHOTS)
