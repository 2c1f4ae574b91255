"""Per-member regularisers, label weighting, metric windows: each member sees only its own batch."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from ex_color.loss import AngularAnchor, AxisAlignedSubspace, Separate, Unitarity
from ex_color.training.terms import per_member_loss, weighted_term
from ex_color.training.window import MemberWindow


def _batches_with_duplicates(m: int = 3, b: int = 12, d: int = 5) -> Tensor:
    x = torch.randn(m, b, d, generator=torch.Generator().manual_seed(0))
    x[0, 4] = x[0, 7]  # an exact duplicate within member 0
    x[1, 2] = x[1, 3] * 2  # same direction, not equal: still repels
    x[2, 1] = x[2, 0]
    x[2, 0, 3], x[2, 1, 3] = -0.0, 0.0  # equal as floats despite different bits
    x[1, 5] = x[0, 5]  # equal rows in *different* members must not be masked
    return x


@pytest.mark.parametrize(
    'module',
    [Separate(power=100.0), Separate(power=3, shift=False), Separate(channels=(0, 2), power=2.0)],
    ids=['power100', 'unshifted', 'channels'],
)
def test_stacked_separate_equals_separate_per_member(module: Separate):
    x = _batches_with_duplicates().requires_grad_()
    got = per_member_loss(module, x)
    got.sum().backward()
    assert x.grad is not None
    grad_got, x.grad = x.grad.clone(), None
    expected = torch.stack([module(x[m]) for m in range(x.shape[0])])
    expected.sum().backward()
    # The same operations; only the matmul kernel (batched vs single) may round differently.
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grad_got, x.grad, rtol=1e-5, atol=1e-5)


def test_separate_pairs_stay_within_a_member():
    # Member 0: two orthogonal rows; member 1: the same rows. Stacked, no pair crosses members.
    x = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    # Shifted cosine of orthogonal rows: (0 + 1) / 2 = 0.5; power 1 -> each row's sum is 0.5.
    assert per_member_loss(Separate(power=1.0), x).tolist() == [[0.5, 0.5], [0.5, 0.5]]


def test_broadcasting_regularisers_match_per_member_calls():
    x = _batches_with_duplicates()
    for module in (AngularAnchor([1.0, 0, 0, 0, 0]), AxisAlignedSubspace((0,), invert=True), Unitarity()):
        expected = torch.stack([module(x[m]) for m in range(x.shape[0])])
        assert torch.equal(per_member_loss(module, x), expected)


class BatchCentred(nn.Module):
    """A custom, batch-coupled regulariser: squared distance of each row from its batch mean."""

    def forward(self, x: Tensor) -> Tensor:  # [B, D] -> [B]
        return (x - x.mean(dim=0)).pow(2).sum(dim=-1)


class BatchMean(nn.Module):
    def forward(self, x: Tensor) -> Tensor:  # [B, D] -> scalar
        return x.pow(2).mean()


def test_other_regularisers_run_under_vmap_per_member():
    x = _batches_with_duplicates()
    # Had the module seen all 36 rows at once, the batch mean would mix members.
    expected = torch.stack([BatchCentred()(x[m]) for m in range(3)])
    torch.testing.assert_close(per_member_loss(BatchCentred(), x), expected)
    scalar = per_member_loss(BatchMean(), x)
    assert scalar.shape == (3,)
    torch.testing.assert_close(scalar, torch.stack([x[m].pow(2).mean() for m in range(3)]))


def test_wrong_per_sample_shape_is_an_error_naming_the_regulariser():
    class Pairs(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            return x[:2].sum(-1)

    with pytest.raises(ValueError, match="'reg-pairs'.*expected a scalar or \\[12\\]"):
        per_member_loss(Pairs(), _batches_with_duplicates(), name='reg-pairs')


def test_unlabelled_term_is_the_batch_mean():
    per = torch.tensor([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]])
    term = weighted_term(per, {}, None)
    assert term is not None and term.present is None
    assert term.value.tolist() == [2.0, 4.0]  # (1 + 2 + 3) / 3, (4 + 4 + 4) / 3


def test_label_weighted_term_per_member_with_skipping():
    per = torch.tensor([[1.0, 2.0, 3.0], [5.0, 6.0, 7.0], [1.0, 1.0, 1.0]], requires_grad=True)
    red = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.0]])
    term = weighted_term(per, {'red': red}, {'red': 1.0})
    assert term is not None
    # Member 0: (1·1 + 1·3) / (2 + 1e-8) ≈ 2; member 1: 0.5·6 / 0.5 = 6; member 2 carries no red: exactly 0.
    assert term.value[:2].tolist() == pytest.approx([2.0, 6.0], rel=1e-6)
    assert term.value[2].item() == 0.0
    assert term.present is not None and term.present.tolist() == [True, True, False]
    term.value.sum().backward()
    assert per.grad is not None and per.grad[2].tolist() == [
        0.0,
        0.0,
        0.0,
    ]  # the absent member gets no gradient
    # No batch has the label key at all: the term does not apply (as the single-model trainer skips it).
    assert weighted_term(per, {'blue': red}, {'red': 1.0}) is None


def test_label_affinities_clamp_to_one():
    per = torch.tensor([[2.0, 4.0]])
    labels = {'red': torch.tensor([[1.0, 1.0]]), 'warm': torch.tensor([[1.0, 0.0]])}
    # α = clamp(1·0.8 + 1·0.8, 0, 1) = 1 for sample 0, clamp(0.8) = 0.8 for sample 1:
    # (1·2 + 0.8·4) / (1.8 + 1e-8) = 5.2 / 1.8 ≈ 2.8889
    term = weighted_term(per, labels, {'red': 0.8, 'warm': 0.8})
    assert term is not None
    assert term.value.item() == pytest.approx(5.2 / 1.8, rel=1e-6)


def test_window_means_count_only_present_members():
    window = MemberWindow(2)
    window.add({'a': torch.tensor([1.0, 10.0])})
    window.add({'a': torch.tensor([3.0, 20.0])})
    absent = torch.tensor([True, False])
    window.add({'a': torch.tensor([5.0, 30.0]), 'b': torch.tensor([5.0, float('nan')])}, {'b': absent})
    window.add({'a': torch.tensor([7.0, 40.0]), 'b': torch.tensor([7.0, 0.0])}, {'b': absent})
    # a: (1 + 3 + 5 + 7) / 4 = 4, (10 + 20 + 30 + 40) / 4 = 25 (the set of names changed on the way);
    # b: (5 + 7) / 2 = 6 for member 0, none for member 1 (whose NaN never counts).
    assert window.flush() == {'a': [4.0, 25.0], 'b': [6.0, None]}
    assert window.flush() == {}


def test_window_weighted_means_are_batch_size_weighted():
    window = MemberWindow(1)
    window.add({'v': torch.tensor([1.0])}, weight=48.0)
    window.add({'v': torch.tensor([3.0])}, weight=16.0)
    assert window.flush() == {'v': [pytest.approx((1 * 48 + 3 * 16) / 64)]}  # = 1.5
