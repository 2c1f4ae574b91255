"""Ex 2.13's own code: its search space and candidates, the committed choice, the metrics recorded while
training, and the conclusion's arithmetic. (The notebook itself is smoke-run by test_notebooks.)"""

from __future__ import annotations

import json
import math

import optuna
import pandas as pd
import pytest

from ex_color.evaluation.ablation import stacked_metrics
from ex_color.evaluation.metrics import METRICS
from ex_color.evaluation.tracking import MetricsDuringTraining, during_metrics
from ex_color.experiments import ex_2_10, ex_2_13
from ex_color.experiments.common import evaluation_cubes
from ex_color.search.racing import race
from ex_color.training import RunSettings
from ex_color.training.front import train
from ex_color.training.specs import MemberSpec
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline
from utils.paths import project_root

NOTEBOOKS = project_root() / 'notebooks'


@pytest.fixture(scope='module')
def template():
    return ex_2_13.template(NOTEBOOKS / ex_2_13.START_DOPESHEET)


def test_start_is_ex_2_10_stretched_with_a_tail(template):
    """The start keeps Ex 2.10's shape at twice its length, then a tail where only the learning rate falls."""
    ex210 = Timeline(Dopesheet.from_csv(NOTEBOOKS / ex_2_10.DOPESHEET))
    start = Timeline(template.base)
    for step in (0, 400, 700, 1100, 1400, 1500):
        a, b = ex210.at(step).props, start.at(2 * step).props
        for prop in ('reg-anchor', 'reg-anti-subspace', 'reg-separate'):
            assert b[prop] == pytest.approx(a[prop], rel=1e-6, abs=1e-12), (step, prop)
    tail = [start.at(t).props for t in (3000, 3375, 3750)]
    assert [p['lr'] for p in tail] == pytest.approx([0.05, 0.03, 0.01])
    assert all(p[q] == 0 for p in tail for q in ('reg-anchor', 'reg-anti-subspace', 'reg-separate'))
    assert ex_2_13.start_params(template)['label_scale'] == ex_2_13.START_LABEL_SCALE


def test_a_candidate_is_members_with_its_own_schedule_and_label_rate(template):
    params = ex_2_13.start_params(template) | {'transition': 1200, 'tail_lr': 0.004, 'label_scale': 2.5}
    members = ex_2_13.candidate_members(template, params, [7, 8], name='c3')
    assert [m.name for m in members] == ['c3 seed-7', 'c3 seed-8']
    assert all(m.data == {'label_scale': 2.5} for m in members)
    sheet = members[0].dopesheet
    assert sheet is not None
    timeline = Timeline(sheet)
    assert len(sheet) == len(template.base)  # one run trains every candidate side by side
    assert timeline.at(1200).props['reg-anchor'] == pytest.approx(params['anchor_peak'])
    assert timeline.at(ex_2_13.LAST_STEP).props['lr'] == pytest.approx(0.004)
    with pytest.raises(KeyError, match=r"missing \['label_scale'\]"):
        ex_2_13.candidate_members(
            template, {k: v for k, v in params.items() if k != 'label_scale'}, [1], name='x'
        )
    with pytest.raises(KeyError, match=r"unknown parameters \['power'\]"):
        ex_2_13.candidate_members(template, params | {'power': 3.0}, [1], name='x')
    with pytest.raises(ValueError, match='transition'):  # outside its declared range: refused, not clamped
        ex_2_13.candidate_members(template, params | {'transition': 50}, [1], name='x')


def test_suggest_stays_in_the_declared_space():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    for _ in range(20):
        p = ex_2_13.suggest(study.ask())
        for s in ex_2_13.SPACE:
            assert s.low <= p[s.name] <= s.high
        assert ex_2_13.LABEL_SCALE[0] <= p['label_scale'] <= ex_2_13.LABEL_SCALE[1]


def test_rungs_take_fresh_consecutive_seeds_far_from_the_final_comparison():
    rungs = ex_2_13.rungs([(8, 4), (2, 6)])
    assert [r.keep for r in rungs] == [8, 2]
    assert rungs[0].seeds == tuple(range(ex_2_13.RACE_FIRST, ex_2_13.RACE_FIRST + 4))
    assert rungs[1].seeds[0] == rungs[0].seeds[-1] + 1
    fresh = set(range(ex_2_13.FRESH_FIRST, ex_2_13.FRESH_FIRST + 1000))
    assert not fresh & {s for r in ex_2_13.rungs([(64, 8), (16, 24), (4, 72), (2, 96)]) for s in r.seeds}


def test_the_committed_choice_reads_back_and_bad_files_are_named(tmp_path, template):
    params = ex_2_13.start_params(template)
    (tmp_path / ex_2_13.DOPESHEET).write_text(template.text({p.name: params[p.name] for p in ex_2_13.SPACE}))
    (tmp_path / ex_2_13.RECIPE_FILE).write_text(
        ex_2_13.recipe_text(params, candidate=0, seeds_raced=40, passed=33)
    )
    choice = ex_2_13.chosen(tmp_path)
    assert choice.label_scale == ex_2_13.START_LABEL_SCALE
    assert len(choice.dopesheet) == len(template.base)
    assert [m.data for m in choice.members([5, 6])] == [{'label_scale': 1.5}] * 2
    assert choice.recipe.dopesheet is choice.dopesheet
    record = json.loads((tmp_path / ex_2_13.RECIPE_FILE).read_text())
    assert record['race'] == {'candidate': 0, 'seeds': 40, 'passed': 33}

    (tmp_path / ex_2_13.RECIPE_FILE).write_text('{"data": {"label_scale": 1.5},\n "dopesheet": }')
    with pytest.raises(ValueError, match=r'ex-2.13-recipe.json: line 2, column'):
        ex_2_13.chosen(tmp_path)
    (tmp_path / ex_2_13.RECIPE_FILE).write_text(
        json.dumps({'data': {'label_scale': -1}, 'dopesheet': 'x', 'searched': {}})
    )
    with pytest.raises(ValueError, match='label_scale must be a number >= 0'):
        ex_2_13.chosen(tmp_path)
    with pytest.raises(FileNotFoundError, match='run the Ex 2.13 notebook'):
        ex_2_13.chosen(tmp_path / 'nowhere')


def test_metrics_during_training_end_where_the_final_scores_start():
    """The last record is the returned model, scored by the same code the notebooks' tables use."""
    short = Dopesheet.from_text(
        'STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace\n0,Train,,0.01,0.01,0.1,0.25\n49,,,0.005,,,\n',
        source='short.csv',
    )
    cubes = evaluation_cubes()
    tracker = MetricsDuringTraining(cubes.hd_hsv, cubes.rgb, every=20)
    run = train(
        ex_2_10.RECIPE.with_(dopesheet=short),
        [MemberSpec(1), MemberSpec(2)],
        RunSettings(tracking='disabled', progress=False, cache=False),
        callbacks=[tracker],
    )
    rows = during_metrics(run)
    assert sorted(rows['step'].unique()) == [20, 40, 50]  # every 20th step, and the last
    assert set(rows['metric']) == set(METRICS)
    final = stacked_metrics([m.model for m in run], cubes.hd_hsv, cubes.rgb)
    for member, expected in zip(run, final, strict=True):
        last = rows[(rows['member'] == member.name) & (rows['step'] == 50)].set_index('metric')['value']
        for metric, value in expected.items():
            assert math.isclose(last[metric], value, rel_tol=1e-4, abs_tol=1e-9), (member.name, metric)
    early = rows[rows['step'] == 20].set_index(['member', 'metric'])['value']
    assert not early.equals(rows[rows['step'] == 50].set_index(['member', 'metric'])['value'])
    with pytest.raises(ValueError, match='every must be a whole number'):
        MetricsDuringTraining(cubes.hd_hsv, cubes.rgb, every=0)
    with pytest.raises(ValueError, match='no metrics during training'):
        during_metrics(
            train(
                ex_2_10.RECIPE.with_(dopesheet=short),
                [MemberSpec(1)],
                RunSettings(tracking='disabled', progress=False, cache=False, max_steps=5),
            )
        )


def test_a_race_over_candidates_is_one_run_per_rung(template):
    """Two rungs of real training: every rung is one engine run, and the race's records add up."""
    study = optuna.create_study(direction='maximize', sampler=optuna.samplers.RandomSampler(seed=0))
    runs = []

    def evaluate(candidates, seeds):
        specs = [
            s
            for c in candidates
            for s in ex_2_13.candidate_members(template, c.params, seeds, name=f'c{c.number}')
        ]
        result = train(
            ex_2_10.RECIPE.with_(dopesheet=template.base),
            specs,
            RunSettings(tracking='disabled', progress=False, cache=False, max_steps=8),
        )
        runs.append(len(result))
        scores = pd.DataFrame(
            stacked_metrics([m.model for m in result], evaluation_cubes().hd_hsv, evaluation_cubes().rgb)
        )
        ok = scores['red'].to_numpy() >= 0  # every seed "passes": the bookkeeping, not the method, is tested
        return [list(ok[i * len(seeds) : (i + 1) * len(seeds)]) for i in range(len(candidates))]

    result = race(study, ex_2_13.suggest, ex_2_13.rungs([(3, 2), (1, 3)]), evaluate)
    assert runs == [6, 3]
    assert result.winner.seeds == [2, 3] and result.winner.rate == 1.0


def _table(n: int, passed: int, red: float, median: float, *, seed: int) -> pd.DataFrame:
    import numpy as np

    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            'pass': [i < passed for i in range(n)],
            'red': red * rng.uniform(0.9, 1.1, n),
            'median': median * rng.uniform(0.9, 1.1, n),
        },
        index=pd.Index(range(1000, 1000 + n), name='seed'),
    )


def _goal(chosen, reference, modes):
    from ex_color.evaluation.claims import holm, paired_test
    from ex_color.experiments.ex_2_13.report import goal_markdown

    tests = holm(
        [paired_test(reference, chosen, m, names=('Ex 2.10', 'chosen')) for m in ('pass', 'red', 'median')]
    )
    return goal_markdown(chosen, reference, tests, modes, names=('chosen', 'Ex 2.10'))


def test_the_goal_is_shown_only_when_every_interval_clears_it():
    n = 400
    reference = _table(n, 200, 0.36, 1.4e-4, seed=1)
    modes = pd.Series(['passes'] * 380 + ['reconstruction short'] * 20, index=reference.index)
    text = _goal(_table(n, 380, 0.6, 1.0e-4, seed=2), reference, modes)
    assert text.startswith('**The goal is reached**')
    assert '380/400 = 95% [92%, 97%]' in text and '| shown |' in text
    assert 'shown: better' in text  # the collateral is lower, by the corrected paired test
    assert 'reconstruction short (20)' in text

    # 89 %: its interval holds 90 % — not reached, and not "missed" either
    text = _goal(_table(n, 356, 0.6, 1.0e-4, seed=2), reference, modes)
    assert text.startswith('**The goal is not reached in full**') and '| not reached |' in text
    # 80 %: the interval lies below the goal
    assert '| missed |' in _goal(_table(n, 320, 0.6, 1.0e-4, seed=2), reference, modes)
    # more collateral than Ex 2.10, shown by the test: the goal is missed whatever the pass rate
    text = _goal(_table(n, 380, 0.6, 3e-4, seed=2), reference, modes)
    assert 'missed: worse' in text and text.startswith('**The goal is not reached in full**')
    # red above the goal only by its estimate: reached by the estimate, not shown
    assert 'reached by the estimate, not shown' in _goal(
        _table(n, 380, 0.505, 1e-4, seed=2), reference, modes
    )
    with pytest.raises(ValueError, match='same seeds'):
        _goal(_table(n - 1, 380, 0.6, 1e-4, seed=2), reference, modes)


def test_modes_are_counted_with_intervals_and_curves_summarised_per_mode():
    from ex_color.experiments.ex_2_13.modes import MODES, curves_by_mode, mode_counts
    from ex_color.experiments.ex_2_13.report import modes_markdown

    a = pd.Series(['passes'] * 6 + ['never anchored'] * 3 + ['reconstruction short'], index=range(10))
    counts = mode_counts({'Ex 2.10': a, 'chosen': pd.Series(['passes'] * 10, index=range(10))})
    assert len(counts) == 2 * len(MODES)
    row = counts[(counts['configuration'] == 'Ex 2.10') & (counts['mode'] == 'never anchored')].iloc[0]
    assert (int(row['seeds']), int(row['n'])) == (3, 10) and float(row['low']) < 0.3 < float(row['high'])
    text = modes_markdown(counts)
    assert '| never anchored | 3 = 30% [' in text and '| 0 = 0% [0%, ' in text
    with pytest.raises(ValueError, match='outside MODES'):
        mode_counts({'x': pd.Series(['lost'])})

    traces = pd.DataFrame(
        [(seed, step, 'red angle', float(seed * 10 + step)) for seed in range(10) for step in (0, 10)],
        columns=['seed', 'step', 'quantity', 'value'],
    )
    curves = curves_by_mode(traces, a)
    assert set(curves['mode']) == {
        'passes',
        'never anchored',
    }  # one 'reconstruction short' seed draws no curve
    at = curves[(curves['mode'] == 'never anchored') & (curves['step'] == 10)].iloc[0]
    assert (
        float(at['median']) == 80.0 and int(at['n']) == 3
    )  # seeds 6, 7, 8: 60, 70, 80 at step 0, each +10 at step 10
    with pytest.raises(KeyError, match='no traces for seeds'):
        curves_by_mode(traces[traces['seed'] != 3], a)


def test_the_bound_on_the_error_at_red_is_the_ablated_models_own_error():
    import re

    import numpy as np
    import torch

    from ex_color.evaluation.ablation import stacked_metrics
    from ex_color.evaluation.numbers import g
    from ex_color.experiments.ex_2_13.report import ablated_red_markdown, share
    from ex_color.model import CNColorMLP

    torch.manual_seed(0)
    models = [CNColorMLP(5, n_nonlinear=2) for _ in range(5)]
    text = ablated_red_markdown(models, name='five untrained models')
    cubes = evaluation_cubes()
    red = np.median(
        [m['red'] for m in stacked_metrics(models, cubes.hd_hsv, cubes.rgb)]
    )  # scored independently
    assert f'their median error at red is {g(float(red))}.' in text
    assert re.search(r'as far from red as white \(0\.67\) or cyan \(1\); decoding to black \(0\.33\)', text)
    assert [share(1, 400), share(0, 400), share(4, 400), share(363, 400)] == ['0.2%', '0%', '1%', '91%']
