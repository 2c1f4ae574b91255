"""PDF and SVG copies of notebook figures: `save_figure`, and `displayer_mpl`'s formats, widths and cache.

Page sizes are read back from the saved files themselves (the PDF's MediaBox, the SVG's width), so the
tests check what a paper would include, not what matplotlib was asked for.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from ex_color.data import ColorCube, arange_cyclic
from ex_color.vis import plot_cube_series
from utils.nb import FIGURES_DIR_ENV, displayer_mpl
from utils.nb.displayer import FORMATS_ENV, WIDTH_ENV
from utils.nb.png import save_figure
from utils.plt import Theme

REPO = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
SVG = '{http://www.w3.org/2000/svg}'


def media_box_inches(pdf: bytes) -> tuple[float, float]:
    """The first page's size in inches, from its /MediaBox [x0 y0 x1 y1] in points (72 per inch)."""
    (box,) = re.findall(rb'/MediaBox \[ *([\d. ]+?) *\]', pdf)
    x0, y0, x1, y1 = (float(v) for v in box.split())
    return (x1 - x0) / 72, (y1 - y0) / 72


def svg_size_inches(svg: bytes) -> tuple[float, float]:
    root = ET.fromstring(svg)
    assert root.tag == f'{SVG}svg'
    w, h = root.get('width'), root.get('height')
    assert w is not None and h is not None and w.endswith('pt') and h.endswith('pt')
    return float(w[:-2]) / 72, float(h[:-2]) / 72


def simple_figure(theme: Theme | None = None) -> Figure:
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0, 1, 0])
    fig.suptitle('Hello')
    return fig


def error_cube() -> ColorCube:
    cube = ColorCube.from_hsv(h=arange_cyclic(step_size=1 / 24), s=np.array([1.0]), v=np.array([0.5, 1.0]))
    return cube.assign(MSE=np.random.default_rng(0).random(cube.shape))


@pytest.fixture
def figdir(tmp_path, monkeypatch) -> Path:
    out = tmp_path / 'figs'
    monkeypatch.setenv(FIGURES_DIR_ENV, str(out))
    monkeypatch.delenv(FORMATS_ENV, raising=False)
    monkeypatch.delenv(WIDTH_ENV, raising=False)
    return out


def test_save_figure_writes_every_format_beside_one_another_and_follows_the_redirect(figdir):
    fig = simple_figure()
    files = save_figure(fig, 'large-assets/ex-9.1-thing', ('png', 'pdf', 'svg'))
    plt.close(fig)
    # The name's own dots stay ('ex-9.1-thing' is not a suffix); the smoke redirect keeps large-assets/ clean.
    assert files == {f: (figdir / f'ex-9.1-thing.{f}').resolve() for f in ('png', 'pdf', 'svg')}
    assert not list((REPO / 'large-assets').glob('ex-9.1-thing*'))
    assert files['png'].read_bytes()[:8] == PNG_SIGNATURE
    assert files['pdf'].read_bytes()[:5] == b'%PDF-'
    # Vector files keep the figure's own size (3 x 2 in), uncropped.
    assert media_box_inches(files['pdf'].read_bytes()) == pytest.approx((3, 2))
    assert svg_size_inches(files['svg'].read_bytes()) == pytest.approx((3, 2))
    # Written by rename: nothing but the three files, no temporaries left behind.
    assert sorted(p.name for p in figdir.iterdir()) == [
        'ex-9.1-thing.pdf',
        'ex-9.1-thing.png',
        'ex-9.1-thing.svg',
    ]


def test_save_figure_replaces_a_format_suffix_and_is_deterministic(figdir):
    fig = simple_figure()
    first = save_figure(fig, 'figure.png', ('pdf', 'svg'))
    before = {f: p.read_bytes() for f, p in first.items()}
    second = save_figure(fig, 'figure.svg', ('pdf', 'svg'))
    plt.close(fig)
    assert (
        first
        == second
        == {'pdf': (figdir / 'figure.pdf').resolve(), 'svg': (figdir / 'figure.svg').resolve()}
    )
    # No dates, fixed SVG ids: the same figure gives the same bytes, so an unchanged file is not rewritten.
    assert {f: p.read_bytes() for f, p in second.items()} == before
    assert b'CreationDate' not in before['pdf']


def test_save_figure_rejects_bad_formats(figdir):
    fig = simple_figure()
    with pytest.raises(ValueError, match="'tiff'"):
        save_figure(fig, 'x', ('pdf', 'tiff'))
    with pytest.raises(TypeError, match='sequence of formats'):
        save_figure(fig, 'x', 'pdf')
    with pytest.raises(ValueError, match='empty'):
        save_figure(fig, 'x', ())
    plt.close(fig)
    assert not figdir.exists() or list(figdir.iterdir()) == []


def test_displayer_writes_pdf_and_svg_beside_the_pngs_in_the_light_theme(figdir):
    with displayer_mpl('large-assets/ex-9-fig.png', formats=('png', 'pdf', 'svg')) as show:
        show(simple_figure)
    assert show.result is not None
    names = ('ex-9-fig.png', 'ex-9-fig.dark.png', 'ex-9-fig.pdf', 'ex-9-fig.svg')
    assert show.result.files == dict(
        zip(('light', 'dark', 'pdf', 'svg'), (figdir / n for n in names), strict=True)
    )
    assert sorted(p.name for p in figdir.iterdir()) == sorted(names)
    svg = (figdir / 'ex-9-fig.svg').read_bytes()
    # The first path of a matplotlib SVG is the figure's background patch: white, the light theme.
    background = ET.fromstring(svg).find(f'.//{SVG}path')
    assert background is not None and 'fill: #ffffff' in (background.get('style') or '')
    assert media_box_inches((figdir / 'ex-9-fig.pdf').read_bytes()) == pytest.approx((3, 2))
    # The page still shows the PNGs only.
    assert '.pdf' not in show.result.html and '.svg' not in show.result.html


def test_the_environment_asks_every_figure_for_vector_copies(figdir, monkeypatch):
    monkeypatch.setenv(FORMATS_ENV, 'pdf, svg')
    with displayer_mpl('env.png') as show:
        show(simple_figure)
    assert sorted(p.name for p in figdir.iterdir()) == ['env.dark.png', 'env.pdf', 'env.png', 'env.svg']
    monkeypatch.setenv(FORMATS_ENV, 'pdf,tif')
    with pytest.raises(ValueError, match=f"{FORMATS_ENV}.*'tif'"):
        with displayer_mpl('env2.png') as show:
            show(simple_figure)
    monkeypatch.setenv(FORMATS_ENV, 'pdf')
    monkeypatch.setenv(WIDTH_ENV, 'colum')
    with pytest.raises(ValueError, match=f"{WIDTH_ENV}.*'colum'"):
        with displayer_mpl('env3.png') as show:
            show(simple_figure)
    assert not (figdir / 'env2.png').exists() and not (figdir / 'env3.png').exists()


def test_column_width_vectors_are_drawn_for_the_column(figdir):
    seen: list[Theme] = []
    cube = error_cube()

    def hero(theme: Theme) -> Figure:
        seen.append(theme)
        return plot_cube_series(cube, title='Reconstruction error · test', var='MSE', theme=theme)

    with displayer_mpl('col.png', formats=('pdf', 'svg'), vector_width='column') as show:
        show(hero)
    assert seen == [Theme('light'), Theme('dark'), Theme('light', width='column')]
    width, height = media_box_inches((figdir / 'col.pdf').read_bytes())
    assert width == pytest.approx(3.35)
    assert svg_size_inches((figdir / 'col.svg').read_bytes()) == pytest.approx((width, height))
    # The PNGs keep the notebook's full width: 12 in at 150 dpi, cropped by at most a little margin.
    png_width = plt.imread(figdir / 'col.png').shape[1]
    assert 0.95 * 12 * 150 <= png_width <= 12 * 150


def test_a_factory_that_ignores_the_column_width_is_an_error_and_writes_nothing(figdir):
    cube = error_cube()

    def fixed(theme: Theme) -> Figure:
        return plot_cube_series(cube, title='t', var='MSE', figsize=(12, 3), theme=theme)

    with pytest.raises(ValueError, match=r'fixed\.png.*12\.00 in wide, not 3\.35 in'):
        with displayer_mpl('fixed.png', formats=('pdf',), vector_width='column') as show:
            show(fixed)
    assert not figdir.exists() or list(figdir.iterdir()) == []
    assert plt.get_fignums() == []


def test_a_figure_without_a_column_layout_says_so_and_gets_full_width_vectors(figdir, monkeypatch, caplog):
    # what `EX_COLOR_FIGURE_WIDTH=column ./go run` asks of every figure, the dopesheet's included
    cube = error_cube()
    seen: list[Theme] = []

    def fixed(theme: Theme) -> Figure:
        seen.append(theme)
        return plot_cube_series(cube, title='t', var='MSE', figsize=(12, 3), theme=theme)

    monkeypatch.setenv(FORMATS_ENV, 'pdf')
    monkeypatch.setenv(WIDTH_ENV, 'column')
    with caplog.at_level('INFO', logger='utils.nb.displayer'):
        with displayer_mpl('wide.png', column_layout=False) as show:
            show(fixed)
    assert seen == [Theme('light'), Theme('dark')]  # never drawn for the column
    assert media_box_inches((figdir / 'wide.pdf').read_bytes())[0] == pytest.approx(12)
    assert 'wide.png has no column layout: its pdf at full width' in caplog.text


def test_cached_vector_copies_are_written_without_drawing(figdir):
    calls: list[int] = []

    def counted() -> Figure:
        calls.append(1)
        return simple_figure()

    def render() -> dict[str, bytes]:
        with displayer_mpl('kept.png', key='kept-1', formats=('pdf', 'svg')) as show:
            show(counted)
        assert show.result is not None
        return {name: p.read_bytes() for name, p in show.result.files.items()}

    first = render()
    for p in figdir.iterdir():
        p.unlink()
    second = render()
    assert len(calls) == 2, 'light and dark drawn once; the second call came from the cache'
    assert second == first and set(first) == {'light', 'dark', 'pdf', 'svg'}
    # Asking for other formats is another figure: drawn again.
    with displayer_mpl('kept.png', key='kept-1') as show:
        show(counted)
    assert len(calls) == 4
