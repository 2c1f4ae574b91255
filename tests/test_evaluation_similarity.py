"""hsv_similarity: the spec's values against red (arithmetic shown) and properties of the formula."""

import math
from typing import Any, cast

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ex_color.evaluation import hsv_similarity

RED = (0.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ('name', 'hsv', 'expected'),
    [
        # θ = 0 → hue 1; r = (1·1 + 1·1)/2 = 1; effective 1; (1 − 0)(1 − 0) = 1.
        ('red', (0.0, 1.0, 1.0), 1.0),
        # θ = 30° → hue (90 − 30)/90 = 2/3; r = 1 so effective = 2/3; s, v equal.
        ('orange', (30 / 360, 1.0, 1.0), 2 / 3),
        # pink is 330°: θ = 360·min(11/12, 1/12) = 30° → 2/3.
        ('pink', (330 / 360, 1.0, 1.0), 2 / 3),
        # θ = 60° → (90 − 60)/90 = 1/3.
        ('yellow', (60 / 360, 1.0, 1.0), 1 / 3),
        ('magenta', (300 / 360, 1.0, 1.0), 1 / 3),
        # θ = 180° → max(0, (90 − 180)/90) = 0.
        ('cyan', (0.5, 1.0, 1.0), 0.0),
        # s differs by 1: factor (1 − |1 − 0|) = 0, whatever the hue and value.
        ('white', (0.0, 0.0, 1.0), 0.0),
        ('black', (0.0, 0.0, 0.0), 0.0),
        ('gray', (0.0, 0.0, 0.5), 0.0),
        ('light gray', (0.0, 0.0, 0.75), 0.0),
        # θ = 0 → hue 1; r = (1 + 0.5)/2 = 0.75; effective = 0.75·1 + 0.25 = 1; × (1 − 0) × (1 − 0.5) = 0.5.
        ('dark red', (0.0, 1.0, 0.5), 0.5),
    ],
)
def test_against_red_angular_hemi(name, hsv, expected):
    assert hsv_similarity(np.array(hsv), np.array(RED), hemi=True, mode='angular') == pytest.approx(expected)


def test_other_modes_hand_computed():
    orange = np.array([30 / 360, 1.0, 1.0])
    cyan = np.array([0.5, 1.0, 1.0])
    red = np.array(RED)
    # angular full: (180 − 30)/180 = 5/6; (180 − 180)/180 = 0.
    assert hsv_similarity(orange, red, hemi=False) == pytest.approx(5 / 6)
    assert hsv_similarity(cyan, red, hemi=False) == pytest.approx(0.0)
    # cosine hemi: cos 30° = √3/2; cyan: max(0, cos 180°) = 0.
    assert hsv_similarity(orange, red, mode='cosine') == pytest.approx(math.sqrt(3) / 2)
    assert hsv_similarity(cyan, red, mode='cosine') == pytest.approx(0.0)
    # cosine full: ½ + ½·cos 30° = ½ + √3/4.
    assert hsv_similarity(orange, red, hemi=False, mode='cosine') == pytest.approx(0.5 + math.sqrt(3) / 4)


def test_vibrancy_weighting_hand_computed():
    # Half-saturated orange vs half-saturated red: θ = 30° → hue 2/3; r = (0.5 + 0.5)/2 = 0.5;
    # effective = 0.5·2/3 + 0.5 = 5/6; s and v equal → 5/6. Without weighting r = 1 → 2/3.
    a = np.array([30 / 360, 0.5, 1.0])
    b = np.array([0.0, 0.5, 1.0])
    assert hsv_similarity(a, b) == pytest.approx(5 / 6)
    assert hsv_similarity(a, b, weight_vibrancy=False) == pytest.approx(2 / 3)


def test_hue_wraps_and_broadcasts():
    # −1/12 is the same hue as 11/12 (pink): 2/3 against red.
    assert hsv_similarity(np.array([-1 / 12, 1.0, 1.0]), np.array(RED)) == pytest.approx(2 / 3)
    grid = np.array([[[0.0, 1.0, 1.0], [1 / 6, 1.0, 1.0]], [[0.5, 1.0, 1.0], [0.0, 0.0, 1.0]]])
    out = hsv_similarity(grid, np.array(RED))
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, [[1.0, 1 / 3], [0.0, 0.0]], atol=1e-12)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match='c2'):
        hsv_similarity(np.array(RED), np.array([0.0, 1.5, 1.0]))
    with pytest.raises(ValueError, match='c1'):
        hsv_similarity(np.array([0.0, 1.0]), np.array(RED))
    with pytest.raises(ValueError, match='mode'):
        hsv_similarity(np.array(RED), np.array(RED), mode=cast(Any, 'euclidean'))


unit = st.floats(0, 1, allow_nan=False)
hsv = st.tuples(st.floats(-2, 2, allow_nan=False), unit, unit).map(np.array)
modes = st.sampled_from(['angular', 'cosine'])


@given(hsv, hsv, st.booleans(), modes, st.booleans())
def test_symmetric_and_bounded(a, b, hemi, mode, weight):
    ab = hsv_similarity(a, b, hemi=hemi, mode=mode, weight_vibrancy=weight)
    ba = hsv_similarity(b, a, hemi=hemi, mode=mode, weight_vibrancy=weight)
    assert ab == pytest.approx(ba, abs=1e-12)
    assert 0.0 <= ab <= 1.0


@given(st.floats(-2, 2, allow_nan=False), st.floats(0.05, 1), st.floats(0.05, 1), st.booleans(), modes)
def test_self_similarity_is_one(h, s, v, hemi, mode):
    c = np.array([h, s, v])
    assert hsv_similarity(c, c, hemi=hemi, mode=mode) == pytest.approx(1.0)


@given(st.floats(0, 0.5), st.floats(0, 0.5))
def test_falls_off_with_hue_distance(d1, d2):
    # For vibrant colours the similarity to red never increases as the hue moves further away.
    near, far = sorted((d1, d2))
    s_near = hsv_similarity(np.array([near, 1.0, 1.0]), np.array(RED))
    s_far = hsv_similarity(np.array([far, 1.0, 1.0]), np.array(RED))
    assert s_far <= s_near + 1e-12
