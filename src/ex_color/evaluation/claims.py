"""Claims about the method are statistics over seeds: estimates with intervals, paired tests, Holm.

* `median_estimate(values)`: a median with its percentile-bootstrap 95 % interval (`Estimate`);
* `rate_estimate(k, n)`: a pass rate with its Wilson 95 % interval (`intervals.wilson`);
* `paired_test(a, b, metric)`: two configurations trained on the same seeds, compared on one metric
  (`PairedTest`): the median paired change with its bootstrap interval and a two-sided test —
  Wilcoxon signed-rank for a metric, McNemar's exact test for a pass/fail column;
* `holm(tests)`: the same tests with Holm-corrected p-values, over every comparison a notebook makes;
  a verdict (`PairedTest.verdict`) states a direction only when the corrected p is below `ALPHA` and
  the change's interval excludes no change (the rank test and the bootstrap interval of the median
  can disagree near the line; then the sentence says the seeds cannot tell).

Design decisions:
- A metric on a log axis (`metrics.LOG_SCALE`, errors spanning decades) is compared by the ratio
  b / a (its median and interval are those of the log ratio, exponentiated); a linear one (r) and a
  pass rate by the difference b − a. A linear midpoint of a quantity spanning decades says little.
  A ratio needs positive values: when some seed's value is exactly 0 (a model that reconstructs a
  colour perfectly), that metric is compared by the difference, and `scale` (and so every sentence
  and record) says so; nothing is floored or dropped.
- The bootstrap is seeded (`seed=0`): the same values give the same interval on every machine.
- A paired test with every difference zero has p = 1 (scipy would raise); fewer than two seeds raise.
- "Not significant" is never "no effect": `PairedTest.verdict` is 'higher', 'lower' or
  'not distinguishable', and prose says at which n.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ex_color.evaluation.intervals import wilson
from ex_color.evaluation.metrics import LOG_SCALE, METRIC_DEFS, METRICS

__all__ = [
    'ALPHA',
    'Estimate',
    'PairedTest',
    'holm',
    'holm_adjust',
    'median_estimate',
    'paired_test',
    'rate_estimate',
]

ALPHA = 0.05
"""Family-wise error rate the corrected tests are read at."""
RESAMPLES = 10_000
"""Bootstrap resamples per interval."""


@dataclass(frozen=True)
class Estimate:
    """A statistic over n seeds with its 95 % interval."""

    value: float
    low: float
    high: float
    n: int

    def as_list(self) -> list[float]:
        return [self.value, self.low, self.high]


def _bootstrap(values: np.ndarray, statistic, confidence: float, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(RESAMPLES, len(values)))
    stats = statistic(values[idx], axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(stats, [tail, 1 - tail])
    return float(low), float(high)


def _values(values: Sequence[float] | pd.Series | np.ndarray, who: str) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError(f'{who}: need at least 2 values in one dimension, got shape {x.shape}')
    if not np.isfinite(x).all():
        raise ValueError(f'{who}: values must be finite, got {x[~np.isfinite(x)][:3].tolist()}')
    return x


def median_estimate(values, *, confidence: float = 0.95, seed: int = 0) -> Estimate:
    """The median of `values` with its percentile-bootstrap interval."""
    x = _values(values, 'median_estimate')
    low, high = _bootstrap(x, np.median, confidence, seed)
    return Estimate(float(np.median(x)), low, high, len(x))


def rate_estimate(k: int, n: int, *, confidence: float = 0.95) -> Estimate:
    """k of n seeds as a rate with its Wilson interval."""
    low, high = wilson(k, n, confidence)
    return Estimate(k / n, low, high, n)


@dataclass(frozen=True)
class PairedTest:
    """Two configurations trained on the same seeds, compared on one metric (b against a)."""

    a: str
    """The configuration compared against (the reference)."""
    b: str
    metric: str
    n: int
    median_a: float
    median_b: float
    median_difference: float
    """Median over seeds of b − a (a pass rate: the difference of the rates)."""
    b_higher: int
    """Seeds where b's value is higher than a's."""
    p: float
    """Two-sided p of `test`, uncorrected."""
    change: Estimate
    """What a sentence quotes: the median ratio b / a (log metrics), else the median difference b − a
    (for pass: the difference of the rates), with its bootstrap interval."""
    test: str
    """'Wilcoxon signed-rank' or 'McNemar exact'."""
    scale: str = 'difference'
    """'ratio' (b / a, log metrics with every value positive) or 'difference' (b − a)."""
    p_holm: float | None = None
    """p after Holm's correction over the notebook's comparisons (`holm`); None until corrected."""

    @property
    def ratio(self) -> bool:
        return self.scale == 'ratio'

    @property
    def p_corrected(self) -> float:
        """`p_holm`; an error while the test is not yet corrected for the notebook's other comparisons."""
        if self.p_holm is None:
            raise ValueError(
                f'paired test of {self.metric!r} ({self.b} against {self.a}) is not corrected for the '
                "other comparisons: pass the notebook's tests through holm(...) first"
            )
        return self.p_holm

    @property
    def verdict(self) -> str:
        """'higher' or 'lower' (b against a) when the corrected p is below `ALPHA` and the change's
        interval excludes no change (1 for a ratio, 0 for a difference); else 'not distinguishable'."""
        neutral = 1.0 if self.ratio else 0.0
        if self.p_corrected >= ALPHA or self.change.low <= neutral <= self.change.high:
            return 'not distinguishable'
        return 'higher' if self.change.value > neutral else 'lower'

    @property
    def judgement(self) -> str:
        """'better', 'worse' or '' (not distinguishable, or a metric with no better side)."""
        if self.verdict == 'not distinguishable':
            return ''
        defs = {m.name: m for m in METRIC_DEFS}
        up = (
            True
            if self.metric == 'pass'
            else (defs[self.metric].higher_is_better if self.metric in defs else None)
        )
        if up is None:
            return ''
        return 'better' if (self.verdict == 'higher') == up else 'worse'

    @property
    def label(self) -> str:
        return 'pass rate' if self.metric == 'pass' else METRICS.get(self.metric, self.metric)


def paired_test(
    a: pd.DataFrame,
    b: pd.DataFrame,
    metric: str,
    *,
    names: tuple[str, str] = ('a', 'b'),
    log: bool | None = None,
    seed: int = 0,
) -> PairedTest:
    """Compare `metric` of `b` against `a` over the seeds both have (see the module docstring); `names`
    are what prose calls a and b; `log` says whether the metric spans decades (compared by ratio;
    default: whether it is in `LOG_SCALE`)."""
    from scipy import stats  # imported here: half a second that most callers never need

    if metric not in a.columns or metric not in b.columns:
        raise KeyError(f'paired_test: metric {metric!r} is not a column of both tables')
    seeds = a.index.intersection(b.index)
    if len(seeds) < 2:
        raise ValueError(f'paired_test: need at least 2 seeds in common, got {list(seeds)}')
    x = a.loc[seeds, metric].to_numpy(dtype=float)
    y = b.loc[seeds, metric].to_numpy(dtype=float)
    diff = y - x
    if metric == 'pass':
        only_b, only_a = int(((y == 1) & (x == 0)).sum()), int(((x == 1) & (y == 0)).sum())
        p = 1.0 if only_a + only_b == 0 else float(stats.binomtest(only_b, only_a + only_b).pvalue)
        low, high = _bootstrap(diff, np.mean, 0.95, seed)
        change, test = Estimate(float(diff.mean()), low, high, len(seeds)), 'McNemar exact'
        scale = 'difference'
        centre = float(y.mean() - x.mean())
    else:
        spans_decades = metric in LOG_SCALE if log is None else log
        if spans_decades and (x > 0).all() and (y > 0).all():
            logs = np.log(y) - np.log(x)
            low, high = _bootstrap(logs, np.median, 0.95, seed)
            change = Estimate(
                float(np.exp(np.median(logs))), float(np.exp(low)), float(np.exp(high)), len(seeds)
            )
            tested, scale = logs, 'ratio'
        else:
            low, high = _bootstrap(diff, np.median, 0.95, seed)
            change = Estimate(float(np.median(diff)), low, high, len(seeds))
            tested, scale = diff, 'difference'
        p = 1.0 if np.all(tested == 0) else float(stats.wilcoxon(tested).pvalue)
        test, centre = 'Wilcoxon signed-rank', float(np.median(diff))
    return PairedTest(
        names[0],
        names[1],
        metric,
        len(seeds),
        float(np.median(x)) if metric != 'pass' else float(x.mean()),
        float(np.median(y)) if metric != 'pass' else float(y.mean()),
        centre,
        int((diff > 0).sum()),
        p,
        change,
        test,
        scale,
    )


def holm_adjust(ps: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of `ps`, in the same order (monotone, capped at 1)."""
    if not ps:
        raise ValueError('holm: no p-values given')
    m = len(ps)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda i: ps[i])):
        running = max(running, min(1.0, (m - rank) * ps[i]))
        adjusted[i] = running
    return adjusted


def holm(tests: Sequence[PairedTest]) -> list[PairedTest]:
    """`tests` in the same order, each with its Holm-corrected p (`holm_adjust`)."""
    adjusted = holm_adjust([t.p for t in tests])
    return [replace(t, p_holm=q) for t, q in zip(tests, adjusted, strict=True)]
