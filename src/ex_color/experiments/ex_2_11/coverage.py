"""Label coverage: how a run's members score against how many labels each one saw.

`coverage_metrics(members, hd_cube, rgb_cube)` scores every member of a run that varies one data
setting (Ex 2.11: ``annotators``) and returns one row per member: the setting, the seed, the labels
the member actually drew while its label was live, and `seed_metrics`'s metrics and pass columns.
`coverage_summary` reduces that to one row per setting (labels drawn, pass rates), and
`read_coverage` names the settings a conclusion is about: the smallest at which more than half the
seeds meet every threshold, the smallest at which more than half reach the red threshold.

Design decisions:
- Scoring is `seed_metrics`, setting by setting, so the metrics, pass columns and thresholds are
  exactly the other notebooks' (nothing here re-implements a threshold).
- A setting is summarised by the labels its members actually *drew* (median, min, max over seeds),
  beside its nominal rate: drawn labels are the quantity the question is about, and what the figure
  plots. "Smallest" orders settings by their value, which orders their drawn labels too.
- "More than half" is strict: 10 of 20 seeds is not a majority.
- A pass rate over n seeds comes with its Wilson 95% interval: with 20 seeds a rate is known to
  about ±0.2, which is what a reader needs to weigh "the smallest setting that works".

Deliberately not done: fitting a dose-response curve (a logistic in log labels) to the pass rates;
with ten settings of 20 seeds the table and figure say as much.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from ex_color.data.color_cube import ColorCube
from ex_color.evaluation.ablation import METRICS, THRESHOLDS, seed_metrics
from ex_color.evaluation.intervals import wilson

if TYPE_CHECKING:
    from ex_color.training import MemberResult

__all__ = ['RED_PASS', 'CoverageReading', 'coverage_metrics', 'coverage_summary', 'read_coverage']

RED_PASS = 'pass:' + next(th.label for th in THRESHOLDS if th.metric == 'red')
"""The pass column of the red threshold (`seed_metrics` names it after the threshold's label)."""


def coverage_metrics(
    members: Iterable[MemberResult],
    hd_cube: ColorCube,
    rgb_cube: ColorCube,
    *,
    setting: str = 'annotators',
    label: str = 'red',
) -> pd.DataFrame:
    """One row per member: `setting` (from the member's ``spec.data``), ``seed``, ``labels`` (samples
    that carried `label` while it was live), every metric and pass column of `seed_metrics`."""
    groups: dict[float, list[MemberResult]] = {}
    for m in members:
        if setting not in m.spec.data:
            raise KeyError(f'coverage_metrics: member {m.name} has no data setting {setting!r}')
        groups.setdefault(float(m.spec.data[setting]), []).append(m)
    if not groups:
        raise ValueError('coverage_metrics: no members given')
    for value, group in groups.items():
        seeds = [m.spec.seed for m in group]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f'coverage_metrics: {setting}={value:g} repeats a seed: {sorted(seeds)}')
    # every member in one scoring pass over the stack, then split by setting
    ordered = [m for group in groups.values() for m in group]
    scored = seed_metrics(dict(enumerate(m.model for m in ordered)), hd_cube, rgb_cube)
    frames, start = [], 0
    for value, group in groups.items():
        df = scored.iloc[start : start + len(group)].set_axis([m.spec.seed for m in group])
        df.index.name = 'seed'
        start += len(group)
        drawn = pd.Series({m.spec.seed: int(m.label_counts.get(label, 0)) for m in group})
        frames.append(df.assign(labels=drawn).reset_index().assign(**{setting: value}))
    out = pd.concat(frames, ignore_index=True)
    first = [setting, 'seed', 'labels']
    return out[first + [c for c in out.columns if c not in first]]


def coverage_summary(df: pd.DataFrame, *, setting: str = 'annotators') -> pd.DataFrame:
    """One row per setting (index: `setting`, ascending): ``seeds``; ``labels median/min/max`` drawn;
    for ``pass`` (every threshold) and each ``pass:<threshold>`` column (`RED_PASS` is required): the
    count of seeds passing, the rate, and the rate's Wilson 95% interval (``<column> n``, ``<column>``,
    ``<column> low``, ``<column> high``); and the median of each metric."""
    missing = [c for c in (setting, 'seed', 'labels', 'pass', RED_PASS) if c not in df.columns]
    if missing:
        raise KeyError(f'coverage_summary: the metrics table has no column(s) {missing}')
    rows = {}
    for value, g in df.groupby(setting, sort=True):
        n = len(g)
        row: dict[str, float] = {
            'seeds': n,
            'labels median': float(np.median(g['labels'])),
            'labels min': float(g['labels'].min()),
            'labels max': float(g['labels'].max()),
        }
        for column in ['pass', *(c for c in df.columns if c.startswith('pass:'))]:
            k = int(g[column].astype(bool).sum())
            row[f'{column} n'] = k
            row[column] = k / n
            row[f'{column} low'], row[f'{column} high'] = wilson(k, n)
        for metric in METRICS:
            if metric in g.columns:
                row[f'{metric} median'] = float(g[metric].astype(float).median())
        rows[float(value)] = row  # type: ignore[arg-type]
    out = pd.DataFrame.from_dict(rows, orient='index')
    out.index.name = setting
    return out


@dataclass(frozen=True)
class CoverageReading:
    """The settings a conclusion about label coverage names (None where no setting qualifies)."""

    works: float | None
    """The smallest setting at which more than half the seeds meet every threshold."""
    red: float | None
    """The smallest setting at which more than half the seeds reach the red threshold."""
    best: float
    """The setting with the highest rate of seeds meeting every threshold (the smallest, on a tie)."""
    relapses: tuple[float, ...]
    """Settings above `works` at which no more than half the seeds meet every threshold again."""


def read_coverage(summary: pd.DataFrame) -> CoverageReading:
    """Read `coverage_summary`'s table (settings ascending, so "smallest" is fewest labels)."""
    if summary.empty:
        raise ValueError('read_coverage: the summary has no settings')
    summary = summary.sort_index()

    def smallest(column: str) -> float | None:
        ok = summary.index[summary[column] > 0.5]
        return float(ok[0]) if len(ok) else None

    works = smallest('pass')
    relapses = (
        tuple(float(s) for s in summary.index[(summary.index > works) & (summary['pass'] <= 0.5)])
        if works is not None
        else ()
    )
    return CoverageReading(
        works=works,
        red=smallest(RED_PASS),
        best=float(cast(float, summary['pass'].idxmax())),  # the index holds the numeric settings
        relapses=relapses,
    )
