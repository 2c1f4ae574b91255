"""Sweep figures (error vs similarity, metric boxes, stacked results) rendered light and dark.

Synthetic data: an RGB 6³ cube whose MSE is sim³ to red plus small noise, a small frame of sweep
metrics, and the default `TestSet` evaluated on an untrained tiny model.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch
from scipy import stats

from ex_color.data import ColorCube
from ex_color.data.colors import rgb2hsv
from ex_color.evaluation import TestSet, error_correlation, hsv_similarity
from ex_color.experiments.ex_2_10_1.figures import show_error_vs_similarity, show_metric_boxes, show_results
from ex_color.model import CNColorMLP
from ex_color.vis import (
    ConeAnnotation,
    plot_error_vs_similarity,
    plot_metric_boxes,
    plot_results,
)
from ex_color.vis.results_figure import value_levels
from ex_color.vis.similarity_scatter import anchor_label, point_alpha
from utils.nb import FIGURES_DIR_ENV
from utils.plt import Theme, use_theme

LUMA = np.array([0.2126, 0.7152, 0.0722])
TAGS = ['ablated', 'no subspace']
RED = (0.0, 1.0, 1.0)


def border_luminance(path: Path) -> float:
    img = mpimg.imread(path)[..., :3]
    border = np.concatenate([img[:3].reshape(-1, 3), img[-3:].reshape(-1, 3), img[:, :3].reshape(-1, 3)])
    return float(np.mean(border @ LUMA))


def assert_themed_pngs(root: Path, stem: str) -> None:
    light, dark = root / f'{stem}.png', root / f'{stem}.dark.png'
    assert light.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert dark.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert border_luminance(light) > 0.7, stem
    assert border_luminance(dark) < 0.3, stem
    assert plt.get_fignums() == []


@pytest.fixture(scope='module')
def sim_cube() -> ColorCube:
    cube = ColorCube.from_rgb(*(np.linspace(0, 1, 6),) * 3)
    sim = hsv_similarity(rgb2hsv(cube.rgb_grid), RED)
    noise = np.random.default_rng(0).normal(0, 0.01, cube.shape)
    return cube.assign(MSE=np.clip(sim**3 + noise, 0, None))


@pytest.fixture(scope='module')
def test_set() -> TestSet:
    torch.manual_seed(0)
    model = CNColorMLP(5, n_nonlinear=2).eval()
    return TestSet.create().evaluate(model, tags=['untrained'])


@pytest.fixture(scope='module')
def sweep_df() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            'seed': np.arange(12),
            'score': rng.uniform(0.5, 1.0, 12),
            'val_recon': 10 ** rng.uniform(-4, -2, 12),
            '_runtime': rng.uniform(60, 90, 12),
        }
    )


def test_alpha_formula_by_hand():
    # y max = 0.5, so y_norm = (0, 1, 0.5): 0.1 + 0.9·(0 + 0)/2 = 0.1; 0.1 + 0.9·(1 + 1)/2 = 1.0;
    # 0.1 + 0.9·(0.5 + 0.5)/2 = 0.55.
    alpha = point_alpha(np.array([0.0, 1.0, 0.5]), np.array([0.0, 0.5, 0.25]))
    np.testing.assert_allclose(alpha, [0.1, 1.0, 0.55])


def test_anchor_label():
    assert anchor_label(RED) == 'red'
    assert anchor_label((1 / 3, 1, 1)) == 'green'
    assert anchor_label((0, 0.5, 1)) == 'anchor'


def test_scatter_fit_matches_polyfit_and_pearson(sim_cube):
    with use_theme('base', 'light'):
        fig = plot_error_vs_similarity(sim_cube, RED, 3, title='t', theme=Theme('light'))
    ax = fig.axes[0]
    (line,) = [a for a in ax.get_lines() if isinstance(a, Line2D)]
    xs, ys = (np.asarray(d, dtype=float) for d in line.get_data())
    slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
    intercept = ys[0] - slope * xs[0]
    x = hsv_similarity(rgb2hsv(sim_cube.rgb_grid).reshape(-1, 3), RED) ** 3
    y = sim_cube['MSE'].reshape(-1)
    want_slope, want_intercept = np.polyfit(x, y, 1)
    assert slope == pytest.approx(want_slope, rel=1e-9)
    assert intercept == pytest.approx(want_intercept, abs=1e-12)
    # MSE = sim³ + noise, so the line is close to y = x.
    assert slope == pytest.approx(1.0, abs=0.05)
    r = stats.pearsonr(x, y).statistic
    legend = ax.get_legend()
    assert legend is not None
    (label,) = [t.get_text() for t in legend.get_texts()]
    assert f'{r:.3f}' in label
    assert f'{r**2:.3f}' in label
    assert r == pytest.approx(error_correlation(sim_cube, RED, 3).r)
    assert ax.get_xlabel() == r'$\mathrm{sim}_{\mathrm{red}}^{3}$'
    assert ax.get_ylabel() == 'MSE'
    # One point per cell, in the true colours (some alpha), size 2.
    (points,) = ax.collections
    assert isinstance(points, PathCollection)
    assert len(np.asarray(points.get_offsets())) == 6**3
    assert set(points.get_sizes()) == {2}
    plt.close(fig)


def test_scatter_rejects_constant_error():
    cube = ColorCube.from_rgb(*(np.linspace(0, 1, 3),) * 3)
    cube = cube.assign(MSE=np.zeros(cube.shape))
    with pytest.raises(ValueError, match='constant'):
        plot_error_vs_similarity(cube)
    assert plt.get_fignums() == []


def test_error_vs_similarity_renders_both_themes(sim_cube, test_set, tmp_path, monkeypatch):
    monkeypatch.setenv(FIGURES_DIR_ENV, str(tmp_path))
    fit = show_error_vs_similarity(sim_cube, nbid='2.10.1', tags=TAGS)
    assert fit.correlation.r > 0.9
    assert_themed_pngs(tmp_path, 'ex-2.10.1-error-vs-similarity-ablated-no-subspace')
    # A TestSet contributes its latent cube, as error_correlation does.
    fit = show_error_vs_similarity(test_set, nbid='2.10.1', tags=['ts'])
    assert fit.correlation.r == pytest.approx(error_correlation(test_set, RED, 3).r)


def test_metric_boxes_one_box_per_column(sweep_df):
    cols = ['score', 'val_recon', '_runtime']
    with use_theme('base', 'light'):
        fig = plot_metric_boxes(sweep_df, cols, log=['val_recon'], titles={'val_recon': 'Recon loss'})
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert sum(isinstance(p, PathPatch) for p in ax.patches) == 1
        assert len(np.asarray(ax.collections[-1].get_offsets())) == 12  # every run is a dot
    assert [ax.get_xscale() for ax in fig.axes] == ['linear', 'log', 'linear']
    assert [ax.get_yticklabels()[0].get_text() for ax in fig.axes] == ['score', 'Recon loss', '_runtime']
    assert tuple(fig.get_size_inches()) == (4, 3)
    plt.close(fig)


def test_metric_boxes_errors_name_the_column(sweep_df):
    with pytest.raises(KeyError, match='nope'):
        plot_metric_boxes(sweep_df, ['score', 'nope'])
    with pytest.raises(KeyError, match='seed'):
        plot_metric_boxes(sweep_df, ['score'], log=['seed'])
    bad = sweep_df.assign(score=sweep_df['score'] - 1)
    with pytest.raises(ValueError, match="'score'.*<= 0"):
        plot_metric_boxes(bad, ['score'], log=True)
    assert plt.get_fignums() == []


def test_metric_boxes_render_both_themes(sweep_df, tmp_path, monkeypatch):
    monkeypatch.setenv(FIGURES_DIR_ENV, str(tmp_path))
    show_metric_boxes(sweep_df, ['score', 'val_recon'], nbid='2.10.1', tags=TAGS, log=['val_recon'])
    assert_themed_pngs(tmp_path, 'ex-2.10.1-boxplot-ablated-no-subspace')


def test_value_levels():
    # 24 levels: the top one (23) then every (24 - 1) // 4 = 5th below it.
    assert value_levels(24).tolist() == [23, 18, 13, 8, 3]
    assert value_levels(3).tolist() == [2, 1, 0]


def test_results_figure_layout(test_set):
    with use_theme('base', 'dark'):
        fig = plot_results(
            test_set,
            title='Results · untrained',
            anchor_annotation=ConeAnnotation((1, 0, 0, 0, 0), np.pi / 4),
            max_error=0.2,
            theme=Theme('dark'),
        )
    assert tuple(fig.get_size_inches()) == pytest.approx((5, 5.3))
    assert len(fig.axes) == 4
    spec = fig.axes[0].get_subplotspec()
    assert spec is not None
    assert np.asarray(spec.get_gridspec().get_height_ratios()).tolist() == [2.5, 1.8, 1.2]
    rows = [spec.rowspan.start for ax in fig.axes if (spec := ax.get_subplotspec()) is not None]
    assert rows == [0, 0, 1, 2]
    assert [ax.get_title() for ax in fig.axes[:2]] == ['e₁, e₀ · depth e₂', 'e₂, e₀ · depth e₁']
    # Slice: 12 hues across, the 4 non-black value rows (v = 1/4 .. 1) up.
    image = fig.axes[2].get_images()[0].get_array()
    assert image is not None and image.shape[:2] == (4, 12)
    assert fig.axes[3].get_ylim() == (0, 0.2)
    # 5 value levels × 149 hue segments in the series.
    series = fig.axes[3].collections[0]
    assert isinstance(series, LineCollection) and len(series.get_segments()) == 5 * 149
    plt.close(fig)


def test_results_figure_requires_evaluation():
    with pytest.raises(KeyError, match="latent_cube.*'recon'"):
        plot_results(TestSet.create(), title='x')
    assert plt.get_fignums() == []


def test_results_renders_both_themes(test_set, tmp_path, monkeypatch):
    monkeypatch.setenv(FIGURES_DIR_ENV, str(tmp_path))
    show_results(test_set, nbid='2.10.1', tags=TAGS, max_error=0.3)
    assert_themed_pngs(tmp_path, 'ex-2.10.1-results-ablated-no-subspace')
