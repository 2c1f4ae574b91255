"""Per-colour error table: the baseline model's MSE at each named colour beside each variant's.

`named_error_table(baseline, *results)` takes evaluated `TestSet`s and returns one row per named colour
with columns ``name``, ``rgb``, ``hsv``, ``baseline`` (the baseline's MSE), then for each result a
column named by its tags joined with a space (its MSE) and ``<that name>-delta`` (its MSE minus the
baseline's). `table_columns` recovers that structure for the renderers in `table_render`.

Design decisions:
- Column names come from the result's *ordered* tag tuple (`TestSet` never stores a set), so they are
  the same on every run.
- Rows are matched by colour name and kept in the baseline's order; a result whose colour names differ
  from the baseline's is an error, as is a result with no tags, two results with the same tags, or a
  tag name that collides with a fixed column.

Deliberately not done: no formatting (see `table_render`), no aggregation across colours.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from ex_color.evaluation.test_set import TestSet

FIXED = ('name', 'rgb', 'hsv', 'baseline')
DELTA_SUFFIX = '-delta'


class TableColumns(NamedTuple):
    """Roles of the columns of a `named_error_table`."""

    results: list[str]
    """Result (MSE) columns, in table order."""
    deltas: dict[str, str]
    """Result column → its delta column (results without a delta column are absent)."""


def _mse_by_name(test_set: TestSet, argument: str) -> pd.Series:
    if not isinstance(test_set, TestSet):
        raise TypeError(f'named_error_table: {argument} must be a TestSet, got {type(test_set).__name__}')
    table = test_set.named_colors
    if 'MSE' not in table.columns:
        raise ValueError(
            f'named_error_table: {argument} has not been evaluated (no MSE column); call evaluate()'
        )
    return pd.Series(table['MSE'].to_numpy(dtype=float), index=table['name'].to_list())


def named_error_table(baseline: TestSet, *results: TestSet) -> pd.DataFrame:
    """Named-colour MSE of `baseline` and of each result, with deltas; see the module docstring."""
    base = _mse_by_name(baseline, 'baseline')
    out = baseline.named_colors[['name', 'rgb', 'hsv']].reset_index(drop=True)
    out['baseline'] = base.to_numpy()
    for i, result in enumerate(results):
        mse = _mse_by_name(result, f'results[{i}]')
        column = ' '.join(result.tags)
        if not column:
            raise ValueError(f'named_error_table: results[{i}] has no tags to name its column')
        for col in (column, column + DELTA_SUFFIX):
            if col in out.columns:
                raise ValueError(
                    f'named_error_table: results[{i}] (tags {result.tags!r}) would add column {col!r}, '
                    'which already exists'
                )
        if set(mse.index) != set(base.index):
            missing = sorted(set(base.index) - set(mse.index))
            extra = sorted(set(mse.index) - set(base.index))
            raise ValueError(
                f'named_error_table: results[{i}] colour names differ from the baseline '
                f'(missing {missing}, extra {extra})'
            )
        values = mse.reindex(base.index).to_numpy()
        out[column] = values
        out[column + DELTA_SUFFIX] = values - base.to_numpy()
    return out


def table_columns(df: pd.DataFrame) -> TableColumns:
    """Result and delta columns of a table built by `named_error_table`."""
    missing = [c for c in FIXED if c not in df.columns]
    if missing:
        raise KeyError(f'not a named error table: missing columns {missing} (columns: {list(df.columns)})')
    others = [c for c in df.columns if c not in FIXED]
    # A column is a delta only if its exact prefix is itself a column, so a tag that happens to end in
    # "-delta" is still a result; the suffix is removed exactly, never character by character.
    delta_cols = {c for c in others if c.endswith(DELTA_SUFFIX) and c.removesuffix(DELTA_SUFFIX) in others}
    results = [c for c in others if c not in delta_cols]
    deltas = {c: c + DELTA_SUFFIX for c in results if c + DELTA_SUFFIX in delta_cols}
    return TableColumns(results, deltas)
