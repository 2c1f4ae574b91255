"""The linear probe: near 1 where a line separates the classes, near chance where nothing does."""

from __future__ import annotations

import pytest
import torch

from ex_color.evaluation.probe import probe_balanced_accuracy


def test_separable_rare_class_is_found_despite_the_imbalance():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 3, generator=g)
    y = x[:, 0] > 2.0  # about 2 % positive
    assert probe_balanced_accuracy(x, y) > 0.95


def test_labels_independent_of_the_features_score_chance():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4000, 3, generator=g)
    y = torch.rand(4000, generator=g) < 0.1
    assert abs(probe_balanced_accuracy(x, y) - 0.5) < 0.05


def test_a_half_with_one_class_is_an_error():
    x = torch.randn(10, 2)
    y = torch.zeros(10, dtype=torch.bool)
    with pytest.raises(ValueError, match='only one class'):
        probe_balanced_accuracy(x, y)
