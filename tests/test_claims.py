"""Claims are statistics: bootstrap medians that cover, Holm's correction, paired tests and their verdicts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from ex_color.evaluation.claims import holm, median_estimate, paired_test, rate_estimate
from ex_color.experiments.report import claim_records, claim_sentence, paired_markdown, pass_rate_text


def frame(values: dict[str, Any]) -> pd.DataFrame:
    df = pd.DataFrame(values)
    df.index.name = 'seed'
    return df


def test_the_bootstrap_interval_of_a_median_covers_the_true_median_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    covered = 0
    trials = 200
    for _ in range(trials):
        x = rng.lognormal(0.0, 1.0, size=200)  # true median exp(0) = 1, skewed like the errors
        e = median_estimate(x, seed=int(rng.integers(1 << 30)))
        assert e.low <= e.value <= e.high and e.n == 200
        covered += e.low <= 1.0 <= e.high
    assert 0.89 <= covered / trials <= 0.99


def test_the_same_values_give_the_same_interval_and_bad_input_is_refused():
    x = np.linspace(0, 1, 50)
    assert median_estimate(x) == median_estimate(x)
    with pytest.raises(ValueError, match='at least 2 values'):
        median_estimate([1.0])
    with pytest.raises(ValueError, match='finite'):
        median_estimate([1.0, float('nan')])


def test_a_pass_rate_carries_its_wilson_interval():
    r = rate_estimate(9, 20)
    assert r.value == 0.45 and r.n == 20
    assert r.low == pytest.approx(0.2582, abs=1e-3) and r.high == pytest.approx(0.6579, abs=1e-3)
    assert pass_rate_text(9, 20) == '9 of 20 seeds (45%, 95 % CI 26%–66%)'


def test_holm_steps_down_and_stays_monotone():
    a = frame({'m': [0.0, 1.0]})
    tests = [paired_test(a, a, 'm')] * 4
    ps = [0.01, 0.04, 0.03, 0.005]
    corrected = holm([t.__class__(**{**t.__dict__, 'p': p}) for t, p in zip(tests, ps, strict=True)])
    # by hand: sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 -> raised to 0.06
    assert [t.p_holm for t in corrected] == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_an_error_that_doubles_on_every_seed_is_a_ratio_of_two_and_reads_higher():
    rng = np.random.default_rng(0)
    a_red = rng.lognormal(-2, 1, size=30)
    a = frame({'red': a_red, 'r': rng.normal(0.8, 0.05, 30)})
    b = frame({'red': 2 * a_red, 'r': a['r'] + rng.normal(0, 0.05, 30)})
    red, r = holm(
        [
            paired_test(a, b, 'red', names=('plain', 'doubled')),
            paired_test(a, b, 'r', names=('plain', 'doubled')),
        ]
    )
    assert red.change.value == pytest.approx(2.0) and red.change.low == pytest.approx(2.0)
    assert red.verdict == 'higher' and red.b_higher == 30
    assert red.p_corrected < 1e-5
    assert claim_sentence(red).startswith(
        'ablated MSE at red is higher (better) with doubled than with plain (median ratio ×2 [2, 2], n = 30'
    )


def test_a_difference_the_seeds_cannot_resolve_is_said_to_be_indistinguishable_at_that_n():
    rng = np.random.default_rng(3)
    a = frame({'r': rng.normal(0.8, 0.1, 12)})
    b = frame({'r': a['r'] + rng.normal(0.0, 0.1, 12)})
    (t,) = holm([paired_test(a, b, 'r', names=('x', 'y'))])
    assert t.verdict == 'not distinguishable'
    text = claim_sentence(t)
    assert 'cannot be told apart at n = 12' in text and 'no effect' not in text and 'within' not in text


def test_pass_rates_are_compared_by_mcnemar_on_the_seeds_that_disagree():
    a = frame({'pass': [0.0] * 10 + [1.0] * 10})
    b = frame({'pass': [1.0] * 20})
    (t,) = holm([paired_test(a, b, 'pass')])
    assert t.test == 'McNemar exact'
    assert t.p == pytest.approx(2 * 0.5**10)  # 10 seeds flip one way, none the other
    assert t.change.value == pytest.approx(0.5) and t.verdict == 'higher'


def test_a_verdict_needs_the_correction_and_records_carry_the_numbers_behind_the_sentence():
    a = frame({'median': [1e-4, 2e-4, 3e-4]})
    t = paired_test(a, a * 1.5, 'median')
    with pytest.raises(ValueError, match='holm'):
        _ = t.verdict
    (c,) = holm([t])
    (rec,) = claim_records([c])
    assert rec['scale'] == 'ratio' and rec['change'][0] == pytest.approx(1.5) and rec['n'] == 3
    assert rec['text'] == claim_sentence(c) and rec['text'] in paired_markdown([c])


def test_a_log_metric_with_an_exact_zero_is_compared_by_difference_and_says_so():
    a = frame({'red': [0.0, 0.2, 0.3, 0.4, 0.5, 0.6]})  # seed 0 reconstructs red perfectly after ablation
    b = frame({'red': [0.1, 0.3, 0.4, 0.5, 0.6, 0.7]})
    (t,) = holm([paired_test(a, b, 'red')])
    assert t.scale == 'difference' and t.change.value == pytest.approx(0.1)
    assert 'median difference +0.1' in claim_sentence(t)
    (rec,) = claim_records([t])
    assert rec['scale'] == 'difference'
