"""Timeline: the realised Ex 2.10 schedule (spec §3.5), random access vs stepping, and invariants."""

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from mini.temporal import Dopesheet, DopesheetError, Timeline, TStep

NOTEBOOKS = Path(__file__).resolve().parents[1] / 'notebooks'
PROPS = ['lr', 'reg-separate', 'reg-anchor', 'reg-anti-subspace']

# Spec §3.5, as printed (strings, so the printed precision is known).
REFERENCE = {
    0: ('1e-8', '0.01', '0', '0.25'),
    1: ('8.561e-5', '0.01', '3.55e-9', '0.25'),
    5: ('0.005', '0.01', '4.40e-7', '0.249997'),
    10: ('0.01', '0.01', '3.48e-6', '0.249973'),
    100: ('0.011338', '0.01', '0.0028824', '0.23172'),
    375: ('0.05386', '0.01', '0.075', '0.1'),
    500: ('0.080507', '0.01', '0.118519', '0.085309'),
    750: ('0.1', '0.01', '0.15', '0.03'),
    1000: ('0.1', '0.0073238', '0.109858', '0.021972'),
    1200: ('0.1', '0.0020988', '0.031481', '0.0062963'),
    1424: ('0.1', '3.2e-10', '4.9e-9', '9.7e-10'),
    1425: ('0.1', '0', '0', '0'),
    1450: ('0.089506', '0', '0', '0'),
    1500: ('0.05', '0', '0', '0'),
}


def tolerance(printed: str) -> float:
    """One unit in the last printed digit ('0.080507' → 1e-6; '3.2e-10' → 1e-11); '0' means exact.

    One unit rather than half: the reference table was rounded from already-rounded values
    (e.g. lr at 500 is 0.08050648, printed 0.080507).
    """
    exponent = Decimal(printed).as_tuple().exponent
    assert isinstance(exponent, int)  # a finite number ('n', 'N' and 'F' mark NaN and infinity)
    return 0.0 if printed == '0' else 10.0**exponent


@pytest.fixture(scope='module')
def timeline() -> Timeline:
    return Timeline(Dopesheet.from_csv(NOTEBOOKS / 'ex-2.10-dopesheet.csv'))


def test_length(timeline):
    assert len(timeline) == 1501
    for prop in PROPS:
        values = timeline.values(prop)
        assert values.dtype == np.float64 and values.shape == (1501,)


@pytest.mark.parametrize('step', sorted(REFERENCE))
def test_reference_values_random_access(timeline, step):
    props = timeline.at(step).props
    for prop, printed in zip(PROPS, REFERENCE[step], strict=True):
        assert abs(props[prop] - float(printed)) <= tolerance(printed), (step, prop, props[prop], printed)
        assert timeline.values(prop)[step] == props[prop]


def test_reference_values_by_stepping():
    tl = Timeline(Dopesheet.from_csv(NOTEBOOKS / 'ex-2.10-dopesheet.csv'))
    state = tl.state
    while True:
        if state.step in REFERENCE:
            for prop, printed in zip(PROPS, REFERENCE[state.step], strict=True):
                assert abs(state.props[prop] - float(printed)) <= tolerance(printed)
        if state.step == 1500:
            break
        state = tl.step()


def test_keyed_values_are_exact(timeline):
    # A transition ends exactly on its target, so each key (after the first) is reproduced bit for bit.
    ds = timeline.dopesheet
    for prop in PROPS:
        for key in ds.keyframes(prop):
            assert timeline.values(prop)[key.t] == key.value, (prop, key)
    # 1425 is exactly zero for the regularisers (the brief's "0 (exact)").
    assert [timeline.at(1425).props[p] for p in PROPS[1:]] == [0.0, 0.0, 0.0]


def test_at_equals_stepping_for_every_step(timeline):
    stepped = Timeline(timeline.dopesheet)
    assert stepped.state == timeline.at(0)
    for s in range(1, len(timeline)):
        assert stepped.step() == timeline.at(s)
    with pytest.raises(IndexError):
        stepped.step()
    assert stepped.current_step == 1500


def test_at_does_not_move_the_cursor(timeline):
    tl = Timeline(timeline.dopesheet)
    tl.step()
    tl.at(1000)
    assert tl.state.step == 1
    with pytest.raises(IndexError):
        tl.at(1501)
    with pytest.raises(IndexError):
        tl.at(-1)


def test_tstep_fields(timeline):
    first = timeline.at(0)
    assert isinstance(first, TStep)
    assert (first.step, first.phase, first.actions, first.is_phase_start, first.is_phase_end) == (
        0,
        'Train',
        [],
        True,
        False,
    )
    assert timeline.at(1500).is_phase_end
    # Mutating a returned TStep cannot corrupt the table.
    first.props['lr'] = 123.0
    assert timeline.at(0).props['lr'] == 1e-8


def test_values_are_read_only_and_unknown_prop_is_key_error(timeline):
    with pytest.raises(ValueError):
        timeline.values('lr')[0] = 1.0
    with pytest.raises(KeyError, match='reg-typo'):
        timeline.values('reg-typo')


def test_construction_leaves_dopesheet_unchanged(timeline):
    ds = Dopesheet.from_csv(NOTEBOOKS / 'ex-2.10-dopesheet.csv')
    before = (ds.to_dict(), ds.steps, ds.get_initial_values())
    Timeline(ds)
    assert (ds.to_dict(), ds.steps, ds.get_initial_values()) == before


def test_values_stay_within_key_range_from_rest(timeline):
    # Every segment starts at rest (keys are only retargeted when the previous transition ended),
    # so minjerk never overshoots the keyed values.
    for prop in PROPS:
        keyed = [k.value for k in timeline.dopesheet.keyframes(prop)]
        values = timeline.values(prop)
        assert values.min() >= min(keyed) and values.max() <= max(keyed)


def test_log_and_step_interpolators(tmp_path):
    path = tmp_path / 'mixed.csv'
    path.write_text('STEP,lr:log,z::step-end,y::linear\n0,1e-4,0,0\n4,1e-2,1,8\n')
    tl = Timeline(Dopesheet.from_csv(path))
    # Log space, minjerk: at the midpoint (step 2) the value is the geometric mean sqrt(1e-4·1e-2) = 1e-3.
    assert tl.at(2).props['lr'] == pytest.approx(1e-3, rel=1e-12)
    assert tl.values('z').tolist() == [0, 0, 0, 0, 1]
    # Linear: 0 + s·(8 − 0)/4 = 2s
    assert tl.values('y').tolist() == [0, 2, 4, 6, 8]
    assert tl.values('lr')[4] == 1e-2


def test_log_space_interpolates_geometrically_and_a_keyed_zero_is_refused(tmp_path):
    path = tmp_path / 'floor.csv'
    path.write_text('STEP,w:log\n0,1e-10\n2,1\n')
    tl = Timeline(Dopesheet.from_csv(path))
    # ln-space midpoint of 1e-10 and 1 → 1e-5
    assert tl.values('w')[0] == 1e-10
    assert tl.values('w')[1] == pytest.approx(1e-5, rel=1e-9)
    path.write_text('STEP,w:log\n0,0\n2,1\n')  # once clamped silently to 1e-10
    with pytest.raises(DopesheetError, match="floor.csv, line 2, column 'w:log'"):
        Dopesheet.from_csv(path)
