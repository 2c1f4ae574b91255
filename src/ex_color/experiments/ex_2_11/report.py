"""Prose and tables rendered from a label-coverage run (Ex 2.11), with the numbers in.

`settings_markdown(expected, summary)` is the table of settings: s, the expected label count, and
(once trained) the labels actually drawn and the pass rates. `coverage_markdown(summary, reading)`
is the conclusion: the smallest setting that works, the smallest that deletes red, and how Ex 2.10's
own labelling (s = 1) fares. `publication(summary, reading)` is the setting whose seeds go to the
README's table, and the row's description.

Design decisions:
- Like `ex_color.experiments.report`, every number and every qualitative word is chosen from the
  results; nothing here is typed for one particular run.
- A setting is named by its median drawn labels first (the quantity the question is about) and its
  annotator count second.

Deliberately not here: the reading itself (`ex_color.experiments.ex_2_11.coverage.read_coverage`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, cast

import pandas as pd

from ex_color.evaluation.ablation import THRESHOLDS
from ex_color.evaluation.numbers import setting_name
from ex_color.experiments.ex_2_11.coverage import RED_PASS, CoverageReading

__all__ = ['Publication', 'coverage_markdown', 'publication', 'settings_markdown']

RED_THRESHOLD = next(th.label for th in THRESHOLDS if th.metric == 'red')


def _row(summary: pd.DataFrame, s: float) -> pd.Series:
    """Setting `s`'s row of `summary` (one row per setting)."""
    row = summary.loc[s]
    if not isinstance(row, pd.Series):
        raise ValueError(f'coverage summary: {len(row)} rows for setting {s}; expected one')
    return row


def _labels(row: pd.Series) -> str:
    return f'{row["labels median"]:g} [{row["labels min"]:.0f}, {row["labels max"]:.0f}]'


def _rate(row: pd.Series, column: str) -> str:
    return (
        f'{int(row[f"{column} n"])}/{int(row["seeds"])} '
        f'({row[f"{column} low"]:.0%}–{row[f"{column} high"]:.0%})'
    )


def settings_markdown(expected: Mapping[float, float], summary: pd.DataFrame | None = None) -> str:
    """The settings as a Markdown table; with `summary` (`coverage_summary`), what training drew and
    how many seeds passed (with the Wilson 95% interval of each rate)."""
    head = '| s (annotators) | expected labels |'
    rule = '|---:|---:|'
    if summary is not None:
        head += ' labels drawn: median [min, max] | every threshold | ' + RED_THRESHOLD + ' |'
        rule += '---:|---:|---:|'
        missing = sorted(set(expected) - set(summary.index))
        if missing:
            raise KeyError(f'settings_markdown: no results for settings {missing}')
    lines = [head, rule]
    for s, n in sorted(expected.items()):
        cells = [setting_name(s), f'{n:.3g}']
        if summary is not None:
            row = _row(summary, s)
            cells += [_labels(row), _rate(row, 'pass'), _rate(row, RED_PASS)]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _named(summary: pd.DataFrame, s: float) -> str:
    row = _row(summary, s)
    return f'about {row["labels median"]:g} labels (s = {setting_name(s)}; drawn: {_labels(row)})'


def _most_missed(summary: pd.DataFrame, settings: list[float], where: str = 'There') -> str:
    """Which threshold the seeds of `settings` miss most often, in one sentence ('' when none is missed)."""
    rows = summary.loc[settings]
    total = int(rows['seeds'].sum())
    fails = {
        th.label: total - int(rows[f'pass:{th.label} n'].sum())
        for th in THRESHOLDS
        if f'pass:{th.label} n' in rows
    }
    missed = sorted((label for label, k in fails.items() if k), key=lambda label: -fails[label])
    if not missed:
        return ''
    return (
        f'{where}, the threshold missed most often is `{missed[0]}` ({fails[missed[0]]} of {total} models fail it)'
        + (
            '; then ' + ', '.join(f'`{label}` ({fails[label]})' for label in missed[1:3])
            if len(missed) > 1
            else ''
        )
        + '.'
    )


def coverage_markdown(summary: pd.DataFrame, reading: CoverageReading) -> str:
    """The conclusion, in numbers: which settings work, which delete red, where Ex 2.10 sits."""
    n = int(summary['seeds'].max())
    parts = []
    if reading.works is not None:
        row = _row(summary, reading.works)
        parts.append(
            f'**The smallest setting at which more than half the seeds meet every threshold is '
            f'{_named(summary, reading.works)}: {_rate(row, "pass")} of its seeds.**'
        )
        above = [float(s) for s in summary.index if s > reading.works]
        if reading.relapses:
            listed = ', '.join(
                f's = {setting_name(s)} ({int(_row(summary, s)["pass n"])}/{int(_row(summary, s)["seeds"])})'
                for s in reading.relapses
            )
            if list(reading.relapses) == above:  # no setting but this one has a majority
                said = (
                    'It is the only one: with more labels, no more than half the seeds meet every threshold '
                    f'({listed}).'
                )
            else:
                said = f'It is not a clean cut-off: at {listed} no more than half the seeds do again.'
            parts += [said, _most_missed(summary, list(reading.relapses))]
    elif summary['pass n'].max() == 0:
        parts.append('**No seed of any setting meets every threshold.**')
    else:
        best = _row(summary, reading.best)
        parts.append(
            f'**No setting has more than half its seeds meeting every threshold.** The best is '
            f'{_named(summary, reading.best)}, with {_rate(best, "pass")}.'
        )
        parts.append(_most_missed(summary, [float(s) for s in summary.index], where='Over all settings'))
    if reading.red is not None:
        row = _row(summary, reading.red)
        same = reading.red == reading.works
        parts.append(
            f'Deleting red alone (`{RED_THRESHOLD}`) takes '
            + ('the same: ' if same else '')
            + f'{_named(summary, reading.red)}, where {_rate(row, RED_PASS)} seeds reach it.'
        )
    elif summary[f'{RED_PASS} n'].max() == 0:
        parts.append(f'No seed of any setting reaches `{RED_THRESHOLD}`.')
    else:
        top = float(cast(float, summary[RED_PASS].idxmax()))  # the index holds the numeric settings
        parts.append(
            f'No setting has more than half its seeds reaching `{RED_THRESHOLD}`; the most is '
            f'{_rate(_row(summary, top), RED_PASS)}, at s = {setting_name(top)}.'
        )
    if 1.0 in summary.index:
        row = _row(summary, 1.0)
        parts.append(
            f"Ex 2.10's own labelling (s = 1) drew {_labels(row)} labels (median [min, max]), with "
            f'{_rate(row, "pass")} seeds meeting every threshold'
            + (
                f', so it has {row["labels median"] / _row(summary, reading.works)["labels median"]:.2g}× the '
                'labels the smallest working setting needed.'
                if reading.works is not None and reading.works < 1.0
                else '.'
            )
        )
    parts.append(
        f'Rates are over {n} seeds per setting, with Wilson 95% intervals in parentheses: a difference of a '
        'few seeds between neighbouring settings is within that uncertainty.'
    )
    return ' '.join(p for p in parts if p)


class Publication(NamedTuple):
    """What goes to the README's table."""

    setting: float
    """The setting whose seeds are published."""
    description: str
    """The row's "what it tests" text."""


def publication(summary: pd.DataFrame, reading: CoverageReading) -> Publication:
    """The smallest working setting; failing that, Ex 2.10's own s = 1 (or the best, without it)."""
    if reading.works is not None:
        labels = _row(summary, reading.works)['labels median']
        return Publication(reading.works, f'Ex 2.10 with ~{labels:g} labels (the smallest count that works)')
    s = 1.0 if 1.0 in summary.index else reading.best
    labels = _row(summary, s)['labels median']
    return Publication(
        s, f'Ex 2.10 with ~{labels:g} labels (s = {setting_name(s)}; no label count tried works)'
    )
