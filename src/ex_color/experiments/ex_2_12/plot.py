"""Relearning curves: how a deleted colour's error falls back while a deleted model is fine-tuned.

`plot_relearning(curves, half_steps)` draws two panels against fine-tuning steps: the error at red,
and the worst error of the far colours (collateral healing or not). Each case (a way of deleting) is
a median line over its seeds with the interquartile range shaded; a dot marks the median step at
which the error was half-way back in orders of magnitude (`recovery.half_recovery_step`), the dotted
line is the median error before anything was deleted, and a dashed line the level at which red
counts as relearned (`recovery.relearn_step`).

Design decisions:
- Errors span decades between "deleted" and "recovered", so both panels' errors are logarithmic;
  steps are linear to 10 and logarithmic after, as most of the change happens early.
- `curves` is `FineTuneResult.colour_errors` with a ``case`` column: the figure draws exactly what
  the fine-tuning recorded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ex_color.experiments.ex_2_12.recovery import curve_quartiles
from utils.plt import Theme

__all__ = ['plot_relearning']

_PALETTE = ('#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b')
_PALETTE_DARK = ('#7fb8ff', '#ff8a80', '#8fe388', '#cfa8ff', '#e0b090')


def plot_relearning(
    curves: pd.DataFrame,
    half_steps: Mapping[str, float],
    *,
    before: Mapping[str, float] | None = None,
    level: float | None = None,
    far: Sequence[str] = ('green', 'cyan', 'blue'),
    labels: Mapping[str, str] | None = None,
    title: str = '',
    theme: Theme | None = None,
) -> Figure:
    """`curves`: rows (case, member, step, colour, mse); `half_steps`: case -> median steps to half
    recovery on the log scale (inf: not within the run; a case without one gets no dot); `before`:
    case -> median red error before deletion; `level`: the error at which red counts as relearned."""
    theme = theme or Theme('indeterminate')
    missing = [c for c in ('case', 'member', 'step', 'colour', 'mse') if c not in curves.columns]
    if missing:
        raise KeyError(f'plot_relearning: the curves have no column(s) {missing}')
    colours = set(curves['colour'])
    if 'red' not in colours or not set(far) <= colours:
        raise KeyError(f'plot_relearning: need red and {list(far)} in the curves, have {sorted(colours)}')
    labels = dict(labels or {})
    cases = list(dict.fromkeys(curves['case']))
    palette = [theme.val(a, dark=b) for a, b in zip(_PALETTE, _PALETTE_DARK, strict=True)]
    faint = theme.val('#0006', dark='#fff6')
    red = curves[curves['colour'] == 'red']
    worst = (
        curves[curves['colour'].isin(far)].groupby(['case', 'member', 'step'], as_index=False)['mse'].max()
    )
    fig, (ax_red, ax_far) = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True, layout='constrained')
    n_seeds = red.groupby('case')['member'].nunique()
    for i, case in enumerate(cases):
        colour = palette[i % len(palette)]
        name = labels.get(case, case)
        for ax, frame in ((ax_red, red), (ax_far, worst)):
            q = curve_quartiles(frame[frame['case'] == case], 'case')
            ax.fill_between(q['step'], q['q1'], q['q3'], color=colour, alpha=0.18, linewidth=0)
            ax.plot(
                q['step'], q['median'], color=colour, linewidth=1.6, label=f'{name} ({n_seeds[case]} seeds)'
            )
        half = half_steps.get(case, math.nan)
        median = curve_quartiles(red[red['case'] == case], 'case').set_index('step')['median']
        if math.isfinite(half):
            at = median.index[median.index.get_indexer(pd.Index([half]), method='nearest')[0]]
            ax_red.plot([half], [median.loc[at]], 'o', color=colour, markersize=6, zorder=5)
        if before is not None and case in before:
            ax_red.axhline(before[case], color=colour, linestyle=':', linewidth=1)
    ax_red.set_yscale('log')
    ax_far.set_yscale('log')
    ax_red.set_title('error at red (median, IQR shaded)', fontsize=9, loc='left')
    ax_far.set_title(f'worst error of {", ".join(far)}', fontsize=9, loc='left')
    for ax in (ax_red, ax_far):
        ax.set_xscale('symlog', linthresh=10)  # recovery starts within a few steps; the tail runs long
        ax.set_xlabel('fine-tuning step (linear to 10, logarithmic after)')
        ax.grid(True, which='major', color=faint, linewidth=0.5, alpha=0.4)
    ax_red.set_ylabel('MSE')
    if level is not None:
        ax_red.axhline(level, color=faint, linestyle='--', linewidth=1.2)
        ax_red.plot([], [], '--', color=faint, label=f'relearned: error at red ≤ {level:g}')
    ax_red.plot([], [], 'o', color=faint, label='half-way back in orders of magnitude (median)')
    ax_red.plot([], [], ':', color=faint, label='before deletion (median)')
    ax_red.legend(fontsize=7, loc='best', frameon=False)
    fig.suptitle(title or 'Relearning after deletion', fontsize=10)
    return fig
