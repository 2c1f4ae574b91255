"""Each failing seed gets one mode, from red's angle to its anchor during training and the thresholds it missed."""

from __future__ import annotations

import pandas as pd
import pytest

from ex_color.evaluation.metrics import THRESHOLDS
from ex_color.experiments.ex_2_13.modes import ANCHORED_DEGREES, MODES, failure_modes

LABEL = {th.metric: th.label for th in THRESHOLDS}


def seed_row(**missed: bool) -> dict[str, bool]:
    row = {f'pass:{label}': not missed.get(metric, False) for metric, label in LABEL.items()}
    row['pass'] = all(row.values())
    return row


def test_each_rule_names_its_mode_and_the_first_that_holds_wins():
    df = pd.DataFrame.from_dict(
        {
            0: seed_row(),
            1: seed_row(red=True),
            2: seed_row(red=True),
            3: seed_row(red=True, baseline_max=True),  # red not deleted comes first
            4: seed_row(worst_gcb=True, baseline_max=True),  # collateral comes before reconstruction
            5: seed_row(baseline_max=True),
            6: seed_row(median=True),
        },
        orient='index',
    )
    # red's angle to the anchor (degrees) at steps 0, 100, 200
    path: dict[int, list[float]] = {
        0: [80, 20, 5],
        1: [80, 60, 45],  # never within 30°
        2: [80, 10, 50],  # within, then pushed off
        3: [80, 20, 12],  # ends anchored, yet ablation leaves red
        4: [80, 20, 5],
        5: [80, 20, 5],
        6: [80, ANCHORED_DEGREES, 40],  # exactly 30° counts as anchored: then pushed off, but red passes
    }
    rows = [
        {'seed': s, 'step': t, 'degrees': d}
        for s, ds in path.items()
        for t, d in zip((0, 100, 200), ds, strict=True)
    ]
    angles = pd.DataFrame(
        rows[::-1]
    )  # recorded out of order: where red ends is the last step, not the last row
    modes = failure_modes(df, angles)
    assert modes.to_dict() == {
        0: 'passes',
        1: 'never anchored',
        2: 'anchored, then pushed off',
        3: 'anchored, yet not deleted',
        4: 'anchored, with collateral',
        5: 'reconstruction short',
        6: 'anchored, with collateral',
    }
    assert set(modes) <= set(MODES)


def test_missing_angles_or_columns_are_named():
    df = pd.DataFrame.from_dict({0: seed_row(), 1: seed_row()}, orient='index')
    angles = pd.DataFrame({'seed': [0], 'step': [0], 'degrees': [10.0]})
    with pytest.raises(KeyError, match=r'no angles recorded for seeds \[1\]'):
        failure_modes(df, angles)
    with pytest.raises(KeyError, match='degrees'):
        failure_modes(df, angles.drop(columns='degrees'))


def test_failure_counts_say_how_many_seeds_miss_each_threshold_alone_or_with_another_and_the_figure_draws_them():
    import matplotlib.pyplot as plt
    import numpy as np

    from ex_color.evaluation.intervals import wilson
    from ex_color.experiments.ex_2_10.failures import FailureMaps, Panel, failure_counts, failure_table
    from ex_color.experiments.ex_2_10.plot import plot_failures

    df = pd.DataFrame.from_dict(
        {
            0: seed_row(),
            1: seed_row(baseline_max=True),
            2: seed_row(baseline_max=True, red=True),
            3: seed_row(red=True),
        },
        orient='index',
    )
    counts = failure_counts(df)
    assert list(counts.index[:2]) == [LABEL['baseline_max'], LABEL['red']]  # most missed first
    bmax = counts.loc[LABEL['baseline_max']]
    assert (bmax['missing'], bmax['n'], bmax['only'], bmax['another']) == (2, 4, 1, 1)
    assert (bmax['low'], bmax['high']) == pytest.approx(wilson(2, 4))
    assert failure_table(counts).loc[LABEL['red'], 'seeds missing it'] == '2/4'
    panel = Panel(
        'baseline error · miss baseline max', 'baseline', 2, np.full((3, 2), 1e-3), np.zeros((2, 2))
    )
    fig = plot_failures(counts, FailureMaps(np.array([0.0, 0.5, 1.0]), np.array([0.0, 1.0]), (panel,)))
    assert len(fig.axes) == 3  # the bars, one map and its colour bar
    plt.close(fig)
