"""After a search: picking a trial from the study's table, and the figures that show the search."""

from __future__ import annotations

import math

import pytest

from ex_color.search import Objective


def trials_table():
    import pandas as pd

    return pd.DataFrame(
        {
            'state': ['COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE', 'FAIL'],
            'batch': [0, 0, 1, 1, 1],
            'red': [0.3, 0.5, 0.6, 0.9, None],
            'median': [2e-4, 1e-4, 3e-4, 1e-4, None],
            'worst_gcb': [1e-3, 5e-4, 2e-3, 5e-4, None],
            'feasible': [True, True, True, False, False],
            'template': [True, False, False, False, False],
        },
        index=pd.Index([0, 1, 2, 3, 4], name='trial'),
    )


def test_choose_takes_the_most_red_within_the_collateral_limits_among_feasible_trials():
    from ex_color.search import choose, feasible_front

    df = trials_table()
    # trial 3 has the most red but breaks a constraint; trial 2 has more collateral than the template
    assert choose(df, maximize='red', at_most={'median': 2e-4, 'worst_gcb': 1e-3}) == 1
    assert choose(df, maximize='red', at_most={'median': 1e-5}) is None
    with pytest.raises(KeyError, match=r"no column\(s\) \['typo'\]"):
        choose(df, maximize='red', at_most={'typo': 1.0})
    front = feasible_front(df, [Objective('red', 'maximize'), Objective('median'), Objective('worst_gcb')])
    assert sorted(front.index) == [1, 2], 'trial 0 is dominated by 1; 3 and 4 are not feasible'
    assert feasible_front(df.assign(feasible=False), [Objective('red', 'maximize')]).empty


def test_the_search_figures_draw_the_trials_and_refuse_a_front_that_is_not_feasible():
    import matplotlib.pyplot as plt

    from ex_color.experiments.ex_2_10_2.plot import plot_search_front, plot_search_progress

    df = trials_table()
    try:
        check_search_figures(df, plot_search_front, plot_search_progress)
    finally:
        plt.close('all')  # other tests count open figures


def check_search_figures(df, plot_search_front, plot_search_progress):
    fig = plot_search_progress(df, [('red', 'maximize'), ('median', 'minimize')], log=('median',))
    assert len(fig.axes) == 2 and '4 trials, 1 not trained' in fig._suptitle.get_text()
    fig = plot_search_front(df, [1, 2], x='median', y='red', colour='worst_gcb', chosen=1, log=('median',))
    assert '3 feasible trials (1 break a constraint, not shown)' in fig._suptitle.get_text()
    with pytest.raises(KeyError, match=r'front trials \[3\] are not feasible'):
        plot_search_front(df, [3], x='median', y='red', colour='worst_gcb')
    fig = plot_search_front(df.assign(feasible=False), [], x='median', y='red', colour='worst_gcb')
    assert 'none of 4 trials keeps the constraints' in fig._suptitle.get_text()
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert 'template (hand-made schedule), breaks a constraint' in legend, 'the reference is always shown'


def test_choose_refuses_a_limit_that_was_never_measured():
    from ex_color.search import choose

    df = trials_table()
    # what the Ex 2.10.2 choice cell passes when the template trial has no values
    with pytest.raises(ValueError, match=r"choose: at_most\['median'\] is nan"):
        choose(df, maximize='red', at_most={'median': math.nan, 'worst_gcb': 1e-3})
