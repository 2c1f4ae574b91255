"""mini.temporal.vis: realize_timeline rows and purity, plot_timeline and plot_dopesheet figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba

from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline
from mini.temporal.vis import ParamGroup, plot_dopesheet, plot_timeline, realize_timeline
from utils.plt import Theme, use_theme

SHEET = """STEP,PHASE,ACTION,lr,reg-a,reg-b
0,Warm,,0,1,0
4,,,1,,
6,Main,snap,,0,2
9,,,0.5,,
"""


@pytest.fixture
def sheet() -> Dopesheet:
    return Dopesheet.from_text(SHEET)


def test_realize_timeline_has_one_row_per_step_and_does_not_move_the_cursor(sheet):
    tl = Timeline(sheet)
    before = tl.state
    df = realize_timeline(tl)
    # Steps 0 .. 9: len(sheet) = last step + 1 = 10 rows (the reference emitted 11).
    assert len(df) == len(sheet) == 10
    assert list(df.columns) == ['STEP', 'PHASE', 'ACTION', 'lr', 'reg-a', 'reg-b']
    assert df['STEP'].tolist() == list(range(10))
    assert tl.state == before
    assert df['PHASE'].tolist() == ['Warm'] * 6 + ['Main'] * 4
    assert df['ACTION'][6] == ['snap'] and df['ACTION'][5] == []
    np.testing.assert_array_equal(df['lr'].to_numpy(), tl.values('lr'))
    # Keyed values are reached at their keys: lr 0 at 0, 1 at 4, 0.5 at 9.
    assert df['lr'][[0, 4, 9]].tolist() == pytest.approx([0, 1, 0.5])


def test_plot_timeline_stacked_figure(sheet):
    history = realize_timeline(Timeline(sheet))
    fig, axes = plot_timeline(
        history,
        sheet.as_df(),
        groups=[ParamGroup('Weights', ['reg-a', 'reg-b'], 2), ParamGroup('LR', ['lr'])],
        line_styles={'^reg-': {'linestyle': '--'}},
    )
    assert isinstance(axes, list) and len(axes) == 2
    assert tuple(fig.get_size_inches()) == pytest.approx((15, 7))
    assert fig.get_suptitle() == 'Timeline property evolution'
    top = axes[0]
    assert [line.get_linestyle() for line in top.lines if str(line.get_label()).startswith('reg-')] == [
        '--',
        '--',
    ]
    legend = top.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ['reg-a', 'reg-b', 'Action Triggered']
    # Keyframe dots: reg-a keyed at 0 and 6; they sit on the realised line.
    dots = np.asarray(top.collections[0].get_offsets())
    np.testing.assert_allclose(dots, [[0, 1], [6, 0]])
    # Phase labels above each span; the default (no theme) figure is dark.
    assert sorted(t.get_text() for t in top.texts) == ['Main', 'Warm']
    assert np.mean(to_rgba(fig.get_facecolor())[:3]) < 0.3
    assert top.get_xlabel() == 'Step' and top.get_ylabel() == 'Property value'
    plt.close(fig)


def test_plot_timeline_on_one_ax_takes_one_group(sheet):
    history = realize_timeline(Timeline(sheet))
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match='one group'):
        plot_timeline(
            history, sheet.as_df(), groups=[ParamGroup('a', ['lr']), ParamGroup('b', ['reg-a'])], ax=ax
        )
    with pytest.raises(KeyError, match='nope'):
        plot_timeline(history, sheet.as_df(), groups=[ParamGroup('a', ['nope'])], ax=ax)
    result = plot_timeline(history, sheet.as_df(), groups=[ParamGroup('', ['lr'])], ax=ax, show_legend=False)
    assert result.axes is ax and result.figure is fig
    assert ax.get_legend() is None
    plt.close(fig)


def test_param_group_validation():
    with pytest.raises(TypeError, match='params'):
        ParamGroup('x', 'lr')
    with pytest.raises(ValueError, match='height_ratio'):
        ParamGroup('x', ['lr'], 0)


@pytest.mark.parametrize('theme', ['light', 'dark'])
def test_plot_dopesheet(sheet, theme):
    with use_theme('base', theme):
        fig = plot_dopesheet(sheet, Theme(theme))
    weights, lr = fig.axes
    assert tuple(fig.get_size_inches()) == pytest.approx((9, 3))
    assert weights.get_ylabel() == 'Weight' and weights.get_xlabel() == ''
    assert lr.get_ylabel() == 'LR' and lr.get_xlabel() == 'Step'
    assert [line.get_label() for line in weights.lines if not str(line.get_label()).startswith('_')] == [
        'reg-a',
        'reg-b',
    ]
    assert lr.get_legend() is None and weights.get_legend() is not None
    # Keyframe faces: white on light, black otherwise.
    face = np.asarray(weights.collections[0].get_facecolor())[0][:3]
    assert face.tolist() == ([1, 1, 1] if theme == 'light' else [0, 0, 0])
    assert fig.get_suptitle() == ''
    plt.close(fig)
