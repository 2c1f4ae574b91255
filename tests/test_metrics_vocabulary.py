"""One vocabulary of results: thresholds, figures and the README agree with the metric definitions."""

from __future__ import annotations

from ex_color.evaluation import ablation
from ex_color.evaluation.metrics import HEADLINE_METRICS, LOG_SCALE, METRIC_DEFS, METRICS, THRESHOLDS


def test_every_threshold_holds_a_defined_metric_the_way_that_metric_gets_better():
    by_name = {m.name: m for m in METRIC_DEFS}
    for th in THRESHOLDS:
        assert th.metric in by_name, th
        # "at most" a limit only makes sense for a metric where lower is better, and vice versa
        assert th.at_most == (not by_name[th.metric].higher_is_better), th


def test_the_ablation_module_speaks_the_same_vocabulary():
    assert ablation.METRICS is METRICS and ablation.THRESHOLDS is THRESHOLDS
    assert len({m.name for m in METRIC_DEFS}) == len(METRIC_DEFS)


def test_headlines_are_the_ablations_effects_and_only_errors_are_drawn_on_a_log_axis():
    assert HEADLINE_METRICS == ('red', 'median', 'worst_gcb', 'r')
    assert 'r' not in LOG_SCALE  # a correlation can be negative
    assert {m for m in METRICS if 'MSE' in METRICS[m]} == set(LOG_SCALE)
