"""Racing: Optuna proposes, candidates race over new seeds each rung, and a lucky start is diluted."""

from __future__ import annotations

import optuna
import pytest

from ex_color.search.racing import Rung, race

optuna.logging.set_verbosity(optuna.logging.WARNING)


def study() -> optuna.Study:
    return optuna.create_study(direction='maximize', sampler=optuna.samplers.RandomSampler(seed=0))


def suggest(trial):
    return {'x': trial.suggest_float('x', 0.0, 1.0)}


def coin(x: float, seed: int) -> bool:
    """A seed passes with probability x: a fixed, seed-wise draw (the same seed, the same draw)."""
    return ((seed * 2654435761) % 1000) / 1000 < x


def test_the_race_spends_seeds_on_the_best_and_records_every_rung_on_its_trial():
    calls = []

    def evaluate(candidates, seeds):
        calls.append((len(candidates), len(seeds)))
        return [[coin(c.params['x'], s) for s in seeds] for c in candidates]

    s = study()
    rungs = [Rung(16, tuple(range(0, 4))), Rung(4, tuple(range(4, 20))), Rung(1, tuple(range(20, 84)))]
    result = race(s, suggest, rungs, evaluate)
    assert calls == [(16, 4), (4, 16), (1, 64)]  # 64 + 64 + 64 member trainings, not 16 × 84
    xs = sorted(c.params['x'] for c in result.standings)
    assert result.winner.params['x'] >= xs[-4]  # among the four best proposals
    assert result.winner.n == 84 and result.winner.seeds == [4, 16, 64]
    trials = s.get_trials(deepcopy=False)
    assert len(trials) == 16 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    by_number = {c.number: c for c in result.standings}
    for t in trials:
        c = by_number[t.number]
        assert t.value == pytest.approx(c.passed[0] / 4)  # Optuna is told the first rung's rate
        assert [t.user_attrs.get(f'rung{i}_seeds') for i in range(3)][: len(c.seeds)] == c.seeds
    assert sum('rung1_seeds' in t.user_attrs for t in trials) == 4
    assert sum('rung2_seeds' in t.user_attrs for t in trials) == 1


def test_a_lucky_start_is_diluted_by_the_seeds_it_earns():
    # 'lucky' passes all four first seeds but few after; 'steady' passes 3 of 4, then most
    outcomes = {
        'lucky': [True] * 4 + [False] * 12 + [True] * 4,
        'steady': [True, True, True, False] + [True] * 14 + [False] * 2,
    }
    names = iter(['lucky', 'steady'])

    def suggest_named(trial):
        return {'name': next(names)}  # two fixed candidates, in this order

    def evaluate(candidates, seeds):
        return [[outcomes[c.params['name']][s] for s in seeds] for c in candidates]

    result = race(study(), suggest_named, [Rung(2, (0, 1, 2, 3)), Rung(2, tuple(range(4, 20)))], evaluate)
    assert [c.params['name'] for c in result.standings] == ['steady', 'lucky']
    assert result.winner.rate == pytest.approx(17 / 20)


def test_rungs_that_cannot_race_and_a_wrong_evaluation_are_errors_that_leave_no_trial_running():
    def evaluate(candidates, seeds):
        return [[True] * len(seeds) for _ in candidates]

    with pytest.raises(ValueError, match='rung 1 keeps 3 candidates, more than rung 0 ran'):
        race(study(), suggest, [Rung(2, (0, 1)), Rung(3, (2, 3))], evaluate)
    with pytest.raises(ValueError, match='rung 1 reuses seeds'):
        race(study(), suggest, [Rung(2, (0, 1)), Rung(1, (1, 2))], evaluate)
    with pytest.raises(ValueError, match='at least one candidate'):
        race(study(), suggest, [Rung(0, (0,))], evaluate)
    s = study()
    with pytest.raises(ValueError, match='evaluate returned'):
        race(s, suggest, [Rung(3, (0, 1))], lambda c, seeds: [[True, True]])
    assert [t.state for t in s.get_trials(deepcopy=False)] == [optuna.trial.TrialState.FAIL] * 3


def test_the_sobol_study_proposes_the_same_spread_on_every_run():
    from ex_color.search.racing import sobol_study

    def points(seed):
        s = sobol_study('x', seed=seed)
        return [suggest(s.ask())['x'] for _ in range(8)]

    first = points(0)
    assert first == points(0)  # a re-run proposes the same candidates (and the run cache serves them)
    assert first != points(1)
    assert len({round(x, 6) for x in first}) == 8
