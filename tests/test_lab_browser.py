"""`./go lab` in a real browser: Ex 2.10 opens from notebooks/ and every figure it shows loads.

A headless Chromium, driven by Playwright, opens JupyterLab as `./go lab` starts it
(tests/lab_helpers.py), double-clicks Ex 2.10 in the file browser and waits for its outputs. Every
`<img>` in the outputs must have loaded: it is the figure the notebook names, at the width its PNG
file declares (read from the file's header, not from the page). No output may show markup as text.
A screenshot of the opened notebook is kept in the test's folder (named in any failure message).

Two faults this test found are fixed and guarded here: a notebook opened marked as modified
(`utils.nbrun` now writes the kernel spec JupyterLab would), and a trusted notebook's figures did not
load (a `<picture>`'s srcset is not resolved by JupyterLab; figures are now one `<img>`).

Skipped with the reason where JupyterLab (the lab extra, which CI does not install), playwright (the
dev extra) or Chromium is missing. Like tests/test_site.py, it drives Debian's Chromium
(`apt-get install chromium`), never a browser fetched by `playwright install`.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from nbformat.sign import NotebookNotary

from tests.lab_helpers import EX_2_10, Lab, figures_shown, notary_dir, png_width, running_lab

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

if importlib.util.find_spec('jupyterlab') is None:
    pytest.skip(
        'jupyterlab is not installed in this venv (the lab extra is not locked; ./go lab installs it)',
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    'playwright.sync_api',
    reason='the playwright package is not installed (the dev extra): no browser to drive',
)

VIEWPORT = {'width': 1400, 'height': 1000}
WAIT_MS = 120_000  # the first open builds JupyterLab's page and starts a kernel on a shared CPU
OUTPUT = '.jp-NotebookPanel .jp-OutputArea-output'
# markup that reached the page as text: an HTML output shown as source, or SVG pasted as text
RAW_MARKUP = re.compile(r'<\s*/?\s*(svg|picture|source|img|div|span|table|style|script)\b', re.I)

IMAGES_JS = f"""() => Array.from(document.querySelectorAll('{OUTPUT} img')).map(i => ({{
    src: i.currentSrc || i.src, width: i.naturalWidth}}))"""
# Settled: every image has loaded, or has failed after JupyterLab rewrote its relative src to a server
# URL (before that rewrite a relative src fails against the page's own address, which proves nothing).
SETTLED_JS = f"""n => {{
    const imgs = Array.from(document.querySelectorAll('{OUTPUT} img'));
    return imgs.length >= n && imgs.every(i => i.complete
        && (i.naturalWidth > 0 || !(i.getAttribute('src') || '').startsWith('.'))); }}"""


@dataclass(frozen=True)
class OpenedNotebook:
    """Ex 2.10 opened in JupyterLab, as the user gets there: the file browser, then a double-click."""

    page: Page
    """On the open notebook."""
    listing: list[str]
    """What the file browser listed before the notebook was opened."""
    breadcrumbs: str
    screenshot: Path


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless; a skip that says how to install it where it is missing."""
    chromium = shutil.which('chromium')
    if chromium is None:
        pytest.skip('Chromium is not installed (apt-get install chromium; never `playwright install`)')
    return playwright.chromium.launch(executable_path=chromium)


def open_ex_2_10(page: Page, lab: Lab, screenshot: Path) -> OpenedNotebook:
    page.goto(lab.url('/lab?reset'))  # a fresh layout, not the last page's
    page.wait_for_selector('.jp-DirListing-item', timeout=WAIT_MS)
    listing = page.locator('.jp-DirListing-itemText').all_text_contents()
    breadcrumbs = page.locator('.jp-BreadCrumbs').text_content() or ''
    page.locator('.jp-DirListing-item', has_text=EX_2_10.name).dblclick()
    page.wait_for_selector(f'{OUTPUT} img', timeout=WAIT_MS)
    page.wait_for_function(SETTLED_JS, arg=len(figures_shown(EX_2_10)), timeout=WAIT_MS)
    page.locator(f'{OUTPUT} img').first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot))
    return OpenedNotebook(page, listing, breadcrumbs, screenshot)


@pytest.fixture(scope='module')
def lab(tmp_path_factory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp('lab')) as server:
        yield server


@pytest.fixture(scope='module')
def chromium() -> Iterator[Browser]:
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope='module')
def opened(lab, chromium, tmp_path_factory) -> Iterator[OpenedNotebook]:
    committed = EX_2_10.read_bytes()
    checkpoints = EX_2_10.parent / '.ipynb_checkpoints'
    had_checkpoints = checkpoints.exists()
    page = chromium.new_page(viewport=VIEWPORT)
    try:
        yield open_ex_2_10(page, lab, tmp_path_factory.mktemp('screenshots') / 'lab-ex-2.10.png')
    finally:
        page.close()
    # the house rule, checked: looking at a committed notebook leaves it and its folder as they were
    assert EX_2_10.read_bytes() == committed, f'{EX_2_10} changed while the lab test had it open'
    assert had_checkpoints or not checkpoints.exists(), f'the lab test left {checkpoints}'


def image_problems(images: list[dict[str, Any]], expected: list[Path]) -> list[str]:
    """What is wrong with the `<img>`s a page shows, given the figure files the notebook names."""
    widths = {path.name: png_width(path) for path in expected}
    problems = []
    if len(images) != len(expected):
        problems.append(f'{len(images)} images on the page, {len(expected)} in the notebook')
    for image in images:
        path = unquote(urlsplit(image['src']).path)  # without the query's cache buster and xsrf token
        name = path.rsplit('/', 1)[-1]
        if image['width'] == 0:
            problems.append(f'broken: {path}')
        elif name not in widths:
            problems.append(f'not a figure the notebook names: {path}')
        elif image['width'] != widths[name]:
            problems.append(f'{name}: {image["width"]} px wide on the page, {widths[name]} px in its file')
    return problems


def test_the_file_browser_opens_in_notebooks(opened):
    assert opened.breadcrumbs.strip('/ ') == 'notebooks'
    notebooks = {p.name for p in EX_2_10.parent.glob('*.ipynb')}
    assert notebooks <= set(opened.listing), f'file browser lists {opened.listing}'
    assert 'large-assets' not in opened.listing  # the repository's top level is not what opens


def test_every_figure_in_ex_2_10_loads(opened):
    images = opened.page.evaluate(IMAGES_JS)
    problems = image_problems(images, figures_shown(EX_2_10))
    assert not problems, '\n'.join([*problems, f'screenshot: {opened.screenshot}'])


def test_no_output_shows_markup_as_text(opened):
    texts = opened.page.locator(OUTPUT).all_inner_texts()
    assert texts, 'no outputs rendered'
    raw = [text[:160] for text in texts if RAW_MARKUP.search(text)]
    assert not raw, f'outputs showing markup as text (screenshot: {opened.screenshot}):\n' + '\n'.join(raw)


def test_opening_ex_2_10_leaves_it_unmodified(opened):
    page = opened.page
    page.wait_for_selector(
        '.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=WAIT_MS
    )
    # the kernel's metadata is written as it connects; watch a little longer for a late change
    page.wait_for_timeout(2000)
    dirty = page.locator('.lm-TabBar-tab.jp-mod-dirty').all_text_contents()
    assert not dirty, f'opened and untouched, yet marked modified: {dirty} (screenshot: {opened.screenshot})'


def test_every_figure_loads_once_ex_2_10_is_trusted(tmp_path, chromium):
    # A notebook is trusted once the user has run it and saved it in JupyterLab, and a cell's fresh
    # output is trusted at once: neither is sanitised, so the markup reaches the page as written.
    # Signing the notebook's content in the test's own signature store trusts it; the file is untouched.
    NotebookNotary(data_dir=str(notary_dir(tmp_path))).sign(nbformat.read(EX_2_10, as_version=4))
    problems = []
    with running_lab(tmp_path) as lab:
        for scheme in ('light', 'dark'):  # a <picture> would pick its <source> by colour scheme
            page = chromium.new_page(viewport=VIEWPORT, color_scheme=scheme)
            try:
                opened = open_ex_2_10(page, lab, tmp_path / f'lab-ex-2.10-trusted-{scheme}.png')
                found = image_problems(page.evaluate(IMAGES_JS), figures_shown(EX_2_10))
                problems += [f'{scheme}: {p}' for p in found] + ([f'{opened.screenshot}'] if found else [])
            finally:
                page.close()
    assert not problems, '\n'.join(problems)
