"""Prose rendered from results: what a notebook says about its seed and its seeds, with the numbers in.

Notebooks display these as Markdown, so a sentence can never disagree with the run that printed it,
and qualitative words (which configuration is better, whether a difference is significant) are
chosen from the numbers rather than typed.

Numbers are shown to two significant figures: the third varies between machines (same versions).
"""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ex_color.evaluation.ablation import AblationSummary, PairedTest
from ex_color.evaluation.metrics import HEADLINE_METRICS, METRICS, THRESHOLDS
from ex_color.evaluation.numbers import g, median_interval, quartiles

__all__ = [
    'environment',
    'g',
    'one_seed_markdown',
    'over_seeds_markdown',
    'paired_markdown',
    'publish_results',
    'regularizer_table',
]

ALPHA = 0.05
"""Significance level the paired comparisons are read at."""


def one_seed_markdown(summary: AblationSummary, seed: int) -> str:
    """What ablation did to one seed's model, in numbers."""
    ablated, baseline = summary.table['ablated'], summary.table['baseline']
    warm = ', '.join(f'{c} {g(ablated[c])}' for c in ('orange', 'magenta', 'yellow') if c in ablated.index)
    return (
        f'For seed {seed}, ablating dimension 0 raises the error at pure red from '
        f'{g(baseline["red"])} to {g(ablated["red"])}, while the median error over the '
        f'high-resolution cube goes from {g(baseline["median"])} to {g(ablated["median"])}; '
        f'green, cyan and blue end at {g(ablated["green"])}, {g(ablated["cyan"])} and '
        f'{g(ablated["blue"])}. Near red: {warm}.'
    )


def _quartiles(values: pd.Series) -> str:
    q1, med, q3 = quartiles(values)
    return median_interval(med, q1, q3, prose='IQR')


def over_seeds_markdown(df: pd.DataFrame, *, name: str = '', highlight: int = 0) -> str:
    """The distribution over seeds in two sentences: medians, the pass rate, and the highlighted seed."""
    n = len(df)
    passed = int(df['pass'].sum())
    what = f' {name}' if name else ''
    red = df['red'].astype(float)
    rank = int((red > red[highlight]).sum()) + 1
    fails_of = {th.label: n - int(df[f'pass:{th.label}'].sum()) for th in THRESHOLDS}
    failing = sorted((label for label, k in fails_of.items() if k), key=lambda label: -fails_of[label])
    fails = (
        'every seed meets every threshold'
        if not failing
        else 'the thresholds missed most often: '
        + ', '.join(f'{label} ({fails_of[label]}/{n} fail)' for label in failing)
    )
    return (
        f'Over {n} seeds{what}, ablation leaves a median error at red of {_quartiles(red)}, a median '
        f'ablated error over the cube of {_quartiles(df["median"])}, and a worst of green, cyan and blue of '
        f'{_quartiles(df["worst_gcb"])}; the error-vs-similarity correlation r is {_quartiles(df["r"])}. '
        f'**{passed} of {n} seeds ({passed / n:.0%}) meet every threshold**; {fails}. '
        f'Seed {highlight} ranks {rank} of {n} by the error at red (1 = most red deleted).'
    )


def paired_markdown(tests: Sequence[PairedTest], a: str, b: str) -> str:
    """A table of paired comparisons of `b` against `a` (same seeds), and one sentence reading it."""
    lines = [
        f'| metric | {a} (median) | {b} (median) | median of {b} − {a} | seeds where {b} is higher | p (Wilcoxon) |',
        '|---|---:|---:|---:|---:|---:|',
    ]
    for t in tests:
        lines.append(
            f'| {METRICS.get(t.metric, t.metric)} | {g(t.median_a)} | {g(t.median_b)} | '
            f'{g(t.median_difference)} | {t.b_higher}/{t.n} | {g(t.p)} |'
        )
    significant = [t for t in tests if t.p < ALPHA]
    if significant:
        said = '; '.join(
            f'{METRICS.get(t.metric, t.metric)} {"higher" if t.median_difference > 0 else "lower"} '
            f'(p = {g(t.p)})'
            for t in significant
        )
        verdict = (
            f'Significant at the {ALPHA:.0%} level, for {b} against {a}: {said}. '
            'Other differences are within seed-to-seed variation.'
        )
    else:
        verdict = (
            f'No difference between {a} and {b} is significant at the {ALPHA:.0%} level over these '
            f'{tests[0].n if tests else 0} seeds.'
        )
    return '\n'.join(lines) + '\n\n' + verdict


def environment(threads: int | None = None) -> Mapping[str, str]:
    """What produced these numbers: versions, the CPU's vector capability, the thread count."""
    from importlib.metadata import version

    import torch

    return {
        'python': platform.python_version(),
        'torch': torch.__version__,
        'lightning': version('lightning'),  # read, not imported: importing it costs a second
        'numpy': np.__version__,
        'cpu capability': str(torch.backends.cpu.get_cpu_capability()),
        'torch threads': str(threads if threads is not None else torch.get_num_threads()),
        'machine': platform.machine(),
    }


RESULTS_MIME = 'application/vnd.ex-color.results+json'
"""Output type of the record a notebook leaves for `./go results` (see `ex_color.experiments.readme`)."""


def publish_results(nbid: str, title: str, description: str, df: pd.DataFrame) -> None:
    """Leave this notebook's over-seeds results in its outputs, for the README's table."""
    from IPython.display import display

    n, passed = len(df), int(df['pass'].sum())
    payload = {
        'nbid': nbid,
        'title': title,
        'description': description,
        'seeds': n,
        'passed': passed,
        'quartiles': {m: list(quartiles(df[m])) for m in HEADLINE_METRICS},
    }
    text = f'Results recorded for the README ({n} seeds, {passed} meet every threshold).'
    display({RESULTS_MIME: payload, 'text/plain': text}, raw=True)


def regularizer_table(regularizers: Sequence[Any]) -> str:
    """A declaration's regularisers as a Markdown table: what each term is, on which layer, for which labels."""
    lines = ['| name | term | layers | labels | phases |', '|---|---|---|---|---|']
    for r in regularizers:
        labels = (
            ', '.join(f'{k}: {v:g}' for k, v in r.label_affinities.items())
            if r.label_affinities
            else 'all samples'
        )
        lines.append(
            f'| `{r.name}` | `{r.compute_loss_term!r}` | {", ".join(r.layer_affinities)} | {labels} | '
            f'{", ".join(sorted(r.phases))} |'
        )
    return '\n'.join(lines)
