"""Where Ex 2.10 fails, drawn: which thresholds the seeds miss, and where on the test cube.

`plot_failures(table, maps)` draws, left, one bar per threshold (seeds missing only it, and missing it
with another) with the Wilson 95 % interval of its share; right, one hue × value map per group of
seeds (`failures.FailureMaps`): the median over the group of each colour's largest error across
saturations, on one logarithmic colour scale for every map, with each seed's worst colour as a dot.

Design decisions:
- One colour scale for all maps, so a map that looks brighter has larger errors.
- Hue runs in degrees along x (the cube wraps past red at both ends, so red sits at 0° and 360°),
  value up y; the name of the error (baseline or ablated) heads each map.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ex_color.experiments.ex_2_10.failures import FailureMaps
from utils.plt import Theme

__all__ = ['plot_failures']


def plot_failures(
    counts: pd.DataFrame, maps: FailureMaps, *, title: str = '', theme: Theme | None = None
) -> Figure:
    """`counts`: `failures.failure_counts`'s; `maps`: `FailureMaps.build`'s."""
    theme = theme or Theme('indeterminate')
    colours = theme.palette()
    if not maps.panels:
        raise ValueError('plot_failures: no group of seeds to map')
    kinds = [k for k in ('baseline', 'ablated') if any(p.kind == k for p in maps.panels)]
    rows = {k: [p for p in maps.panels if p.kind == k] for k in kinds}
    cols = max(len(r) for r in rows.values())
    fig = plt.figure(figsize=(4.6 + 3.3 * cols, 3.3 * len(kinds) + 0.6), layout='constrained')
    grid = fig.add_gridspec(len(kinds), cols + 1, width_ratios=[1.3] + [1] * cols)

    bars = fig.add_subplot(grid[:, 0])
    bar_rows = counts.iloc[::-1]  # most missed at the top
    names = list(bar_rows.index)
    y = np.arange(len(names))
    n = int(bar_rows['n'].iloc[0])
    bars.barh(y, bar_rows['only'], color=colours['data'], label='misses only this one')
    bars.barh(
        y,
        bar_rows['another'],
        left=bar_rows['only'],
        color=colours['band'],
        edgecolor=colours['data'],
        label='misses another too',
    )
    for i, (low, high) in enumerate(zip(bar_rows['low'] * n, bar_rows['high'] * n, strict=True)):
        bars.plot([low, high], [i, i], color=colours['fg'], lw=1.2)
    bars.set_yticks(y, [name.replace(' <= ', '\n<= ').replace(' >= ', '\n>= ') for name in names])
    bars.set_xlabel(f'seeds missing it (of {n}; line: 95 % CI)')
    bars.legend(loc='lower right', fontsize='small', frameon=False)
    bars.set_title('Thresholds missed')

    extent = (maps.hues[0] * 360, maps.hues[-1] * 360, maps.values[0], maps.values[-1])
    for r, kind in enumerate(kinds):
        panels = rows[kind]
        peak = max(float(p.median.max()) for p in panels)
        positive = [float(p.median[p.median > 0].min()) for p in panels if (p.median > 0).any()]
        floor = max(min(positive, default=peak * 1e-3), peak * 1e-4)
        norm = LogNorm(vmin=floor, vmax=peak)
        axes = []
        for c, panel in enumerate(panels):
            ax = fig.add_subplot(grid[r, 1 + c])
            axes.append(ax)
            image = ax.imshow(
                np.clip(panel.median.T, floor, None),
                origin='lower',
                aspect='auto',
                extent=extent,
                norm=norm,
                cmap='magma',
            )
            ax.scatter(
                panel.worst[:, 0] * 360,
                panel.worst[:, 1],
                s=9,
                facecolor='none',
                edgecolor='#3cf',
                linewidth=0.7,
            )
            group = panel.title.split(' · ', 1)[1]
            ax.set_title(f'{group}\n(n = {panel.n})', fontsize='small')
            ax.set_xticks([0, 90, 180, 270, 360])
            ax.set_xlabel('hue (°)')
            ax.set_ylabel('value')
        fig.colorbar(
            image, ax=axes, label=f'{kind} MSE: median over the seeds\nof the largest over saturation'
        )
    if title:
        fig.suptitle(title)
    return fig
