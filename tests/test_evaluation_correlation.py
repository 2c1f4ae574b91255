"""error_correlation / vibrancy_error_correlation on synthetic cubes, and the printed line."""

from typing import Any, cast

import numpy as np
import pytest

from ex_color.data import ColorCube, rgb2hsv
from ex_color.evaluation import (
    Correlation,
    TestSet,
    error_correlation,
    format_correlation,
    hsv_similarity,
    vibrancy_error_correlation,
)

RED = (0.0, 1.0, 1.0)
CYAN = (0.5, 1.0, 1.0)


def rgb_cube(n: int = 6) -> ColorCube:
    axis = np.linspace(0, 1, n)
    return ColorCube.from_rgb(axis, axis, axis)


def with_mse_sim_cubed(cube: ColorCube, anchor=RED) -> ColorCube:
    sim = hsv_similarity(rgb2hsv(cube.rgb_grid), np.array(anchor))
    return cube.assign(MSE=sim**3)


def test_mse_equal_to_sim_cubed_gives_r_one():
    cube = with_mse_sim_cubed(rgb_cube())
    corr = error_correlation(cube, RED, 3)
    assert isinstance(corr, Correlation)
    assert corr.r == pytest.approx(1.0)
    assert corr.r_squared == pytest.approx(1.0)
    assert corr.p < 1e-10


def test_anchor_is_used_not_hard_coded():
    cube = with_mse_sim_cubed(rgb_cube())
    # MSE follows red; measured against cyan (opposite hue) the relation is not linear, let alone perfect.
    assert error_correlation(cube, CYAN, 3).r < 0.5
    # And a cube whose error follows cyan correlates perfectly with cyan, not with red.
    cyan_cube = with_mse_sim_cubed(rgb_cube(), anchor=CYAN)
    assert error_correlation(cyan_cube, CYAN, 3).r == pytest.approx(1.0)
    assert error_correlation(cyan_cube, RED, 3).r < 0.5


def test_power_changes_the_predictor():
    # MSE = sim³ is a monotone but non-linear function of sim¹, so Pearson r < 1 with power 1.
    cube = with_mse_sim_cubed(rgb_cube())
    assert 0.5 < error_correlation(cube, RED, 1).r < 0.999


def test_trailing_singleton_mse_axis_is_accepted():
    cube = with_mse_sim_cubed(rgb_cube())
    cube1 = cube.assign(MSE=cube['MSE'][..., None])
    assert error_correlation(cube1, RED, 3).r == pytest.approx(1.0)


def test_test_set_uses_the_latent_cube():
    ts = TestSet.create()
    latent = with_mse_sim_cubed(ts.latent_cube)
    # The loss cube's MSE is unrelated noise: if it were used, r would be near 0.
    noise = np.random.default_rng(0).random(ts.loss_cube.shape)
    loss = ts.loss_cube.assign(MSE=noise)
    slice_ = ts.color_slice_cube.assign(MSE=np.random.default_rng(1).random(ts.color_slice_cube.shape))
    evaluated = TestSet(ts.tags, slice_, loss, latent, ts.named_colors)
    assert error_correlation(evaluated, RED, 3).r == pytest.approx(1.0)


def test_vibrancy_correlation():
    cube = rgb_cube()
    hsv = rgb2hsv(cube.rgb_grid)
    cube = cube.assign(MSE=(hsv[..., 1] * hsv[..., 2]) ** 2)
    assert vibrancy_error_correlation(cube, 2).r == pytest.approx(1.0)


def test_errors():
    cube = rgb_cube()
    with pytest.raises(KeyError, match='MSE'):
        error_correlation(cube, RED, 3)
    with pytest.raises(ValueError, match='MSE is constant'):
        error_correlation(cube.assign(MSE=np.full(cube.shape, 0.1)), RED, 3)
    # An all-grey cube: similarity to red is 0 everywhere, so the predictor is constant.
    greys = ColorCube.from_hsv([0.0], [0.0], [0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match='similarity.*constant'):
        error_correlation(greys.assign(MSE=np.array([[[0.1, 0.2, 0.3]]])), RED, 3)
    with pytest.raises(ValueError, match='power'):
        error_correlation(with_mse_sim_cubed(cube), RED, 0)
    with pytest.raises(ValueError, match='anchor_hsv'):
        error_correlation(with_mse_sim_cubed(cube), (0.0, 1.0), 3)
    bad = cube.assign(MSE=np.where(np.arange(cube.bias.size).reshape(cube.shape) == 5, np.nan, 0.1))
    with pytest.raises(ValueError, match='not finite'):
        error_correlation(bad, RED, 3)
    with pytest.raises(TypeError, match='ColorCube or a TestSet'):
        error_correlation(cast(Any, np.zeros((2, 2, 2))), RED, 3)


def test_format_correlation():
    # R² = 0.98² = 0.9604 → '0.96'; p = 0 → '0'; an integer-valued power prints without decimals.
    line = format_correlation(Correlation(0.98, 0.0), 3.0, ['ablated'])
    assert line == 'MSE,sim³ ablated: r = 0.98, R²: 0.96, p = 0'
    assert format_correlation(Correlation(0.5, 0.012345), 2, ['a', 'b']) == (
        'MSE,sim² a,b: r = 0.50, R²: 0.25, p = 0.0123'
    )
