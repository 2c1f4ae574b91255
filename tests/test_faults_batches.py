"""Training batches refuse soft labels that are not probabilities, as colour cubes do.

`RandomBatches` draws a binary label with probability = the soft label; a NaN never draws (every
comparison with NaN is false) and 1.5 always does, so either trains silently on labels nobody meant.
`CubeDataset` refuses both; the batches must too, naming the label and the first bad index.
"""

from __future__ import annotations

import math

import pytest
import torch

from ex_color.training import FixedBatches, RandomBatches


def colours(n: int = 5) -> torch.Tensor:
    return torch.rand(n, 3, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(
    ('values', 'index', 'shown'),
    [
        ([0.0, 0.5, math.nan, 1.0, 0.2], 2, 'nan'),
        ([0.0, 1.5, 0.5, 1.0, 2.0], 1, '1.5'),
        ([0.0, 0.5, 0.5, -0.25, 1.0], 3, '-0.25'),
    ],
)
def test_random_batches_refuse_soft_labels_outside_zero_to_one(values, index, shown):
    bad = torch.tensor(values)
    ok = torch.full((5,), 0.5)
    with pytest.raises(
        ValueError,
        match=rf"RandomBatches: 'red' at index {index} is {shown}; expected soft labels in \[0, 1\]",
    ):
        RandomBatches(colours(), {'ok': ok, 'red': bad}, batch_size=2, seed=0)


def test_the_bounds_themselves_are_probabilities_and_exact_labels_are_any_float():
    edges = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5])
    batches = RandomBatches(colours(), {'red': edges}, batch_size=5, seed=0)
    assert len(list(batches)) == 1
    # validation labels are passed through unchanged, not drawn: any value is a label
    assert len(list(FixedBatches(colours(), {'hue': torch.tensor([-1.0, 2.0, 0.5, 9.0, 0.0])}))) == 1
