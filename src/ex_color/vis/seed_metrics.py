"""Per-seed metrics: one panel per metric, one row per configuration, every seed a dot.

Design decisions:
- A claim about the method is about a distribution, so every seed is drawn (a dot, jittered
  vertically by a fixed-seed jitter so re-runs give identical figures) over a box of the middle half.
- Configurations trained on the same seeds are joined seed by seed with faint lines, so a paired
  comparison can be read off the figure, not only off the p-value.
- The story's seed (`highlight`) is ringed and labelled: the reader sees where the single-seed
  figures above sit in the distribution.
- A threshold is a dashed vertical line; metrics whose values span decades get a log axis. A value of
  exactly 0 on a log axis (a model that reconstructs a colour perfectly) is drawn as a ◀ at the
  axis' left edge, half a decade below the smallest positive value, and the panel says how many.

Deliberately not done: statistics in the figure (the table beside it has them).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from utils.plt import Theme

__all__ = ['plot_seed_metrics']


def _zero_floor(groups: Mapping[str, pd.DataFrame], metric: str) -> tuple[float | None, int]:
    """Where a log axis draws values of exactly 0 (half a decade below the smallest positive value),
    and how many there are; (None, 0) when there are none."""
    values = np.concatenate([df[metric].astype(float).to_numpy() for df in groups.values()])
    zeros = int((values <= 0).sum())
    positive = values[values > 0]
    if not zeros:
        return None, 0
    return (float(positive.min()) / 10**0.5 if len(positive) else 1e-12), zeros


def plot_seed_metrics(
    groups: Mapping[str, pd.DataFrame],
    metrics: Sequence[str],
    *,
    labels: Mapping[str, str] | None = None,
    limits: Mapping[str, float] | None = None,
    log: Collection[str] = (),
    highlight: int | None = 0,
    title: str = '',
    theme: Theme | None = None,
) -> Figure:
    """`groups` maps a configuration's name to its per-seed metrics (index: seed)."""
    theme = theme or Theme('indeterminate')
    if not groups:
        raise ValueError('plot_seed_metrics: no groups to plot')
    names = list(groups)
    for name, df in groups.items():
        missing = [m for m in metrics if m not in df.columns]
        if missing:
            raise KeyError(f'plot_seed_metrics: group {name!r} has no column(s) {missing}')
        bad = [m for m in log if m in df.columns and (df[m] < 0).any()]
        if bad:
            raise ValueError(f'plot_seed_metrics: group {name!r} has values < 0 in log-scaled {bad}')
    labels, limits = dict(labels or {}), dict(limits or {})
    fg = theme.val('#888', light='#333', dark='#ddd')
    dot = theme.val('#58c', light='#1f5fa8', dark='#8bf')
    ring = theme.val('#c60', light='#b34700', dark='#fa6')
    height = 0.5 + 0.45 * len(names)
    fig, axs = plt.subplots(len(metrics), 1, figsize=(6, height * len(metrics)), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, metric in zip(axs[:, 0], metrics, strict=True):
        positions = {}
        floor, zeros = _zero_floor(groups, metric) if metric in log else (None, 0)
        for y, name in enumerate(names):
            values = groups[name][metric].astype(float)
            if floor is not None:
                values = values.where(values > 0, floor)
            positions[name] = pd.Series(y + rng.uniform(-0.12, 0.12, len(values)), index=values.index)
            ax.boxplot(
                values.to_numpy(),
                orientation='horizontal',
                positions=[y],
                widths=0.55,
                showfliers=False,
                patch_artist=True,
                boxprops={'facecolor': theme.val('#8883', light='#0001', dark='#fff2'), 'edgecolor': fg},
                medianprops={'color': fg, 'linewidth': 1.5},
                whiskerprops={'color': fg},
                capprops={'color': fg},
            )
            at_zero = values.index[(groups[name][metric].astype(float) <= 0).to_numpy() & (floor is not None)]
            rest = values.drop(at_zero)
            ax.scatter(rest, positions[name][rest.index], s=10, color=dot, alpha=0.8, zorder=3)
            if len(at_zero):
                ax.scatter(
                    values[at_zero],
                    positions[name][at_zero],
                    s=18,
                    marker='<',
                    color=ring,
                    alpha=0.9,
                    zorder=3,
                )
            if highlight is not None and highlight in values.index:
                x = values[highlight]
                ax.scatter(
                    [x], [positions[name][highlight]], s=60, facecolors='none', edgecolors=ring, zorder=4
                )
                ax.annotate(
                    f'seed {highlight}',
                    (x, positions[name][highlight]),
                    xytext=(0, 7),
                    textcoords='offset points',
                    ha='center',
                    fontsize=7,
                    color=ring,
                )
        for a, b in zip(names, names[1:], strict=False):  # join each seed across configurations
            common = groups[a].index.intersection(groups[b].index)
            for seed in common:
                ends = [float(groups[a].loc[seed, metric]), float(groups[b].loc[seed, metric])]
                if floor is not None:
                    ends = [v if v > 0 else floor for v in ends]
                ax.plot(
                    ends,
                    [positions[a][seed], positions[b][seed]],
                    color=fg,
                    alpha=0.25,
                    linewidth=0.7,
                    zorder=2,
                )
        if metric in limits:
            ax.axvline(limits[metric], color=ring, linestyle='--', linewidth=1, alpha=0.8)
        if metric in log:
            ax.set_xscale('log')
            ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a narrow range collide
        ax.set_yticks(range(len(names)), names if len(names) > 1 else [''])
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.invert_yaxis()
        zero_note = f' · {zeros} values of exactly 0 drawn as ◀ at the left edge' if zeros else ''
        ax.set_title(labels.get(metric, metric) + zero_note, fontsize=9, loc='left')
        ax.tick_params(axis='y', length=0)
    n = max(len(df) for df in groups.values())
    fig.suptitle(title or f'Per-seed metrics ({n} seeds)', fontsize=10)
    return fig
