"""Prose rendered from results: what a notebook says about its seed and its seeds, with the numbers in.

Notebooks display these as Markdown, so a sentence can never disagree with the run that printed it,
and qualitative words (which configuration is better, whether a difference is significant) are
chosen from the numbers rather than typed.

Numbers are shown to two significant figures: the third varies between machines (same versions).
"""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ex_color.evaluation.ablation import AblationSummary
from ex_color.evaluation.claims import ALPHA, PairedTest, median_estimate, rate_estimate
from ex_color.evaluation.metrics import HEADLINE_METRICS, THRESHOLDS
from ex_color.evaluation.numbers import g, median_interval, quartiles
from ex_color.experiments.notebook_record import record_results

__all__ = [
    'environment',
    'g',
    'one_seed_markdown',
    'over_seeds_markdown',
    'paired_markdown',
    'pass_rate_text',
    'claim_records',
    'claim_sentence',
    'effect_summary',
    'change_text',
    'cpu_model',
    'publish_results',
    'regularizer_table',
]


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


def _median(values: pd.Series) -> str:
    e = median_estimate(values)
    return median_interval(e.value, e.low, e.high, prose='95 % CI')


def pass_rate_text(passed: int, n: int) -> str:
    """``9 of 20 seeds (45 %, 95 % CI 26–66 %)``: a pass rate with its Wilson interval."""
    r = rate_estimate(passed, n)
    return f'{passed} of {n} seeds ({r.value:.0%}, 95 % CI {r.low:.0%}–{r.high:.0%})'


def over_seeds_markdown(df: pd.DataFrame, *, name: str = '', highlight: int = 0) -> str:
    """The distribution over seeds in two sentences: medians with their 95 % intervals, the pass rate
    with its Wilson interval, the thresholds missed, and where the highlighted seed sits."""
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
        f'Over {n} seeds{what}, ablation leaves a median error at red of {_median(red)}, a median '
        f'ablated error over the cube of {_median(df["median"])}, and a worst of green, cyan and blue of '
        f'{_median(df["worst_gcb"])}; the error-vs-similarity correlation r is {_median(df["r"])}. '
        f'**{pass_rate_text(passed, n)} meet every threshold**; {fails}. '
        f'Seed {highlight} ranks {rank} of {n} by the error at red (1 = most red deleted).'
    )


def change_text(t: PairedTest) -> str:
    """The paired change with its interval: ``×1.3 [1.1, 1.6]`` (a ratio), ``+12 % [+6, +18]`` (pass
    rates, in points) or ``+0.09 [0.07, 0.11]`` (a difference)."""
    c = t.change
    if t.metric == 'pass':
        return f'{c.value * 100:+.0f} points [{c.low * 100:+.0f}, {c.high * 100:+.0f}]'
    if t.ratio:
        return f'×{g(c.value)} [{g(c.low)}, {g(c.high)}]'
    return f'{c.value:+.2g} [{c.low:+.2g}, {c.high:+.2g}]'


def claim_sentence(t: PairedTest) -> str:
    """One comparison as a sentence a reviewer accepts: a direction only when the corrected test
    supports it, otherwise what the data cannot tell apart at this n."""
    what = 'median ratio' if t.ratio else ('difference' if t.metric == 'pass' else 'median difference')
    stats = f'{what} {change_text(t)}, n = {t.n}, {t.test} p = {g(t.p)}, Holm p = {g(t.p_corrected)}'
    if t.verdict == 'not distinguishable':
        return f'{t.label}: {t.b} and {t.a} cannot be told apart at n = {t.n} ({stats}).'
    judged = f' ({t.judgement})' if t.judgement else ''
    return f'{t.label} is {t.verdict}{judged} with {t.b} than with {t.a} ({stats}).'


def paired_markdown(tests: Sequence[PairedTest]) -> str:
    """A table of paired comparisons (each b against its a, same seeds; `claims.holm` applied over the
    notebook's comparisons) and one sentence per comparison reading it."""
    lines = [
        '| metric | compared | a (median) | b (median) | change, b against a [95 % CI] | seeds where b is higher '
        '| test | p | p (Holm) |',
        '|---|---|---:|---:|---:|---:|---|---:|---:|',
    ]
    for t in tests:
        lines.append(
            f'| {t.label} | b = {t.b}, a = {t.a} | {g(t.median_a)} | {g(t.median_b)} | {change_text(t)} | '
            f'{t.b_higher}/{t.n} | {t.test} | {g(t.p)} | {g(t.p_corrected)} |'
        )
    said = '\n'.join(f'- {claim_sentence(t)}' for t in tests)
    return '\n'.join(lines) + '\n\n' + said


def effect_summary(tests: Sequence[PairedTest], b: str) -> str:
    """What changing one thing (configuration `b` against its reference) did, in one sentence: the
    metrics whose corrected test gives a direction (with the change and its interval), and the ones
    these seeds cannot tell apart, at which n."""
    mine = [t for t in tests if t.b == b]
    if not mine:
        raise KeyError(f'effect_summary: no comparison of {b!r} among {sorted({t.b for t in tests})}')
    differ = [t for t in mine if t.verdict != 'not distinguishable']
    same = [t for t in mine if t.verdict == 'not distinguishable']
    parts = [
        f'{t.label} {t.verdict}{f", {t.judgement}" if t.judgement else ""} ({change_text(t)})' for t in differ
    ]
    if same:
        parts.append(f'{", ".join(t.label for t in same)} cannot be told apart at n = {same[0].n}')
    return (
        f'**{b}**, against {mine[0].a} on the same seeds: ' + '; '.join(parts) + f' (Holm-corrected over '
        f"the notebook's {len(tests)} comparisons, family-wise {ALPHA:.0%})."
    )


def claim_records(tests: Sequence[PairedTest]) -> list[dict[str, Any]]:
    """The comparisons as results records (`publish_results(claims=...)`): the statistics behind each
    sentence, and the sentence as rendered."""
    return [
        {
            'kind': 'paired',
            'a': t.a,
            'b': t.b,
            'metric': t.metric,
            'n': t.n,
            'scale': 'ratio' if t.ratio else 'difference',
            'change': t.change.as_list(),
            'test': t.test,
            'p': t.p,
            'p_holm': t.p_holm,
            'verdict': t.verdict,
            'text': claim_sentence(t),
        }
        for t in tests
    ]


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what the platform reports)."""
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or 'unknown'


def environment(threads: int | None = None) -> Mapping[str, str]:
    """What produced these numbers: versions, the CPU's vector capability, the thread count."""
    from importlib.metadata import version

    import torch

    return {
        'python': platform.python_version(),
        'torch': torch.__version__,
        'lightning': version('lightning'),  # read, not imported: importing it costs a second
        'numpy': np.__version__,
        'cpu': cpu_model(),
        'cpu capability': str(torch.backends.cpu.get_cpu_capability()),
        'torch threads': str(threads if threads is not None else torch.get_num_threads()),
        'machine': platform.machine(),
    }


RESULTS_MIME = 'application/vnd.ex-color.results+json'
"""Output type of the record a notebook leaves for `./go results` (see `ex_color.experiments.readme`)."""


def publish_results(
    nbid: str, title: str, description: str, df: pd.DataFrame, *, claims: Sequence[Mapping[str, Any]] = ()
) -> None:
    """Leave this notebook's over-seeds results in its outputs, for the README's table and `./go verify`:
    the pass rate with its Wilson interval, each headline metric's median with its bootstrap interval
    (and quartiles), the comparative claims the notebook makes (`claim_records`), and the machine. The
    same, with every seed's row and the figures shown, becomes the notebook's tracking run
    (`notebook_record.record_results`)."""
    from IPython.display import display

    n, passed = len(df), int(df['pass'].sum())
    rate = rate_estimate(passed, n)
    payload = {
        'nbid': nbid,
        'title': title,
        'description': description,
        'seeds': n,
        'passed': passed,
        'pass_interval': [rate.low, rate.high],
        'medians': {m: median_estimate(df[m]).as_list() for m in HEADLINE_METRICS},
        'quartiles': {m: list(quartiles(df[m])) for m in HEADLINE_METRICS},
        'claims': [dict(c) for c in claims],
        'environment': dict(environment()),
    }
    text = f'Results recorded for the README ({n} seeds, {passed} meet every threshold).'
    display({RESULTS_MIME: payload, 'text/plain': text}, raw=True)
    record_results(payload, df)


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
