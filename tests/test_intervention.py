"""Suppression and BoundedFalloff: hand-computed gates, invariants and monotonicity."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from ex_color.model.intervention import BoundedFalloff, InterventionConfig, Suppression

E0 = (1, 0, 0, 0, 0)


def test_falloff_values():
    f = BoundedFalloff(0.5, 0.8, 2)
    # x ≤ a → 0;  x = 0.75 → 0.8 · ((0.75 − 0.5)/0.5)² = 0.8 · 0.25 = 0.2;  x = 1 → 0.8
    x = torch.tensor([0.0, 0.5, 0.75, 1.0])
    torch.testing.assert_close(f(x), torch.tensor([0.0, 0.0, 0.2, 0.8]))


def test_power_zero_is_hard_step():
    f = BoundedFalloff(0.5, 1, 0)
    assert f(torch.tensor([0.0, 0.5, 0.5001, 1.0])).tolist() == [0.0, 0.0, 1.0, 1.0]


def test_threshold_at_one_means_no_suppression():
    x = torch.tensor([0.0, 0.5, 1.0])
    for a in (1.0, 1 - 1e-9):
        assert BoundedFalloff(a, 1, 1)(x).tolist() == [0.0, 0.0, 0.0]
    s = Suppression(E0, BoundedFalloff(1.0, 1, 0))
    latents = torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0], [0.6, 0.8, 0.0, 0.0, 0.0]])
    assert torch.equal(s(latents), latents)


@pytest.mark.parametrize(
    'args, field',
    [
        ((-0.1, 1, 1), 'a'),
        ((0.5, 1.5, 1), 'b'),
        ((0.5, 1, -1), 'power'),
        ((math.nan, 1, 1), 'a'),
        ((0, 1, 1, 1.0), 'eps'),
    ],
)
def test_falloff_validation(args, field):
    with pytest.raises(ValueError, match=rf'BoundedFalloff: {field}'):
        BoundedFalloff(*args)


@settings(max_examples=100, deadline=None)
@given(
    a=st.floats(0, 1),
    b=st.floats(0, 1),
    power=st.floats(0, 10),
    xs=st.lists(st.floats(0, 1), min_size=2, max_size=20),
)
def test_falloff_is_monotone_and_bounded(a, b, power, xs):
    f = BoundedFalloff(a, b, power)
    x = torch.tensor(sorted(xs), dtype=torch.float64)
    y = f(x)
    assert bool((y >= 0).all()) and bool((y <= b + 1e-12).all())
    assert bool((y[1:] >= y[:-1]).all())


def test_suppression_removes_positive_first_component_only():
    # Ex 2.10.1 setting: a = cos(90°) ≈ 6e-17, b = 1, power 0 (hard step), v = e₀.
    s = Suppression(E0, BoundedFalloff(math.cos(math.pi / 2), 1, 0))
    torch.manual_seed(0)
    a = torch.randn(200, 5)
    out = s(a)
    pos = a[:, 0] > 0
    assert pos.any() and (~pos).any()
    assert torch.equal(out[~pos], a[~pos])  # non-positive first component: untouched
    assert (out[pos, 0] == 0).all()  # positive first component: removed
    assert torch.equal(out[pos, 1:], a[pos, 1:])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1, 1, allow_subnormal=False), min_size=5, max_size=5))
def test_suppression_never_touches_negative_projections(values):
    s = Suppression(E0, BoundedFalloff(0.0, 1, 1))
    a = torch.tensor([values])
    out = s(a)
    if values[0] <= 0:
        assert torch.equal(out, a)
    else:
        # gate = (x − 0)/1 = clamp(a₀, 0, 1) = a₀ → out₀ = a₀ − a₀·a₀
        torch.testing.assert_close(out[0, 0], a[0, 0] - a[0, 0] ** 2)


def test_partial_gate_hand_computed():
    # v = (0.6, 0.8); a = (0.6, 0.8) · 1 → a·v = 1; falloff(a=0.5, b=0.5, power 1) at 1 = 0.5
    # out = a − 0.5 · 1 · v = (0.3, 0.4)
    s = Suppression(torch.tensor([0.6, 0.8]), BoundedFalloff(0.5, 0.5, 1))
    torch.testing.assert_close(s(torch.tensor([[0.6, 0.8]])), torch.tensor([[0.3, 0.4]]))
    r = Suppression(torch.tensor([0.6, 0.8]), BoundedFalloff(0.5, 0.5, 1), renormalize=True)
    torch.testing.assert_close(r(torch.tensor([[0.6, 0.8]])), torch.tensor([[0.6, 0.8]]))


def test_suppression_casts_vector_and_has_working_repr():
    s = Suppression(E0, BoundedFalloff(0.0, 1, 1))
    out = s(torch.tensor([[0.5, 0.5, 0.5, 0.5, 0.0]], dtype=torch.float64))
    assert out.dtype == torch.float64
    text = repr(s)
    assert 'concept_vector=(1, 0, 0, 0, 0)' in text and 'BoundedFalloff(a=0, b=1, power=1)' in text


def test_suppression_validation():
    with pytest.raises(ValueError, match='unit length'):
        Suppression((1, 1), BoundedFalloff(0, 1, 1))
    with pytest.raises(TypeError, match='falloff'):
        Suppression((1, 0), lambda x: x)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='width'):
        Suppression((1, 0), BoundedFalloff(0, 1, 1))(torch.ones(2, 3))


def test_intervention_config_validation():
    cfg = InterventionConfig(Suppression(E0, BoundedFalloff(0, 1, 1)), ['bottleneck'])
    assert cfg.layer_affinities == ['bottleneck']
    with pytest.raises(ValueError, match='layer_affinities'):
        InterventionConfig(nn.Identity(), [])
    with pytest.raises(TypeError, match='layer_affinities'):
        InterventionConfig(nn.Identity(), 'bottleneck')  # type: ignore[arg-type]
    with pytest.raises(TypeError, match='apply'):
        InterventionConfig(lambda x: x, ['bottleneck'])  # type: ignore[arg-type]
