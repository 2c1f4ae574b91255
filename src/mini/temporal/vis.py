"""Plots of a realised schedule: `realize_timeline`, `plot_timeline` and the two-panel `plot_dopesheet`.

Design decisions:
- `realize_timeline` reads the precomputed timeline (`timeline.at`, `timeline.values`) and returns one row
  per trainable step, 0 .. len - 1. It never steps or otherwise mutates the timeline (the reference
  stepped it and emitted one row too many, §19.7).
- `plot_timeline` draws onto given axes (one group only) or makes a stacked figure (one panel per
  `ParamGroup`). Keyframe markers sit on the realised line at each keyed step, so a keyed value that is
  only a segment target (see `mini.temporal.timeline`) is never drawn off the curve.
- Asking for several groups on a single `ax` is a ValueError rather than a warning that drops groups.
- With no theme and no axes, the stacked figure is drawn with the dark sheet (#333 figure, #222 axes),
  as in the reference; with a theme, colours come from the caller's rc context (the notebook displayer).
- `plot_dopesheet` is the notebooks' schedule figure (weights above, learning rate below) so notebooks
  need not define it.

Deliberately not done here: no log-scale axes, no interactive widgets. Imports only `utils.plt` outside
`mini`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline
from utils.plt import Theme, use_theme

_FIXED_COLUMNS = ('STEP', 'PHASE', 'ACTION')


def realize_timeline(timeline: Timeline) -> pd.DataFrame:
    """One row per step 0 .. len-1: STEP, PHASE, ACTION (list of str), then one column per property."""
    n = len(timeline)
    states = [timeline.at(s) for s in range(n)]
    props = list(states[0].props) if states else []
    columns: dict[str, Any] = {
        'STEP': np.arange(n, dtype=np.int64),
        'PHASE': [s.phase for s in states],
        'ACTION': [list(s.actions) for s in states],
    }
    for name in props:
        columns[name] = np.array(timeline.values(name), dtype=np.float64)
    return pd.DataFrame(columns)


@dataclass(frozen=True)
class ParamGroup:
    """Properties drawn together in one panel."""

    name: str
    """Panel title ('' for none)."""
    params: Sequence[str] = field(default_factory=tuple)
    """Property (column) names to draw."""
    height_ratio: float = 1.0
    """Relative panel height in a stacked figure."""

    def __post_init__(self):
        if isinstance(self.params, str):
            raise TypeError(
                f'ParamGroup.params: expected a sequence of names, got the string {self.params!r}'
            )
        if self.height_ratio <= 0:
            raise ValueError(f'ParamGroup.height_ratio: must be positive, got {self.height_ratio!r}')


class TimelinePlot(NamedTuple):
    """Result of `plot_timeline`."""

    figure: Figure
    """The figure drawn on."""
    axes: Axes | list[Axes]
    """The given `ax`, or the list of created panels (one per group)."""


def _prop_columns(history_df: pd.DataFrame) -> list[str]:
    return [c for c in history_df.columns if c not in _FIXED_COLUMNS]


def _style_for(param: str, line_styles: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    style: dict[str, Any] = {}
    for pattern, overrides in (line_styles or {}).items():
        if re.search(pattern, param):
            style.update(overrides)
    return style


def _has_actions(cell: Any) -> bool:
    if isinstance(cell, (list, tuple)):
        return len(cell) > 0
    return isinstance(cell, str) and cell != ''


def _draw_group(
    ax: Axes,
    history_df: pd.DataFrame,
    keyframes_df: pd.DataFrame,
    group: ParamGroup,
    *,
    theme: Theme | None,
    show_legend: bool,
    legend_fontsize: Any,
    show_phase_labels: bool,
    line_styles: Mapping[str, Mapping[str, Any]] | None,
) -> None:
    steps = history_df['STEP'].to_numpy()
    by_step = history_df.set_index('STEP')
    light = theme is not None and theme.name == 'light'
    for param in group.params:
        if param not in history_df.columns:
            raise KeyError(
                f'ParamGroup {group.name!r}: no column {param!r} in history; have {_prop_columns(history_df)}'
            )
        (line,) = ax.plot(steps, history_df[param], label=param, alpha=0.75, **_style_for(param, line_styles))
        if param in keyframes_df.columns:
            keyed = keyframes_df.loc[keyframes_df[param].notna(), 'STEP'].to_numpy()
            keyed = keyed[np.isin(keyed, steps)]
            ax.scatter(
                keyed,
                by_step.loc[keyed, param].to_numpy(),
                s=25,
                facecolor='white' if light else 'black',
                edgecolor=line.get_color(),
                zorder=3,
                # Keys at the first and last step sit on the axis edge; show them whole.
                clip_on=False,
            )
    phases = history_df['PHASE'].to_numpy()
    starts = [i for i in range(len(phases)) if i == 0 or phases[i] != phases[i - 1]]
    top = blended_transform_factory(ax.transData, ax.transAxes)
    for n, i in enumerate(starts):
        if i > 0:
            ax.axvline(steps[i], color='#8884', linewidth=0.8, zorder=0)
        if show_phase_labels and phases[i]:
            end = steps[starts[n + 1]] if n + 1 < len(starts) else steps[-1]
            ax.text(
                (steps[i] + end) / 2,
                1.02,
                str(phases[i]),
                transform=top,
                ha='center',
                va='bottom',
                weight='bold',
            )
    acted = np.array([_has_actions(a) for a in history_df['ACTION']], dtype=bool)
    action_color = '#444' if light else '#aaa'
    if acted.any():
        ax.scatter(
            steps[acted],
            np.zeros(acted.sum()),
            marker='^',
            s=30,
            color=action_color,
            transform=top,
            clip_on=False,
            zorder=4,
        )
    if show_legend:
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        if acted.any():
            unique['Action Triggered'] = Line2D([], [], marker='^', linestyle='none', color=action_color)
        ax.legend(unique.values(), unique.keys(), loc='upper right', fontsize=legend_fontsize)
    if group.name:
        ax.set_title(group.name)
    if len(steps):
        ax.set_xlim(steps[0], steps[-1])
    ax.set_ylabel('Property value')
    ax.set_xlabel('Step')


def plot_timeline(
    history_df: pd.DataFrame,
    keyframes_df: pd.DataFrame,
    groups: Sequence[ParamGroup] | None = None,
    ax: Axes | None = None,
    show_legend: bool = True,
    legend_fontsize: Any = None,
    title: str = 'Timeline property evolution',
    show_phase_labels: bool = True,
    line_styles: Mapping[str, Mapping[str, Any]] | None = None,
    theme: Theme | None = None,
) -> TimelinePlot:
    """Plot realised property values (lines) with keyframes (dots), phases and actions; see module docs."""
    for column in _FIXED_COLUMNS:
        if column not in history_df.columns:
            raise KeyError(f'history_df: missing column {column!r} (use realize_timeline)')
    if 'STEP' not in keyframes_df.columns:
        raise KeyError("keyframes_df: missing column 'STEP' (use Dopesheet.as_df)")
    groups = tuple(groups) if groups is not None else (ParamGroup('', _prop_columns(history_df)),)
    if not groups:
        raise ValueError('groups: give at least one ParamGroup')
    options = dict(
        theme=theme,
        show_legend=show_legend,
        legend_fontsize=legend_fontsize,
        show_phase_labels=show_phase_labels,
        line_styles=line_styles,
    )
    if ax is not None:
        if len(groups) > 1:
            raise ValueError(
                f'plot_timeline: an ax holds one group, got {len(groups)}; omit ax for a stacked figure'
            )
        _draw_group(ax, history_df, keyframes_df, groups[0], **options)
        return TimelinePlot(ax.get_figure(), ax)  # type: ignore[arg-type]
    context = use_theme('dark', {'axes.facecolor': '#222'}) if theme is None else nullcontext()
    with context:
        fig, axs = plt.subplots(
            len(groups),
            1,
            sharex=True,
            squeeze=False,
            figsize=(15, 3.5 * len(groups)),
            height_ratios=[g.height_ratio for g in groups],
            layout='constrained',
        )
        panels = list(axs[:, 0])
        for panel, group in zip(panels, groups, strict=True):
            _draw_group(panel, history_df, keyframes_df, group, **options)
        if title:
            fig.suptitle(title)
    return TimelinePlot(fig, panels)


def plot_dopesheet(dopesheet: Dopesheet, theme: Theme | None = None) -> Figure:
    """The schedule figure: weights (every property but `lr`) above, learning rate below (9 x 3 in)."""
    history = realize_timeline(Timeline(dopesheet))
    keyframes = dopesheet.as_df()
    weights = [p for p in dopesheet.props if p != 'lr']
    panels = [(ParamGroup('', weights), 'Weight', True, 3.0)] if weights else []
    if 'lr' in dopesheet.props:
        panels.append((ParamGroup('', ['lr']), 'LR', False, 1.0))
    if not panels:
        raise ValueError(f'plot_dopesheet: {dopesheet!r} has no properties to plot')
    fig = plt.figure(figsize=(9, 3), layout='constrained')
    axs = fig.subplots(len(panels), 1, sharex=True, squeeze=False, height_ratios=[p[3] for p in panels])[:, 0]
    for ax, (group, ylabel, legend, _) in zip(axs, panels, strict=True):
        plot_timeline(
            history,
            keyframes,
            groups=(group,),
            ax=ax,
            theme=theme,
            show_legend=legend,
            show_phase_labels=False,
        )
        ax.set_ylabel(ylabel)
        ax.set_xlabel('')
        lo, hi = ax.get_ylim()
        # A little headroom at both ends, as in the seed notebook.
        ax.set_ylim(lo * 1.1, hi * 1.1)
    axs[-1].set_xlabel('Step')
    return fig
