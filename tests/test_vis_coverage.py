"""The label-coverage figure, on a synthetic table of members (three settings × four seeds)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from scipy.stats import binomtest

from ex_color.evaluation.numbers import setting_name
from ex_color.experiments.ex_2_11.coverage import RED_PASS
from ex_color.experiments.ex_2_11.figures import show_label_coverage
from ex_color.experiments.ex_2_11.plot import plot_label_coverage
from utils.nb import FIGURES_DIR_ENV
from utils.plt import Theme, use_theme

METRICS = ('red', 'median', 'worst_gcb', 'r')


@pytest.fixture(autouse=True)
def no_figures_left():
    yield
    plt.close('all')  # other tests count open figures


def members() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for s, labels in ((0.0625, [0, 3, 5, 6]), (1.0, [60, 66, 70, 75]), (32.0, [1500, 1580, 1600, 1650])):
        for seed, n in enumerate(labels):
            red = 0.002 * (1 + n) ** 0.8 * rng.uniform(0.8, 1.2)
            rows.append(
                {
                    'annotators': s,
                    'seed': seed,
                    'labels': n,
                    'red': red,
                    'median': rng.uniform(1e-5, 1e-4),
                    'worst_gcb': rng.uniform(1e-4, 1e-3),
                    'r': rng.uniform(0.3, 0.9),
                    'baseline_max': rng.uniform(1e-4, 1e-3),
                    'baseline_median': rng.uniform(1e-5, 1e-4),
                    'pass': red >= 0.1 and seed % 2 == 0,
                    RED_PASS: red >= 0.1,
                }
            )
    return pd.DataFrame(rows)


def test_one_panel_per_metric_and_a_pass_rate_panel_on_one_label_axis():
    df = members()
    fig = plot_label_coverage(
        df, METRICS, rates={'pass': 'every threshold', RED_PASS: 'red'}, limits={'red': 0.1}, log=('red',)
    )
    axes = fig.axes
    assert len(axes) == len(METRICS) + 1
    assert [ax.get_title(loc='left') for ax in axes[:-1]] == list(METRICS)
    assert (
        axes[-1].get_title(loc='left') == 'Seeds that pass (4 seeds per setting; bars: Wilson 95% intervals)'
    )
    assert axes[0].get_yscale() == 'log' and axes[1].get_yscale() == 'linear'
    assert all(ax.get_xscale() == 'symlog' for ax in axes)
    # every member is a dot, the one that drew no label included (at 0)
    dots = [c for c in axes[0].collections if isinstance(c, PathCollection)]
    assert len(dots) == 1
    offsets = np.asarray(dots[0].get_offsets())
    assert len(offsets) == len(df) and 0 in offsets[:, 0]
    # the median line sits at each setting's median label count and median metric
    line = next(ln for ln in axes[0].lines if ln.get_marker() == 'o')
    np.testing.assert_allclose(np.asarray(line.get_xdata()), [4.0, 68.0, 1590.0])
    np.testing.assert_allclose(np.asarray(line.get_ydata()), df.groupby('annotators')['red'].median())
    # threshold line only where a limit is given
    dashed = [ln for ln in axes[0].lines if ln.get_linestyle() == '--']
    assert len(dashed) == 1 and np.asarray(dashed[0].get_ydata())[0] == 0.1
    assert not [ln for ln in axes[1].lines if ln.get_linestyle() == '--']
    # pass rates: every threshold and red alone, per setting
    rates = [ln for ln in axes[-1].lines if ln.get_marker() == 'o']
    expected_all = df.groupby('annotators')['pass'].mean()
    expected_red = df.groupby('annotators')[RED_PASS].mean()
    np.testing.assert_allclose(np.asarray(rates[0].get_ydata()), expected_all)
    np.testing.assert_allclose(np.asarray(rates[1].get_ydata()), expected_red)
    assert [t.get_text() for t in axes[-1].texts] == ['1/16', '1', '32']
    # each rate carries its Wilson 95% interval as a bar per setting (checked against scipy's Wilson)
    bars = [c for c in axes[-1].collections if isinstance(c, LineCollection)]
    assert len(bars) == 2
    for column, bar in zip(('pass', RED_PASS), bars, strict=True):
        counts = df.groupby('annotators')[column].agg(['sum', 'size'])
        want = [binomtest(int(k), int(n)).proportion_ci(method='wilson') for k, n in counts.to_numpy()]
        got = [(seg[0][1], seg[1][1]) for seg in bar.get_segments()]
        np.testing.assert_allclose(got, [(ci.low, ci.high) for ci in want], atol=1e-12)
    assert any(np.allclose(np.asarray(ln.get_ydata()), 0.5) for ln in axes[-1].lines)  # the line at half


def test_two_hundred_seeds_per_setting_draw_as_a_finer_cloud():
    rng = np.random.default_rng(1)
    many = pd.concat([members()] * 50, ignore_index=True)  # 3 settings × 200 members
    many['seed'] = many.groupby('annotators').cumcount()
    many['red'] *= rng.uniform(0.9, 1.1, len(many))
    fig = plot_label_coverage(many, METRICS, log=('red',))
    assert fig.axes[-1].get_title(loc='left').startswith('Seeds that pass (200 seeds per setting')
    dots = next(c for c in fig.axes[0].collections if isinstance(c, PathCollection))
    assert len(np.asarray(dots.get_offsets())) == 600
    few = next(
        c
        for c in plot_label_coverage(members(), METRICS).axes[0].collections
        if isinstance(c, PathCollection)
    )
    assert dots.get_sizes()[0] == 3 and few.get_sizes()[0] == 7  # 7 pt² up to 20 seeds, 3 pt² from 200


def test_missing_columns_are_named_before_any_figure_is_made():
    df = members().drop(columns=['worst_gcb', RED_PASS])
    with pytest.raises(KeyError, match=r"\['worst_gcb', 'pass:ablated red >= 0.1'\]"):
        plot_label_coverage(df, METRICS, rates={'pass': 'all', RED_PASS: 'red'})
    with pytest.raises(KeyError, match='labels'):
        plot_label_coverage(members().drop(columns=['labels']), METRICS)
    assert plt.get_fignums() == []


def test_bad_tables_are_refused():
    with pytest.raises(ValueError, match='no members'):
        plot_label_coverage(members().iloc[:0], METRICS)
    with pytest.raises(ValueError, match=r"negative values in log-scaled \['r'\]"):
        plot_label_coverage(members().assign(r=-0.5), METRICS, log=('r',))
    assert plt.get_fignums() == []


def test_an_error_of_exactly_zero_is_drawn_at_a_marked_floor_on_a_log_axis():
    df = members()
    df.loc[5, 'red'] = 0.0  # a member whose ablated output is exactly red
    fig = plot_label_coverage(df, METRICS, log=('red',))
    ax = fig.axes[0]
    dots, floor = (c for c in ax.collections if isinstance(c, PathCollection))
    assert len(np.asarray(dots.get_offsets())) == len(df) - 1
    (at,) = np.asarray(floor.get_offsets())
    positive = df['red'][df['red'] > 0]
    assert at[0] == df.loc[5, 'labels'] and 0 < at[1] < positive.min()
    assert 'exactly 0' in str(floor.get_label())
    # the median line stays drawable: no value of it is 0 on the log axis
    line = next(ln for ln in ax.lines if ln.get_marker() == 'o')
    assert (np.asarray(line.get_ydata()) > 0).all()


def test_setting_names_are_short_fractions():
    assert [setting_name(v) for v in (0.0625, 0.5, 1.0, 32.0, 0.3)] == ['1/16', '1/2', '1', '32', '3/10']
    assert setting_name(1 / 3) == '1/3'
    assert setting_name(3.14159265358979) == '3.14159'  # no short fraction: {:g}


@pytest.mark.parametrize('theme', ['light', 'dark'])
def test_it_draws_in_both_themes(theme):
    with use_theme('base', theme):
        fig = plot_label_coverage(members(), METRICS, theme=Theme(theme))
        fig.canvas.draw()
    plt.close(fig)
    assert plt.get_fignums() == []


def test_show_writes_light_and_dark_figures_and_closes_them(tmp_path, monkeypatch):
    monkeypatch.setenv(FIGURES_DIR_ENV, str(tmp_path))
    show_label_coverage(members(), nbid='2.11')
    with pytest.raises(KeyError, match='baseline_max'):
        show_label_coverage(members().drop(columns=['baseline_max']), nbid='2.11')
    assert (tmp_path / 'ex-2.11-label-coverage.png').read_bytes()[:4] == b'\x89PNG'
    assert (tmp_path / 'ex-2.11-label-coverage.dark.png').read_bytes()[:4] == b'\x89PNG'
    assert plt.get_fignums() == []
