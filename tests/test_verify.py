"""`./go verify`: a re-run's headline values against the committed intervals, and whether they are consistent."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ex_color.evaluation.metrics import HEADLINE_METRICS
from ex_color.experiments.verify import compare, main


def record_of(df: pd.DataFrame) -> dict:
    from ex_color.evaluation.claims import median_estimate, rate_estimate

    n, k = len(df), int(df['pass'].sum())
    r = rate_estimate(k, n)
    return {
        'nbid': '2.10',
        'seeds': n,
        'passed': k,
        'pass_interval': [r.low, r.high],
        'medians': {m: median_estimate(df[m]).as_list() for m in HEADLINE_METRICS},
        'environment': {'cpu': 'test'},
    }


def seeds_table(
    rng: np.random.Generator, n: int, red_scale: float = 1.0, pass_rate: float = 0.5
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            'red': red_scale * rng.lognormal(-1, 0.5, n),
            'median': rng.lognormal(-9, 0.4, n),
            'worst_gcb': rng.lognormal(-7, 0.5, n),
            'r': rng.normal(0.8, 0.05, n),
            'pass': rng.random(n) < pass_rate,
        }
    )


def test_the_same_values_are_inside_and_consistent():
    df = seeds_table(np.random.default_rng(0), 200)
    checks = compare(record_of(df), df)
    assert [c.name for c in checks][0] == 'pass rate' and len(checks) == 1 + len(HEADLINE_METRICS)
    assert all(c.inside and c.consistent for c in checks)


def test_a_new_sample_of_the_same_distribution_is_consistent_and_a_shifted_one_is_not():
    rng = np.random.default_rng(1)
    committed = seeds_table(rng, 200)
    again = compare(record_of(committed), seeds_table(rng, 200))
    assert all(c.consistent for c in again)
    shifted = compare(record_of(committed), seeds_table(rng, 200, red_scale=2.0, pass_rate=0.2))
    by_name = {c.name: c for c in shifted}
    assert (
        not by_name['median ablated MSE at red'].consistent
        and not by_name['median ablated MSE at red'].inside
    )
    assert not by_name['pass rate'].consistent
    assert by_name['median error-vs-similarity r'].consistent  # unchanged


def test_bad_input_exits_2_with_a_message_naming_it(capsys):
    assert main(['ex-9.9']) == 2
    assert "no experiment 'ex-9.9'" in capsys.readouterr().err
    assert main(['ex-2.10.1']) == 2  # a sweep: it records no headline results of its own
    assert 'ex-2.10.1-sweep.ipynb holds no results record' in capsys.readouterr().err
