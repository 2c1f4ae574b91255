"""Box plots of sweep metrics: one horizontal box per metric, with every run shown as a dot.

A seed sweep has a handful to a few dozen runs, so the box alone hides too much: each run is also
drawn as a small dot, jittered vertically so equal values stay distinguishable.

Design decisions:
- One row per metric (4×1 in each), stacked, each with its own x axis: metrics have unrelated units
  and ranges, so sharing x would flatten all but one.
- The y tick is the metric's label (its title, else the column name); there is no y axis otherwise.
- Fliers are not drawn by the box (every point is already drawn), so an outlier is not shown twice.
- Jitter comes from a fixed seed, so re-running a cell gives a byte-identical figure.
- NaN values (e.g. a run that could not be scored) are left out of that metric's box, as pandas'
  summaries do; a metric with no finite values, a column that does not exist, a log scale for a metric
  with non-positive values, or a `log`/`titles` entry naming no plotted column are errors naming the
  column.

Deliberately not done here: no grouping by a category, no statistics printed, no shared x limits.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from utils.plt import Theme

_JITTER = 0.12
"""Half-height of the vertical jitter band, as a fraction of the box position spacing."""


def draw_metric_box(
    ax: Axes,
    values: ArrayLike,
    *,
    label: str | None = None,
    log: bool = False,
    xlim: tuple[float, float] | None = None,
    theme: Theme | None = None,
    seed: int = 0,
) -> None:
    """One horizontal box of the finite `values` plus each value as a jittered dot."""
    theme = theme or Theme('indeterminate')
    what = repr(label) if label else 'values'
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        raise ValueError(f'draw_metric_box: {what} has no values that are not NaN')
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'draw_metric_box: {what} contains an infinite value')
    if log and np.any(arr <= 0):
        raise ValueError(f'draw_metric_box: {what} has values <= 0, which a log axis cannot show')
    edge = theme.val('#888', light='#333', dark='#ddd')
    ax.boxplot(
        arr,
        orientation='horizontal',
        positions=[0],
        widths=0.6,
        showfliers=False,
        patch_artist=True,
        boxprops={'facecolor': theme.val('#8883', light='#0001', dark='#fff2'), 'edgecolor': edge},
        medianprops={'color': theme.val('#888', light='black', dark='white'), 'linewidth': 1.5},
        whiskerprops={'color': edge},
        capprops={'color': edge},
    )
    jitter = np.random.default_rng(seed).uniform(-_JITTER, _JITTER, arr.size)
    ax.scatter(arr, jitter, s=6, color=theme.val('#58c', light='#1f5fa8', dark='#8bf'), alpha=0.7, zorder=3)
    if log:
        ax.set_xscale('log')
    if xlim is not None:
        ax.set_xlim(*xlim)
    ax.set_ylim(-0.5, 0.5)
    if label:
        ax.set_yticks([0], [label])
    else:
        ax.set_yticks([])
    ax.tick_params(axis='y', length=0)


def _column_set(arg: bool | Collection[str] | None, columns: Sequence[str], argument: str) -> set[str]:
    if arg is None or arg is False:
        return set()
    if arg is True:
        return set(columns)
    if isinstance(arg, str):
        raise TypeError(
            f'{argument}: expected a bool or a collection of column names, got the string {arg!r}'
        )
    unknown = [c for c in arg if c not in columns]
    if unknown:
        raise KeyError(f'{argument}: {unknown} are not among the plotted columns {list(columns)}')
    return set(arg)


def plot_metric_boxes(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    log: bool | Collection[str] | None = None,
    titles: Mapping[str, str] | None = None,
    xlims: Mapping[str, tuple[float, float]] | None = None,
    title: str = '',
    row_size: tuple[float, float] = (4, 1),
    theme: Theme | None = None,
) -> Figure:
    """Stacked horizontal boxes, one row per entry of `columns`.

    `log` is True (every column), or the columns to draw on a log x axis. `titles` maps a column to
    its displayed label; `xlims` a column to its x limits.
    """
    if isinstance(columns, str):
        raise TypeError(f'columns: expected a sequence of column names, got the string {columns!r}')
    columns = list(columns)
    if not columns:
        raise ValueError('columns: give at least one column')
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f'columns: {missing} not in the data frame, which has {list(df.columns)}')
    log_cols = _column_set(log, columns, 'log')
    titles = dict(titles or {})
    xlims = dict(xlims or {})
    for argument, mapping in (('titles', titles), ('xlims', xlims)):
        _column_set(list(mapping), columns, argument)
    fig, axs = plt.subplots(len(columns), 1, figsize=(row_size[0], row_size[1] * len(columns)), squeeze=False)
    try:
        for ax, col in zip(axs[:, 0], columns, strict=True):
            draw_metric_box(
                ax,
                pd.to_numeric(df[col], errors='raise').to_numpy(dtype=np.float64),
                label=titles.get(col, col),
                log=col in log_cols,
                xlim=xlims.get(col),
                theme=theme,
            )
    except BaseException:
        plt.close(fig)
        raise
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
