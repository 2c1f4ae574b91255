"""Ex 2.13 drawn: how seeds fail and what a failing seed's training looks like; how the race ran.

* `plot_failure_modes(counts, curves, panels)`: left, the share of seeds in each failure mode per
  configuration with its Wilson 95 % interval; right, one panel per traced quantity (red's angle to
  its anchor, a regulariser term, a thresholded metric), the median over each mode's seeds step by
  step with the interquartile band of the seeds that pass, and the threshold where the quantity has one.
* `plot_race(standings, rungs)`: every candidate's pass rate over all the seeds it ran, rung by rung,
  with the finalists' Wilson intervals; the winner and the start candidate picked out.

Design decisions:
- One colour per mode in every panel (fixed, legible on light and dark), so a mode reads the same
  on the bars and on the curves.
- Errors are drawn on a log axis (they span decades); a threshold is a dashed line with its label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ex_color.evaluation.claims import rate_estimate
from ex_color.experiments.ex_2_13.modes import MODES
from ex_color.search.racing import Candidate, Rung
from utils.plt import Theme

__all__ = ['MODE_COLOURS', 'Trace', 'plot_failure_modes', 'plot_race']

MODE_COLOURS = dict(
    zip(MODES, ('#2a9d8f', '#8d6cab', '#e76f51', '#d4a017', '#c0397a', '#4f83cc'), strict=True)
)
"""One colour per failure mode, the same in every panel."""


@dataclass(frozen=True)
class Trace:
    """One panel of curves: a quantity of `curves_by_mode`' table and how to draw it."""

    quantity: str
    label: str
    log: bool = False
    threshold: float | None = None
    threshold_label: str = ''


def plot_failure_modes(
    counts: pd.DataFrame,
    curves: pd.DataFrame,
    traces: Sequence[Trace],
    *,
    curves_of: str,
    title: str = '',
    theme: Theme | None = None,
) -> Figure:
    """`counts`: `modes.mode_counts`' table; `curves`: `modes.curves_by_mode`' table of configuration
    `curves_of`; `traces`: the panels, in order (two rows)."""
    theme = theme or Theme('indeterminate')
    colours = theme.palette()
    if not traces:
        raise ValueError('plot_failure_modes: no traces to draw')
    cols = (len(traces) + 1) // 2
    fig = plt.figure(figsize=(4.4 + 3.6 * cols, 6.6), layout='constrained')
    grid = fig.add_gridspec(2, cols + 1, width_ratios=[1.25] + [1] * cols)

    bars = fig.add_subplot(grid[:, 0])
    configs = list(dict.fromkeys(counts['configuration']))
    height = 0.8 / len(configs)
    y = np.arange(len(MODES))[::-1]
    hatches = ['', '///', 'xx', '..']
    for j, config in enumerate(configs):
        part = counts[counts['configuration'] == config].set_index('mode').loc[list(MODES)]
        n = int(part['n'].iloc[0])
        pos = y + (len(configs) - 1 - 2 * j) * height / 2
        share = part['seeds'] / n
        bars.barh(
            pos, share, height=height * 0.9, color=[MODE_COLOURS[m] for m in MODES], alpha=1.0 - 0.45 * j,
            hatch=hatches[j % len(hatches)], edgecolor=colours['fg'], linewidth=0.4, label=f'{config} (n = {n})',
        )  # fmt: skip
        for p, low, high in zip(pos, part['low'], part['high'], strict=True):
            bars.plot([low, high], [p, p], color=colours['fg'], lw=1.1)
    bars.set_yticks(y, [m.replace(', ', ',\n') for m in MODES])
    bars.set_xlim(0, 1)
    bars.xaxis.set_major_formatter(lambda v, _: f'{v:.0%}')
    bars.set_xlabel('share of seeds (line: 95 % CI)')
    bars.legend(loc='lower right', fontsize='small', frameon=False)
    bars.set_title('How the seeds end')

    for i, trace in enumerate(traces):
        ax = fig.add_subplot(grid[i % 2, 1 + i // 2])
        part = curves[curves['quantity'] == trace.quantity]
        if part.empty:
            ax.text(0.5, 0.5, 'no mode with enough seeds\nto draw quartiles', ha='center', va='center',
                    transform=ax.transAxes, color=colours['fg'], fontsize='small')  # fmt: skip
        for mode in MODES:
            m = part[part['mode'] == mode].sort_values('step')
            if m.empty:
                continue
            if mode == 'passes':
                ax.fill_between(m['step'], m['q1'], m['q3'], color=MODE_COLOURS[mode], alpha=0.2, lw=0)
            ax.plot(
                m['step'],
                m['median'],
                color=MODE_COLOURS[mode],
                lw=1.6,
                label=f'{mode} ({int(m["n"].max())})',
            )
        if trace.threshold is not None:
            ax.axhline(trace.threshold, color=colours['fg'], lw=0.9, ls='--')
            ax.annotate(
                trace.threshold_label, (0.01, trace.threshold), xycoords=('axes fraction', 'data'),
                fontsize='x-small', color=colours['fg'], va='bottom',
            )  # fmt: skip
        if trace.log:
            ax.set_yscale('log')
        ax.set_title(trace.label, fontsize='medium')
        ax.set_xlabel(f'training step ({curves_of})')
        if i == 0 and ax.get_legend_handles_labels()[0]:
            ax.legend(
                fontsize='x-small',
                frameon=False,
                title='median of seeds that end as',
                title_fontsize='x-small',
            )
    if title:
        fig.suptitle(title)
    return fig


def plot_race(
    standings: Sequence[Candidate], rungs: Sequence[Rung], *, start: int | None = None, title: str = '',
    theme: Theme | None = None,
) -> Figure:  # fmt: skip
    """Each candidate's pass rate over every seed it ran, after each rung it ran; `start`: the number
    of the start candidate (picked out)."""
    theme = theme or Theme('indeterminate')
    colours = theme.palette()
    if not standings:
        raise ValueError('plot_race: no candidates')
    fig, ax = plt.subplots(figsize=(7.5, 4.6), layout='constrained')
    rng = np.random.default_rng(0)
    winner = standings[0]
    for c in sorted(standings, key=lambda c: (len(c.seeds), c is winner)):  # the winner on top
        k, n = np.cumsum(c.passed), np.cumsum(c.seeds)
        x = np.arange(len(k)) + (rng.uniform(-0.12, 0.12) if len(k) == 1 else 0.0)
        finalist = len(k) == len(rungs)
        colour = colours['accent'] if c is winner else (colours['data'] if finalist else colours['faint'])
        ax.plot(x, k / n, marker='o', ms=3.5 if finalist else 2.5, lw=1.4 if finalist else 0.8, color=colour)
        if finalist:
            for xi, ki, ni in zip(x, k, n, strict=True):
                e = rate_estimate(int(ki), int(ni))
                ax.plot([xi, xi], [e.low, e.high], color=colour, lw=0.9, alpha=0.8)
        if c.number == start:
            ax.plot(
                x[-1],
                k[-1] / n[-1],
                marker='s',
                ms=7,
                mfc='none',
                mec=colours['fg'],
                ls='none',
                label='start',
            )
    ax.plot([], [], color=colours['accent'], marker='o', label=f'chosen (candidate {winner.number})')
    ax.plot([], [], color=colours['data'], marker='o', label='other finalists')
    totals = np.cumsum([len(r.seeds) for r in rungs])
    ax.set_xticks(
        range(len(rungs)), [f'rung {i + 1}\n{r.keep} × {len(r.seeds)} seeds\n({t} in all)' for i, (r, t) in enumerate(zip(rungs, totals, strict=True))]
    )  # fmt: skip
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(lambda v, _: f'{v:.0%}')
    ax.set_ylabel('pass rate over every seed run so far\n(finalists: 95 % CI)')
    ax.legend(loc='lower right', fontsize='small', frameon=False)
    if title:
        ax.set_title(title)
    return fig
