"""Label coverage, read from hand-made per-member tables: summary, the three-way reading of each rate
against one half (from its Wilson 95% interval), the paired tests against s = 1, and the prose.

Wilson bounds used below, by hand: z = 1.959964, z² = 3.841459, and for k of n
    centre = (k + z²/2) / (n + z²),  half = z / (n + z²) · √(k(n − k)/n + z²/4).
At n = 200, n + z² = 203.841459 and z / (n + z²) = 0.0096151:
    110/200: centre 111.920729 / 203.841459 = 0.549058, half 0.0096151 · √(49.5 + 0.960365) = 0.068302
             -> [0.480756, 0.617360]: holds one half, cannot tell
    130/200: centre 0.647173, half 0.0096151 · √(45.5 + 0.960365) = 0.065539 -> [0.581635, 0.712712]: works
     70/200: centre 0.352827, half 0.065539 -> [0.287288, 0.418365]: does not work
    114/200: centre 0.568681, half 0.0096151 · √(49.02 + 0.960365) = 0.067976 -> low 0.500705: works
    113/200: centre 0.563775, half 0.0096151 · √(49.155 + 0.960365) = 0.068068 -> low 0.495707: cannot tell
     86/200: centre 0.431319, half 0.067976 -> high 0.499295: does not work (87/200 is 113/200 mirrored)
At n = 20, n + z² = 23.841459: 13/20 (65 %) has centre 14.920729 / 23.841459 = 0.625831 and half
0.082208 · √(4.55 + 0.960365) = 0.192977, so low 0.432854: a majority on the point, not on the interval.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ex_color.evaluation.claims import holm
from ex_color.experiments.ex_2_11.coverage import (
    RED_PASS,
    coverage_summary,
    coverage_tests,
    majority,
    read_coverage,
    verdict_counts,
)
from ex_color.experiments.ex_2_11.report import (
    comparison_markdown,
    coverage_markdown,
    majority_markdown,
    publication,
    settings_markdown,
)

BASELINE_PASS = 'pass:baseline max <= 5e-4'


def table(
    passes: dict[float, list[bool]],
    red: dict[float, list[bool]] | None = None,
    baseline: dict[float, list[bool]] | None = None,
) -> pd.DataFrame:
    """Members of each setting; labels drawn = 10 × s × (seed + 1), so the median is known by hand."""
    rows = []
    for s, ok in passes.items():
        for seed, p in enumerate(ok):
            rows.append(
                {
                    'annotators': s,
                    'seed': seed,
                    'labels': int(10 * s * (seed + 1)),
                    'red': 0.2 if p else 0.01,
                    'median': 1e-4,
                    'pass': p,
                    RED_PASS: (red or passes)[s][seed],
                    BASELINE_PASS: (baseline or passes)[s][seed] if baseline else True,
                }
            )
    return pd.DataFrame(rows)


def test_the_summary_counts_labels_and_pass_rates_per_setting():
    df = table({4.0: [True, True, False, True], 0.5: [False, False, True, False]})
    summary = coverage_summary(df)
    assert list(summary.index) == [0.5, 4.0]  # ascending
    # s = 4: labels 40, 80, 120, 160 -> median 100, min 40, max 160; 3 of 4 pass
    row = summary.loc[4.0]
    assert (row['labels median'], row['labels min'], row['labels max']) == (100, 40, 160)
    assert (row['seeds'], row['pass n'], row['pass']) == (4, 3, 0.75)
    assert row['pass low'] < 0.75 < row['pass high'] <= 1
    assert summary['red median'].loc[0.5] == pytest.approx(0.01)
    with pytest.raises(KeyError, match="'labels'"):
        coverage_summary(df.drop(columns=['labels']))


def k_of(k: int, n: int = 200) -> list[bool]:
    """k passing seeds of n (the first k)."""
    return [True] * k + [False] * (n - k)


def test_the_wilson_bounds_are_the_ones_worked_by_hand():
    summary = coverage_summary(table({0.5: k_of(110), 1.0: k_of(130), 2.0: k_of(70)}))
    by_hand = {0.5: (0.480756, 0.617360), 1.0: (0.581635, 0.712712), 2.0: (0.287288, 0.418365)}
    for s, (low, high) in by_hand.items():
        assert summary['pass low'].loc[s] == pytest.approx(low, abs=2e-6)
        assert summary['pass high'].loc[s] == pytest.approx(high, abs=2e-6)


def test_a_verdict_is_read_off_the_interval_not_the_point():
    assert majority(0.480756, 0.617360) == 'cannot tell'  # 110/200: 55 %, yet the interval holds one half
    assert majority(0.581635, 0.712712) == 'works'  # 130/200
    assert majority(0.287288, 0.418365) == 'does not work'  # 70/200
    assert majority(0.500705, 0.637) == 'works'  # 114/200
    assert majority(0.495707, 0.632) == 'cannot tell'  # 113/200
    assert majority(0.363, 0.499295) == 'does not work'  # 86/200
    assert majority(0.432854, 0.818808) == 'cannot tell'  # 13/20: the old majority rule said "works"
    assert majority(0.3, 0.5) == 'cannot tell' and majority(0.5, 0.7) == 'cannot tell'  # one half: neither
    with pytest.raises(ValueError, match='low <= high'):
        majority(0.6, 0.4)
    # the same boundaries through the summary, from the counts
    n200 = read_coverage(
        coverage_summary(table({1.0: k_of(113), 2.0: k_of(114), 4.0: k_of(86), 8.0: k_of(87)}))
    )
    assert dict(n200.verdicts) == {1.0: 'cannot tell', 2.0: 'works', 4.0: 'does not work', 8.0: 'cannot tell'}
    # a bound that would round to 50% gets a decimal, so the prose never shows "50%" for a bound on a side:
    # 113/200 is [0.495707, 0.631843], 114/200 [0.500705, 0.636657], 86/200 [0.363343, 0.499295]
    text = coverage_markdown(
        coverage_summary(table({1.0: k_of(113), 2.0: k_of(114), 4.0: k_of(86), 8.0: k_of(87)})), n200
    )
    assert 'At s = 1 (113/200, 49.6%–63%), s = 8 (87/200, 37%–50.4%) the interval holds one half' in text
    assert '114/200 (50.1%–64%) of its seeds, an interval wholly above one half' in text
    assert 'at s = 4 (86/200, 36%–49.9%) fewer than half the seeds do again' in text
    n20 = read_coverage(coverage_summary(table({1.0: k_of(13, 20)})))
    assert n20.works is None and n20.undecided == (1.0,)


def test_how_many_passing_seeds_each_verdict_takes():
    # from the bounds worked out above: 114/200 works, 113 … 87 cannot tell, 86 does not
    assert verdict_counts(200) == {
        'does not work': range(0, 87),
        'cannot tell': range(87, 114),
        'works': range(114, 201),
    }
    # 20 seeds: 14/20 has low 0.667775 − 0.186748 = 0.481027 (cannot tell), 15/20 low 0.709719 − 0.178420
    # = 0.531299 (works); 5/20 and 6/20 are 15/20 and 14/20 mirrored
    assert verdict_counts(20) == {
        'does not work': range(0, 6),
        'cannot tell': range(6, 15),
        'works': range(15, 21),
    }
    assert majority_markdown(200) == (
        'With 200 seeds per setting, a setting is said to work when at least 114 of its seeds pass (57%), and '
        'not to work when at most 86 do (43%); from 87 to 113 passing seeds, the interval holds one half and '
        'the seeds cannot tell.'
    )
    # 2 of 2 seeds: centre 3.920729 / 5.841459 = 0.671190, half 0.335529 · √0.960365 = 0.328810: low 0.342380
    assert verdict_counts(2) == {'does not work': range(0), 'cannot tell': range(0, 3), 'works': range(0)}
    assert 'no count of passing seeds is decisive' in majority_markdown(2)


def test_the_reading_names_the_smallest_that_works_the_undecided_and_the_best():
    df = table(
        {
            0.25: k_of(70),  # does not work
            0.5: k_of(110),  # cannot tell
            1.0: k_of(130),  # works: the smallest
            2.0: k_of(70),  # does not work again
            4.0: k_of(190),  # works, and the best
        },
        red={0.25: k_of(100), 0.5: k_of(150), 1.0: k_of(200), 2.0: k_of(200), 4.0: k_of(200)},
    )
    summary = coverage_summary(df)
    reading = read_coverage(summary)
    assert (reading.works, reading.red, reading.best) == (1.0, 0.5, 4.0)
    assert reading.relapses == (2.0,) and reading.undecided == (0.5,)
    assert reading.red_undecided == (0.25,)  # 100/200: exactly half is not more than half
    assert not reading.none_works
    text = coverage_markdown(summary, reading)
    # labels drawn: 10 × s × (seed + 1) over seeds 0 … 199, median 10 × s × 100.5
    assert (
        'smallest setting at which more than half the seeds meet every threshold is about 1005 labels (s = 1;'
        in text
    )
    assert '130/200 (58%–71%) of its seeds, an interval wholly above one half' in text
    assert 'at s = 2 (70/200, 29%–42%) fewer than half the seeds do again (an interval wholly' in text
    assert 'The highest rate is at about 4020 labels (s = 4;' in text
    assert (
        'At s = 1/2 (110/200, 48%–62%) the interval holds one half: at 200 seeds the data cannot tell '
        'whether more than half of the seeds of this setting meet every threshold.'
    ) in text
    assert 'Deleting red alone (`ablated red >= 0.1`) takes about 502.5 labels (s = 1/2;' in text
    assert 'At s = 1/4 (100/200, 43%–57%) the interval holds one half' in text
    assert "Ex 2.10's own labelling (s = 1) drew 1005 [10, 2000] labels" in text
    chosen = publication(summary, reading)
    assert chosen == (1.0, 'Ex 2.10 with ~1005 labels (the smallest count that works)')


def test_a_lone_working_setting_says_so_and_names_what_fails_above_it():
    # 20 seeds: 18/20 works (low 0.699), 2/20 and 0/20 do not (2/20: high 0.301)
    fail18 = [True, True] + [False] * 18
    df = table(
        {0.5: k_of(0, 20), 1.0: k_of(18, 20), 2.0: k_of(2, 20), 4.0: k_of(0, 20)},
        red={s: k_of(20, 20) for s in (0.5, 1.0, 2.0, 4.0)},
        baseline={0.5: k_of(20, 20), 1.0: k_of(18, 20), 2.0: fail18, 4.0: k_of(0, 20)},
    )
    summary = coverage_summary(df)
    assert summary[f'{BASELINE_PASS} n'].loc[4.0] == 0  # every threshold's pass column is summarised
    reading = read_coverage(summary)
    assert reading.works == 1.0 and reading.relapses == (2.0, 4.0) and reading.undecided == ()
    text = coverage_markdown(summary, reading)
    assert 'It is the only one: with more labels, fewer than half the seeds meet every threshold' in text
    # above s = 1: 40 models; the baseline fails on 18 of s = 2 and all 20 of s = 4; red never
    assert 'the threshold missed most often is `baseline max <= 5e-4` (38 of 40 models fail it).' in text
    assert 'It is also the setting with the highest rate.' in text


def test_when_no_setting_is_shown_to_work_the_row_does_not_say_none_works():
    df = table({0.5: k_of(70), 1.0: k_of(110), 2.0: k_of(100)})
    summary = coverage_summary(df)
    reading = read_coverage(summary)
    assert reading.works is None and reading.undecided == (1.0, 2.0) and not reading.none_works
    text = coverage_markdown(summary, reading)
    assert '**No setting is shown to have more than half its seeds meeting every threshold**' in text
    assert 'The best is about 1005 labels (s = 1;' in text and 'with 110/200 (48%–62%)' in text
    assert 'At s = 1 (110/200, 48%–62%), s = 2 (100/200, 43%–57%) the interval holds one half' in text
    assert 'the seeds of these settings meet every threshold' in text
    chosen = publication(summary, reading)
    assert chosen.setting == 1.0
    assert chosen.description == (
        'Ex 2.10 with ~1005 labels (s = 1; no label count tried is shown to work at 200 seeds; '
        'at s = 1, 2 the data cannot tell)'
    )
    assert 'no label count tried works' not in text + chosen.description


def test_only_when_every_interval_lies_below_half_does_nothing_work():
    df = table({0.5: k_of(20), 1.0: k_of(86), 2.0: k_of(0)})  # 86/200: high 0.499293
    summary = coverage_summary(df)
    reading = read_coverage(summary)
    assert reading.none_works and reading.works is None and reading.undecided == ()
    text = coverage_markdown(summary, reading)
    assert '**At no setting tried do more than half the seeds meet every threshold' in text
    assert 'The best is about 1005 labels (s = 1;' in text
    chosen = publication(summary, reading)
    assert chosen == (1.0, 'Ex 2.10 with ~1005 labels (s = 1; no label count tried works)')
    nothing = coverage_summary(table({0.5: k_of(0, 2), 2.0: k_of(0, 2)}))
    assert '**No seed of any setting meets every threshold.**' in coverage_markdown(
        nothing, read_coverage(nothing)
    )


def paired_table(n: int = 10) -> pd.DataFrame:
    """s = 1 passes on every seed; s = 1/16 on none, with a quarter of the error at red (times 1 + seed/100,
    so the log ratios differ); s = 2 is s = 1 exactly."""
    rows = []
    for seed in range(n):
        red = 0.2 * (1 + seed / 10)
        rows += [
            {'annotators': 1.0, 'seed': seed, 'pass': True, 'red': red},
            {'annotators': 1 / 16, 'seed': seed, 'pass': False, 'red': red / 4 * (1 + seed / 100)},
            {'annotators': 2.0, 'seed': seed, 'pass': True, 'red': red},
        ]
    return pd.DataFrame(rows)


def test_every_setting_is_compared_with_s_1_seed_by_seed_and_corrected_together():
    tests = holm(coverage_tests(paired_table()))
    assert [(t.a, t.b, t.metric) for t in tests] == [
        ('s = 1', 's = 1/16', 'pass'),
        ('s = 1', 's = 1/16', 'red'),
        ('s = 1', 's = 2', 'pass'),
        ('s = 1', 's = 2', 'red'),
    ]
    worse_pass, worse_red, same_pass, same_red = tests
    # McNemar exact: 10 seeds pass at s = 1 only, none at s = 1/16 only: p = 2 × 0.5¹⁰ = 0.001953125
    assert worse_pass.test == 'McNemar exact' and worse_pass.p == pytest.approx(2 * 0.5**10)
    # Wilcoxon on the log ratios, all 10 negative: exact p = 2 / 2¹⁰ as well
    assert worse_red.test == 'Wilcoxon signed-rank' and worse_red.p == pytest.approx(2 / 2**10)
    assert worse_red.ratio and 0.25 < worse_red.change.value < 0.25 * 1.1
    # Holm over all four: the two smallest (equal) p times 4 (then max(4p, 3p)); identical settings p = 1
    assert worse_pass.p_holm == pytest.approx(4 * 2 / 1024) and worse_red.p_holm == pytest.approx(
        4 * 2 / 1024
    )
    assert same_pass.p_holm == 1 and same_red.p_holm == 1
    assert (worse_pass.verdict, worse_red.verdict) == ('lower', 'lower')
    assert (same_pass.verdict, same_red.verdict) == ('not distinguishable', 'not distinguishable')
    text = comparison_markdown(tests)
    assert text.startswith('Seed by seed against s = 1 (10 seeds; p Holm-corrected over the 4 comparisons')
    assert '- **pass rate**, against s = 1: lower (worse) at s = 1/16 (-100 points [-100, -100]); ' in text
    assert 'not distinguishable from s = 1 at s = 2 (n = 10).' in text
    assert '- **ablated MSE at red**, against s = 1: lower (worse) at s = 1/16 (×0.2' in text


def test_the_paired_tests_need_the_reference_and_the_same_seeds():
    df = paired_table()
    with pytest.raises(KeyError, match='reference annotators=4'):
        coverage_tests(df, reference=4.0)
    with pytest.raises(ValueError, match='annotators=2 was not trained on the same seeds as 1'):
        coverage_tests(df[~((df['annotators'] == 2.0) & (df['seed'] == 3))])
    with pytest.raises(KeyError, match=r"\['red'\]"):
        coverage_tests(df.drop(columns=['red']))
    with pytest.raises(ValueError, match='several settings'):
        comparison_markdown(holm(coverage_tests(df) + coverage_tests(df, reference=2.0)))


def test_the_settings_table_grows_columns_once_trained():
    expected = {0.0625: 4.29, 1.0: 67.8}
    before = settings_markdown(expected)
    assert before.splitlines()[2:] == ['| 1/16 | 4.29 |', '| 1 | 67.8 |']
    summary = coverage_summary(table({0.0625: [False, False], 1.0: [True, True]}))
    after = settings_markdown(expected, summary).splitlines()
    assert after[2].startswith('| 1/16 | 4.29 | 0.5 [0, 1] | 0/2 (')
    assert after[3].startswith('| 1 | 67.8 | 15 [10, 20] | 2/2 (')
    with pytest.raises(KeyError, match=r'\[2.0\]'):
        settings_markdown({2.0: 130.0}, summary)
