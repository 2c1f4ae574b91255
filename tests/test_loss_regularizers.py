"""Per-sample regulariser formulas on hand-made tensors (spec §5), plus argument validation."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ex_color.loss import Anchor, AngularAnchor, AntiAnchor, AxisAlignedSubspace, Planarity, Unitarity


def t(*rows):
    return torch.tensor(rows, dtype=torch.float32)


def test_anchor_is_squared_euclidean_distance():
    # (4, 6) - (1, 2) = (3, 4); 3² + 4² = 25.  (1, 2) - (1, 2) = 0.
    out = Anchor((1.0, 2.0))(t((4, 6), (1, 2)))
    torch.testing.assert_close(out, torch.tensor([25.0, 0.0]))


def test_angular_anchor():
    # (3,4)·(1,0) / (5·1) = 0.6 → 1 − 0.6 = 0.4; (−2,0) is opposite → 1 − (−1) = 2; (0,5) ⟂ → 1.
    out = AngularAnchor(torch.tensor([1.0, 0.0]))(t((3, 4), (-2, 0), (0, 5)))
    torch.testing.assert_close(out, torch.tensor([0.4, 2.0, 1.0]))


def test_angular_anchor_zero_row_is_finite():
    # 0 / (0 + 1e-8) = 0 → cos = 0 → loss 1, not NaN.
    out = AngularAnchor((1, 0))(t((0, 0)))
    assert out.tolist() == [1.0]


def test_anti_anchor_hemi_and_full():
    x = t((3, 4), (-3, 4))  # cos with (1, 0): 0.6 and −0.6
    # hemi: max(0.6, 0) = 0.6, max(−0.6, 0) = 0
    torch.testing.assert_close(AntiAnchor((1, 0))(x), torch.tensor([0.6, 0.0]))
    # full: (0.6 + 1)/2 = 0.8, (−0.6 + 1)/2 = 0.2
    torch.testing.assert_close(AntiAnchor((1, 0), hemi=False)(x), torch.tensor([0.8, 0.2]))


def test_anchor_is_a_buffer_and_follows_activation_dtype():
    reg = AngularAnchor((1, 0, 0, 0, 0))  # integer tuple accepted
    assert 'anchor' in reg.state_dict()
    assert reg.anchor.dtype == torch.float32
    out = reg(torch.tensor([[0.0, 1.0, 0.0, 0.0, 0.0]], dtype=torch.float64))
    assert out.dtype == torch.float64 and out.tolist() == [1.0]
    assert reg.to(torch.float64).anchor.dtype == torch.float64


@pytest.mark.parametrize('cls', [Anchor, AngularAnchor, AntiAnchor])
def test_anchor_width_mismatch_is_an_error(cls):
    with pytest.raises(ValueError, match='width'):
        cls((1, 0, 0))(t((1, 0)))


@pytest.mark.parametrize('cls', [AngularAnchor, AntiAnchor])
def test_angular_anchor_rejects_zero_vector(cls):
    with pytest.raises(ValueError, match='p must not be the zero vector'):
        cls((0, 0))


def test_anchor_rejects_non_vector():
    with pytest.raises(ValueError, match='1-D'):
        Anchor(torch.zeros(2, 2))
    with pytest.raises(ValueError, match='finite'):
        Anchor((1.0, math.nan))


def test_axis_aligned_subspace_inverted_penalises_listed_dims():
    # inverted (0,): a₀² → 0.6² = 0.36 and 0² = 0
    out = AxisAlignedSubspace((0,), invert=True)(t((0.6, 0.8, 0.0), (0.0, 0.6, 0.8)))
    torch.testing.assert_close(out, torch.tensor([0.36, 0.0]))


def test_axis_aligned_subspace_penalises_everything_else():
    # keep (0,): 0.8² + 0² = 0.64 and 0.6² + 0.8² = 1.0
    out = AxisAlignedSubspace((0,))(t((0.6, 0.8, 0.0), (0.0, 0.6, 0.8)))
    torch.testing.assert_close(out, torch.tensor([0.64, 1.0]))


def test_axis_aligned_subspace_nothing_penalised_gives_zeros_with_grad():
    x = t((1, 2, 3)).requires_grad_()
    out = AxisAlignedSubspace((2, 0, 1))(x)
    assert out.tolist() == [0.0]
    out.sum().backward()
    assert x.grad is not None and x.grad.tolist() == [[0.0, 0.0, 0.0]]


def test_axis_aligned_subspace_validation_and_repr():
    reg = AxisAlignedSubspace((2, 0), invert=True)
    assert reg.dims == (0, 2)
    assert repr(reg) == 'AxisAlignedSubspace(dims=(0, 2), invert=True)'
    for bad in [(), (1, 1), (-1,)]:
        with pytest.raises(ValueError, match='dims'):
            AxisAlignedSubspace(bad)
    with pytest.raises(IndexError, match='width 3'):
        AxisAlignedSubspace((3,), invert=True)(t((1, 2, 3)))
    with pytest.raises(ValueError, match='2-D'):
        AxisAlignedSubspace((0,))(torch.ones(3))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1, 1, allow_subnormal=False), min_size=5, max_size=5).filter(
        lambda v: sum(c * c for c in v) > 1e-3
    )
)
def test_inverted_subspace_on_unit_vectors_is_cos_squared_to_axis(values):
    a = torch.tensor([values], dtype=torch.float64)
    a = a / torch.linalg.vector_norm(a)
    cos0 = a[0, 0]  # cos(a, e₀) for unit a
    torch.testing.assert_close(AxisAlignedSubspace((0,), invert=True)(a)[0], cos0**2)


def test_planarity():
    # keeps dims (0, 1): penalty is 3² = 9
    assert Planarity()(t((1, 2, 3))).tolist() == [9.0]
    assert Planarity((1, 2))(t((1, 2, 3))).tolist() == [1.0]
    with pytest.raises(ValueError, match='exactly two'):
        Planarity((0, 1, 2))


def test_unitarity():
    # ‖(3, 4)‖ = 5 → (5 − 1)² = 16; ‖(0.6, 0.8)‖ = 1 → 0
    torch.testing.assert_close(Unitarity()(t((3, 4), (0.6, 0.8))), torch.tensor([16.0, 0.0]))
