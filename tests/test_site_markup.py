"""The site reads well offline (`utils.nb.site_markup`, through `utils.nb.site.build_site`).

Math is MathML written at build time, so no page loads MathJax or anything else from another host; a
number a browser could break (``8.3e-05`` after its ``-``) sits in a span kept on one line, and the
text the notebook printed is unchanged; the cell tagged ``parameters`` is shown open.

The fast tests build a tiny project and read its HTML, and build the real site from the committed
notebooks into a temporary folder. The browser test opens the tiny site in Debian's Chromium at a
phone's width, in the light and the dark scheme: every wrapped number stays on one line (and the same
span with wrapping allowed breaks, so the check can fail), the math is typeset (a subscript sits
below its base) in the text's colour, and no request leaves the machine.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests.test_site import ROOT, browser_executable
from utils.nb.site import SiteError, SiteSummary, build_site, serve
from utils.nb.site_markup import keep_numbers_whole

SPAN = '<span class="site-num">'
E0 = '<msub><mi>e</mi><mn>0</mn></msub>'
TABLE = (
    '| metric | a | b |\n|---|---:|---:|\n| median MSE | 8.3e-05 | 0.00013 |\n| range | 0.21–0.47 | -23 |\n'
)
LOADS = re.compile(
    r'<(?:script|link|img|source|iframe)\b[^>]*?\s(?:src|href|srcset)="([^"]*)"', re.IGNORECASE
)


@pytest.mark.parametrize(
    ('text', 'expected'),
    [
        ('p = 2.5e-18', f'p = {SPAN}2.5e-18</span>'),
        ('IQR 0.21–0.47.', f'IQR {SPAN}0.21–0.47</span>.'),
        ('40%–53%', f'{SPAN}40%–53%</span>'),
        ('its 95 % interval', f'its {SPAN}95 %</span> interval'),
        ('[-32, -14]', f'[{SPAN}-32</span>, {SPAN}-14</span>]'),
        ('lr 1e-08', f'lr {SPAN}1e-08</span>'),
        # nothing to break inside: left alone
        ('0.00013 and ×0.54 and +0.087', '0.00013 and ×0.54 and +0.087'),
        # a number inside a name or an entity is not a number
        ('ex-2.10, seed-3, &#8211;', 'ex-2.10, seed-3, &#8211;'),
    ],
)
def test_a_number_a_browser_could_break_is_wrapped_and_nothing_else(text, expected):
    assert keep_numbers_whole(f'<td>{text}</td>') == f'<td>{expected}</td>'


def test_code_preformatted_text_math_and_the_head_are_left_as_they_are():
    page = (
        '<head><title>1e-3</title><style>a{margin:-1e-3px}</style></head><main><pre>8.3e-05</pre>'
        '<code>1e-3</code><math><mn>1e-3</mn></math></code><p>1e-3</p></main>'
    )
    # the stray </code> after the math closes nothing and must not stop the wrapping of what follows
    assert keep_numbers_whole(page) == page.replace('<p>1e-3</p>', f'<p>{SPAN}1e-3</span></p>')


@given(st.text(alphabet='0123456789.eE-–−+%×[], ax&;# ', max_size=40))
def test_wrapping_never_changes_the_text(text):
    wrapped = keep_numbers_whole(f'<td>{text}</td>')
    assert wrapped.replace(SPAN, '').replace('</span>', '') == f'<td>{text}</td>'


def project(root: Path, *, prose: str = 'Red lands on $e_0$.') -> tuple[Path, Path]:
    """A README with inline and display math, and a notebook with a parameters cell, a markdown
    table of numbers and a LaTeX output; returns (readme, notebook)."""
    (root / 'notebooks').mkdir(parents=True)
    readme = root / 'README.md'
    readme.write_text(
        f'# Demo\n\n{prose}\n\n$$p = 1 - (1 - q)^s$$\n\n[Ex 1](notebooks/ex-1.ipynb)\n', encoding='utf-8'
    )
    notebook = root / 'notebooks' / 'ex-1.ipynb'
    parameters = new_code_cell('SEEDS = 200\nLR = 1e-3', execution_count=1)
    parameters.metadata['tags'] = ['parameters']
    outputs = [
        new_output('display_data', data={'text/markdown': TABLE, 'text/plain': 'table'}),
        new_output('display_data', data={'text/latex': '$x^2$', 'text/plain': 'x**2'}),
    ]
    nb = new_notebook(
        cells=[
            new_markdown_cell('# Ex 1: numbers\n\nThe anchor is $(1,0,0,0,0)$.'),
            parameters,
            new_code_cell('show(table)', execution_count=2, outputs=outputs),
        ]
    )
    nbformat.write(nb, notebook)
    return readme, notebook


def test_math_is_mathml_and_no_page_loads_anything_from_another_host(tmp_path):
    readme, notebook = project(tmp_path / 'project')
    build_site(readme, [notebook], tmp_path / 'site')
    index, page = (
        (tmp_path / 'site' / 'index.html').read_text(),
        (tmp_path / 'site' / 'ex-1.html').read_text(),
    )
    assert f'<math><semantics>{E0}' in index and '$e_0$' not in index
    assert '<math display="block"><semantics><mrow><mi>p</mi><mo>=</mo>' in index
    assert '<mn>1</mn><mo>,</mo><mn>0</mn>' in page  # a markdown cell's math
    assert '<msup><mi>x</mi><mn>2</mn></msup>' in page and '$x^2$' not in page  # a text/latex output
    for html in (index, page):
        assert '<script' not in html.lower()
        for url in LOADS.findall(html):
            assert not re.match(r'(?:[a-z]+:)?//', url, re.IGNORECASE), url


def test_the_parameters_cell_is_open_and_other_code_folded(tmp_path):
    readme, notebook = project(tmp_path / 'project')
    build_site(readme, [notebook], tmp_path / 'site')
    page = (tmp_path / 'site' / 'ex-1.html').read_text()
    details = re.findall(r'<details class="([^"]*)"( open="")?><summary>(\w+)', page)
    assert details == [('site-code site-parameters', ' open=""', 'Parameters'), ('site-code', '', 'Code')]
    shown = page.split('site-parameters', 1)[1].split('</details>', 1)[0]
    assert 'SEEDS' in shown and '200' in shown


def test_a_table_keeps_its_numbers_as_printed_and_each_on_one_line(tmp_path):
    readme, notebook = project(tmp_path / 'project')
    build_site(readme, [notebook], tmp_path / 'site')
    page = (tmp_path / 'site' / 'ex-1.html').read_text()
    cells = re.findall(r'<td[^>]*>(.*?)</td>', page)
    assert cells == [
        'median MSE',
        f'{SPAN}8.3e-05</span>',
        '0.00013',
        'range',
        f'{SPAN}0.21–0.47</span>',
        f'{SPAN}-23</span>',
    ]
    css = (tmp_path / 'site' / 'static' / 'site.css').read_text()
    assert re.search(r'\.site-num\s*\{\s*white-space:\s*nowrap;', css)


def test_math_the_site_cannot_typeset_is_an_error_that_names_the_file(tmp_path):
    readme, notebook = project(tmp_path / 'project', prose=r'Red lands on $\unknowncommand e_0$.')
    with pytest.raises(SiteError, match=r'README\.md: math .*unknown command \\unknowncommand'):
        build_site(readme, [notebook], tmp_path / 'site')
    assert not (tmp_path / 'site').exists()


@pytest.fixture(scope='module')
def real_site(tmp_path_factory) -> SiteSummary:
    out = tmp_path_factory.mktemp('real-site') / '_site'
    return build_site(ROOT / 'README.md', sorted((ROOT / 'notebooks').glob('*.ipynb')), out, root=ROOT)


def test_the_real_site_is_offline_its_readme_math_rendered_and_its_parameters_shown(real_site):
    index = (real_site.out / 'index.html').read_text()
    assert (ROOT / 'README.md').read_text().count('$e_0$') >= 1, 'the README no longer writes $e_0$'
    assert E0 in index and '$e_0$' not in index
    for path in sorted(real_site.out.glob('*.html')):
        html = path.read_text()
        assert '<script' not in html.lower(), path.name
        external = [url for url in LOADS.findall(html) if re.match(r'(?:[a-z]+:)?//', url, re.IGNORECASE)]
        assert external == [], path.name
        if path.name != 'index.html':
            assert html.count('<details class="site-code site-parameters" open="">') == 1, path.name


def test_the_real_ex_2_10_page_shows_every_printed_number_unchanged_and_whole(real_site):
    name = 'ex-2.10-delete-only-red-5d-no-subspace'
    source = (ROOT / 'notebooks' / f'{name}.ipynb').read_text(encoding='utf-8')
    nb = nbformat.reads(source, as_version=4)
    printed = {
        number
        for cell in nb.cells
        for output in cell.get('outputs', [])
        for number in re.findall(r'\d+(?:\.\d+)?e-\d+', output.get('data', {}).get('text/markdown', ''))
    }
    assert len(printed) >= 5, 'Ex 2.10 prints fewer numbers in e-notation than this test expects'
    page = (real_site.out / f'{name}.html').read_text()
    spans = re.findall(f'{SPAN}([^<]*)</span>', page)
    for number in sorted(printed):
        assert any(number in span for span in spans), f'{number} is not kept on one line'
    for span in set(spans):  # what a span holds is text the notebook holds (its JSON escapes no digit)
        assert span in nb_text(nb), span


def nb_text(nb) -> str:
    """All the text of a notebook's cells and outputs."""
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for output in cell.get('outputs', []):
            parts += [str(value) for value in output.get('data', {}).values()] + [output.get('text', '')]
    return '\n'.join(parts)


def test_in_a_browser_numbers_stay_on_one_line_and_math_is_typeset_in_both_schemes(tmp_path):
    chromium = browser_executable()
    from playwright.sync_api import Route, sync_playwright

    readme, notebook = project(tmp_path / 'project')
    # nine columns of 8.3e-05 are wider than a phone, so the browser squeezes every cell it can
    columns = 9
    (tmp_path / 'project' / 'README.md').write_text(
        '# Demo\n\nRed lands on $e_0$.\n\n'
        + '| '
        + ' | '.join('abcdefghi'[:columns])
        + ' |\n'
        + '|'
        + '---:|' * columns
        + '\n'
        + '| '
        + ' | '.join(['8.3e-05'] * columns)
        + ' |\n'
    )
    site = build_site(readme, [notebook], tmp_path / 'site').out
    server = serve(site)
    base = f'http://127.0.0.1:{server.server_address[1]}/'
    external: list[str] = []

    def refuse(route: Route) -> None:
        external.append(route.request.url)
        route.abort()

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            for scheme in ('light', 'dark'):
                context = browser.new_context(viewport={'width': 360, 'height': 800}, color_scheme=scheme)
                context.route(lambda url: not url.startswith(base), refuse)
                page = context.new_page()
                page.goto(base + 'index.html', wait_until='load')
                lines = page.eval_on_selector_all(
                    '.site-num', 'spans => spans.map(s => s.getClientRects().length)'
                )
                assert len(lines) == columns and set(lines) == {1}, lines
                # the control: the same span, allowed to wrap, breaks inside the number
                broken = page.eval_on_selector(
                    '.site-num', 's => { s.style.whiteSpace = "normal"; return s.getClientRects().length }'
                )
                assert broken == 2, 'the narrow cell no longer forces a break; the check above proves nothing'
                math = page.evaluate(
                    """() => {
                      const m = document.querySelector('p math');
                      const [base, sub] = m.querySelector('msub').children;
                      const channels = c => c.match(/\\d+/g).slice(0, 3).map(Number);
                      return {
                        lowered: sub.getBoundingClientRect().bottom > base.getBoundingClientRect().bottom,
                        smaller: parseFloat(getComputedStyle(sub).fontSize) < parseFloat(getComputedStyle(base).fontSize),
                        math: channels(getComputedStyle(base).color),
                        text: channels(getComputedStyle(m.parentElement).color),
                      };
                    }"""
                )
                assert math['lowered'] and math['smaller'], math
                assert math['math'] == math['text'], math
                assert (sum(math['text']) > 3 * 128) == (scheme == 'dark'), math
                context.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert external == []
