"""Steps to half recovery on the log scale and to an absolute level: censored as inf, nan when nothing was deleted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ex_color.experiments.ex_2_12.recovery import (
    curve_quartiles,
    half_recovery_step,
    recovery_table,
    relearn_step,
)


def curve(values, steps=None):
    return pd.Series(values, index=steps if steps is not None else range(len(values)), dtype=float)


def test_first_step_at_or_past_half_way_in_orders_of_magnitude():
    # from 1 back towards 1e-4: half-way on the log scale is 1e-2 (the linear midpoint, 0.5, is not)
    assert half_recovery_step(curve([1.0, 0.5, 0.011, 0.01, 1e-3]), before=1e-4) == 3
    assert half_recovery_step(curve([1.0, 0.05], steps=[0, 16]), before=1e-4) == math.inf
    assert half_recovery_step(curve([1.0, 0.009], steps=[0, 16]), before=1e-4) == 16


def test_relearning_is_the_first_step_at_or_below_an_absolute_level():
    assert relearn_step(curve([0.4, 1e-3, 5e-4, 1e-5]), 5e-4) == 2
    assert relearn_step(curve([0.4, 1e-3], steps=[0, 50]), 5e-4) == math.inf


def test_never_half_way_is_censored_and_nothing_deleted_is_nan():
    assert half_recovery_step(curve([1.0, 0.9, 0.8]), before=0.2) == math.inf  # target sqrt(0.2) = 0.45
    assert math.isnan(half_recovery_step(curve([0.1, 0.1]), before=0.2))


def test_unsorted_steps_are_read_in_step_order():
    assert half_recovery_step(curve([0.01, 1.0, 0.9], steps=[20, 0, 10]), before=1e-4) == 20


def test_recovery_table_keeps_censored_seeds_in_the_median():
    steps = pd.DataFrame(
        {'case': ['a'] * 4 + ['b'] * 2, 'half_step': [1, 2, math.inf, math.inf, 5, math.nan]}
    )
    table = recovery_table(steps, by='case', max_steps=100)
    assert table.loc['a', 'median steps'] == math.inf  # two of four never recovered
    assert table.loc['a', 'recovered'] == 2 and table.loc['a', 'seeds'] == 4
    assert table.loc['b', 'median steps'] == 5 and table.loc['b', 'nothing to recover'] == 1


def test_curve_quartiles_per_group_and_step():
    frame = pd.DataFrame({'case': ['a'] * 4, 'step': [0, 0, 1, 1], 'mse': [1.0, 3.0, 0.0, 2.0]})
    q = curve_quartiles(frame, 'case').set_index('step')
    assert np.allclose(q['median'], [2.0, 1.0]) and np.allclose(q['q1'], [1.5, 0.5])
    with pytest.raises(KeyError, match='seed'):
        curve_quartiles(frame, 'seed')


def test_the_never_red_control_trains_without_red_and_its_neighbours_on_as_many_draws():
    from ex_color.data.cube_dataset import redness
    from ex_color.experiments import ex_2_10, ex_2_12

    full, _ = ex_2_10.make_data(0)
    control, val = ex_2_12.make_data(0, without_red=True)
    q = redness(control.colors.double().numpy()) ** 8
    assert q.max() < ex_2_12.NEVER_RED_CUTOFF  # nothing red left to learn from
    assert len(control.colors) == 915 and len(control) == len(full)  # 85 colours out; same steps per epoch
    assert float(control.soft_labels['red'].sum()) == 0 and float(val.labels['red'].sum()) == 0
    specs = ex_2_12.members([3])
    assert [s.name for s in specs] == ['anchored seed-3', 'unanchored seed-3', 'never-red seed-3']
    assert specs[2].data == {'without_red': True} and specs[2].weights == ex_2_12.UNANCHORED
