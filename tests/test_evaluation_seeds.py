"""Evidence over seeds: per-seed metrics, their distribution table, paired tests and the prose built on them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch

from ex_color.evaluation.ablation import (
    THRESHOLDS,
    ablation_summary,
    check_thresholds,
    distribution_table,
    seed_metrics,
)
from ex_color.evaluation.claims import Estimate, PairedTest, holm, paired_test
from ex_color.experiments.common import evaluation_cubes
from ex_color.experiments.report import over_seeds_markdown, paired_markdown
from ex_color.model import CNColorMLP
from ex_color.vis.seed_metrics import plot_seed_metrics


def table(red, median=None, worst=None, r=None) -> pd.DataFrame:
    """Per-seed metrics as `seed_metrics` lays them out, with chosen values."""
    n = len(red)
    df = pd.DataFrame(
        {
            'red': red,
            'median': median or [1e-4] * n,
            'worst_gcb': worst or [1e-3] * n,
            'r': r or [0.9] * n,
            'baseline_max': [1e-4] * n,
            'baseline_median': [1e-5] * n,
        },
        index=pd.Index(range(n), name='seed'),
    )
    for th in THRESHOLDS:
        df[f'pass:{th.label}'] = [th.passes(v) for v in df[th.metric]]
    df['pass'] = df[[f'pass:{th.label}' for th in THRESHOLDS]].all(axis=1)
    return df


def test_distribution_table_reports_median_with_interval_iqr_pass_rate_and_where_seed_0_sits():
    df = table([0.05, 0.2, 0.4, 0.6, 0.8])  # seed 0 deletes least red: below the 0.1 threshold
    t = distribution_table(df)
    row = t.loc['ablated MSE at red']
    assert row['median [95 % CI]'].startswith('0.4 [') and row['IQR'] == '0.2–0.6'
    assert row['pass rate [95 % CI]'] == '4/5 [38%, 96%]'  # Wilson, by hand
    assert row['seed 0'] == '0.05'
    assert row['seed 0 rank (1 = worst)'] == '1/5'  # the least red deleted is the worst
    # for an error that must stay small, the largest is the worst
    t = distribution_table(table([0.5] * 5, median=[1e-4, 5e-4, 2e-4, 3e-4, 1e-5]))
    assert t.loc['median ablated MSE', 'seed 0 rank (1 = worst)'] == '4/5'
    assert str(t.loc['median ablated MSE', 'pass rate [95 % CI]']).startswith('4/5 [')
    with pytest.raises(KeyError, match='seed 7'):
        distribution_table(df, highlight=7)


def test_paired_test_is_wilcoxon_on_the_same_seeds():
    a = table([0.1, 0.2, 0.3, 0.4, 0.5])
    b = table([0.11, 0.23, 0.34, 0.45, 0.56])  # every seed higher, distinct differences
    t = paired_test(a, b, 'red')
    assert t.n == 5 and t.b_higher == 5
    assert t.p == pytest.approx(2 / 2**5)  # exact two-sided: only the all-positive ranking is as extreme
    assert t.median_difference == pytest.approx(0.04)  # differences 0.01, 0.03, 0.04, 0.05, 0.06
    assert paired_test(a, a, 'red').p == 1.0  # identical samples
    with pytest.raises(ValueError, match='at least 2 seeds'):
        paired_test(a.iloc[:1], b.iloc[:1], 'red')
    with pytest.raises(KeyError, match='nope'):
        paired_test(a, b, 'nope')


def test_prose_carries_the_tables_numbers_and_reads_significance_from_p():
    df = table([0.05, 0.2, 0.4, 0.6, 0.8])
    text = over_seeds_markdown(df)
    assert 'Over 5 seeds' in text and 'median error at red of 0.4 (95 % CI ' in text
    assert '**4 of 5 seeds (80%, 95 % CI 38%–96%) meet every threshold**' in text  # Wilson, by hand
    assert 'ablated red >= 0.1 (1/5 fail)' in text
    assert 'Seed 0 ranks 5 of 5 by the error at red' in text
    a, b = table([0.1, 0.2, 0.3, 0.4, 0.5]), table([0.11, 0.23, 0.34, 0.45, 0.56])
    small = paired_markdown(holm([paired_test(a, b, 'red', names=('A', 'B'))]))
    assert 'B and A cannot be told apart at n = 5' in small  # p = 0.0625
    many = [table([0.1 * i + 0.01 * j for i in range(1, 13)]) for j in (0, 1)]
    significant = paired_markdown(holm([paired_test(many[0], many[1], 'red', names=('A', 'B'))]))
    assert 'ablated MSE at red is higher (better) with B than with A' in significant  # p = 2/4096


def test_seed_metrics_pass_columns_agree_with_the_single_model_thresholds():
    cubes = evaluation_cubes()
    models = {}
    for seed in (0, 1):
        torch.manual_seed(seed)
        models[seed] = CNColorMLP(5, n_nonlinear=2).eval()
    df = seed_metrics(models, cubes.hd_hsv, cubes.rgb)
    assert list(df.index) == [0, 1]
    for seed, model in models.items():
        summary = ablation_summary(model, cubes.hd_hsv)
        checks = check_thresholds(summary)
        assert {k: bool(df.loc[seed, f'pass:{k}']) for k in checks} == checks
        assert df.loc[seed, 'red'] == pytest.approx(summary.table.loc['red', 'ablated'])
        assert df.loc[seed, 'worst_gcb'] == pytest.approx(
            summary.table.loc[['green', 'cyan', 'blue'], 'ablated'].max()
        )


def test_seed_figure_refuses_what_it_cannot_draw_by_name():
    good = table([0.1, 0.2, 0.3])
    fig = plot_seed_metrics({'a': good, 'b': good}, ['red', 'r'], log=['red'], limits={'red': 0.1})
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(KeyError, match=r"group 'b' has no column"):
        plot_seed_metrics({'a': good, 'b': good.drop(columns='r')}, ['red', 'r'])
    zero = plot_seed_metrics({'a': table([0.0, 0.2, 0.3])}, ['red'], log=['red'])  # drawn, and counted
    assert '1 values of exactly 0 drawn as ◀ at the left edge' in zero.axes[0].get_title(loc='left')
    assert zero.axes[0].get_xlim()[0] > 0
    plt.close(zero)
    with pytest.raises(ValueError, match=r"group 'a'.*log-scaled \['r'\]"):
        plot_seed_metrics({'a': table([0.1, 0.2], r=[-0.1, 0.3])}, ['r'], log=['r'])


def test_the_search_verdict_is_chosen_by_the_paired_tests_direction_and_significance():
    from ex_color.experiments.ex_2_10_2.report import search_markdown

    def t(metric, a, b, p):
        change = Estimate(b / a, b / a, b / a, 20)
        return PairedTest(
            'ex-2.10',
            'searched',
            metric,
            20,
            a,
            b,
            b - a,
            15 if b > a else 5,
            p,
            change,
            'Wilcoxon',
            'ratio',
            p_holm=p,
        )

    in_search = {'searched': {'red': 0.5}, 'ex-2.10': {'red': 0.4}}

    def verdict(red, median, gcb):
        tests = {'red': red, 'median': median, 'worst_gcb': gcb}
        return search_markdown(
            tests, chosen='searched', reference='ex-2.10', in_search=in_search, search_seeds=4
        )

    same = t('median', 1e-4, 1e-4, 0.9), t('worst_gcb', 1e-3, 1e-3, 0.8)
    assert 'deletes more red than ex-2.10' in verdict(t('red', 0.3, 0.5, 0.01), *same)
    assert 'but at a cost' in verdict(t('red', 0.3, 0.5, 0.01), t('median', 1e-4, 3e-4, 0.01), same[1])
    less = verdict(t('red', 0.4, 0.1, 0.002), *same)
    assert 'deletes less red than ex-2.10' in less and 'fresh seeds reverse it' in less
    assert 'cannot be told apart by the error at red** at n = 20' in verdict(t('red', 0.4, 0.42, 0.6), *same)
