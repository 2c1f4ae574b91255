"""STEP resolution: the spec's test vectors (through CSV files) and Hypothesis properties."""

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mini.temporal import Dopesheet, DopesheetError, resolve_steps


def sheet(tmp_path, steps: list[str]) -> Dopesheet:
    """A one-property dopesheet whose rows have the given STEP cells (value = row number)."""
    rows = '\n'.join(f'{s},{i}' for i, s in enumerate(steps))
    path = tmp_path / 'steps.csv'
    path.write_text(f'STEP,x\n{rows}\n')
    return Dopesheet.from_csv(path)


@pytest.mark.parametrize(
    ('cells', 'expected'),
    [
        ('0,10,20', [0, 10, 20]),
        ('0,+0.5,10', [0, 5, 10]),  # 0 + 0.5·(10 − 0) = 5
        ('10,+2,20', [10, 12, 20]),  # previous anchor 10 + 2
        ('0,-3,10', [0, 7, 10]),  # next anchor 10 − 3
        ('10,-0.2,20', [10, 18, 20]),  # 20 − 0.2·(20 − 10) = 18
        ('0,+2,+0.5,-1,10', [0, 2, 5, 9, 10]),  # relative rows never anchor: +0.5 spans 0..10
        ('0,+10,+0.5,750', [0, 10, 375, 750]),
        ('0,+.5,10', [0, 5, 10]),  # a leading dot is a decimal literal too
        (' 0 , +5 ,10', [0, 5, 10]),  # surrounding spaces ignored
    ],
)
def test_step_vectors(tmp_path, cells, expected):
    ds = sheet(tmp_path, cells.split(','))
    assert ds.steps == expected
    assert len(ds) == expected[-1] + 1


@pytest.mark.parametrize(
    ('cells', 'bad_line', 'fragment'),
    [
        ('+5,10', 2, 'no absolute step before'),  # reference: NA, 10
        ('0,-5', 3, 'no absolute step after'),  # reference: 0, NA
        ('0,+abc,10', 3, 'invalid step'),  # reference: 0, NA, 10
        ('0,+1.5,10', 3, 'strictly between 0 and 1'),  # reference: 0, NA, 10
        ('0,-5,3', 3, 'negative'),  # 3 − 5 = −2; the reference clamped to 0, duplicating step 0
        ('0,+0.5', 3, 'both before and after'),
        ('0,+0,10', 3, 'invalid step'),  # N must be positive
        ('0,+01,10', 3, 'invalid step'),  # no leading zero
        ('0,,10', 3, 'invalid step'),  # empty STEP
        ('0,1.5,10', 3, 'invalid step'),  # absolute steps are integers
    ],
)
def test_unresolvable_steps_raise(tmp_path, cells, bad_line, fragment):
    with pytest.raises(ValueError) as info:
        sheet(tmp_path, cells.split(','))
    message = str(info.value)
    assert 'steps.csv' in message
    assert f'line {bad_line}' in message
    assert "'STEP'" in message
    assert fragment in message


def test_half_up_rounding():
    # 0 + 0.33·750 = 247.5 exactly → 248 (half up); 0 + 0.5·5 = 2.5 → 3 (round-half-even would give 2)
    assert resolve_steps(['0', '+0.33', '750'], [2, 3, 4], 'x.csv') == [0, 248, 750]
    assert resolve_steps(['0', '+0.5', '5'], [2, 3, 4], 'x.csv') == [0, 3, 5]
    # 5 − 0.5·5 = 2.5 → 3
    assert resolve_steps(['0', '-0.5', '5'], [2, 3, 4], 'x.csv') == [0, 3, 5]


def test_duplicate_resolved_steps_name_both_lines():
    with pytest.raises(DopesheetError) as info:
        resolve_steps(['0', '10', '-10', '20'], [2, 3, 4, 5], 'x.csv')
    assert info.value.line == 4 and info.value.column == 'STEP'
    assert 'already used on line 3' in str(info.value)


anchor_lists = st.lists(st.integers(0, 10_000), min_size=1, max_size=8, unique=True).map(sorted)


@given(anchor_lists, st.data())
def test_plus_n_resolves_to_previous_anchor_plus_n(anchors, data):
    cells, expected = [], []
    for a, b in zip(anchors, [*anchors[1:], None], strict=True):
        cells.append(str(a))
        expected.append(a)
        limit = 1000 if b is None else b - a - 1
        if limit >= 1:
            n = data.draw(st.integers(1, limit))
            cells.append(f'+{n}')
            expected.append(a + n)
    assert resolve_steps(cells, list(range(2, len(cells) + 2)), 'p.csv') == expected


@given(anchor_lists, st.data())
def test_minus_n_resolves_to_next_anchor_minus_n(anchors, data):
    cells, expected = [], []
    for a, prev in zip(anchors, [None, *anchors[:-1]], strict=True):
        limit = a if prev is None else a - prev - 1
        if limit >= 1:
            n = data.draw(st.integers(1, limit))
            cells.append(f'-{n}')
            expected.append(a - n)
        cells.append(str(a))
        expected.append(a)
    assert resolve_steps(cells, list(range(2, len(cells) + 2)), 'm.csv') == expected


fraction_texts = st.integers(1, 999).map(lambda k: f'0.{k:03d}')


@given(st.integers(0, 10_000), st.integers(1, 10_000), fraction_texts, st.sampled_from(['+', '-']))
def test_fraction_lies_between_its_anchors(p, gap, f, sign):
    q = p + gap
    exact = p + Fraction(f) * gap if sign == '+' else q - Fraction(f) * gap
    half_up = math.floor(exact + Fraction(1, 2))
    if half_up in (p, q):
        # Rounding onto an anchor is a duplicate step, which is an error.
        with pytest.raises(DopesheetError, match='already used'):
            resolve_steps([str(p), sign + f, str(q)], [2, 3, 4], 'f.csv')
        return
    (_, step, _) = resolve_steps([str(p), sign + f, str(q)], [2, 3, 4], 'f.csv')
    assert step == half_up
    assert p < step < q
    assert abs(step - exact) <= Fraction(1, 2)


@given(st.integers(0, 10_000), st.integers(2, 10_000), st.integers(1, 999))
def test_plus_f_equals_minus_one_minus_f(p, gap, k):
    # +F and −(1−F) name the same exact point P + F·(Q−P), so they resolve (or fail) alike.
    q = p + gap
    results: list[list[int] | None] = []
    for cell in (f'+0.{k:03d}', f'-0.{1000 - k:03d}'):
        try:
            results.append(resolve_steps([str(p), cell, str(q)], [2, 3, 4], 'f.csv'))
        except DopesheetError:
            results.append(None)
    assert results[0] == results[1]
