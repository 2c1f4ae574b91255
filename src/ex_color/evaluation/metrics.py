"""The vocabulary of results: every metric a claim is made about, defined once.

A `Metric` says what the column is called, how tables and figures label it, which way is better,
whether it is drawn on a log axis and whether it is a headline (the ablation's effect, which the
README, the results records and the per-seed figure show). `THRESHOLDS` are the criteria a seed must
meet to pass; each names one of these metrics. Everything that shows a metric (tables, figures,
prose, the README, the search's objectives) reads it from here, so they say the same thing in the
same words.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ['HEADLINE_METRICS', 'LOG_SCALE', 'METRICS', 'METRIC_DEFS', 'THRESHOLDS', 'Metric', 'Threshold']


@dataclass(frozen=True)
class Metric:
    """One scored quantity of a trained model."""

    name: str
    """Column name in every table of metrics (what `ablation_metrics` returns)."""
    label: str
    """How tables, figures and prose name it."""
    higher_is_better: bool
    log: bool
    """Drawn on a logarithmic axis (an error spanning decades)."""
    headline: bool
    """One of the ablation's effects that results tables and figures show first."""


METRIC_DEFS: tuple[Metric, ...] = (
    Metric('red', 'ablated MSE at red', higher_is_better=True, log=True, headline=True),
    Metric('median', 'median ablated MSE', higher_is_better=False, log=True, headline=True),
    Metric(
        'worst_gcb', 'worst ablated MSE of green, cyan, blue', higher_is_better=False, log=True, headline=True
    ),
    Metric('r', 'error-vs-similarity r', higher_is_better=True, log=False, headline=True),
    Metric('baseline_max', 'baseline max MSE', higher_is_better=False, log=True, headline=False),
    Metric('baseline_median', 'baseline median MSE', higher_is_better=False, log=True, headline=False),
)
"""Every metric, in the order tables and figures show them."""

METRICS: dict[str, str] = {m.name: m.label for m in METRIC_DEFS}
"""Column name -> label of every metric `ablation_metrics` returns."""

HEADLINE_METRICS: tuple[str, ...] = tuple(m.name for m in METRIC_DEFS if m.headline)
"""The ablation's effects: the README's columns, the results records and the per-seed figure."""

LOG_SCALE: frozenset[str] = frozenset(m.name for m in METRIC_DEFS if m.log)
"""Metrics drawn on a logarithmic axis."""


@dataclass(frozen=True)
class Threshold:
    """A criterion one metric must meet."""

    metric: str
    limit: float
    at_most: bool
    """True: the metric must be <= limit; False: >= limit."""
    label: str

    def passes(self, value: float) -> bool:
        return bool(value <= self.limit) if self.at_most else bool(value >= self.limit)


THRESHOLDS: tuple[Threshold, ...] = (
    Threshold('baseline_max', 5e-4, True, 'baseline max <= 5e-4'),
    Threshold('baseline_median', 5e-5, True, 'baseline median <= 5e-5'),
    Threshold('red', 0.1, False, 'ablated red >= 0.1'),
    Threshold('median', 3e-4, True, 'ablated median <= 3e-4'),
    Threshold('worst_gcb', 2e-3, True, 'ablated green, cyan, blue <= 2e-3'),
)
"""What a seed must meet to pass (unchanged since Ex 2.10; never tuned to a result)."""
