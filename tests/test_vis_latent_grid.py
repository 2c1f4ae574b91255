"""ex_color.vis.plot_latent_grid_3d_from_cube: projection, depth order, ring/fill colours, layout."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex

from ex_color.data import ColorCube
from ex_color.vis import ConeAnnotation, draw_latent_panel, plot_latent_grid_3d_from_cube
from ex_color.vis.occlusion import possibly_visible
from utils.plt import Theme


def cube_with_latents() -> ColorCube:
    cube = ColorCube.from_rgb(*(np.linspace(0, 1, 3),) * 3)  # 27 colours
    lat = np.random.default_rng(1).normal(size=(*cube.shape, 4))
    lat /= np.linalg.norm(lat, axis=-1, keepdims=True)
    return cube.assign(latents=lat, recon=1 - cube['color'])


def points(ax) -> PathCollection:
    (pc,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    return pc


def test_projection_depth_order_and_colours():
    cube = cube_with_latents()
    fig = plot_latent_grid_3d_from_cube(
        cube,
        colors='recon',
        colors_compare='color',
        dims=[(1, 0, 2), (3, 2, 0)],
        theme=Theme('light'),
        title='T',
    )
    lat = cube['latents'].reshape(-1, 4)
    ax = fig.axes[0]
    pc = points(ax)
    order = np.argsort(lat[:, 2], kind='stable')  # nearest (largest depth) drawn last
    # np.asarray: the getters return arrays, which matplotlib's stubs widen to any array-like
    np.testing.assert_allclose(np.asarray(pc.get_offsets()), lat[order][:, [1, 0]])
    np.testing.assert_allclose(np.asarray(pc.get_facecolor())[:, :3], cube['color'].reshape(-1, 3)[order])
    np.testing.assert_allclose(np.asarray(pc.get_edgecolor())[:, :3], cube['recon'].reshape(-1, 3)[order])
    # Ring 0.4 * radius wide; marker diameter 2r - ring keeps the outer edge at r (r = 10).
    assert np.asarray(pc.get_linewidth())[0] == pytest.approx(4)
    assert pc.get_sizes()[0] == pytest.approx(16**2)
    # Panels name their dimensions: x and y axes, then depth (not a bare '(1,0,2)').
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ('e₁', 'e₀', 'e₁, e₀ · depth e₂')
    assert fig.axes[1].get_title() == 'e₃, e₂ · depth e₀'
    assert fig.get_suptitle() == 'T'
    # Two panels -> 2 columns x 1 row of 6 x 6 in.
    assert tuple(fig.get_size_inches()) == pytest.approx((12, 6))
    plt.close(fig)


def test_grid_layout_for_six_panels():
    cube = cube_with_latents()
    dims = [(1, 0, 2), (2, 0, 1), (3, 0, 1), (3, 1, 2), (3, 2, 1), (0, 3, 1)]
    fig = plot_latent_grid_3d_from_cube(cube, colors='recon', colors_compare='color', dims=dims)
    assert tuple(fig.get_size_inches()) == pytest.approx((18, 12))
    assert sum(ax.get_visible() for ax in fig.axes) == 6
    assert fig.get_suptitle() == ''
    plt.close(fig)


def test_disc_background_follows_theme():
    cube = cube_with_latents()
    for theme, expected in [(Theme('light'), '#eeeeee'), (Theme('dark'), '#111111')]:
        fig = plot_latent_grid_3d_from_cube(cube, dims=[(0, 1, 2)], theme=theme)
        disc = fig.axes[0].patches[0]
        assert to_hex(disc.get_facecolor()) == expected
        plt.close(fig)


def test_bad_dims_and_latents():
    cube = cube_with_latents()
    with pytest.raises(IndexError, match='dims'):
        plot_latent_grid_3d_from_cube(cube, dims=[(0, 1, 4)])
    with pytest.raises(KeyError):
        plot_latent_grid_3d_from_cube(cube, latents='nope', dims=[(0, 1, 2)])
    assert plt.get_fignums() == []


def test_cone_annotation_draws_outline_and_silhouette():
    cube = cube_with_latents()
    cone = ConeAnnotation(direction=[1, 0, 0, 0], angle=math.pi / 3)
    fig = plot_latent_grid_3d_from_cube(cube, dims=[(0, 1, 2)], annotations=[cone])
    lines = fig.axes[0].lines
    assert len(lines) == 3  # base ellipse + two silhouette lines
    ellipse = np.asarray(lines[0].get_xydata())
    # Full angle 60 deg about +x: base circle at x = cos 30 deg, radius sin 30 deg = 1/2 (seen edge-on).
    np.testing.assert_allclose(ellipse[:, 0], math.cos(math.pi / 6), atol=1e-12)
    assert ellipse[:, 1].max() == pytest.approx(0.5, abs=1e-3)
    plt.close(fig)
    with pytest.raises(ValueError, match='angle'):
        ConeAnnotation(direction=[1, 0], angle=4)


@pytest.mark.parametrize('spread', ['sphere', 'clusters'])
def test_culling_hidden_dots_leaves_pixels_unchanged(spread):
    rng = np.random.default_rng(2)
    n = 1500
    if spread == 'sphere':
        lat = rng.normal(size=(n, 3))
    else:
        # Tight clusters: almost every dot is hidden behind a nearly coincident one.
        lat = rng.normal(size=(5, 3))[rng.integers(0, 5, n)] + rng.normal(0, 0.01, (n, 3))
    lat /= np.linalg.norm(lat, axis=-1, keepdims=True)
    colors, compare = rng.random((n, 3)), rng.random((n, 3))
    images = []
    for cull in (False, True):
        fig, ax = plt.subplots(figsize=(3, 3), dpi=100)
        draw_latent_panel(ax, lat, (0, 1, 2), colors, compare, dot_radius=6, cull_hidden=cull)
        assert isinstance(fig.canvas, FigureCanvasAgg)  # the tests' backend renders to a buffer
        fig.canvas.draw()
        images.append(np.asarray(fig.canvas.buffer_rgba()).copy())
        plt.close(fig)
    np.testing.assert_array_equal(images[0], images[1])


def test_possibly_visible_keeps_only_unoccluded_dots():
    # Radius 20 px. Dot 0 is buried under a later ring of 12 dots 16 px from it plus one on its centre:
    # every point within its radius + 2 px margin lies deep inside a later dot's opaque core.
    t = np.linspace(0, 2 * math.pi, 12, endpoint=False)
    ring = np.stack([100 + 16 * np.cos(t), 100 + 16 * np.sin(t)], axis=-1)
    xy = np.concatenate([[[100.0, 100.0]], ring, [[100.0, 100.0]]])
    assert possibly_visible(xy, 20).tolist() == [False] + [True] * 13
    # A single same-size dot on top never hides another: the lower one's antialiased rim still blends.
    assert possibly_visible(np.array([[100.0, 100.0], [100.0, 100.0]]), 20).tolist() == [True, True]
    # Too small to have an opaque core after the safety margin: nothing is dropped.
    assert possibly_visible(xy, 1.5).all()
