"""Schedule search: a batch of Optuna trials × seeds trains as one run; the study stops and resumes."""

from __future__ import annotations

import math
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ex_color.evaluation.ablation import Threshold
from ex_color.search import Objective, ScheduleSearch, StudyFileError, open_study, search_batch
from ex_color.training import train_members
from mini.temporal.template import SearchParam, SheetTemplate
from tests.training_helpers import SHORT_SHEET, data, regularizers

# line 2: 0,Train,,0.01,0.01,0.5,0.25   line 4: 40,,,0.05,0.01,0.5,0.03
SPACE = [SearchParam('anchor', 2, 'reg-anchor', 0.05, 1.0, log=True)]
OBJECTIVES = [Objective('val_recon', 'minimize'), Objective('val_reg-anchor', 'minimize')]
ROOT = Path(__file__).resolve().parents[1]


def template() -> SheetTemplate:
    return SheetTemplate(SHORT_SHEET, SPACE, source='short.csv')


def run_count(calls: list[int]):
    def train(specs):
        calls.append(len(specs))
        return train_members(
            specs,
            dopesheet=template().base,
            regularizers=regularizers(),
            make_data=data,
            k_bottleneck=5,
            n_nonlinear=2,
            run_name='search-test',
            max_steps=8,
            val_every_n_epochs=1,
            wandb_mode='disabled',
            progress=False,
        )

    return train


def metrics_of(members):
    return [m.metrics for m in members]


def test_a_batch_trains_every_trial_and_seed_in_one_run_and_tells_medians(tmp_path):
    calls: list[int] = []
    scored: list[list[str]] = []

    def score(members):
        scored.append([m.name for m in members])
        return metrics_of(members)

    study = open_study(tmp_path / 'study.db', 'test', OBJECTIVES)
    outcomes = search_batch(
        study,
        template(),
        OBJECTIVES,
        batch_size=3,
        seeds=[0, 1],
        train=run_count(calls),
        score=score,
    )
    assert calls == [6], 'three trials × two seeds, one run'
    assert len(scored) == 1 and sorted(scored[0]) == sorted(
        f'trial-{t} seed-{seed}' for t in range(3) for seed in (0, 1)
    ), 'every member scored in one call (a stacked scorer passes over them at once)'
    assert [o.number for o in outcomes] == [0, 1, 2]
    done = [t for t in study.trials if t.state.name == 'COMPLETE']
    assert len(done) == 3
    for o, t in zip(outcomes, done, strict=True):
        assert o.medians is not None
        assert t.values == [o.medians['val_recon'], o.medians['val_reg-anchor']]
        assert t.params == o.values and 0.05 <= o.values['anchor'] <= 1.0
        assert t.user_attrs['worst']['val_recon'] >= o.medians['val_recon']  # the worse of two seeds


def test_a_score_that_returns_another_number_of_results_is_an_error_naming_the_batch(tmp_path):
    study = open_study(tmp_path / 'study.db', 'test', OBJECTIVES)
    with pytest.raises(ValueError, match=r'score returned 1 results for the 4 members of batch 0'):
        search_batch(
            study,
            template(),
            OBJECTIVES,
            batch_size=2,
            seeds=[0, 1],
            train=run_count([]),
            score=lambda ms: metrics_of(ms)[:1],
        )


def test_a_stopped_study_resumes_from_its_stored_trials(tmp_path):
    path = tmp_path / 'runs' / 'study.db'
    first = open_study(path, 'resume', OBJECTIVES)
    search_batch(
        first, template(), OBJECTIVES, batch_size=2, seeds=[0], train=run_count([]), score=metrics_of
    )
    del first  # the session ends
    again = open_study(path, 'resume', OBJECTIVES)
    assert len(again.trials) == 2
    outcomes = search_batch(
        again, template(), OBJECTIVES, batch_size=2, seeds=[0], train=run_count([]), score=metrics_of
    )
    assert [o.number for o in outcomes] == [2, 3]
    assert len(again.trials) == 4
    with pytest.raises(ValueError, match=r"study.db: study 'resume' was made for directions"):
        open_study(path, 'resume', [Objective('val_recon', 'maximize'), Objective('val_reg-anchor')])


def test_a_point_that_breaks_the_sheet_is_told_failed_with_its_line_and_never_trained(tmp_path):
    sheet = 'STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace\n0,Train,,0.01,0.01,0.5,0.25\n20,,,,,,0.1\n40,,,0.05,0.01,0.5,0.03\n'
    bad = SheetTemplate(sheet, [SearchParam('turn', 3, 'STEP', 45, 60)], source='short.csv')
    calls: list[int] = []
    study = open_study(tmp_path / 's.db', 'bad', OBJECTIVES)
    outcomes = search_batch(
        study, bad, OBJECTIVES, batch_size=2, seeds=[0], train=run_count(calls), score=metrics_of
    )
    assert calls == []
    assert all(
        o.medians is None and o.error is not None and "line 3, column 'STEP'" in o.error for o in outcomes
    )
    assert [t.state.name for t in study.trials] == ['FAIL', 'FAIL']
    assert "line 3, column 'STEP'" in study.trials[0].user_attrs['error']


def search(path, calls, **kw) -> ScheduleSearch:
    settings = {
        'seeds': (0, 1),
        'batch_size': 2,
        'train': run_count(calls),
        'score': lambda ms: [{**m.metrics, 'twice': 2 * m.metrics['val_recon']} for m in ms],
        **kw,
    }
    return ScheduleSearch(path, 'test', template(), OBJECTIVES, **settings)


def test_a_search_starts_from_the_template_and_a_rerun_trains_only_what_is_missing(tmp_path):
    calls: list[int] = []
    first = search(tmp_path / 'study.db', calls)
    first.run(3)
    assert calls == [4, 2], 'batches of two trials x two seeds, the last one short'
    df = first.trials()
    assert list(df.index) == [0, 1, 2] and (df['state'] == 'COMPLETE').all()
    assert df.loc[0, 'template'] and df.loc[0, 'anchor'] == 0.5  # the sheet's own line-2 value
    assert list(df['batch']) == [0, 0, 1]
    assert (df['twice'] == 2 * df['val_recon']).all(), 'every scored metric is kept as a median'

    calls.clear()
    again = search(tmp_path / 'study.db', calls)  # a new session, the same declaration
    assert again.name == first.name
    again.run(3)
    assert calls == [], 'nothing left to train'
    again.run(4)
    assert calls == [2] and len(again.trials()) == 4

    other = search(tmp_path / 'study.db', [], seeds=(0, 1, 2))
    assert other.name != first.name, 'another declaration, another study'


def test_constraints_mark_trials_infeasible_and_interrupted_trials_fail(tmp_path):
    keep = Threshold('val_recon', 1e9, True, 'recon small')
    never = Threshold('val_recon', 1e9, False, 'recon huge')
    s = search(tmp_path / 'c.db', [], constraints=(keep, never))
    s.run(2)
    df = s.trials()
    assert not df['feasible'].any()
    assert all(len(t.user_attrs['constraints']) == 2 for t in s.study.trials)
    assert all(t.user_attrs['constraints'][0] < 0 < t.user_attrs['constraints'][1] for t in s.study.trials)

    s.study.ask()  # a session killed mid-batch leaves a trial running
    s.run(3)
    df = s.trials()
    assert df.loc[2, 'state'] == 'FAIL' and df.loc[2, 'error'] == 'interrupted before it was told'
    assert (df['state'] == 'COMPLETE').sum() == 3


def test_a_batch_with_no_valid_point_stops_the_search(tmp_path):
    sheet = 'STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace\n0,Train,,0.01,0.01,0.5,0.25\n20,,,,,,0.1\n40,,,0.05,0.01,0.5,0.03\n'
    bad = SheetTemplate(sheet, [SearchParam('turn', 3, 'STEP', 45, 60)], source='short.csv')
    s = ScheduleSearch(tmp_path / 'b.db', 'bad', bad, OBJECTIVES, train=run_count([]), score=metrics_of)
    with pytest.raises(
        ValueError, match=r'short.csv: every point of a batch made an invalid sheet, e.g. .*line 3'
    ):
        s.run(2, start_from_template=False)


def test_the_async_form_awaits_each_batch_and_the_plain_form_refuses_an_awaitable(tmp_path):
    import asyncio

    calls: list[int] = []
    plain = run_count(calls)

    async def remote(specs):  # what train_members_on looks like to the search
        await asyncio.sleep(0)
        return plain(specs)

    s = search(tmp_path / 'a.db', [], train=remote)
    asyncio.run(s.run_async(3))
    assert calls == [4, 2] and (s.trials()['state'] == 'COMPLETE').sum() == 3
    with pytest.raises(TypeError, match='use the async form'):
        search(tmp_path / 'b.db', [], train=remote).run(1)


def test_the_sampler_sees_the_constraints_optuna_reads(tmp_path):
    never = Threshold('val_recon', 1e9, False, 'recon huge')
    s = search(tmp_path / 'o.db', [], constraints=(never,))
    s.run(2)
    assert all(t.constraints == {'recon huge': t.user_attrs['constraints'][0]} for t in s.study.trials)


# A search in its own process whose batch waits, while training, for a file to appear.
WAITING_SEARCH = """
import sys, time
from pathlib import Path
from tests.test_search import run_count, search
path, started, release = map(Path, sys.argv[1:4])
inner = run_count([])
def train(specs):
    started.touch()
    deadline = time.monotonic() + 120
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return inner(specs)
search(path, [], train=train).run(2)
"""


def test_a_second_search_on_a_study_file_a_live_search_holds_is_refused_and_harms_nothing(tmp_path):
    path = tmp_path / 'shared.db'
    started, release = tmp_path / 'started', tmp_path / 'release'
    first = subprocess.Popen(
        [sys.executable, '-c', WAITING_SEARCH, str(path), str(started), str(release)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not started.exists():
            assert first.poll() is None, first.communicate()[1]
            assert time.monotonic() < deadline, 'the first search never started training'
            time.sleep(0.05)
        calls: list[int] = []
        with pytest.raises(
            StudyFileError,
            match=rf'{re.escape(str(path))}: another search is running on this study file \(process {first.pid}',
        ):
            search(path, calls).run(2)
        assert calls == [], 'refused before training anything'
    finally:
        release.touch()
        _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    again = search(path, calls)  # the first search has ended: its lock went with it
    again.run(2)
    assert calls == [] and list(again.trials()['state']) == ['COMPLETE', 'COMPLETE']


def test_an_objective_that_is_not_finite_fails_its_trial_and_a_batch_of_them_stops_the_search(tmp_path):
    def nan_for(names):
        def score(ms):
            return [{**m.metrics, 'val_recon': math.nan} if m.name in names else m.metrics for m in ms]

        return score

    # one seed of trial 1 scores NaN: that trial fails with the objective and the seed named, and a
    # new point replaces it
    s = search(tmp_path / 'some.db', [], score=nan_for({'trial-1 seed-1'}))
    s.run(3)
    df = s.trials()
    assert list(df['state']) == ['COMPLETE', 'FAIL', 'COMPLETE', 'COMPLETE']
    assert "objective 'val_recon' is nan for seed 1" in str(df.loc[1, 'error'])

    calls: list[int] = []
    count = run_count(calls)

    def train(specs):
        if len(calls) >= 3:
            raise RuntimeError('the search kept asking for batches')
        return count(specs)

    every = search(
        tmp_path / 'all.db',
        calls,
        train=train,
        score=lambda ms: [{**m.metrics, 'val_recon': math.inf} for m in ms],
    )
    with pytest.raises(ValueError, match=r"no trial of batch 0 gave a finite value of objective 'val_recon'"):
        every.run(3)
    assert calls == [4], 'stopped after one batch'
    assert (every.trials()['state'] == 'FAIL').all()


def test_an_interrupted_first_batch_asks_for_the_template_again(tmp_path):
    def interrupted(specs):
        raise KeyboardInterrupt

    path = tmp_path / 'study.db'
    with pytest.raises(KeyboardInterrupt):
        search(path, [], train=interrupted).run(3)
    calls: list[int] = []
    again = search(path, calls)  # the same session (a notebook kernel) runs the cell again
    again.run(3)
    df = again.trials()
    assert list(df['state']) == ['FAIL', 'FAIL', 'COMPLETE', 'COMPLETE', 'COMPLETE']
    assert (df.loc[[0, 1], 'error'] == 'interrupted before it was told').all()
    measured = df[df['template']]
    assert list(measured.index) == [2], 'the template row is the attempt that was measured'
    assert measured.loc[2, 'anchor'] == 0.5 and measured.loc[2, 'state'] == 'COMPLETE'


def test_a_study_file_that_is_not_sqlite_or_is_locked_is_an_error_that_names_it(tmp_path):
    notes = tmp_path / 'notes.db'
    notes.write_text('not a database, ' * 20)
    with pytest.raises(StudyFileError, match=rf'{re.escape(str(notes))}: not an SQLite database'):
        open_study(notes, 'x', OBJECTIVES)
    assert notes.read_text() == 'not a database, ' * 20

    path = tmp_path / 'study.db'
    open_study(path, 'x', OBJECTIVES)
    other = sqlite3.connect(path, isolation_level=None)  # e.g. a sqlite3 shell in a write transaction
    try:
        other.execute('BEGIN EXCLUSIVE')
        with pytest.raises(StudyFileError, match=rf'{re.escape(str(path))}: .*locked by another connection'):
            open_study(path, 'x', OBJECTIVES)
    finally:
        other.close()
    assert open_study(path, 'x', OBJECTIVES).study_name == 'x'


def test_each_trial_records_how_many_of_its_batchs_members_came_from_the_run_cache(tmp_path):
    """A notebook that says how long its members took to train must know which were only loaded."""
    import dataclasses

    def train(specs):
        return dataclasses.replace(run_count([])(specs), cached=4)

    study = open_study(tmp_path / 'study.db', 'test', OBJECTIVES)
    search_batch(study, template(), OBJECTIVES, batch_size=3, seeds=[0, 1], train=train, score=metrics_of)
    assert [t.user_attrs['cached_members'] for t in study.trials] == [4, 4, 4]
    assert [t.user_attrs['members'] for t in study.trials] == [6, 6, 6]
