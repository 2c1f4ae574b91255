"""TestSet defaults and evaluation on a tiny untrained model; EvaluationPlan and ScoreByHSVSimilarity."""

from typing import Any, cast

import numpy as np
import pytest
import torch

from ex_color.data import ColorCube, hues12
from ex_color.evaluation import (
    EvaluationPlan,
    ScoreByHSVSimilarity,
    TestSet,
    error_correlation,
    evaluate_cube,
)
from ex_color.model import CNColorMLP
from ex_color.model.surgery import ablate


@pytest.fixture(scope='module')
def model() -> CNColorMLP:
    torch.manual_seed(0)
    return CNColorMLP(5, n_nonlinear=2)


@pytest.fixture(scope='module')
def test_set() -> TestSet:
    return TestSet.create()


@pytest.fixture(scope='module')
def evaluated(test_set, model) -> TestSet:
    return test_set.evaluate(model, tags=['ablated', 'no intervention'])


def test_create_shapes_and_coordinates(test_set):
    assert test_set.tags == ()
    s = test_set.color_slice_cube
    assert (s.space, s.shape) == ('svh', (4, 5, 12))
    np.testing.assert_allclose(s.coordinate('h'), np.arange(12) / 12)
    np.testing.assert_allclose(s.coordinate('v'), [0, 0.25, 0.5, 0.75, 1])
    loss = test_set.loss_cube
    assert (loss.space, loss.shape) == ('hsv', (150, 24, 24))
    h = loss.coordinate('h')
    assert (h[0], h[-1]) == pytest.approx((-1 / 12, 1 + 1 / 12))
    # Both s and v include 1 (the seed's subsampled cube stopped at 46/47).
    assert loss.coordinate('s')[-1] == 1.0 and loss.coordinate('v')[-1] == 1.0
    # h = −1/12 wraps to pink: RGB (1, 0, 0.5) at s = v = 1.
    np.testing.assert_allclose(loss.rgb_grid[0, -1, -1], [1.0, 0.0, 0.5], atol=1e-12)
    latent = test_set.latent_cube
    assert (latent.space, latent.shape) == ('rgb', (20, 20, 20))


def test_create_named_colors(test_set):
    table = test_set.named_colors
    assert list(table.columns) == ['name', 'hsv', 'rgb']
    assert table['name'].tolist() == [*hues12, 'black', 'dark gray', 'gray', 'light gray', 'white']
    assert all(hsv[1:] == (1.0, 1.0) for hsv in table['hsv'][:12])
    # orange: h = 1/12 → sector 0 with f = 0.5 → (v, t, p) = (1, 1·(1 − 0.5·1), 0) = (1, 0.5, 0).
    assert table.loc[1, 'rgb'] == pytest.approx((1.0, 0.5, 0.0))
    assert table.loc[14, 'rgb'] == pytest.approx((0.5, 0.5, 0.5))


def test_tags_are_ordered_and_deduplicated():
    ts = TestSet.create(['b', 'a', 'b'])
    assert ts.tags == ('b', 'a')
    with pytest.raises(TypeError, match='set'):
        TestSet.create(cast(Any, {'a', 'b'}))  # deliberately a set: the run-time check is under test
    with pytest.raises(TypeError, match='single string'):
        TestSet.create('ablated')
    with pytest.raises(ValueError, match='non-blank'):
        TestSet.create(['ok', ' '])


def test_evaluate_adds_variables(test_set, evaluated):
    assert evaluated.tags == ('ablated', 'no intervention')
    for name, cube in evaluated.cubes.items():
        assert cube['recon'].shape == (*cube.shape, 3), name
        assert cube['MSE'].shape == cube.shape, name
        assert cube['latents'].shape == (*cube.shape, 5), name
        # Latents leave the L2Norm bottleneck with unit length.
        np.testing.assert_allclose(np.linalg.norm(cube['latents'], axis=-1), 1.0, atol=1e-5)
    table = evaluated.named_colors
    assert list(table.columns) == ['name', 'hsv', 'rgb', 'recon', 'MSE']
    assert all(len(r) == 3 for r in table['recon'])
    expected = [
        np.mean((np.array(r) - np.array(c)) ** 2) for r, c in zip(table['recon'], table['rgb'], strict=True)
    ]
    np.testing.assert_allclose(table['MSE'], expected, rtol=1e-5, atol=1e-9)
    # Red is the latent cube's corner (1, 0, 0): both paths give the same error there.
    assert evaluated.latent_cube['MSE'][19, 0, 0] == pytest.approx(table.loc[0, 'MSE'], rel=1e-5)
    # The receiver is untouched.
    assert 'MSE' not in test_set.latent_cube and 'MSE' not in test_set.named_colors.columns


def test_evaluate_again_unions_tags(evaluated, model):
    # A coarse copy of the evaluated set keeps this fast; only the tags matter here.
    small = TestSet(
        evaluated.tags,
        evaluated.color_slice_cube,
        evaluated.loss_cube[::10, ::6, ::6],
        evaluated.latent_cube[::5, ::5, ::5],
        evaluated.named_colors,
    )
    again = small.evaluate(model, tags=['pruned', 'ablated'])
    assert again.tags == ('ablated', 'no intervention', 'pruned')


def test_plan_validation():
    # Deliberately wrong types (cast to Any): the run-time checks are under test.
    with pytest.raises(TypeError, match='set'):
        EvaluationPlan(cast(Any, {'ablated'}))
    with pytest.raises(TypeError, match='transform'):
        EvaluationPlan(('ablated',), transform=cast(Any, None))
    with pytest.raises(TypeError, match=r'interventions\[0\]'):
        EvaluationPlan(('ablated',), interventions=cast(Any, ['not an intervention']))


def ablate_red(model):
    return ablate(model, 'bottleneck', [0])


def test_score_is_r_squared_in_unit_interval(model):
    plan = EvaluationPlan(('ablated',), ablate_red)
    score = ScoreByHSVSimilarity(plan, (0.0, 1.0, 1.0), 3, 8)(model)
    assert isinstance(score, float)
    assert 0.0 <= score <= 1.0
    # Same number as evaluating the ablated model on the 8³ RGB cube by hand.
    axis = np.linspace(0, 1, 8)
    cube = evaluate_cube(ablate_red(model), ColorCube.from_rgb(axis, axis, axis))
    assert score == pytest.approx(error_correlation(cube, (0.0, 1.0, 1.0), 3).r ** 2)


def test_score_validation():
    plan = EvaluationPlan(('ablated',), ablate_red)
    with pytest.raises(ValueError, match='cube_subdivisions'):
        ScoreByHSVSimilarity(plan, (0.0, 1.0, 1.0), 3, 1)
    with pytest.raises(ValueError, match='power'):
        ScoreByHSVSimilarity(plan, (0.0, 1.0, 1.0), -1, 8)
    with pytest.raises(ValueError, match='anchor_hsv'):
        ScoreByHSVSimilarity(plan, (0.0, 2.0, 1.0), 3, 8)


def test_there_is_one_evaluation_stack_the_notebooks_cubes_and_colours_are_the_test_sets():
    import numpy as np
    import torch

    from ex_color.evaluation import named_color_errors
    from ex_color.experiments.common import evaluation_cubes
    from ex_color.model import CNColorMLP

    test_set, cubes = TestSet.create(), evaluation_cubes()
    for mine, theirs in (
        (cubes.hsv, test_set.color_slice_cube),
        (cubes.hd_hsv, test_set.loss_cube),
        (cubes.rgb, test_set.latent_cube),
    ):
        assert mine.shape == theirs.shape
        assert np.array_equal(mine.rgb_grid, theirs.rgb_grid)
    torch.manual_seed(0)
    model = CNColorMLP(5, n_nonlinear=2).eval()
    errors = named_color_errors(model)
    table = test_set.evaluate(model).named_colors
    assert list(errors.index) == list(table['name'])  # one table of named colours, one spelling
    assert np.allclose(errors.to_numpy(), table['MSE'].to_numpy())
