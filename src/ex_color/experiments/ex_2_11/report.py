"""Prose and tables rendered from a label-coverage run (Ex 2.11), with the numbers in.

`settings_markdown(expected, summary)` is the table of settings: s, the expected label count, and
(once trained) the labels actually drawn and the pass rates. `coverage_markdown(summary, reading)`
is the conclusion: the smallest setting that works, the settings whose seeds cannot tell, the best,
the same for deleting red alone, and how Ex 2.10's own labelling (s = 1) fares.
`comparison_markdown(tests)` says what the paired tests against s = 1 found, setting by setting.
`publication(summary, reading)` is the setting whose seeds go to the README's table, and the row's
description.

Design decisions:
- Like `ex_color.experiments.report`, every number and every qualitative word is chosen from the
  results; nothing here is typed for one particular run.
- A verdict is the reading's (`coverage.majority`: the Wilson interval against one half), never the
  point estimate's: "works", "does not work", or "cannot tell at n seeds", each with its rate and
  interval. "No label count tried works" is said only when every setting's interval lies below half.
- A setting is named by its median drawn labels first (the quantity the question is about) and its
  annotator count second.

Deliberately not here: the reading itself (`ex_color.experiments.ex_2_11.coverage.read_coverage`) and
the tests (`coverage.coverage_tests`, corrected by `claims.holm`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, cast

import pandas as pd

from ex_color.evaluation.ablation import THRESHOLDS
from ex_color.evaluation.claims import ALPHA, PairedTest
from ex_color.evaluation.numbers import setting_name
from ex_color.experiments.ex_2_11.coverage import RED_PASS, CoverageReading, Majority, verdict_counts
from ex_color.experiments.report import change_text

__all__ = [
    'Publication',
    'comparison_markdown',
    'coverage_markdown',
    'majority_markdown',
    'publication',
    'settings_markdown',
]

RED_THRESHOLD = next(th.label for th in THRESHOLDS if th.metric == 'red')


def _row(summary: pd.DataFrame, s: float) -> pd.Series:
    """Setting `s`'s row of `summary` (one row per setting)."""
    row = summary.loc[s]
    if not isinstance(row, pd.Series):
        raise ValueError(f'coverage summary: {len(row)} rows for setting {s}; expected one')
    return row


def _labels(row: pd.Series) -> str:
    return f'{row["labels median"]:g} [{row["labels min"]:.0f}, {row["labels max"]:.0f}]'


def _percent(x: float) -> str:
    """A bound as a whole percentage; one decimal where it would round to 50% without being one half, so
    that a bound the verdict reads as below (above) one half never prints as 50%."""
    return f'{x:.1%}' if f'{x:.0%}' == '50%' and x != 0.5 else f'{x:.0%}'


def _rate(row: pd.Series, column: str, *, inline: bool = False) -> str:
    """``110/200 (48%–62%)``, or inline (inside parentheses already) ``110/200, 48%–62%``."""
    k, n = int(row[f'{column} n']), int(row['seeds'])
    interval = f'{_percent(row[f"{column} low"])}–{_percent(row[f"{column} high"])}'
    return f'{k}/{n}, {interval}' if inline else f'{k}/{n} ({interval})'


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


def _seeds(summary: pd.DataFrame, settings: Sequence[float] | None = None) -> str:
    """The seeds per setting: ``200``, or ``150–200`` where settings differ."""
    n = summary['seeds'] if settings is None else summary.loc[list(settings), 'seeds']
    low, high = int(n.min()), int(n.max())
    return f'{low}' if low == high else f'{low}–{high}'


def _listed(summary: pd.DataFrame, settings: Sequence[float], column: str) -> str:
    """``s = 1/2 (110/200, 48%–62%), s = 2 (…)``: settings with their rates and intervals."""
    return ', '.join(
        f's = {setting_name(s)} ({_rate(_row(summary, s), column, inline=True)})' for s in settings
    )


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


def _undecided(summary: pd.DataFrame, settings: Sequence[float], column: str, what: str) -> str:
    """The settings whose interval holds one half, and what their seeds cannot tell ('' when none)."""
    if not settings:
        return ''
    where = 'this setting' if len(settings) == 1 else 'these settings'
    return (
        f'At {_listed(summary, settings, column)} the interval holds one half: at {_seeds(summary, settings)} '
        f'seeds the data cannot tell whether more than half of the seeds of {where} {what}.'
    )


def _every_threshold(summary: pd.DataFrame, reading: CoverageReading) -> list[str]:
    parts = []
    best = _row(summary, reading.best)
    if reading.works is not None:
        row = _row(summary, reading.works)
        parts.append(
            f'**The smallest setting at which more than half the seeds meet every threshold is '
            f'{_named(summary, reading.works)}: {_rate(row, "pass")} of its seeds, an interval wholly above '
            'one half.**'
        )
        above = [float(s) for s in summary.index if s > reading.works]
        if reading.relapses:
            listed = _listed(summary, reading.relapses, 'pass')
            if list(reading.relapses) == above:  # every setting with more labels is shown not to work
                said = (
                    'It is the only one: with more labels, fewer than half the seeds meet every threshold, '
                    f'intervals wholly below one half ({listed}).'
                )
            else:
                said = (
                    f'It is not a clean cut-off: at {listed} fewer than half the seeds do again '
                    + ('(an interval' if len(reading.relapses) == 1 else '(intervals')
                    + ' wholly below one half).'
                )
            parts += [said, _most_missed(summary, list(reading.relapses))]
        parts.append(
            'It is also the setting with the highest rate.'
            if reading.best == reading.works
            else f'The highest rate is at {_named(summary, reading.best)}: {_rate(best, "pass")}.'
        )
    elif summary['pass n'].max() == 0:
        parts.append('**No seed of any setting meets every threshold.**')
    else:
        parts.append(
            '**At no setting tried do more than half the seeds meet every threshold: every interval lies '
            'wholly below one half.**'
            if reading.none_works
            else '**No setting is shown to have more than half its seeds meeting every threshold** (an '
            'interval wholly above one half).'
        )
        parts.append(f'The best is {_named(summary, reading.best)}, with {_rate(best, "pass")}.')
        parts.append(_most_missed(summary, [float(s) for s in summary.index], where='Over all settings'))
    parts.append(_undecided(summary, reading.undecided, 'pass', 'meet every threshold'))
    return parts


def _red_alone(summary: pd.DataFrame, reading: CoverageReading) -> list[str]:
    parts = []
    if reading.red is not None:
        row = _row(summary, reading.red)
        same = reading.red == reading.works
        parts.append(
            f'Deleting red alone (`{RED_THRESHOLD}`) takes '
            + ('the same: ' if same else '')
            + f'{_named(summary, reading.red)}, where {_rate(row, RED_PASS)} seeds reach it, an interval '
            'wholly above one half.'
        )
    elif summary[f'{RED_PASS} n'].max() == 0:
        parts.append(f'No seed of any setting reaches `{RED_THRESHOLD}`.')
    else:
        top = float(cast(float, summary[RED_PASS].idxmax()))  # the index holds the numeric settings
        shown = (
            'At no setting do more than half the seeds reach'
            if all(v == 'does not work' for v in reading.red_verdicts.values())
            else 'No setting is shown to have more than half its seeds reaching'
        )
        parts.append(
            f'{shown} `{RED_THRESHOLD}`; the most is {_rate(_row(summary, top), RED_PASS)}, at '
            f's = {setting_name(top)}.'
        )
    parts.append(_undecided(summary, reading.red_undecided, RED_PASS, f'reach `{RED_THRESHOLD}`'))
    return parts


def majority_markdown(n: int) -> str:
    """What `n` seeds per setting can tell (`coverage.verdict_counts`): how many passing seeds make a
    setting work, how few make it not, and the counts in between that cannot tell."""
    counts = verdict_counts(n)
    fails, undecided, works = counts['does not work'], counts['cannot tell'], counts['works']
    if not works and not fails:
        return (
            f'With {n} seeds per setting, no count of passing seeds is decisive: every interval holds one half, '
            'so this run cannot say of any setting that it works, or that it does not.'
        )
    return (
        f'With {n} seeds per setting, a setting is said to work when at least {works.start} of its seeds pass '
        f'({works.start / n:.0%}), and not to work when at most {fails.stop - 1} do ({(fails.stop - 1) / n:.0%}); '
        f'from {undecided.start} to {undecided.stop - 1} passing seeds, the interval holds one half and the '
        'seeds cannot tell.'
    )


_SAID: dict[Majority, str] = {
    'works': 'more than half, an interval wholly above one half',
    'does not work': 'fewer than half, an interval wholly below one half',
    'cannot tell': 'an interval that holds one half',
}


def coverage_markdown(summary: pd.DataFrame, reading: CoverageReading) -> str:
    """The conclusion, in numbers: which settings work, which cannot tell, which delete red, where
    Ex 2.10 sits; every verdict from the rate's Wilson interval (`coverage.majority`)."""
    n = _seeds(summary)
    parts = _every_threshold(summary, reading) + _red_alone(summary, reading)
    if 1.0 in summary.index:
        row = _row(summary, 1.0)
        parts.append(
            f"Ex 2.10's own labelling (s = 1) drew {_labels(row)} labels (median [min, max]), with "
            f'{_rate(row, "pass")} seeds meeting every threshold ({_SAID[reading.verdicts[1.0]]})'
            + (
                f', so it has {row["labels median"] / _row(summary, reading.works)["labels median"]:.2g}× the '
                'labels the smallest working setting needed.'
                if reading.works is not None and reading.works < 1.0
                else '.'
            )
        )
    parts.append(
        f'Rates are over {n} seeds per setting, with Wilson 95% intervals in parentheses. A setting is said '
        'to work only when its interval lies wholly above one half, and not to work only when it lies wholly '
        f'below; where the interval holds one half, {n} seeds cannot tell.'
    )
    return ' '.join(p for p in parts if p)


def _tests_n(tests: Sequence[PairedTest]) -> str:
    """The seeds the tests pair: ``200``, or ``150–200`` where they differ."""
    low, high = min(t.n for t in tests), max(t.n for t in tests)
    return f'{low}' if low == high else f'{low}–{high}'


def comparison_markdown(tests: Sequence[PairedTest]) -> str:
    """What the paired tests (`coverage.coverage_tests`, Holm-corrected) say, one sentence per metric:
    the settings whose corrected test gives a direction against the reference, with the change and its
    interval, and those that cannot be told apart from it at this n."""
    if not tests:
        raise ValueError('comparison_markdown: no tests')
    references = {t.a for t in tests}
    if len(references) != 1:
        raise ValueError(
            f'comparison_markdown: the tests compare with several settings: {sorted(references)}'
        )
    (reference,) = references
    sentences = []
    for metric in dict.fromkeys(t.metric for t in tests):
        mine = [t for t in tests if t.metric == metric]
        said = []
        for verdict in ('lower', 'higher'):
            these = [t for t in mine if t.verdict == verdict]
            if these:
                judged = f' ({these[0].judgement})' if these[0].judgement else ''
                said.append(f'{verdict}{judged} at ' + ', '.join(f'{t.b} ({change_text(t)})' for t in these))
        same = [t for t in mine if t.verdict == 'not distinguishable']
        if same:
            names = ', '.join(t.b for t in same)
            said.append(f'not distinguishable from {reference} at {names} (n = {_tests_n(same)})')
        sentences.append(f'- **{mine[0].label}**, against {reference}: ' + '; '.join(said) + '.')
    n = _tests_n(tests)
    return (
        f'Seed by seed against {reference} ({n} seeds; p Holm-corrected over the {len(tests)} comparisons, '
        f'family-wise {ALPHA:.0%}; a direction only where the corrected test and the interval agree):\n\n'
        + '\n'.join(sentences)
    )


class Publication(NamedTuple):
    """What goes to the README's table."""

    setting: float
    """The setting whose seeds are published."""
    description: str
    """The row's "what it tests" text."""


def publication(summary: pd.DataFrame, reading: CoverageReading) -> Publication:
    """The smallest working setting; failing that, Ex 2.10's own s = 1 (or the best, without it). The
    description says "no label count tried works" only when every setting is shown not to."""
    if reading.works is not None:
        labels = _row(summary, reading.works)['labels median']
        return Publication(reading.works, f'Ex 2.10 with ~{labels:g} labels (the smallest count that works)')
    s = 1.0 if 1.0 in summary.index else reading.best
    labels = _row(summary, s)['labels median']
    if reading.none_works:
        why = 'no label count tried works'
    else:
        undecided = ', '.join(setting_name(u) for u in reading.undecided)
        why = f'no label count tried is shown to work at {_seeds(summary)} seeds' + (
            f'; at s = {undecided} the data cannot tell' if undecided else ''
        )
    return Publication(s, f'Ex 2.10 with ~{labels:g} labels (s = {setting_name(s)}; {why})')
