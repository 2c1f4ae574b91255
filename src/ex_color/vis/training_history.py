"""Training curves: every recorded term against step, on the dopesheet's time axis.

Design decisions:
- Two panels sharing the step axis: training terms (window means) above, validation terms below, each
  on a log y axis (the terms span decades, and a weighted term near zero is the point of a schedule).
- The x axis is the schedule's: 0 to its last step, with a faint line and a label where each phase
  starts, so a change in a curve can be read against the schedule figure drawn the same way.
- Values <= 0 cannot sit on a log axis; they are left out of that line (a term that was exactly 0 was
  not active), never clamped.

Deliberately not done: per-member curves (a run's history holds every member; pass one member's).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline
from mini.temporal.vis import realize_timeline
from utils.plt import Theme
from utils.progress import metric_colour

__all__ = ['plot_training_history']


def plot_training_history(
    history: pd.DataFrame, dopesheet: Dopesheet, *, title: str = '', theme: Theme | None = None
) -> Figure:
    """`history` has rows (step, metric, value), as `TrainingModule.history(member)` returns."""
    theme = theme or Theme('indeterminate')
    missing = {'step', 'metric', 'value'} - set(history.columns)
    if missing:
        raise KeyError(f'plot_training_history: history lacks column(s) {sorted(missing)}')
    if history.empty:
        raise ValueError('plot_training_history: the history is empty (was the model trained?)')
    phases = realize_timeline(Timeline(dopesheet))['PHASE'].to_numpy()
    starts = [i for i in range(len(phases)) if i == 0 or phases[i] != phases[i - 1]]
    fig, axs = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    faint = theme.val('#8888', light='#0003', dark='#fff4')
    for ax, prefix, name in ((axs[0], 'train_', 'training'), (axs[1], 'val_', 'validation')):
        metrics = [m for m in dict.fromkeys(history['metric']) if str(m).startswith(prefix)]
        for metric in metrics:
            rows = history[history['metric'] == metric].sort_values('step')
            values = rows['value'].to_numpy(dtype=np.float64)
            keep = values > 0
            ax.plot(
                rows['step'].to_numpy()[keep],
                values[keep],
                label=metric[len(prefix) :],
                linewidth=1.2,
                color=metric_colour(metric),  # the live chart's colour for the same term
            )
        ax.set_yscale('log')
        ax.set_ylabel(name)
        for i in starts:
            ax.axvline(i, color=faint, linewidth=0.8)
            if ax is axs[0] and phases[i]:
                ax.annotate(
                    str(phases[i]),
                    (i, 1),
                    xycoords=('data', 'axes fraction'),
                    xytext=(3, -10),
                    textcoords='offset points',
                    fontsize=7,
                    color=faint[:4],
                )
        if metrics:
            ax.legend(fontsize=7, loc='upper right', ncols=2)
    axs[1].set_xlim(0, max(len(phases) - 1, 1))
    axs[1].set_xlabel('step')
    fig.suptitle(title or 'Training history', fontsize=10)
    return fig
