"""Steps to half recovery: the first step half-way back, censored as inf, nan when nothing was deleted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ex_color.experiments.ex_2_12.recovery import curve_quartiles, half_recovery_step, recovery_table


def curve(values, steps=None):
    return pd.Series(values, index=steps if steps is not None else range(len(values)), dtype=float)


def test_first_step_at_or_past_half_way():
    # from 1.0 back towards 0.2: half-way is 0.6
    assert half_recovery_step(curve([1.0, 0.9, 0.61, 0.6, 0.3]), before=0.2) == 3
    assert half_recovery_step(curve([1.0, 0.5], steps=[0, 16]), before=0.2) == 16


def test_never_half_way_is_censored_and_nothing_deleted_is_nan():
    assert half_recovery_step(curve([1.0, 0.9, 0.8]), before=0.2) == math.inf
    assert math.isnan(half_recovery_step(curve([0.1, 0.1]), before=0.2))


def test_unsorted_steps_are_read_in_step_order():
    assert half_recovery_step(curve([0.5, 1.0, 0.9], steps=[20, 0, 10]), before=0.0) == 20


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
