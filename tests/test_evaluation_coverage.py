"""Label coverage, read from hand-made per-member tables: summary, the settings a conclusion names, prose."""

from __future__ import annotations

import pandas as pd
import pytest

from ex_color.experiments.ex_2_11.coverage import RED_PASS, coverage_summary, read_coverage
from ex_color.experiments.ex_2_11.report import coverage_markdown, publication, settings_markdown

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


def test_the_reading_names_the_smallest_settings_with_a_strict_majority():
    df = table(
        {
            0.25: [False, False, False, False],
            0.5: [True, True, False, False],  # half: not more than half
            1.0: [True, True, True, False],
            2.0: [True, False, False, False],  # falls back
            4.0: [True, True, True, True],
        },
        red={
            0.25: [False] * 4,
            0.5: [True, True, True, False],
            1.0: [True] * 4,
            2.0: [True] * 4,
            4.0: [True] * 4,
        },
    )
    reading = read_coverage(coverage_summary(df))
    assert reading.works == 1.0
    assert reading.red == 0.5
    assert reading.best == 4.0
    assert reading.relapses == (2.0,)
    summary = coverage_summary(df)
    text = coverage_markdown(summary, reading)
    assert (
        'smallest setting at which more than half the seeds meet every threshold is about 25 labels (s = 1;'
        in text
    )
    assert 's = 2 (1/4)' in text
    assert publication(summary, reading).setting == 1.0
    assert (
        publication(summary, reading).description == 'Ex 2.10 with ~25 labels (the smallest count that works)'
    )


def test_a_lone_working_setting_says_so_and_names_what_fails_above_it():
    df = table(
        {0.5: [False, False, False], 1.0: [True, True, False], 2.0: [True, False, False], 4.0: [False] * 3},
        red={0.5: [False] * 3, 1.0: [True] * 3, 2.0: [True] * 3, 4.0: [True] * 3},
        baseline={0.5: [True] * 3, 1.0: [True, True, False], 2.0: [True, False, False], 4.0: [False] * 3},
    )
    summary = coverage_summary(df)
    assert summary[f'{BASELINE_PASS} n'].loc[4.0] == 0  # every threshold's pass column is summarised
    text = coverage_markdown(summary, read_coverage(summary))
    assert 'It is the only one: with more labels, no more than half the seeds meet every threshold' in text
    # above s = 1: 6 models, the baseline fails on 2 of s = 2 and 3 of s = 4; red never
    assert 'the threshold missed most often is `baseline max <= 5e-4` (5 of 6 models fail it).' in text


def test_when_nothing_works_the_conclusion_says_so_and_publishes_ex_2_10s_own_setting():
    df = table({0.5: [False, False], 1.0: [True, False], 2.0: [False, False]})
    summary = coverage_summary(df)
    reading = read_coverage(summary)
    assert reading.works is None and reading.red is None and reading.relapses == ()
    text = coverage_markdown(summary, reading)
    assert '**No setting has more than half its seeds meeting every threshold.**' in text
    assert 'The best is about 15 labels (s = 1;' in text
    chosen = publication(summary, reading)
    assert chosen.setting == 1.0 and 'no label count tried works' in chosen.description
    nothing = coverage_summary(table({0.5: [False, False], 2.0: [False, False]}))
    assert '**No seed of any setting meets every threshold.**' in coverage_markdown(
        nothing, read_coverage(nothing)
    )


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
