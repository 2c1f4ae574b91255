"""`./go verify ex-2.10`: re-run a notebook's headline and check it against the committed intervals.

The committed notebook's results record (`report.publish_results`) holds, for its headline
configuration, the number of seeds, the pass rate with its Wilson 95 % interval and each headline
metric's median with its bootstrap 95 % interval, and the machine that produced them. This command
retrains that configuration (the registry's `headline`) on the same seeds here, from scratch (the run
cache is neither read nor written, nothing is tracked), scores every member, and reports metric by
metric whether the new value falls inside the committed interval. ``--first-seed N`` retrains on
other seeds instead (a claim about the method should also hold on seeds it was never run on); by
default the seeds are the ones the notebook reports (its headline declares them).

On this machine a re-run on the same seeds gives the same bits, so every value is inside. On another
CPU, training is chaotic in float rounding and each seed lands elsewhere: the re-run is then close
to a new sample, and its estimate can fall outside the committed interval of the first by chance
(that interval says where the true value lies, not where a second estimate will). So each value is
also tested for **consistency** with the committed one: the pass rates by Fisher's exact test on the
two counts, each median by a z-test on the difference, its standard error read off both bootstrap
intervals (on the log scale for errors spanning decades), Holm-corrected over the values checked.

Exit status: 0 when every value is consistent with the committed one, 1 when one is not, 2 for bad
input (an unknown id, a notebook without a record or an experiment without a declared headline).
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ex_color.evaluation.claims import ALPHA, Estimate, holm_adjust, median_estimate
from ex_color.evaluation.metrics import HEADLINE_METRICS, LOG_SCALE, METRICS
from ex_color.evaluation.numbers import g

__all__ = ['Check', 'compare', 'main']


@dataclass(frozen=True)
class Check:
    """One headline value of the re-run against the committed interval."""

    name: str
    committed: float
    low: float
    high: float
    rerun: float
    p: float
    """Two-sided p of the consistency test (see the module docstring), before correction."""
    p_holm: float = 1.0

    @property
    def inside(self) -> bool:
        return self.low <= self.rerun <= self.high

    @property
    def consistent(self) -> bool:
        return self.p_holm >= ALPHA


def _median_p(committed: list[float], rerun: Estimate, log: bool) -> float:
    from statistics import NormalDist

    f = (lambda v: math.log(v) if v > 0 else math.nan) if log else (lambda v: v)
    (v1, l1, h1), (v2, l2, h2) = ([f(x) for x in committed], [f(rerun.value), f(rerun.low), f(rerun.high)])
    if any(math.isnan(x) for x in (v1, l1, h1, v2, l2, h2)):
        return _median_p(committed, rerun, log=False)
    se = math.hypot((h1 - l1) / (2 * 1.96), (h2 - l2) / (2 * 1.96))
    if se == 0:
        return 1.0 if v1 == v2 else 0.0
    return 2 * (1 - NormalDist().cdf(abs(v2 - v1) / se))


def compare(record: Mapping[str, Any], df: pd.DataFrame) -> list[Check]:
    """The re-run's values (`df`: `seed_metrics`' table) against `record`'s: the pass rate, then each
    headline metric's median, each with its consistency test (Holm-corrected over the values)."""
    from scipy.stats import fisher_exact

    n, k = len(df), int(df['pass'].sum())
    low, high = record['pass_interval']
    table = np.array([[record['passed'], record['seeds'] - record['passed']], [k, n - k]])
    checks = [
        Check(
            'pass rate',
            record['passed'] / record['seeds'],
            low,
            high,
            k / n,
            float(fisher_exact(table).pvalue),
        )
    ]
    for m in HEADLINE_METRICS:
        value, lo, hi = record['medians'][m]
        est = median_estimate(df[m])
        checks.append(
            Check(
                f'median {METRICS[m]}',
                value,
                lo,
                hi,
                est.value,
                _median_p([value, lo, hi], est, m in LOG_SCALE),
            )
        )
    corrected = holm_adjust([c.p for c in checks])
    return [replace(c, p_holm=q) for c, q in zip(checks, corrected, strict=True)]


def report(
    checks: Sequence[Check], record: Mapping[str, Any], here: Mapping[str, str], n: int, first: int
) -> str:
    lines = [
        f'Ex {record["nbid"]}: {n} seeds ({first} … {first + n - 1}) retrained here, against the committed record '
        f'({record["seeds"]} seeds).',
        f'  committed on: {record["environment"].get("cpu", "?")} ({record["environment"].get("cpu capability", "?")})',
        f'  re-run on:    {here.get("cpu", "?")} ({here.get("cpu capability", "?")})',
        '',
        f'  {"value":46} {"committed [95 % CI]":30} {"re-run":10} {"inside?":8} consistent? (Holm p)',
    ]
    for c in checks:
        committed = (
            f'{c.committed:.0%} [{c.low:.0%}, {c.high:.0%}]'
            if c.name == 'pass rate'
            else f'{g(c.committed)} [{g(c.low)}, {g(c.high)}]'
        )
        rerun = f'{c.rerun:.0%}' if c.name == 'pass rate' else g(c.rerun)
        lines.append(
            f'  {c.name:46} {committed:30} {rerun:10} {"yes" if c.inside else "NO":8} '
            f'{"yes" if c.consistent else "NO"} ({g(c.p_holm)})'
        )
    inside = sum(c.inside for c in checks)
    consistent = sum(c.consistent for c in checks)
    lines += [
        '',
        f'{inside} of {len(checks)} headline values inside the committed intervals; {consistent} of '
        f'{len(checks)} consistent with the committed values (Holm-corrected, family-wise {ALPHA:.0%}).',
    ]
    return '\n'.join(lines)


def _headline(target: str):
    module, _, name = target.partition(':')
    return getattr(importlib.import_module(module), name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='./go verify', description=__doc__.splitlines()[0])
    parser.add_argument('id', help='the experiment, e.g. ex-2.10')
    parser.add_argument(
        '--first-seed',
        type=int,
        default=None,
        help="retrain on seeds from here (default: the notebook's own, as committed)",
    )
    parser.add_argument(
        '--seeds', type=int, default=None, help='how many seeds (default: as many as committed)'
    )
    parser.add_argument('--workers', type=int, default=2, help='processes to train in (default: 2)')
    args = parser.parse_args(argv)

    from ex_color.experiments.readme import read_results
    from ex_color.experiments.registry import experiment
    from utils.paths import project_root

    try:
        entry = experiment(args.id)
    except KeyError as e:
        print(f'go verify: {e.args[0]}', file=sys.stderr)
        return 2
    notebook = project_root() / 'notebooks' / entry.notebook
    try:
        record = read_results(notebook)
    except ValueError as e:
        print(f'go verify: {e}', file=sys.stderr)
        return 2
    if record is None:
        print(
            f'go verify: {notebook} holds no results record; run it first (./go run {args.id})',
            file=sys.stderr,
        )
        return 2
    if entry.headline is None:
        print(f'go verify: Ex {entry.id} declares no headline configuration in the registry', file=sys.stderr)
        return 2
    n = record['seeds'] if args.seeds is None else args.seeds
    if n < 2:
        print(f'go verify: --seeds must be at least 2, got {n}', file=sys.stderr)
        return 2

    from ex_color.evaluation.ablation import seed_metrics
    from ex_color.experiments.common import evaluation_cubes
    from ex_color.experiments.report import environment
    from ex_color.training import RunSettings
    from ex_color.training.front import train

    first = {} if args.first_seed is None else {'first_seed': args.first_seed}
    recipe, specs = _headline(entry.headline)(n, **first)
    settings = RunSettings(workers=args.workers, cache=False, tracking='disabled')
    start = time.perf_counter()
    result = train(recipe, specs, settings)
    cubes = evaluation_cubes()
    df = seed_metrics({m.spec.seed: m.model for m in result}, cubes.hd_hsv, cubes.rgb, cache=False)
    checks = compare(record, df)
    print(report(checks, record, environment(), n, specs[0].seed))
    print(f'({time.perf_counter() - start:.0f} s to train and score)')
    return 0 if all(c.consistent for c in checks) else 1


if __name__ == '__main__':
    raise SystemExit(main())
