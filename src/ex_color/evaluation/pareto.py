"""`pareto_front(df, minimize, maximize)`: the rows of a results table that no other row dominates.

Row j dominates row i when j is at least as good on every metric (≤ on each `minimize` column, ≥ on
each `maximize` column) and strictly better on at least one. The front is every row that no row
dominates; identical rows do not dominate each other, so ties are all kept. Ex 2.10.1 minimised
``val_recon`` and ``val_anchor`` and maximised ``score``.

Design decisions:
- A NaN (or None) in any metric column is a ValueError naming the column and the row's index label.
  The reference silently treated NaN rows as never dominated (every comparison with NaN is false), so a
  failed run could land on the front. Drop or fill such rows explicitly before calling.
- An unknown column is a KeyError naming it; a column listed under both objectives, or no columns at
  all, is a ValueError; a non-numeric column is a TypeError.
- O(n²) pairwise comparison, vectorised with numpy (sweeps have tens to hundreds of rows).
- Returns the front as a subset of `df` (same columns, original index labels and row order).

Deliberately not done: no ranking within the front, no crowding distance, no tolerance for "equal".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _metric_columns(
    df: pd.DataFrame, minimize: Sequence[str], maximize: Sequence[str]
) -> tuple[list[str], int]:
    for argument, cols in (('minimize', minimize), ('maximize', maximize)):
        if isinstance(cols, str):
            raise TypeError(f'pareto_front: {argument} must be a sequence of column names, got {cols!r}')
    minimize, maximize = list(minimize), list(maximize)
    both = sorted(set(minimize) & set(maximize))
    if both:
        raise ValueError(f'pareto_front: columns {both} are listed under both minimize and maximize')
    columns = minimize + maximize
    if not columns:
        raise ValueError('pareto_front: give at least one column to minimize or maximize')
    for col in columns:
        if col not in df.columns:
            raise KeyError(f'pareto_front: no column {col!r} in the table (columns: {list(df.columns)})')
    return columns, len(minimize)


def pareto_front(
    df: pd.DataFrame, minimize: Sequence[str] = (), maximize: Sequence[str] = ()
) -> pd.DataFrame:
    """Rows of `df` not dominated by any other row; see the module docstring."""
    columns, n_min = _metric_columns(df, minimize, maximize)
    values = np.empty((len(df), len(columns)), dtype=np.float64)
    for c, col in enumerate(columns):
        try:
            values[:, c] = pd.to_numeric(df[col], errors='raise').to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as e:
            raise TypeError(f'pareto_front: column {col!r} is not numeric ({e})') from e
        nan_rows = np.flatnonzero(np.isnan(values[:, c]))
        if len(nan_rows):
            label = df.index[nan_rows[0]]
            raise ValueError(
                f'pareto_front: column {col!r} is NaN at row {label!r} '
                f'({len(nan_rows)} NaN row(s) in all); drop or fill them first'
            )
    # Turn every objective into "smaller is better".
    cost = values.copy()
    cost[:, n_min:] *= -1
    # [j, i, c]: row j compared with row i on metric c.
    no_worse = (cost[:, None, :] <= cost[None, :, :]).all(axis=-1)
    better = (cost[:, None, :] < cost[None, :, :]).any(axis=-1)
    dominated = np.asarray((no_worse & better).any(axis=0))  # over j: is row i dominated by anyone?
    return df.loc[~dominated]
