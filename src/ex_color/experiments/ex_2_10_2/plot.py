"""A schedule search at a glance: every trial's objectives in the order they ran, and the Pareto front.

`plot_search_progress(trials, objectives)` draws one panel per objective: each trained trial's seed
median against its trial number, batches separated by faint lines, the best feasible value so far as
a step line, infeasible trials hollow, the template's own point (the hand-made schedule) starred.
`plot_search_front(trials, front, x, y, colour)` draws the feasible trials (all trained ones, saying so,
when none is feasible) on two objectives, coloured by a third, with the front ringed and the template (even when it breaks a constraint) and the chosen trial marked.

Design decisions:
- Trials are read from `ScheduleSearch.trials()` columns, so the figures show exactly what the study
  stores; failed (invalid) trials have no values and are counted in the title, not drawn.
- Axes named in `log` are logarithmic: these errors span decades.

Deliberately not done: parameter-importance plots (Optuna's own `optuna.visualization` reads the
same study file).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from utils.plt import Theme

__all__ = ['plot_search_front', 'plot_search_progress']


def _trained(trials: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in ('state', 'feasible', 'template', 'batch', *columns) if c not in trials.columns]
    if missing:
        raise KeyError(f'search figure: the trials table has no column(s) {missing}')
    return trials[trials['state'] == 'COMPLETE']


def _start(
    trials: pd.DataFrame,
    columns: Sequence[str],
    theme: Theme | None,
    labels: Mapping[str, str] | None,
    who: str,
) -> tuple[Theme, dict[str, str], dict[str, str], pd.DataFrame]:
    """The theme, its colours, the labels and the trained trials of a search figure (refused when none)."""
    theme = theme or Theme('indeterminate')
    done = _trained(trials, columns)
    if done.empty:
        raise ValueError(f'{who}: no trained trials to plot')
    return theme, theme.palette(), dict(labels or {}), done


def plot_search_progress(
    trials: pd.DataFrame,
    objectives: Sequence[tuple[str, str]],
    *,
    labels: Mapping[str, str] | None = None,
    log: Collection[str] = (),
    title: str = '',
    theme: Theme | None = None,
) -> Figure:
    """`objectives`: (metric, 'minimize' | 'maximize') pairs, one panel each."""
    theme, c, labels, done = _start(trials, [m for m, _ in objectives], theme, labels, 'plot_search_progress')
    fig, axs = plt.subplots(
        len(objectives), 1, figsize=(7, 1.9 * len(objectives)), sharex=True, squeeze=False
    )
    starts = (
        done.index.to_series().groupby(done['batch'].to_numpy()).min().to_numpy()
    )  # first trial per batch
    for ax, (metric, direction) in zip(axs[:, 0], objectives, strict=True):
        values = done[metric].astype(float)
        feasible = done['feasible'].astype(bool)
        for start in starts[1:]:
            ax.axvline(start - 0.5, color=c['faint'], linewidth=0.8)
        ax.scatter(done.index[feasible], values[feasible], s=9, color=c['data'], alpha=0.8, label='feasible')
        ax.scatter(
            done.index[~feasible], values[~feasible], s=9, facecolors='none', edgecolors=c['fg'],
            alpha=0.6, label='breaks a constraint',
        )  # fmt: skip
        best = values.where(feasible)
        best = (
            best.cummax() if direction == 'maximize' else best.cummin()
        ).ffill()  # held over infeasible ones
        ax.step(
            done.index, best, where='post', color=c['accent'], linewidth=1.2, label='best feasible so far'
        )
        template = done.index[done['template'].astype(bool)]
        ax.scatter(
            template, values[template], marker='*', s=90, color=c['accent'], zorder=4, label='template'
        )
        if metric in log:
            ax.set_yscale('log')
        arrow = '↑' if direction == 'maximize' else '↓'
        ax.set_title(f'{labels.get(metric, metric)} ({arrow} better)', fontsize=9, loc='left')
    axs[-1, 0].set_xlabel('trial')
    axs[0, 0].legend(fontsize=7, loc='best', frameon=False)
    failed = int((trials['state'] != 'COMPLETE').sum())
    fig.suptitle(
        (title or 'Search progress')
        + f' · {len(done)} trials'
        + (f', {failed} not trained' if failed else ''),
        fontsize=10,
    )
    return fig


def plot_search_front(
    trials: pd.DataFrame,
    front: Collection[int],
    *,
    x: str,
    y: str,
    colour: str,
    chosen: int | None = None,
    labels: Mapping[str, str] | None = None,
    log: Collection[str] = (),
    title: str = '',
    theme: Theme | None = None,
) -> Figure:
    """Feasible trials on `x` against `y`, coloured by `colour`; `front` (trial numbers) ringed."""
    theme, c, labels, done = _start(trials, [x, y, colour], theme, labels, 'plot_search_front')
    feasible = done[done['feasible'].astype(bool)]
    none_feasible = feasible.empty
    if none_feasible:  # draw them all, and say so: an empty plot would hide what the search did
        feasible = done
    unknown = sorted(set(front) - set(feasible.index))
    if unknown:
        raise KeyError(f'plot_search_front: front trials {unknown} are not feasible trained trials')
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    shade = feasible[colour].astype(float)
    norm = plt.matplotlib.colors.LogNorm() if colour in log else None
    points = ax.scatter(feasible[x], feasible[y], c=shade, s=14, cmap='viridis', norm=norm, alpha=0.9)
    fig.colorbar(points, ax=ax, label=labels.get(colour, colour))
    on_front = feasible.loc[sorted(front)].sort_values(x)
    ax.scatter(on_front[x], on_front[y], s=70, facecolors='none', edgecolors=c['fg'], label='Pareto front')
    template = done.index[done['template'].astype(bool)]  # the reference, shown even when infeasible
    if len(template):
        kept = bool(done.loc[template[0], 'feasible'])
        ax.scatter(done.loc[template, x], done.loc[template, y], marker='*', s=160, color=c['accent'], zorder=4,
                   label='template (hand-made schedule)' + ('' if kept else ', breaks a constraint'))  # fmt: skip
    if chosen is not None:
        ax.scatter(feasible.loc[[chosen], x], feasible.loc[[chosen], y], marker='D', s=70,
                   facecolors='none', edgecolors=c['accent'], linewidths=2, zorder=5,
                   label=f'chosen (trial {chosen})')  # fmt: skip
    for axis, metric in (('x', x), ('y', y)):
        if metric in log:
            getattr(ax, f'set_{axis}scale')('log')
    ax.set_xlabel(labels.get(x, x))
    ax.set_ylabel(labels.get(y, y))
    ax.legend(fontsize=7, loc='best', frameon=False)
    infeasible = int(len(done) - len(feasible))
    fig.suptitle(
        (title or 'Pareto front')
        + (
            f' · none of {len(done)} trials keeps the constraints (all shown)'
            if none_feasible
            else f' · {len(feasible)} feasible trials'
            + (f' ({infeasible} break a constraint, not shown)' if infeasible else '')
        ),
        fontsize=9,
    )

    return fig
