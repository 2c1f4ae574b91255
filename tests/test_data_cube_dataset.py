"""Label functions, CubeDataset flattening, and the stochastic / exact collate functions."""

import numpy as np
import pytest
import torch

from ex_color.data import (
    ColorCube,
    CubeDataset,
    LabelledBatch,
    blueness,
    draw_stochastic_labels,
    exact_labels,
    greenness,
    redness,
    stochastic_labels,
    vibrancy,
)


def test_redness_hand_values():
    assert redness([1.0, 0.0, 0.0]) == pytest.approx(1.0)  # 1 * (1 - 0 - 0)
    assert redness([1.0, 0.5, 0.0]) == pytest.approx(0.75)  # orange: 1 * (1 - 0.25 - 0) = 0.75
    assert redness([1.0, 1.0, 1.0]) == pytest.approx(0.0)  # white: 1 * (1 - 0.5 - 0.5) = 0
    assert redness([0.5, 0.0, 0.5]) == pytest.approx(0.375)  # 0.5 * (1 - 0 - 0.25) = 0.375
    assert greenness([0.0, 1.0, 0.0]) == pytest.approx(1.0)
    assert greenness([0.2, 0.5, 0.4]) == pytest.approx(0.35)  # 0.5 * (1 - 0.1 - 0.2) = 0.35
    assert blueness([0.0, 0.0, 1.0]) == pytest.approx(1.0)
    assert blueness([1.0, 0.0, 1.0]) == pytest.approx(0.5)  # 1 * (1 - 0.5 - 0) = 0.5


def test_redness_is_one_only_at_pure_red():
    cube = ColorCube.from_rgb(*[np.linspace(0, 1, 5)] * 3)
    hits = np.argwhere(redness(cube['color']) == 1)
    assert hits.tolist() == [[4, 0, 0]]


def test_vibrancy():
    assert vibrancy([1.0, 0.0, 0.0]) == pytest.approx(1.0)  # S=1, V=1
    assert vibrancy([0.5, 0.5, 0.5]) == pytest.approx(0.0)  # grey: S=0
    # (0.8, 0.4, 0.4): V = 0.8, S = (0.8 - 0.4) / 0.8 = 0.5, S*V = 0.4
    assert vibrancy([0.8, 0.4, 0.4]) == pytest.approx(0.4)
    assert vibrancy(np.zeros((2, 3, 3))).shape == (2, 3)


def make_dataset(n=4):
    cube = ColorCube.from_rgb(*[np.linspace(0, 1, n)] * 3)
    cube = cube.assign(red=redness(cube['color']) == 1, soft=redness(cube['color']) * 0.5)
    return cube, CubeDataset(cube)


def test_cube_dataset_lengths_and_dtypes():
    cube, ds = make_dataset()
    assert len(ds) == 64
    assert ds.colors.shape == (64, 3) and ds.colors.dtype == torch.float32
    assert ds.bias.shape == (64,) and ds.bias.dtype == torch.float32
    assert list(ds.labels) == ['red', 'soft']
    assert all(v.shape == (64,) and v.dtype == torch.float32 for v in ds.labels.values())
    # Row-major flattening: flat index of (3, 0, 0) is 3 * 16 = 48, which is pure red.
    assert ds.colors[48].tolist() == [1.0, 0.0, 0.0]
    assert ds.labels['red'][48] == 1.0 and ds.labels['red'].sum() == 1.0
    item = ds[48]
    assert set(item) == {'color', 'red', 'soft', 'bias'}
    assert item['soft'] == pytest.approx(0.5)


def test_cube_dataset_works_on_permuted_slices():
    cube, _ = make_dataset()
    ds = CubeDataset(cube.permute('bgr')[::-1, :, 1:])
    assert len(ds) == 4 * 4 * 3


def test_cube_dataset_rejects_non_scalar_vars():
    cube, _ = make_dataset()
    with pytest.raises(ValueError, match="variable 'latents' must be one scalar per grid cell"):
        CubeDataset(cube.assign(latents=np.zeros((4, 4, 4, 5))))


def test_exact_labels_pass_values_through():
    _, ds = make_dataset()
    batch = exact_labels([ds[i] for i in (0, 48, 63)])
    assert isinstance(batch, LabelledBatch)
    colors, labels = batch
    assert colors.shape == (3, 3)
    assert set(labels) == {'red', 'soft'}  # not color, not bias
    assert labels['red'].tolist() == [0.0, 1.0, 0.0]
    assert labels['soft'].tolist() == pytest.approx([0.0, 0.5, 0.0])


def test_stochastic_labels_extremes():
    batch = [{'color': torch.zeros(3), 'always': torch.tensor(1.0), 'never': torch.tensor(0.0)}] * 500
    _, labels = stochastic_labels(batch)
    assert torch.all(labels['always'] == 1)
    assert torch.all(labels['never'] == 0)


def test_stochastic_labels_rate_and_reproducibility():
    torch.manual_seed(0)
    n = 20_000
    drawn = draw_stochastic_labels({'p': torch.full((n,), 0.3)})['p']
    assert set(drawn.unique().tolist()) <= {0.0, 1.0}
    # Binomial sd = sqrt(0.3 * 0.7 / 20000) ~ 0.0032; 5 sd = 0.016.
    assert abs(drawn.mean().item() - 0.3) < 0.016

    batch = [{'color': torch.zeros(3), 'p': torch.tensor(0.3), 'bias': torch.tensor(1.0)}] * 100
    torch.manual_seed(123)
    first = stochastic_labels(batch).labels['p']
    torch.manual_seed(123)
    second = stochastic_labels(batch).labels['p']
    assert torch.equal(first, second)
    gen = torch.Generator().manual_seed(5)
    third = draw_stochastic_labels({'p': torch.full((100,), 0.3)}, generator=gen)['p']
    gen.manual_seed(5)
    assert torch.equal(third, draw_stochastic_labels({'p': torch.full((100,), 0.3)}, generator=gen)['p'])


def test_stochastic_labels_reject_non_probabilities():
    with pytest.raises(ValueError, match="label 'p' has values outside"):
        draw_stochastic_labels({'p': torch.tensor([0.5, 1.5])})
    with pytest.raises(ValueError, match='empty'):
        stochastic_labels([])


@pytest.mark.parametrize('bad', [1.5, -0.1, float('nan')])
def test_soft_labels_outside_0_1_or_nan_are_refused_at_construction_naming_label_and_cell(bad):
    cube = ColorCube.from_rgb(*[np.linspace(0, 1, 3)] * 3)
    soft = redness(cube['color'])
    soft[1, 2, 0] = bad
    with pytest.raises(ValueError, match=r"'soft' at grid index \(1, 2, 0\).*soft labels in \[0, 1\]"):
        CubeDataset(cube.assign(soft=soft))


def test_non_finite_colours_never_reach_a_dataset():
    cube = ColorCube.from_rgb(*[np.linspace(0, 1, 3)] * 3)
    colors = np.array(cube['color'])
    colors[2, 0, 1, 1] = np.inf
    with pytest.raises(ValueError, match=r"'color' is outside \[0, 1\] at index \(2, 0, 1, 1\)"):
        cube.assign(color=colors)
