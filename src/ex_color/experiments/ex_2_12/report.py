"""Ex 2.12's prose, rendered from its results: the deletions side by side, how fast each came back, and
which held longest — read from paired tests over the seeds (Holm-corrected with the notebook's other
comparisons), never from medians alone and never typed.

`steps_by_case(steps, column, max_steps)` turns the per-seed step counts into one table per case for
`claims.paired_test`: a seed that never got there within the run is counted at the step budget, a
lower bound (so a comparison with it can only understate the difference), and a seed with nothing to
recover is left out. `ranking_markdown(tests, labels)` words each pairwise comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ex_color.evaluation.claims import PairedTest
from ex_color.evaluation.metrics import HEADLINE_METRICS, METRICS
from ex_color.evaluation.numbers import g, median_interval, quartiles
from ex_color.experiments.report import change_text

__all__ = [
    'cases_table',
    'ranking_markdown',
    'recovery_markdown',
    'relearning_markdown',
    'start_markdown',
    'steps_by_case',
]


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


def recovery_markdown(
    recovery: pd.DataFrame, labels: Mapping[str, str] | None = None, *, what: str = 'steps to half recovery'
) -> str:
    """`recovery.recovery_table` as Markdown, censored medians said in words."""
    labels = dict(labels or {})
    lines = [
        f'| model | {what}: median [IQR] | seeds there | nothing to recover |',
        '|---|---:|---:|---:|',
    ]
    for case, row in recovery.iterrows():
        n, (med, q1, q3), back = _recovery_row(row)
        lines.append(
            f'| {labels.get(str(case), case)} | {med} [{q1}, {q3}] | {back} within {n} | '
            f'{int(row["nothing to recover"])} |'
        )
    return '\n'.join(lines)


def steps_by_case(steps: pd.DataFrame, column: str, max_steps: int) -> dict[str, pd.DataFrame]:
    """Per case, a table indexed by seed with `column` (steps), censored seeds at `max_steps`."""
    missing = [c for c in ('case', 'seed', column) if c not in steps.columns]
    if missing:
        raise KeyError(f'steps_by_case: the steps have no column(s) {missing}')
    out = {}
    for case, group in steps.groupby('case', sort=False):
        v = group.set_index('seed')[column].astype(float).dropna()
        out[str(case)] = v.where(np.isfinite(v), float(max_steps)).to_frame(column)
    return out


def ranking_markdown(tests: Sequence[PairedTest], labels: Mapping[str, str], what: str) -> str:
    """Each pairwise comparison of `what` (a step count: more steps = the deletion held longer) as a
    sentence: which came back later, or that these seeds cannot tell them apart."""
    lines = []
    for t in tests:
        a, b = labels.get(t.a, t.a), labels.get(t.b, t.b)
        change = change_text(t)
        if t.verdict == 'not distinguishable':
            lines.append(
                f'- {b} and {a}: cannot be told apart by {what} at n = {t.n} ({change}, Holm p = {g(t.p_corrected)}).'
            )
        else:
            later = t.verdict == 'higher'
            lines.append(
                f'- {b} comes back {"later" if later else "sooner"} than {a} by {what} ({change}, n = {t.n}, '
                f'Holm p = {g(t.p_corrected)}).'
            )
    return '\n'.join(lines)


def relearning_markdown(after: Mapping[str, pd.DataFrame], labels: Mapping[str, str] | None = None) -> str:
    """What deleting did right away, per case (medians over seeds with their IQR)."""
    labels = dict(labels or {})
    right_after = '; '.join(
        f'{labels.get(c, c)}: error at red {_iqr(df["red"])}, median collateral {g(float(df["median"].median()))}, '
        f'worst of green, cyan and blue {g(float(df["worst_gcb"].median()))}, r {g(float(df["r"].median()))}'
        for c, df in after.items()
    )
    return f'**Right after deletion** (medians over seeds): {right_after}.'


def start_markdown(curves: pd.DataFrame, labels: Mapping[str, str], control: str) -> str:
    """Where each model's error at red starts fine-tuning (median over seeds), and how far below the
    deletions the control starts: the relearning race is read with its starting line."""
    red = curves[(curves['colour'] == 'red') & (curves['step'] == curves['step'].min())]
    start = red.groupby('case', sort=False)['mse'].median()
    if control not in start.index:
        raise KeyError(f'start_markdown: no curves of the control {control!r}')
    said = ', '.join(f'{labels.get(str(c), c)} {g(float(v))}' for c, v in start.items())
    lowest = float(start.drop(control).min())
    return (
        f'Error at red when fine-tuning starts (median over seeds): {said}. The model that never learned red '
        f'starts {g(lowest / float(start[control]))}× below the lowest deletion: it reconstructs red from its '
        'neighbours, and the race to the line starts there.'
    )
