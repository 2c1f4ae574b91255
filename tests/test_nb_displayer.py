"""utils.nb.displayer_mpl: files, HTML, alt text, determinism, failure handling and path resolution."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from utils.nb import FIGURES_DIR_ENV, displayer_mpl, find_repo_root, resolve_figure_path
from utils.plt import Theme

REPO = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def luminance(path: Path) -> float:
    img = mpimg.imread(path)[..., :3]  # floats in [0, 1]
    return float(np.mean(img @ np.array([0.2126, 0.7152, 0.0722])))


def simple_figure(theme: Theme | None = None, title: str = 'Hello') -> Figure:
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0, 1, 0])
    ax.set_xlabel('Step')
    if title:
        fig.suptitle(title)
    return fig


@pytest.fixture
def figdir(tmp_path, monkeypatch) -> Path:
    out = tmp_path / 'figs'
    monkeypatch.setenv(FIGURES_DIR_ENV, str(out))
    return out


def test_writes_light_and_dark_pngs_with_expected_backgrounds(figdir):
    with displayer_mpl('large-assets/ex-test-simple.png') as show:
        show(simple_figure)
    light, dark = figdir / 'ex-test-simple.png', figdir / 'ex-test-simple.dark.png'
    assert light.read_bytes()[:8] == PNG_SIGNATURE
    assert dark.read_bytes()[:8] == PNG_SIGNATURE
    assert luminance(light) > 0.7
    assert luminance(dark) < 0.3
    assert show.result is not None
    assert show.result.files == {'light': light, 'dark': dark}
    assert plt.get_fignums() == []
    # Nothing but the two files: temporary files were renamed into place.
    assert sorted(p.name for p in figdir.iterdir()) == ['ex-test-simple.dark.png', 'ex-test-simple.png']


def test_dpi_is_150(figdir):
    with displayer_mpl('x.png') as show:
        show(lambda: simple_figure())
    # A 3 x 2 in figure at 150 dpi, cropped to its tight box (+0.1 in padding), is at most 450 x 300 px
    # and, holding a full-width axes, at least 2/3 of that.
    h, w = mpimg.imread(figdir / 'x.png').shape[:2]
    assert 300 <= w <= 450 and 200 <= h <= 300


def test_html_img_structure_and_alt_text(figdir, tmp_path, monkeypatch):
    nb = tmp_path / 'notebooks'
    nb.mkdir()
    monkeypatch.chdir(nb)
    with displayer_mpl('large-assets/fig.png', alt_text='Plot titled "{title}" with {braces: kept}') as show:
        show(lambda: simple_figure(title='My <title>'))
    res = show.result
    assert res is not None
    assert res.alt_text == 'Plot titled "My <title>" with {braces: kept}'
    html = res.html
    # one <img> (JupyterLab resolves its src, trusted or not); the dark variant rides in data-dark-src
    img = re.fullmatch(r'<img src="([^"]+)" data-dark-src="([^"]+)" alt="([^"]+)">', html)
    assert img, html
    # URLs are relative to the working directory (the notebook's folder).
    assert re.fullmatch(r'\.\./figs/fig\.png\?v=[0-9a-f]{10}', img.group(1))
    assert re.fullmatch(r'\.\./figs/fig\.dark\.png\?v=[0-9a-f]{10}', img.group(2))
    assert img.group(3) == 'Plot titled &quot;My &lt;title&gt;&quot; with {braces: kept}'


def test_default_alt_text_uses_suptitle_or_empty(figdir):
    with displayer_mpl('a.png') as show:
        show(simple_figure)
    assert show.result is not None
    assert show.result.alt_text == 'Figure titled "Hello"'
    with displayer_mpl('b.png', alt_text='T="{title}"') as show:
        show(lambda: simple_figure(title=''))
    assert show.result is not None
    assert show.result.alt_text == 'T=""'


def test_factory_theme_is_detected_by_signature(figdir):
    seen: list[object] = []

    def with_theme(theme: Theme) -> Figure:
        seen.append(theme)
        return simple_figure()

    with displayer_mpl('t.png') as show:
        show(with_theme)
    assert seen == [Theme('light'), Theme('dark')]

    calls: list[int] = []

    def without_theme() -> Figure:
        calls.append(1)
        return simple_figure()

    with displayer_mpl('u.png') as show:
        show(without_theme)
    assert calls == [1, 1]


def test_rendering_twice_gives_identical_bytes_and_html(figdir):
    def render() -> tuple[bytes, bytes, str]:
        with displayer_mpl('same.png') as show:
            show(simple_figure)
        assert show.result is not None
        return (figdir / 'same.png').read_bytes(), (figdir / 'same.dark.png').read_bytes(), show.result.html

    first = render()
    (figdir / 'same.png').unlink()
    second = render()
    assert first == second


def test_changed_figure_changes_cache_buster(figdir):
    with displayer_mpl('c.png') as show:
        show(lambda: simple_figure(title='one'))
    assert show.result is not None
    html1 = show.result.html
    with displayer_mpl('c.png') as show:
        show(lambda: simple_figure(title='two'))
    assert show.result is not None
    assert show.result.html != html1


def test_last_show_wins(figdir):
    with displayer_mpl('last.png') as show:
        show(lambda: simple_figure(title='first'))
        show(lambda: simple_figure(title='second'))
    assert show.result is not None
    assert show.result.alt_text == 'Figure titled "second"'


def test_factory_that_raises_leaves_no_file_and_no_figure(figdir):
    def broken(theme: Theme) -> Figure:
        fig = simple_figure()
        if theme.name == 'dark':
            raise RuntimeError('boom')
        return fig

    with pytest.raises(RuntimeError, match='boom'):
        with displayer_mpl('broken.png') as show:
            show(broken)
    assert not figdir.exists() or list(figdir.iterdir()) == []
    assert plt.get_fignums() == []


def test_factory_must_return_a_figure(figdir):
    with pytest.raises(TypeError, match='Figure'):
        with displayer_mpl('bad.png') as show:
            show(cast(Any, lambda: 3))  # deliberately not a Figure factory
    assert plt.get_fignums() == []


def test_body_exception_propagates_without_rendering(figdir):
    with pytest.raises(KeyError):
        with displayer_mpl('body.png') as show:
            show(simple_figure)
            raise KeyError('oops')
    assert not (figdir / 'body.png').exists()


def test_show_never_called_is_an_error(figdir):
    with pytest.raises(RuntimeError, match='show'):
        with displayer_mpl('never.png'):
            pass


def test_path_must_end_with_png():
    with pytest.raises(ValueError, match='.png'):
        with displayer_mpl('figure.svg'):
            pass


def test_repo_root_is_found_from_the_package_not_the_cwd(tmp_path, monkeypatch):
    monkeypatch.delenv(FIGURES_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    from_tmp = find_repo_root()
    path_from_tmp = resolve_figure_path('large-assets/x.png')
    monkeypatch.chdir(REPO / 'tests')
    assert find_repo_root() == from_tmp == REPO
    assert resolve_figure_path('large-assets/x.png') == path_from_tmp == REPO / 'large-assets' / 'x.png'


def test_find_repo_root_needs_both_markers(tmp_path):
    (tmp_path / 'a' / 'b').mkdir(parents=True)
    assert find_repo_root(tmp_path / 'a' / 'b') is None
    (tmp_path / 'pyproject.toml').write_text('')
    assert find_repo_root(tmp_path / 'a' / 'b') is None
    (tmp_path / 'large-assets').mkdir()
    assert find_repo_root(tmp_path / 'a' / 'b') == tmp_path.resolve()


def test_env_override_keeps_file_name_and_absolute_paths_stay(tmp_path, monkeypatch):
    monkeypatch.setenv(FIGURES_DIR_ENV, str(tmp_path / 'smoke'))
    assert resolve_figure_path('large-assets/ex-1.png') == (tmp_path / 'smoke' / 'ex-1.png').resolve()
    assert (
        resolve_figure_path(tmp_path / 'elsewhere' / 'ex-2.png')
        == (tmp_path / 'smoke' / 'ex-2.png').resolve()
    )
    monkeypatch.delenv(FIGURES_DIR_ENV)
    assert resolve_figure_path(tmp_path / 'elsewhere' / 'ex-2.png') == tmp_path / 'elsewhere' / 'ex-2.png'


def test_live_mode_renders_a_preview_and_still_writes_files(figdir):
    themes: list[Theme] = []

    def factory(theme: Theme) -> Figure:
        themes.append(theme)
        return simple_figure()

    with displayer_mpl('live.png', live=True) as show:
        show(factory)
    assert themes == [Theme('indeterminate'), Theme('light'), Theme('dark')]
    assert (figdir / 'live.png').exists() and (figdir / 'live.dark.png').exists()
    assert plt.get_fignums() == []


def test_a_notebook_output_file_follows_the_figures_redirect_and_staging(tmp_path, monkeypatch):
    from utils.nb.paths import FIGURES_STAGE_ENV, commit_staged, write_output

    # smoke: redirected into the run's folder, never beside the committed notebook
    monkeypatch.setenv(FIGURES_DIR_ENV, str(tmp_path / 'smoke'))
    assert write_output('notebooks/ex-9-dopesheet.csv', b'a') == (tmp_path / 'smoke' / 'ex-9-dopesheet.csv')
    assert (tmp_path / 'smoke' / 'ex-9-dopesheet.csv').read_bytes() == b'a'
    assert not (REPO / 'notebooks' / 'ex-9-dopesheet.csv').exists()
    # in place: staged until the run succeeds, then moved to its final path
    monkeypatch.delenv(FIGURES_DIR_ENV)
    monkeypatch.setenv(FIGURES_STAGE_ENV, str(tmp_path / 'stage'))
    final = tmp_path / 'out' / 'ex-9-dopesheet.csv'
    assert write_output(final, b'b') == final
    assert not final.exists(), 'nothing reaches its final path before the run succeeds'
    commit_staged(tmp_path / 'stage')
    assert final.read_bytes() == b'b'
