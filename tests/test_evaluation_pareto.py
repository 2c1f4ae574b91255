"""pareto_front on a hand-made table, and its refusal of NaN, unknown and ambiguous columns."""

import math

import pandas as pd
import pytest

from ex_color.evaluation import pareto_front


@pytest.fixture
def table() -> pd.DataFrame:
    # Minimise val_recon and val_anchor, maximise score (as in Ex 2.10.1).
    return pd.DataFrame(
        {
            'seed': [0, 1, 2, 3, 4, 5],
            'val_recon': [1.0, 2.0, 1.0, 3.0, 0.5, 1.0],
            'val_anchor': [1.0, 1.0, 2.0, 0.5, 3.0, 1.0],
            'score': [0.9, 0.9, 0.9, 0.1, 0.2, 0.9],
        },
        index=['a', 'b', 'c', 'd', 'e', 'f'],
    )


def test_hand_computed_front(table):
    # a = (1, 1, .9): nobody is ≤ on both costs and ≥ on score and strictly better somewhere
    #     (e has lower recon but worse anchor; d lower anchor but worse recon; f is identical) → kept.
    # b = (2, 1, .9): a is ≤ everywhere and strictly better on val_recon → dominated.
    # c = (1, 2, .9): a is ≤ everywhere and strictly better on val_anchor → dominated.
    # d = (3, .5, .1): the only row with val_anchor .5, so nobody is ≤ on it → kept.
    # e = (.5, 3, .2): the only row with val_recon .5 → kept.
    # f = (1, 1, .9): identical to a; equal is not strictly better, so neither dominates → kept.
    front = pareto_front(table, minimize=['val_recon', 'val_anchor'], maximize=['score'])
    assert list(front.index) == ['a', 'd', 'e', 'f']
    assert list(front.columns) == list(table.columns)


def test_maximize_direction_matters(table):
    # Only score, maximised: the rows with the highest score (.9) are a, b, c, f.
    assert list(pareto_front(table, maximize=['score']).index) == ['a', 'b', 'c', 'f']
    # Only score, minimised: d (.1) alone.
    assert list(pareto_front(table, minimize=['score']).index) == ['d']


def test_nan_names_column_and_row(table):
    table.loc['c', 'val_anchor'] = math.nan
    with pytest.raises(ValueError, match=r"'val_anchor'.*'c'"):
        pareto_front(table, minimize=['val_recon', 'val_anchor'], maximize=['score'])


def test_none_is_treated_as_nan():
    df = pd.DataFrame({'val_recon': [1.0, None], 'score': [0.5, 0.6]})
    with pytest.raises(ValueError, match=r"'val_recon'.*row 1"):
        pareto_front(df, minimize=['val_recon'], maximize=['score'])


def test_unknown_and_ambiguous_columns(table):
    with pytest.raises(KeyError, match='val_reconn'):
        pareto_front(table, minimize=['val_reconn'])
    with pytest.raises(ValueError, match='both'):
        pareto_front(table, minimize=['score'], maximize=['score'])
    with pytest.raises(ValueError, match='at least one'):
        pareto_front(table)
    with pytest.raises(TypeError, match='sequence'):
        pareto_front(table, minimize='val_recon')


def test_non_numeric_column():
    df = pd.DataFrame({'url': ['x', 'y'], 'score': [0.1, 0.2]})
    with pytest.raises(TypeError, match="'url'"):
        pareto_front(df, minimize=['url'], maximize=['score'])
