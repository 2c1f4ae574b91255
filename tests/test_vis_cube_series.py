"""ex_color.vis.plot_cube_series: segments coloured by true colour, NaN gaps, ranges and ticks."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection

from ex_color.data import ColorCube, arange_cyclic
from ex_color.vis import continuous_ticks, plot_cube_series


def hsv_cube(trailing: bool) -> ColorCube:
    cube = ColorCube.from_hsv(h=arange_cyclic(step_size=1 / 12), s=np.array([0.5, 1.0]), v=np.array([1.0]))
    mse = np.linspace(0, 1, 24).reshape(12, 2, 1)  # values 0 .. 1 in C order
    return cube.assign(MSE=mse[..., None] if trailing else mse)


def collection(ax) -> LineCollection:
    (lc,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    return lc


@pytest.mark.parametrize('trailing', [False, True])
def test_segments_and_colours(trailing):
    cube = hsv_cube(trailing)
    fig = plot_cube_series(cube, title='Reconstruction error · x', var='MSE')
    ax = fig.axes[0]
    lc = collection(ax)
    # 2 lines (s = 0.5, 1) of 12 points -> 2 * 11 segments.
    segs = lc.get_segments()
    assert len(segs) == 22
    # Segment i of line j starts at point i and is coloured by the true colour there.
    colors = np.asarray(lc.get_colors())[:, :3]
    expected = cube['color'][:-1].reshape(-1, 3)  # [11 * 2, 3] in (i, j) order
    np.testing.assert_allclose(colors, expected)
    mse = cube['MSE'].reshape(12, 2)
    np.testing.assert_allclose(segs[0], [[0, mse[0, 0]], [1 / 12, mse[1, 0]]])
    # y from the minimum (0) to the maximum (1) plus 5% of the span (1).
    assert ax.get_ylim() == pytest.approx((0, 1.05))
    assert ax.get_ylabel() == 'MSE'
    assert fig.get_suptitle() == 'Reconstruction error · x'
    assert ax.get_xlabel() == 'Hue'
    plt.close(fig)


def test_nan_segments_are_skipped_and_y_min_is_respected():
    cube = hsv_cube(False)
    mse = np.array(cube['MSE'])
    mse[3, 0, 0] = np.nan
    cube = cube.assign(MSE=mse)
    fig = plot_cube_series(cube, title='', var='MSE', y_min=-1)
    # Point 3 of line 0 touches segments 2 and 3: 22 - 2 = 20 remain.
    assert len(collection(fig.axes[0]).get_segments()) == 20
    lo, hi = fig.axes[0].get_ylim()
    # Span = max 1 - y_min -1 = 2 -> top = 1 + 0.1.
    assert (lo, hi) == pytest.approx((-1, 1.1))
    plt.close(fig)


def test_several_cubes_share_y_and_scale_widths():
    hd = ColorCube.from_hsv(h=arange_cyclic(step_size=1 / 24), s=np.linspace(0, 1, 6), v=np.linspace(0, 1, 6))
    hd = hd.assign(MSE=np.random.default_rng(0).random(hd.shape))
    fig = plot_cube_series(
        hd.permute('hsv')[:, -1:, ::-2],
        hd.permute('svh')[:, -1:, ::8],
        hd.permute('vsh')[:, -1:, ::8],
        title='t',
        var='MSE',
        figsize=(12, 3),
    )
    a, b, c = fig.axes
    assert a.get_shared_y_axes().joined(a, c)
    assert [ax.get_xlabel() for ax in (a, b, c)] == ['Hue', 'Saturation', 'Value']
    assert a.get_position().width > 3 * b.get_position().width  # 24 vs 6 points wide
    assert [t.get_text() for t in b.get_xticklabels()] == ['0', '1']
    plt.close(fig)


def test_continuous_ticks():
    # Full turn -> hues3; half a turn -> hues12.
    assert continuous_ticks(np.arange(24) / 24, 'h', True).labels == ['Red', 'Green', 'Blue']
    half = continuous_ticks(np.arange(7) / 12, 'h', True)
    assert half.labels == ['Red', 'Orange', 'Yellow', 'Lime', 'Green', 'Teal', 'Cyan']
    # A range crossing red is unwrapped: 11/12 .. 13/12.
    wrap = continuous_ticks(np.array([11, 0, 1]) / 12, 'h', True)
    assert wrap.labels == ['Pink', 'Red', 'Orange']
    assert wrap.positions == pytest.approx([11 / 12, 1, 13 / 12])
    # Other axes: first, middle and last coordinate as exact fractions.
    s = np.arange(0, 48, 2) / 47
    assert continuous_ticks(s, 's', True).labels == ['0', '24/47', '46/47']
    assert continuous_ticks(s, 's', False).labels == ['0', '0.51', '0.98']


def test_errors():
    with pytest.raises(ValueError, match='at least one cube'):
        plot_cube_series(title='t', var='MSE')
    cube = hsv_cube(False).assign(bad=np.zeros((12, 2, 1, 2)))
    with pytest.raises(ValueError, match="'bad'"):
        plot_cube_series(cube, title='t', var='bad')
    assert plt.get_fignums() == []
