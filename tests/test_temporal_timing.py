"""Timing functions and dynamic properties: hand-computed values and Hypothesis invariants."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mini.temporal import (
    LOG_FLOOR,
    TIMING_FUNCTIONS,
    DynamicProperty,
    Linear,
    LogDynamicProperty,
    MinJerk,
    StepEnd,
    get_timing_function,
)

values = st.floats(-1e3, 1e3, allow_nan=False)
durations = st.floats(1e-3, 1e4)
positive = st.floats(1e-12, 1e3)
functions = st.sampled_from([MinJerk, Linear, StepEnd])


# --- timing functions -------------------------------------------------------------------------------


@given(functions, values, values, durations)
def test_endpoints_exact_from_rest(fn, y0, y1, T):
    f = fn(y0=y0, y1=y1, duration=T)
    assert f.value(0) == y0
    assert f.value(T) == y1
    # Time is clamped to [0, T].
    assert f.value(-5.0) == y0
    assert f.value(T + 5.0) == y1
    assert f.state(T) == (y1, 0.0, 0.0)


@given(values, values, durations, st.lists(st.floats(0, 1), min_size=2, max_size=20))
def test_minjerk_monotone_between_keys_from_rest(y0, y1, T, fractions):
    f = MinJerk(y0=y0, y1=y1, duration=T)
    ys = [f.value(x * T) for x in sorted(fractions)]
    slack = 1e-12 * (abs(y0) + abs(y1) + 1)  # float rounding only
    sign = 1 if y1 >= y0 else -1
    assert all(sign * (b - a) >= -slack for a, b in zip(ys, ys[1:], strict=False))
    assert all(min(y0, y1) - slack <= y <= max(y0, y1) + slack for y in ys)


@given(values, values, durations)
def test_minjerk_midpoint_is_average_of_ends(y0, y1, T):
    # 10·(1/2)³ − 15·(1/2)⁴ + 6·(1/2)⁵ = 1.25 − 0.9375 + 0.1875 = 0.5
    assert MinJerk(y0=y0, y1=y1, duration=T).value(T / 2) == pytest.approx((y0 + y1) / 2, abs=1e-9)


def test_minjerk_hand_values():
    f = MinJerk(y0=2.0, y1=6.0, duration=4.0)
    # τ = 1/4: 10/64 − 15/256 + 6/1024 = 0.15625 − 0.05859375 + 0.005859375 = 0.103515625
    assert f.value(1.0) == pytest.approx(2 + 4 * 0.103515625, rel=1e-15)
    # velocity at τ=1/2: (y1−y0)·(30τ² − 60τ³ + 30τ⁴)/T = 4·(7.5 − 7.5 + 1.875)/4 = 1.875
    assert f.state(2.0).velocity == pytest.approx(1.875, rel=1e-12)
    # acceleration at τ=1/2: (y1−y0)·(60τ − 180τ² + 120τ³)/T² = 4·(30 − 45 + 15)/16 = 0
    assert f.state(2.0).acceleration == pytest.approx(0.0, abs=1e-12)


@given(values, values, durations, st.floats(-10, 10), st.floats(-10, 10))
def test_minjerk_starts_from_given_state_and_ends_at_rest(y0, y1, T, v0, a0):
    f = MinJerk(y0=y0, y1=y1, duration=T, v0=v0, a0=a0)
    value, velocity, acceleration = f.state(0.0)
    assert value == pytest.approx(y0, abs=1e-9)
    assert velocity == pytest.approx(v0, rel=1e-9, abs=1e-9)
    assert acceleration == pytest.approx(a0, rel=1e-9, abs=1e-9)
    assert f.state(T) == (y1, 0.0, 0.0)


@given(values, values, durations, st.floats(0, 1))
def test_linear_is_straight(y0, y1, T, x):
    f = Linear(y0=y0, y1=y1, duration=T)
    assert f.value(x * T) == pytest.approx(y0 + x * (y1 - y0), abs=1e-9)
    if x < 1 - 1e-6:
        assert f.state(x * T).velocity == pytest.approx((y1 - y0) / T)
        assert f.state(x * T).acceleration == 0.0


@given(values, values, durations, st.floats(0, 1, exclude_max=True))
def test_step_end_holds_until_the_end(y0, y1, T, x):
    f = StepEnd(y0=y0, y1=y1, duration=T)
    if x * T < T - 1e-9:
        assert f.value(x * T) == y0
    assert f.value(T) == y1
    assert f.state(x * T).velocity == 0.0


@given(functions, values, values)
def test_zero_duration_is_no_transition(fn, y0, y1):
    f = fn(y0=y0, y1=y1, duration=0.0)
    assert f.value(0.0) == y0
    assert f.value(10.0) == y0


def test_registry_names_and_unknown_name():
    assert get_timing_function('minjerk') is MinJerk
    assert get_timing_function('linear') is Linear
    assert get_timing_function('step-end') is StepEnd
    assert get_timing_function('step') is StepEnd
    assert set(TIMING_FUNCTIONS) == {'minjerk', 'linear', 'step-end', 'step'}
    with pytest.raises(ValueError, match='cubic'):
        get_timing_function('cubic')


def test_negative_duration_rejected():
    with pytest.raises(ValueError, match='duration'):
        MinJerk(y0=0.0, y1=1.0, duration=-1.0)


# --- dynamic properties -----------------------------------------------------------------------------


def test_dynamic_property_reaches_target_exactly():
    p = DynamicProperty(0.0)
    p.set(1.0, 4)
    seen = []
    for _ in range(4):
        p.step()
        seen.append(p.value)
    # τ = 1/4, 1/2, 3/4 → 0.103515625, 0.5, 0.896484375 (symmetry), then exactly 1
    assert seen[:3] == pytest.approx([0.103515625, 0.5, 0.896484375], rel=1e-12)
    assert seen[3] == 1.0
    assert not p.is_running


def test_zero_duration_jumps():
    p = DynamicProperty(3.0)
    p.set(7.0, 0)
    assert p.value == 7.0
    assert not p.is_running


def test_identical_transition_is_kept():
    p = DynamicProperty(0.0)
    p.set(1.0, 10)
    p.step(5)
    p.set(1.0, 10)  # same target and duration: clock keeps running
    assert p.value == pytest.approx(0.5)
    p.step(5)
    assert p.value == 1.0


def test_retarget_mid_flight_is_smooth():
    p = DynamicProperty(0.0)
    p.set(1.0, 10)
    p.step(3)
    before = p.state
    p.set(-2.0, 20)
    after = p.state
    # The new transition starts from the old one's value, velocity and acceleration (C² continuity).
    assert after.value == pytest.approx(before.value, abs=1e-12)
    assert after.velocity == pytest.approx(before.velocity, rel=1e-9)
    assert after.acceleration == pytest.approx(before.acceleration, rel=1e-9)
    p.step(20)
    assert p.value == -2.0


def test_unknown_interpolator_rejected():
    with pytest.raises(ValueError, match='cubic'):
        DynamicProperty(0.0, 'cubic')


@given(positive, positive, st.integers(1, 500), st.sampled_from(['minjerk', 'linear', 'step-end']))
def test_log_space_floor_and_geometric_endpoints(a, b, n, interpolator):
    p = LogDynamicProperty(a, interpolator)
    assert p.value == max(a, LOG_FLOOR)
    p.set(b, n)
    seen = []
    for _ in range(n):
        p.step()
        seen.append(p.value)
    assert all(v >= LOG_FLOOR for v in seen)
    assert seen[-1] == max(b, LOG_FLOOR)
    lo, hi = sorted([max(a, LOG_FLOOR), max(b, LOG_FLOOR)])
    assert all(lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9) for v in seen)


@given(positive, positive, st.integers(1, 100))
def test_log_space_minjerk_midpoint_is_geometric_mean(a, b, half):
    p = LogDynamicProperty(a)
    p.set(b, 2 * half)
    p.step(half)
    expected = math.sqrt(max(a, LOG_FLOOR) * max(b, LOG_FLOOR))
    assert p.value == pytest.approx(expected, rel=1e-9)


def test_log_space_zero_becomes_floor():
    p = LogDynamicProperty(0.0)
    assert p.value == LOG_FLOOR
    p.set(1.0, 2)
    p.step()
    # Geometric midpoint of 1e-10 and 1: 1e-5
    assert p.value == pytest.approx(1e-5, rel=1e-9)
