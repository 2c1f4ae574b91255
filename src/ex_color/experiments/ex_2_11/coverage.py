"""Label coverage: how a run's members score against how many labels each one saw.

`coverage_metrics(members, hd_cube, rgb_cube)` scores every member of a run that varies one data
setting (Ex 2.11: ``annotators``) and returns one row per member: the setting, the seed, the labels
the member actually drew while its label was live, and `seed_metrics`'s metrics and pass columns.
`coverage_summary` reduces that to one row per setting (labels drawn, pass rates with their Wilson
intervals), `read_coverage` reads each setting's rate three ways (`majority`) and names the settings a
conclusion is about, and `coverage_tests` compares every setting with a reference setting seed by seed.

Design decisions:
- Scoring is `seed_metrics`, setting by setting, so the metrics, pass columns and thresholds are
  exactly the other notebooks' (nothing here re-implements a threshold).
- A setting is summarised by the labels its members actually *drew* (median, min, max over seeds),
  beside its nominal rate: drawn labels are the quantity the question is about, and what the figure
  plots. "Smallest" orders settings by their value, which orders their drawn labels too.
- **A verdict is read off the interval, not the point estimate.** A setting "works" (more than half
  its seeds pass) only when the Wilson 95% interval of its pass rate lies wholly above one half, and
  "does not work" only when it lies wholly below; otherwise that many seeds cannot tell. At 200 seeds
  that is 114 passing or more, 86 or fewer, and 87 … 113 undecided; at 20 seeds even 13 of 20 cannot
  tell. A rate of exactly one half is never "more than half".
- **Settings are compared seed by seed.** Every setting trains on the same seeds (the same initial
  weights and the same batches; only the labels differ), so `coverage_tests` pairs them: McNemar's
  exact test for the pass column and a Wilcoxon signed-rank test for a metric (`claims.paired_test`).
  It returns the tests uncorrected; the notebook corrects every comparison it makes at once (`holm`).

Deliberately not done: fitting a dose-response curve (a logistic in log labels) to the pass rates;
the table, the figure and the paired tests say as much without a model's assumptions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

import numpy as np
import pandas as pd

from ex_color.data.color_cube import ColorCube
from ex_color.evaluation.ablation import METRICS, THRESHOLDS, seed_metrics
from ex_color.evaluation.claims import PairedTest, paired_test
from ex_color.evaluation.intervals import wilson
from ex_color.evaluation.numbers import setting_name

if TYPE_CHECKING:
    from ex_color.training import MemberResult

__all__ = [
    'PAIRED_METRICS',
    'RED_PASS',
    'REFERENCE',
    'CoverageReading',
    'Majority',
    'coverage_metrics',
    'coverage_summary',
    'coverage_tests',
    'majority',
    'read_coverage',
    'setting_label',
    'verdict_counts',
]

RED_PASS = 'pass:' + next(th.label for th in THRESHOLDS if th.metric == 'red')
"""The pass column of the red threshold (`seed_metrics` names it after the threshold's label)."""
REFERENCE = 1.0
"""The setting every other one is compared with: one annotator, Ex 2.10's own labelling."""
PAIRED_METRICS = ('pass', 'red')
"""What `coverage_tests` compares: whether a seed meets every threshold, and its error at red."""
HALF = 0.5
"""The line a majority crosses: "works" means more than half the seeds pass."""

Majority = Literal['works', 'does not work', 'cannot tell']
"""Whether more than half of a setting's seeds pass, as its rate's interval supports (`majority`)."""


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


def majority(low: float, high: float) -> Majority:
    """'works' when the interval (`low`, `high`) of a pass rate lies wholly above one half, 'does not
    work' when wholly below, 'cannot tell' when it holds one half."""
    if not 0 <= low <= high <= 1:
        raise ValueError(f'majority: need 0 <= low <= high <= 1, got ({low}, {high})')
    if low > HALF:
        return 'works'
    if high < HALF:
        return 'does not work'
    return 'cannot tell'


def verdict_counts(n: int) -> dict[Majority, range]:
    """For `n` seeds, the numbers of passing seeds that get each verdict (`majority` of their Wilson
    interval): three consecutive ranges, 'does not work', 'cannot tell', 'works'; empty where no count
    is read that way (with 2 seeds, every count cannot tell)."""
    read = [majority(*wilson(k, n)) for k in range(n + 1)]
    order: tuple[Majority, ...] = ('does not work', 'cannot tell', 'works')
    out: dict[Majority, range] = {}
    for verdict in order:
        ks = [k for k, v in enumerate(read) if v == verdict]
        out[verdict] = range(ks[0], ks[-1] + 1) if ks else range(0)
    return out


@dataclass(frozen=True)
class CoverageReading:
    """What a conclusion about label coverage names, read from each rate's Wilson 95% interval."""

    verdicts: Mapping[float, Majority]
    """Every setting (ascending): do more than half its seeds meet every threshold?"""
    red_verdicts: Mapping[float, Majority]
    """Every setting (ascending): do more than half its seeds reach the red threshold?"""
    works: float | None
    """The smallest setting that works (every threshold); None when no setting is shown to."""
    red: float | None
    """The smallest setting that works for the red threshold alone; None when none is shown to."""
    best: float
    """The setting with the highest rate of seeds meeting every threshold (the smallest, on a tie)."""

    @property
    def undecided(self) -> tuple[float, ...]:
        """Settings whose rate (every threshold) cannot be told from one half."""
        return tuple(s for s, v in self.verdicts.items() if v == 'cannot tell')

    @property
    def red_undecided(self) -> tuple[float, ...]:
        """Settings whose rate at the red threshold cannot be told from one half."""
        return tuple(s for s, v in self.red_verdicts.items() if v == 'cannot tell')

    @property
    def relapses(self) -> tuple[float, ...]:
        """Settings above `works` that are shown not to work (every threshold)."""
        if self.works is None:
            return ()
        works = self.works
        return tuple(s for s, v in self.verdicts.items() if s > works and v == 'does not work')

    @property
    def none_works(self) -> bool:
        """Every setting is shown not to work: only then is "no label count tried works" a finding."""
        return all(v == 'does not work' for v in self.verdicts.values())


def read_coverage(summary: pd.DataFrame) -> CoverageReading:
    """Read `coverage_summary`'s table (settings ascending, so "smallest" is fewest labels)."""
    if summary.empty:
        raise ValueError('read_coverage: the summary has no settings')
    summary = summary.sort_index()

    def verdicts(column: str) -> dict[float, Majority]:
        return {
            float(s): majority(float(low), float(high))
            for s, low, high in zip(
                summary.index, summary[f'{column} low'], summary[f'{column} high'], strict=True
            )
        }

    def smallest(read: Mapping[float, Majority]) -> float | None:
        return next((s for s, v in read.items() if v == 'works'), None)

    every, red = verdicts('pass'), verdicts(RED_PASS)
    return CoverageReading(
        verdicts=every,
        red_verdicts=red,
        works=smallest(every),
        red=smallest(red),
        best=float(cast(float, summary['pass'].idxmax())),  # the index holds the numeric settings
    )


def setting_label(value: float) -> str:
    """How prose and the paired tests name a setting: ``s = 1/16``."""
    return f's = {setting_name(value)}'


def coverage_tests(
    df: pd.DataFrame,
    *,
    reference: float = REFERENCE,
    metrics: Sequence[str] = PAIRED_METRICS,
    setting: str = 'annotators',
) -> list[PairedTest]:
    """Every other setting against `reference` on the same seeds, one paired test per metric (setting
    by setting, ascending; a is `reference`, b the other, named by `setting_label`). Uncorrected: pass
    them, with any other comparison the notebook makes, through `claims.holm`."""
    missing = [c for c in (setting, 'seed', *metrics) if c not in df.columns]
    if missing:
        raise KeyError(f'coverage_tests: the metrics table has no column(s) {missing}')
    # the setting's values are numbers (`coverage_metrics` writes them as floats)
    by_setting = {float(cast(float, s)): g.set_index('seed') for s, g in df.groupby(setting, sort=True)}
    if reference not in by_setting:
        raise KeyError(f'coverage_tests: no members at the reference {setting}={reference:g}')
    ref = by_setting.pop(reference)
    tests = []
    for value, other in by_setting.items():
        if set(other.index) != set(ref.index):
            raise ValueError(
                f'coverage_tests: {setting}={value:g} was not trained on the same seeds as {reference:g}; '
                'a paired test needs the same seeds'
            )
        for metric in metrics:
            a, b = ref[[metric]], other[[metric]]
            if metric == 'pass':
                a, b = a.astype(float), b.astype(float)
            tests.append(paired_test(a, b, metric, names=(setting_label(reference), setting_label(value))))
    return tests
