"""Colour helpers and cyclic ranges: hand-picked conversions, round trips, and arange_cyclic counts."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ex_color.data import arange_cyclic, grays5, hsv2rgb, hues3, hues6, hues12, rgb2hsv

# --- named hues ------------------------------------------------------------------------------------


def test_hue_sets_are_sorted_and_nested():
    assert list(hues3) == ['red', 'green', 'blue']
    assert list(hues6) == ['red', 'yellow', 'green', 'cyan', 'blue', 'magenta']
    assert len(hues12) == 12
    # Every 30 degrees: hue k is k * 30/360.
    assert list(hues12.values()) == pytest.approx([k * 30 / 360 for k in range(12)])
    for small, big in [(hues3, hues6), (hues6, hues12)]:
        assert all(big[name] == hue for name, hue in small.items())
    assert list(grays5.values()) == [0.0, 0.25, 0.5, 0.75, 1.0]


# --- HSV <-> RGB -----------------------------------------------------------------------------------

HAND_PICKED = [
    # (h, s, v) -> (r, g, b)
    ((0.0, 1.0, 1.0), (1.0, 0.0, 0.0)),  # red
    # orange, 30 deg: sector 0, f = (30/360)*6 = 0.5 -> g = t = v(1 - (1 - f)s) = 0.5
    ((30 / 360, 1.0, 1.0), (1.0, 0.5, 0.0)),
    ((0.5, 1.0, 1.0), (0.0, 1.0, 1.0)),  # cyan
    ((0.0, 0.0, 0.5), (0.5, 0.5, 0.5)),  # grey
    ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),  # black
    # dull blue: s=0.5, v=0.8 -> p = v(1-s) = 0.4, so (p, p, v)
    ((240 / 360, 0.5, 0.8), (0.4, 0.4, 0.8)),
]


@pytest.mark.parametrize(('hsv', 'rgb'), HAND_PICKED)
def test_hsv2rgb_hand_picked(hsv, rgb):
    assert hsv2rgb(np.array(hsv)) == pytest.approx(np.array(rgb))


@pytest.mark.parametrize(('hsv', 'rgb'), HAND_PICKED)
def test_rgb2hsv_hand_picked(hsv, rgb):
    assert rgb2hsv(np.array(rgb)) == pytest.approx(np.array(hsv))


def test_hue_wraps():
    # h = 1 is red again; h = -1/12 is the same as 11/12 (pink).
    assert hsv2rgb([1.0, 1.0, 1.0]) == pytest.approx([1.0, 0.0, 0.0])
    assert hsv2rgb([-1 / 12, 1.0, 1.0]) == pytest.approx(hsv2rgb([11 / 12, 1.0, 1.0]))
    # A tiny negative hue rounds to mod 1.0 == 1.0; still red, not out of the sector table.
    assert hsv2rgb([-1e-17, 1.0, 1.0]) == pytest.approx([1.0, 0.0, 0.0])
    # ... and the reverse: blue a hair above 0 gives hue -1e-17/6, which must come back as 0, not 1.
    assert rgb2hsv([1.0, 0.0, 1e-17])[0] == 0.0


def test_conversions_are_vectorised_and_validate_shape():
    grid = np.random.default_rng(0).random((4, 5, 6, 3))
    assert hsv2rgb(grid).shape == (4, 5, 6, 3)
    assert rgb2hsv(grid).shape == (4, 5, 6, 3)
    with pytest.raises(ValueError, match=r'rgb: expected an array of shape \[\.\.\., 3\]'):
        rgb2hsv(np.zeros((4, 2)))
    with pytest.raises(ValueError, match='non-finite value at index'):
        hsv2rgb([[0.1, 0.5, np.nan]])


unit = st.floats(0, 1, allow_nan=False)


@given(r=unit, g=unit, b=unit)
def test_rgb_round_trip(r, g, b):
    rgb = np.array([r, g, b])
    assert hsv2rgb(rgb2hsv(rgb)) == pytest.approx(rgb, abs=1e-9)


@given(h=st.floats(0, 1, allow_nan=False, exclude_max=True), s=st.floats(0.01, 1), v=st.floats(0.01, 1))
def test_hsv_round_trip_for_chromatic_colours(h, s, v):
    # Hue is undefined for greys and black, so only colours with s, v > 0 round-trip exactly.
    out = rgb2hsv(hsv2rgb([h, s, v]))
    hue_error = abs((out[0] - h + 0.5) % 1 - 0.5)  # distance on the hue circle
    assert hue_error < 1e-6
    assert out[1:] == pytest.approx([s, v], abs=1e-9)


@given(r=unit, g=unit, b=unit)
def test_rgb2hsv_ranges(r, g, b):
    h, s, v = rgb2hsv([r, g, b])
    assert 0 <= h < 1 and 0 <= s <= 1 and 0 <= v <= 1
    assert v == max(r, g, b)


# --- arange_cyclic ---------------------------------------------------------------------------------


def test_arange_cyclic_seed_counts():
    assert len(arange_cyclic(step_size=1 / 24)) == 24
    assert len(arange_cyclic(step_size=1 / 240)) == 240
    twelve = arange_cyclic()
    assert twelve == pytest.approx([k / 12 for k in range(12)])


@given(n=st.integers(1, 3000))
def test_arange_cyclic_one_over_n_gives_n_values(n):
    values = arange_cyclic(step_size=1 / n)
    assert len(values) == n
    assert np.all((values >= 0) & (values < 1))


def test_arange_cyclic_wraps():
    # lower 0.9, upper 0.2 -> 0.9, 1.0 (=0.0), 1.1 (=0.1): upper moved one period forwards.
    assert arange_cyclic(0.9, 0.2, step_size=0.1) == pytest.approx([0.9, 0.0, 0.1])
    # lower -0.25 reduces to 0.75; full turn from there: 0.75, 0.0 (1.0), 0.25, 0.5.
    assert arange_cyclic(-0.25, step_size=0.25) == pytest.approx([0.75, 0.0, 0.25, 0.5])
    # Equal bounds (mod the period) mean a full turn, not an empty range.
    assert len(arange_cyclic(0, 1, step_size=0.25)) == 4


def test_arange_cyclic_inclusive_and_period():
    # upper 0.5 is excluded by default, included with inclusive=True (upper extended by half a step).
    assert arange_cyclic(0, 0.5, step_size=0.25) == pytest.approx([0.0, 0.25])
    assert arange_cyclic(0, 0.5, step_size=0.25, inclusive=True) == pytest.approx([0.0, 0.25, 0.5])
    # Degrees: 360 / 90 = 4 values.
    assert arange_cyclic(step_size=90, period=360) == pytest.approx([0, 90, 180, 270])


@pytest.mark.parametrize(
    ('kwargs', 'argument'), [({'step_size': 0}, 'step_size'), ({'period': -1}, 'period')]
)
def test_arange_cyclic_rejects_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        arange_cyclic(**kwargs)
