"""Separate: hand-computed values, the self/duplicate mask, and agreement with a naive double loop."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ex_color.loss import Separate
from ex_color.loss.separate import pair_mask


def naive_separate(x: torch.Tensor, power: float, shift: bool) -> torch.Tensor:
    """Straight from the definition, in float64, one pair at a time."""
    x = x.double()
    out = torch.zeros(x.shape[0], dtype=torch.float64)
    for i in range(x.shape[0]):
        for j in range(x.shape[0]):
            if i == j or torch.equal(x[i], x[j]):
                continue
            ui = x[i] / (x[i].norm() + 1e-8)
            uj = x[j] / (x[j].norm() + 1e-8)
            c = float(ui @ uj)
            s = (c + 1) / 2 if shift else c
            out[i] += s**power
    return out


def test_three_rows_with_duplicate():
    # r0 = r1 = (1, 0) (an exact duplicate), r2 = (0, 1).
    # Self-pairs and the r0/r1 pair are masked: they contribute 0.
    # cos(r0, r2) = cos(r1, r2) = 0 → shifted (0 + 1)/2 = 0.5.
    x = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    # power 1: row0 = 0.5, row1 = 0.5, row2 = 0.5 + 0.5 = 1.0
    torch.testing.assert_close(Separate()(x), torch.tensor([0.5, 0.5, 1.0]))
    # power 2: 0.5² = 0.25 per unmasked pair
    torch.testing.assert_close(Separate(power=2)(x), torch.tensor([0.25, 0.25, 0.5]))


def test_masked_pairs_contribute_exactly_zero():
    # Only duplicates of one row: every pair is masked. The reference would give 2 · 0.5 = 1.0 per row.
    x = torch.tensor([[0.3, 0.4]] * 3)
    assert Separate().forward(x).tolist() == [0.0, 0.0, 0.0]
    # A batch of one has only its self-pair.
    assert Separate(power=100.0)(x[:1]).tolist() == [0.0]


def test_near_coincident_distinct_rows_still_repel():
    # cos((1,0), (1,1e-3)) = 1/√(1+1e-6) ≈ 0.9999995, which the reference treated as "≈1" and zeroed.
    # Here the pair is distinct, so it contributes ((c+1)/2)^100 ≈ 1 − 100·2.5e-7 ≈ 0.99998
    # (c including the 1e-8 added to each norm: (1/(1 + 1e-8)) · (1/(√(1+1e-6) + 1e-8))).
    x = torch.tensor([[1.0, 0.0], [1.0, 1e-3]], dtype=torch.float64)
    c = 1 / (1 + 1e-8) / (math.sqrt(1 + 1e-6) + 1e-8)
    assert ((c + 1) / 2) ** 100 > 0.9999
    expected = ((c + 1) / 2) ** 100
    torch.testing.assert_close(
        Separate(power=100.0)(x), torch.tensor([expected, expected], dtype=torch.float64)
    )


def test_unshifted_integer_powers_keep_sign():
    # rows (1,0), (0,1), (−1,0): cosines r0·r1 = 0, r0·r2 = −1, r1·r2 = 0
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    # power 2: row0 = 0² + (−1)² = 1, row1 = 0, row2 = 1
    torch.testing.assert_close(Separate(power=2, shift=False)(x), torch.tensor([1.0, 0.0, 1.0]))
    # power 3: row0 = (−1)³ = −1, row1 = 0, row2 = −1
    torch.testing.assert_close(Separate(power=3, shift=False)(x), torch.tensor([-1.0, 0.0, -1.0]))


def test_channels_select_features_before_comparing():
    # On channels (1,) the rows (5, 1) and (−5, 1) are duplicates ((1,) == (1,)) → masked;
    # (5, −1) has cos −1 with both → shifted 0.
    x = torch.tensor([[5.0, 1.0], [-5.0, 1.0], [5.0, -1.0]])
    assert Separate(channels=(1,))(x).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(IndexError, match='channels'):
        Separate(channels=(2,))(x)


def test_far_apart_rows_give_exact_zero_and_finite_gradient():
    # Opposite unit rows: shifted cos 0 → 0^100 = 0; orthogonal: 0.5^100 ≈ 7.9e-31 (a normal float32).
    x = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], requires_grad=True)
    out = Separate(power=100.0)(x)
    # row0: pairs (r1: 0), (r2: 0.5^100), (r3: 0.5^100)
    torch.testing.assert_close(out[0], torch.tensor(2 * 0.5**100), rtol=1e-5, atol=0)
    out.sum().backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())


@pytest.mark.parametrize(
    'kwargs', [{'power': 0}, {'power': -1}, {'power': math.inf}, {'power': 1.5, 'shift': False}]
)
def test_rejects_bad_power(kwargs):
    with pytest.raises(ValueError, match='power'):
        Separate(**kwargs)


def test_repr():
    assert repr(Separate(power=100.0)) == 'Separate(channels=None, power=100, shift=True)'


rows = st.lists(
    st.lists(st.sampled_from([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0]), min_size=3, max_size=3),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(rows, st.sampled_from([1.0, 2.0, 7.0, 100.0]))
def test_matches_naive_definition(data, power):
    # Coarse values make exact duplicates (and zero rows) common.
    x = torch.tensor(data, dtype=torch.float64)
    torch.testing.assert_close(
        Separate(power=power)(x), naive_separate(x, power, True), rtol=1e-9, atol=1e-30
    )
    torch.testing.assert_close(
        Separate(power=power)(x.float()), naive_separate(x, power, True).float(), rtol=1e-4, atol=1e-6
    )


@settings(max_examples=30, deadline=None)
@given(rows, st.sampled_from([1, 2, 3]))
def test_matches_naive_definition_unshifted(data, power):
    x = torch.tensor(data, dtype=torch.float64)
    torch.testing.assert_close(Separate(power=power, shift=False)(x), naive_separate(x, power, False))


def test_batch_of_64_is_vectorised_over_leading_dims():
    torch.manual_seed(0)
    x = torch.randn(2, 64, 5)
    out = Separate(power=100.0)(x)
    assert out.shape == (2, 64)
    torch.testing.assert_close(out[1], Separate(power=100.0)(x[1]))


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_pair_mask_is_exact_row_equality_in_every_float_type(dtype):
    g = torch.Generator().manual_seed(1)
    x = torch.randint(-2, 3, (3, 16, 4), generator=g).to(dtype)  # coarse: many equal rows
    x[0, 1] = x[0, 0]
    x[0, 0, 2], x[0, 1, 2] = -0.0, 0.0  # different bits, equal floats
    naive = (x.unsqueeze(-2) == x.unsqueeze(-3)).all(-1) | torch.eye(16, dtype=torch.bool)
    assert torch.equal(pair_mask(x), naive)
    assert bool(pair_mask(x)[0, 0, 1])
