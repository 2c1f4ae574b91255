"""Label coverage at a glance: each metric, and the pass rate, against the labels a member actually saw.

`plot_label_coverage(df, metrics)` takes one row per trained member (a data setting such as
``annotators``, the ``labels`` it drew, its metrics and pass columns) and draws one panel per metric
plus a pass-rate panel below them, all on one shared label axis:

* every member is a faint dot at its own label count;
* each setting is a point at its seeds' median label count, joined by a line through the medians of
  the metric, with a band over the interquartile range;
* a dashed line marks a metric's threshold, where it has one;
* the pass-rate panel shows, per setting, the fraction of seeds passing each of `rates` (e.g. every
  threshold, and the red threshold alone) with its Wilson 95% interval as a bar, and a line at one
  half, with the setting's value named along its top edge.

Design decisions:
- The label axis is symmetric-log with a linear stretch below 1 label: a member that drew no label
  at all is drawn at 0, not dropped (a log axis cannot show it), and above 1 the axis is logarithmic.
- Metrics named in `log` get a log axis: these errors span decades.
- The figure reads only columns, so it shows exactly the table the notebook prints; a missing column
  is a KeyError naming it, before any figure is made.
- Pass rates carry their intervals because the verdicts do: a setting works only when its bar lies
  wholly above the line at one half (`coverage.majority`). The bars of the rates of one setting sit a
  few points apart, so that they do not hide each other. Members are drawn small and faint, so that
  200 seeds per setting still read as a cloud rather than a blot.

Deliberately not done: a fitted dose-response curve.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter
from matplotlib.transforms import blended_transform_factory, offset_copy

from ex_color.evaluation.intervals import wilson
from ex_color.evaluation.numbers import setting_name
from utils.plt import Theme

__all__ = ['plot_label_coverage']


def _colours(theme: Theme) -> dict[str, str]:
    return {**theme.palette(), 'member': theme.val('#8888', light='#0005', dark='#fff6')}


def _label_axis(ax, top: float) -> None:
    ax.set_xscale('symlog', linthresh=1, linscale=0.4)
    ax.set_xlim(-0.2, top * 1.6)
    decades = [0, *(10.0**k for k in range(int(np.ceil(np.log10(top * 1.6)))))]
    ax.xaxis.set_major_locator(FixedLocator(decades))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_label_coverage(
    df: pd.DataFrame,
    metrics: Sequence[str],
    *,
    setting: str = 'annotators',
    rates: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    limits: Mapping[str, float] | None = None,
    log: Collection[str] = (),
    setting_label: str = 's',
    title: str = '',
    theme: Theme | None = None,
) -> Figure:
    """`df`: one row per member with `setting`, ``labels`` (drawn), every one of `metrics` and every
    pass column in `rates` (column -> legend text; default ``{'pass': 'every threshold'}``)."""
    theme = theme or Theme('indeterminate')
    rates = dict(rates or {'pass': 'every threshold'})
    labels, limits = dict(labels or {}), dict(limits or {})
    missing = [c for c in dict.fromkeys([setting, 'labels', *metrics, *rates]) if c not in df.columns]
    if missing:
        raise KeyError(f'plot_label_coverage: the table has no column(s) {missing}')
    if df.empty:
        raise ValueError('plot_label_coverage: no members to plot')
    if not metrics:
        raise ValueError('plot_label_coverage: no metrics to plot')
    bad = [m for m in metrics if m in log and (df[m].astype(float) < 0).any()]
    if bad:
        raise ValueError(f'plot_label_coverage: negative values in log-scaled {bad}')
    c = _colours(theme)
    groups = df.groupby(setting, sort=True)
    x = groups['labels'].median().astype(float)  # one point per setting, at its median label count
    top = max(float(df['labels'].max()), 1.0)

    # dots shrink as members crowd in: 7 pt² up to 20 seeds per setting, down to 3 pt² at 200 and more
    dot = float(np.clip(7 - 4 * np.log10(len(df) / len(x) / 20), 3, 7))
    rows = -(-len(metrics) // 2) + 1
    fig = plt.figure(figsize=(9, 2.6 * rows + 0.6), layout='constrained')
    grid = fig.add_gridspec(rows, 2, height_ratios=[1] * (rows - 1) + [1.1])
    first = None
    axes = []
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(grid[i // 2, i % 2], sharex=first)
        first = first or ax
        axes.append(ax)
        values = groups[metric]
        q1, med, q3 = (values.quantile(q).astype(float) for q in (0.25, 0.5, 0.75))
        ys = df[metric].astype(float)
        zero = (ys == 0) if metric in log else pd.Series(False, index=ys.index)
        ax.scatter(df['labels'][~zero], ys[~zero], s=dot, color=c['member'], linewidths=0, label='member')
        if zero.any():
            # An error of exactly 0 (an output that saturates at the colour itself) has no place on a log
            # axis: such members sit at a floor below every other value, marked as what they are.
            floor = float(ys[~zero].min()) / 4 if (~zero).any() else 1e-12
            ax.scatter(
                df['labels'][zero], np.full(int(zero.sum()), floor), s=16, marker='v', color=c['accent'],
                linewidths=0, label=f'member at exactly 0 (drawn at {floor:.1g})',
            )  # fmt: skip
            q1, med, q3 = (v.clip(lower=floor) for v in (q1, med, q3))
        ax.fill_between(x, q1, q3, color=c['band'], linewidth=0, label='middle half of the seeds')
        ax.plot(
            x, med, color=c['data'], marker='o', markersize=3.5, linewidth=1.5, label='median of the seeds'
        )
        if metric in limits:
            ax.axhline(limits[metric], color=c['accent'], linestyle='--', linewidth=1, label='threshold')
        if metric in log:
            ax.set_yscale('log')
        ax.set_title(labels.get(metric, metric), fontsize=9, loc='left')
        ax.tick_params(labelbottom=i >= len(metrics) - 2, labelsize=8)
    rate_ax = fig.add_subplot(grid[rows - 1, :], sharex=first)
    axes.append(rate_ax)
    styles = ['-', '--', ':', '-.']
    colours = [c['data'], c['accent'], c['fg'], c['fg']]
    for j, (column, text) in enumerate(rates.items()):
        passed = groups[column].apply(lambda v: int(v.astype(bool).sum()))
        n_seeds = groups[column].size()
        rate = passed / n_seeds
        interval = np.array([wilson(int(k), int(n)) for k, n in zip(passed, n_seeds, strict=True)])
        shift = offset_copy(rate_ax.transData, fig=fig, x=3 * (j - (len(rates) - 1) / 2), units='points')
        rate_ax.vlines(
            x, interval[:, 0], interval[:, 1], color=colours[j % 4], linewidth=1.2, transform=shift
        )
        rate_ax.plot(
            x, rate, linestyle=styles[j % 4], color=colours[j % 4], marker='o', markersize=4, label=text,
            transform=shift,
        )  # fmt: skip
    rate_ax.axhline(0.5, color=c['faint'], linewidth=1)
    rate_ax.set_ylim(-0.05, 1.05)
    rate_ax.set_ylabel('fraction of seeds', fontsize=8)
    n = groups.size()
    seeds = f'{n.iloc[0]} seeds' if n.nunique() == 1 else f'{n.min()}–{n.max()} seeds'
    rate_ax.set_title(
        f'Seeds that pass ({seeds} per setting; bars: Wilson 95% intervals)', fontsize=9, loc='left', pad=16
    )
    rate_ax.legend(fontsize=7, loc='upper left', frameon=False)
    rate_ax.tick_params(labelsize=8)
    along_top = blended_transform_factory(rate_ax.transData, rate_ax.transAxes)
    for value, at in zip(x.index, x, strict=True):
        rate_ax.text(at, 1.02, setting_name(float(value)), transform=along_top, ha='center', va='bottom',
                     fontsize=7, color=c['fg'])  # fmt: skip
    rate_ax.set_title(
        f'{setting_label} of each setting, at its median label count', fontsize=7, loc='right', pad=16
    )
    _label_axis(first, top)
    rate_ax.set_xlabel('labelled samples a member drew (log above 1)', fontsize=8)
    for ax in axes:
        ax.grid(True, axis='x', color=c['faint'], linewidth=0.6)
    # upper left: few labels leave little error at red, so that corner of the first panel stays empty
    axes[0].legend(fontsize=7, loc='upper left', frameon=False)
    fig.suptitle(title or f'Label coverage · {len(df)} members, {len(x)} settings', fontsize=10)
    return fig
