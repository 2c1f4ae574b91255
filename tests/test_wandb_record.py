"""Every wandb run says what trained it and how it scored: read back from the offline run's own file.

Members of Ex 2.10's recipe train for a few steps with wandb offline (into a temporary folder); each
run's log (``run-*.wandb``) is then read record by record (`tests.wandb_runs`) and its config and
summary are compared with what the test asked for and with the returned models scored afresh
(`stacked_metrics`).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from ex_color.evaluation.ablation import stacked_metrics
from ex_color.evaluation.metrics import METRICS, THRESHOLDS
from ex_color.evaluation.run_summary import verdict_summary
from ex_color.evaluation.tracking import MetricsDuringTraining
from ex_color.experiments import ex_2_10
from ex_color.experiments.common import evaluation_cubes
from ex_color.training import LoopCallback, MemberSpec, RunSettings, fit, train
from ex_color.training.run_record import member_record
from ex_color.training.tracking import MemberWandbLogger, write_summaries
from mini.temporal.dopesheet import Dopesheet
from tests.training_helpers import data, module
from tests.wandb_runs import read_run, runs_by_name
from utils.paths import project_root

SHEET = project_root() / 'notebooks' / 'ex-2.10-dopesheet.csv'
SETTINGS = RunSettings(max_steps=20, tracking='offline', cache=False, progress=False)
RUN_NAME = ex_2_10.EXPERIMENT
"""Ex 2.10's recipe name: the run's name and group, and the start of every member's run name."""


# -- what the runs hold ----------------------------------------------------------------------------


def check_schedule(schedule: dict[str, Any]) -> None:
    # notebooks/ex-2.10-dopesheet.csv as written: lr 1e-8 at 0, 0.01 at +10, 0.1 at 750, 0.05 at 1500;
    # the anchor 0 at 0 and 0.15 at 750; one phase, Train, from step 0; 1501 steps in all
    assert schedule['source'].endswith('ex-2.10-dopesheet.csv')
    assert schedule['steps'] == 1501
    lr = schedule['keyframes']['lr']
    assert (lr['0'], lr['10'], lr['750'], lr['1500']) == (1e-8, 0.01, 0.1, 0.05)
    assert (schedule['keyframes']['reg-anchor']['0'], schedule['keyframes']['reg-anchor']['750']) == (0, 0.15)
    assert schedule['phases'] == {'0': 'Train'}


def check_config(config: dict[str, Any], *, seed: int, data: dict, weights: dict) -> None:
    assert config['recipe'] == RUN_NAME
    assert config['seed'] == seed
    assert (config['k_bottleneck'], config['n_nonlinear']) == (ex_2_10.K, ex_2_10.N)
    assert config['steps'] == 20
    assert config['data'] == data
    assert config['weights'] == weights
    regs = config['regularizers']
    assert sorted(regs) == sorted(r.name for r in ex_2_10.regularizers())
    for reg in ex_2_10.regularizers():
        entry = regs[reg.name]
        term = reg.compute_loss_term
        assert entry['term'] == f'{type(term).__module__}.{type(term).__qualname__}({term.extra_repr()})'
        assert entry['layers'] == list(reg.layer_affinities)
        assert entry['labels'] == (dict(reg.label_affinities) if reg.label_affinities is not None else None)
        assert entry['weight_scale'] == weights.get(reg.name, 1.0)
    check_schedule(config['schedule'])


def check_summary(summary: dict[str, Any], expected: dict[str, float]) -> None:
    for metric in METRICS:
        assert math.isclose(summary[f'ablation/{metric}'], expected[metric], rel_tol=1e-6), metric
    flags = []
    for th in THRESHOLDS:
        value = expected[th.metric]
        passed = value <= th.limit if th.at_most else value >= th.limit
        assert summary[f'pass/{th.metric}'] is passed, th.label
        flags.append(passed)
    assert summary['pass'] is all(flags)


def test_member_runs_record_their_config_and_final_scores(offline):
    recipe = ex_2_10.RECIPE.with_(dopesheet=Dopesheet.from_csv(SHEET))
    cubes = evaluation_cubes()
    members = [MemberSpec(0), MemberSpec(1, data={'label_scale': 2.0}, weights={'reg-anchor': 0.5})]
    tracker = MetricsDuringTraining(cubes.hd_hsv, cubes.rgb, every=10)
    run = train(recipe, members, SETTINGS, callbacks=[tracker])
    runs = runs_by_name(offline)
    names = [f'{RUN_NAME} · seed-0', f'{RUN_NAME} · seed-1 label_scale=2 reg-anchor×0.5']
    assert sorted(runs) == names
    first, second = runs[names[0]], runs[names[1]]
    assert first.group == second.group == RUN_NAME
    check_config(first.config, seed=0, data={}, weights={})
    check_config(second.config, seed=1, data={'label_scale': 2.0}, weights={'reg-anchor': 0.5})
    expected = stacked_metrics([m.model for m in run], cubes.hd_hsv, cubes.rgb)
    check_summary(first.summary, expected[0])
    check_summary(second.summary, expected[1])
    flags = [r.summary[f'pass/{th.metric}'] for r in (first, second) for th in THRESHOLDS]
    assert True in flags and False in flags, 'after 20 steps some thresholds pass and some fail'
    assert 'train_loss' in first.summary, "the training's own last values stay beside the scores"

    # one member through the same door: its own name, config and summary
    run = train(recipe, [3], SETTINGS, callbacks=[tracker])
    (single,) = [r for name, r in runs_by_name(offline).items() if name not in runs]
    assert single.name == f'{RUN_NAME} · seed-3'
    check_config(single.config, seed=3, data={}, weights={})
    check_summary(single.summary, stacked_metrics([run.members[0].model], cubes.hd_hsv, cubes.rgb)[0])


class FinalStep(LoopCallback):
    """Any callback may add to the runs' summaries: here, the step each member ended on."""

    def on_fit_end(self, loop):
        write_summaries(
            loop.engine.loggers, [{'final/step': loop.engine.global_step}] * loop.engine.n_members
        )


def test_a_one_model_fit_is_named_by_its_seed_and_records_what_trained_it(offline):
    result = ex_2_10.train(
        4,
        dopesheet=Dopesheet.from_csv(SHEET),
        max_steps=20,
        wandb_mode='offline',
        progress=False,
        callbacks=[FinalStep()],
    )
    assert result.run_dir is not None and result.run_dir.parent == offline / 'wandb'
    run = read_run(result.run_dir)
    assert run.finished
    assert (run.name, run.group) == (f'{RUN_NAME} · seed-4', RUN_NAME)
    check_config(run.config, seed=4, data={}, weights={})
    assert run.summary['final/step'] == 20


def test_different_schedule_values_make_different_configs():
    text = SHEET.read_text()
    edited = text.replace('750,,,0.1,0.01,0.15,0.03', '750,,,0.1,0.01,0.2,0.03')
    assert edited != text
    same_name = str(SHEET)  # an edited CSV saved over the old one: only its values tell them apart
    records = [
        member_record(
            MemberSpec(0),
            run='r',
            recipe='r',
            steps=20,
            k_bottleneck=ex_2_10.K,
            n_nonlinear=ex_2_10.N,
            regularizers=ex_2_10.regularizers(),
            dopesheet=Dopesheet.from_text(t, source=same_name),
        )
        for t in (text, edited)
    ]
    a, b = (r.config['schedule'] for r in records)
    assert a['source'] == b['source']
    assert a['keyframes']['reg-anchor']['750'] == 0.15 and b['keyframes']['reg-anchor']['750'] == 0.2
    assert a['digest'] != b['digest']


def test_verdicts_hold_each_metric_to_its_threshold():
    # THRESHOLDS: baseline max <= 5e-4, baseline median <= 5e-5, red >= 0.1, median <= 3e-4,
    # worst green/cyan/blue <= 2e-3; values at a limit pass
    at_limits = {
        'red': 0.1,
        'median': 3e-4,
        'worst_gcb': 2e-3,
        'r': 0.9,
        'baseline_max': 5e-4,
        'baseline_median': 5e-5,
    }
    summary = verdict_summary(at_limits)
    assert summary['pass'] is True
    assert summary['ablation/r'] == 0.9 and 'pass/r' not in summary  # r is scored, not thresholded
    short = verdict_summary({**at_limits, 'red': 0.0999, 'baseline_median': math.nan})
    assert (short['pass/red'], short['pass/baseline_median'], short['pass/median']) == (False, False, True)
    assert short['pass'] is False
    with pytest.raises(ValueError, match="lack \\['worst_gcb'\\]"):
        verdict_summary({k: v for k, v in at_limits.items() if k != 'worst_gcb'})


def test_summaries_must_match_the_members_and_come_before_the_runs_finish():
    logger = MemberWandbLogger(['a', 'b'], group='g', mode='disabled')
    with pytest.raises(ValueError, match='1 summaries for 2 members'):
        write_summaries([logger], [{'x': 1.0}])
    with pytest.raises(TypeError, match='one per member'):
        write_summaries([logger], {'x': 1.0})  # type: ignore[arg-type]  # one mapping, not one per member
    write_summaries([logger], [{'x': 1.0}, {'x': 2.0}])
    logger.finalize('success')
    with pytest.raises(RuntimeError, match='on_fit_end'):
        write_summaries([logger], [{'x': 1.0}, {'x': 2.0}])


def test_a_fit_with_tracking_disabled_reports_no_run_folder():
    # wandb hands out a stand-in run with a folder name and an id that were never written
    m = module(0)
    train_data, val_data = data(0)
    result = fit(m, train_data, val_data, run_name='t', max_steps=5, wandb_mode='disabled', progress=False)
    assert (result.run_dir, result.run_id) == (None, None)
