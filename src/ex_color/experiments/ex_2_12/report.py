"""Ex 2.12's prose, rendered from its results: the deletions side by side, how fast each came back, and
which held longest (chosen from the medians, never typed)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ex_color.evaluation.metrics import HEADLINE_METRICS, METRICS
from ex_color.evaluation.numbers import g, median_interval, quartiles

__all__ = ['cases_table', 'recovery_markdown', 'relearning_markdown']


def cases_table(by_case: Mapping[str, pd.DataFrame], labels: Mapping[str, str] | None = None) -> str:
    """Several ways of deleting on the same seeds: each metric's median [IQR] and the pass rate, as Markdown."""
    labels = dict(labels or {})
    metrics = HEADLINE_METRICS
    lines = [
        '| deletion | ' + ' | '.join(METRICS[m] for m in metrics) + ' | every threshold |',
        '|---|' + '---:|' * (len(metrics) + 1),
    ]
    for case, df in by_case.items():
        cells = []
        for m in metrics:
            q1, med, q3 = quartiles(df[m])
            cells.append(median_interval(med, q1, q3))
        lines.append(
            f'| {labels.get(case, case)} | ' + ' | '.join(cells) + f' | {int(df["pass"].sum())}/{len(df)} |'
        )
    return '\n'.join(lines)


def _iqr(values: pd.Series) -> str:
    q1, med, q3 = quartiles(values)
    return median_interval(med, q1, q3, prose='IQR')


def _steps(v: float, max_steps: int) -> str:
    if np.isnan(v):
        return 'undefined'
    return f'more than {max_steps}' if np.isinf(v) else f'{v:.0f}'


def _recovery_row(row: pd.Series) -> tuple[int, tuple[str, str, str], str]:
    """A `recovery_table` row's step budget, its median and quartile steps in words, and 'k/n' back."""
    n = int(row['max steps'])
    steps = tuple(_steps(float(row[c]), n) for c in ('median steps', 'q1', 'q3'))
    return n, (steps[0], steps[1], steps[2]), f'{int(row["recovered"])}/{int(row["seeds"])}'


def recovery_markdown(recovery: pd.DataFrame, labels: Mapping[str, str] | None = None) -> str:
    """`recovery.recovery_table` as Markdown, censored medians said in words."""
    labels = dict(labels or {})
    lines = [
        '| deletion | steps to half recovery: median [IQR] | seeds half-way back | nothing to recover |',
        '|---|---:|---:|---:|',
    ]
    for case, row in recovery.iterrows():
        n, (med, q1, q3), back = _recovery_row(row)
        lines.append(
            f'| {labels.get(str(case), case)} | {med} [{q1}, {q3}] | {back} within {n} | '
            f'{int(row["nothing to recover"])} |'
        )
    return '\n'.join(lines)


def relearning_markdown(
    after: Mapping[str, pd.DataFrame],
    recovery: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
) -> str:
    """What deleting did right away and how fast fine-tuning undid it, per case, with the order
    (which deletion held longest) chosen from the medians."""
    labels = dict(labels or {})
    right_after = '; '.join(
        f'{labels.get(c, c)}: error at red {_iqr(df["red"])}, median collateral {g(float(df["median"].median()))}, '
        f'worst of green, cyan and blue {g(float(df["worst_gcb"].median()))}, r {g(float(df["r"].median()))}'
        for c, df in after.items()
    )
    parts = []
    for case, row in recovery.iterrows():
        n, (med, q1, q3), back = _recovery_row(row)
        parts.append(
            f'{labels.get(str(case), case)}: {med} steps (median; IQR {q1}–{q3}), '
            f'{back} seeds half-way back within {n}'
            + (
                f', {int(row["nothing to recover"])} with nothing to recover'
                if row['nothing to recover']
                else ''
            )
        )
    order = recovery['median steps'].astype(float).sort_values(ascending=False, na_position='last')
    ranked = [labels.get(c, c) for c in order.index if not np.isnan(order[c])]
    if len(ranked) >= 2 and order.iloc[0] > order.iloc[1]:
        verdict = f'The deletion that held longest is {ranked[0]}; the quickest to come back is {ranked[-1]}.'
    elif len(ranked) >= 2:
        verdict = 'No deletion held longer than the others by the median steps to half recovery.'
    else:
        verdict = ''
    return (
        f'**Right after deletion** (medians over seeds): {right_after}.\n\n'
        f'**Fine-tuning on the training colours** brought half of the red error back after: '
        + '; '.join(parts)
        + '. '
        + verdict
    )
