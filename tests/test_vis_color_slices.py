"""ex_color.vis.plot_colors: layout, ticks, titles and the outer/inner patch colours in pixels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from ex_color.data import ColorCube, arange_cyclic
from ex_color.vis import index_ticks, plot_colors
from utils.plt import use_theme


def small_cube() -> ColorCube:
    # 2 saturations x 3 values x 6 hues, laid out as 'svh': panels by s, rows by v, columns by h.
    cube = ColorCube.from_hsv(
        h=arange_cyclic(step_size=1 / 6), s=np.array([0.5, 1.0]), v=np.array([0.25, 0.5, 1.0])
    ).permute('svh')
    # A reconstruction that is easy to tell apart from the truth: the complementary colour.
    return cube.assign(recon=1 - cube['color'])


def rendered(fig):
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float) / 255  # [H, W, 3], row 0 at top


def pixel_at(fig, img, ax, x: float, y: float) -> np.ndarray:
    px, py = ax.transData.transform((x, y))
    return img[int(img.shape[0] - py), int(px)]


def test_centre_shows_true_colour_and_edge_shows_reconstruction():
    cube = small_cube()
    with use_theme('base', 'light', {'figure.dpi': 150}):
        fig = plot_colors(cube, colors='recon', colors_compare='color')
        img = rendered(fig)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 2
    for panel, row, col in [(0, 0, 0), (0, 2, 3), (1, 1, 5), (1, 2, 1)]:
        ax = panels[panel]
        true = cube['color'][panel, row, col]
        recon = cube['recon'][panel, row, col]
        # Cell (row, col) is centred at data (col, row); the inner square spans +-0.15, the cell +-0.5.
        np.testing.assert_allclose(pixel_at(fig, img, ax, col, row), true, atol=3 / 255)
        np.testing.assert_allclose(pixel_at(fig, img, ax, col + 0.35, row + 0.35), recon, atol=3 / 255)
        np.testing.assert_allclose(pixel_at(fig, img, ax, col - 0.35, row), recon, atol=3 / 255)
    plt.close(fig)


def test_without_compare_the_whole_cell_is_the_colour():
    cube = small_cube()
    with use_theme('base', 'light', {'figure.dpi': 100}):
        fig = plot_colors(cube)
        img = rendered(fig)
    ax = fig.axes[0]
    np.testing.assert_allclose(pixel_at(fig, img, ax, 2, 1), cube['color'][0, 1, 2], atol=3 / 255)
    plt.close(fig)


def test_ex_2_10_layout_and_titles():
    cube = ColorCube.from_hsv(
        h=arange_cyclic(step_size=1 / 24), s=np.linspace(0, 1, 4), v=np.linspace(0, 1, 8)
    ).permute('svh')
    fig = plot_colors(cube, title='Predicted colors · ablated')
    # Total width 24*4 + 3 = 99 cells -> ceil(99/70) = 2 rows, 2 columns; size (2*0.25*24, 2*(0.25*8+0.5)).
    assert tuple(fig.get_size_inches()) == pytest.approx((12, 5))
    assert fig.get_suptitle() == 'Predicted colors · ablated · V vs H by S'
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ['Saturation = 0', 'Saturation = 1/3', 'Saturation = 2/3', 'Saturation = 1']
    bottom_left = fig.axes[2]
    assert [t.get_text() for t in bottom_left.get_xticklabels()] == ['Red', 'Green', 'Blue']
    assert list(bottom_left.get_xticks()) == [0, 8, 16]
    assert [t.get_text() for t in bottom_left.get_yticklabels()] == ['0', '1']
    assert bottom_left.get_xlabel() == 'Hue' and bottom_left.get_ylabel() == 'Value'
    assert fig.axes[1].get_ylabel() == '' and fig.axes[0].get_xlabel() == ''
    plt.close(fig)


def test_untitled_suptitle_has_no_separator():
    fig = plot_colors(small_cube())
    assert fig.get_suptitle() == 'V vs H by S'
    plt.close(fig)


def test_hue_ticks_fall_back_when_no_named_set_matches_twice():
    # Five hues: only red (0) is a named hue. The reference asserted here (§19.32).
    coords = np.arange(5) / 5
    assert index_ticks(coords, 'h', True) == ([0.0], ['Red'])
    # No named hue at all: first and last coordinates, as fractions.
    coords = np.array([0.1, 0.3, 0.7])
    assert index_ticks(coords, 'h', True) == ([0.0, 2.0], ['1/10', '7/10'])
    # Twelve hues: hues3 already matches three coordinates.
    assert index_ticks(np.arange(12) / 12, 'h', True).labels == ['Red', 'Green', 'Blue']


def test_plot_colors_handles_a_five_hue_cube():
    cube = ColorCube.from_hsv(h=np.arange(5) / 5, s=np.array([1.0]), v=np.array([0.5, 1.0])).permute('svh')
    fig = plot_colors(cube)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ['Red']
    plt.close(fig)


def test_bad_colour_shapes_name_the_argument():
    cube = small_cube()
    with pytest.raises(ValueError, match='colors_compare'):
        plot_colors(cube, colors_compare=np.zeros((2, 3, 3)))
    with pytest.raises(KeyError, match='nope'):
        plot_colors(cube, colors='nope')
    assert plt.get_fignums() == []
