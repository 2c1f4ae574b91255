"""`verdict_summary`: one model's thresholded metrics as the summary of its tracking run.

A tracking run's summary is where a reader of the tracker looks for how a run ended. For a scored
model that is its `METRICS` (``ablation/<metric>``), whether it meets each of `THRESHOLDS`
(``pass/<metric>``, the metric the threshold holds to its limit) and whether it meets them all
(``pass``): the same numbers and the same criteria the results tables use.

Design decisions:
- Keys are prefixed, so a summary that also holds the training's last logged values (``train_loss``,
  ``val_recon``) cannot mistake a bare ``median`` or ``r`` for something else.
- A metric missing from the scores, or a threshold over a metric that is not scored, is an error
  naming it, never a pass by default.

Deliberately not here: scoring (`ex_color.evaluation.ablation`), and writing into runs
(`ex_color.training.tracking.write_summaries`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ex_color.evaluation.metrics import METRICS, THRESHOLDS

__all__ = ['METRIC_PREFIX', 'PASS', 'PASS_PREFIX', 'verdict_summary']

METRIC_PREFIX = 'ablation/'
"""Prefix of each metric's key in a run summary."""
PASS_PREFIX = 'pass/'
"""Prefix of each threshold's pass flag (followed by the name of the metric it holds)."""
PASS = 'pass'
"""Key of the overall verdict: every threshold met."""


def verdict_summary(metrics: Mapping[str, float]) -> dict[str, float | bool]:
    """`metrics` (one model's `METRICS`) as run-summary values: each metric, each threshold's pass and
    the overall pass (see the module docstring)."""
    missing = [m for m in METRICS if m not in metrics]
    if missing:
        raise ValueError(
            f'verdict_summary: metrics lack {missing}; a model is scored on all of {list(METRICS)}'
        )
    out: dict[str, float | bool] = {f'{METRIC_PREFIX}{m}': float(metrics[m]) for m in METRICS}
    flags = []
    for threshold in THRESHOLDS:
        key = f'{PASS_PREFIX}{threshold.metric}'
        if threshold.metric not in metrics or key in out:
            raise ValueError(
                f'verdict_summary: threshold {threshold.label!r} holds {threshold.metric!r}, which is '
                'not scored or already held by another threshold; each flag is keyed by its metric'
            )
        # NaN compares false either way: a metric that could not be computed does not pass
        passed = threshold.passes(float(metrics[threshold.metric]))
        out[key] = passed
        flags.append(passed)
    out[PASS] = all(flags)
    return out
