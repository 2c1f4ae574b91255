"""`train_members_on`: the sharded route (Modal's) merges shard results into exactly the one-call run."""

from __future__ import annotations

import asyncio
import tempfile
from typing import Any

import pytest
import torch

from ex_color.training import seeds
from ex_color.training.remote import shard_trainer, train_members_on
from mini.experiment import Experiment
from tests.training_helpers import data, regularizers, short_dopesheet

SETTINGS: dict[str, Any] = dict(
    dopesheet=short_dopesheet(),
    regularizers=regularizers(),
    make_data=data,
    k_bottleneck=5,
    n_nonlinear=2,
    run_name='remote-test',
    wandb_mode='disabled',
    progress=False,
    val_every_n_epochs=1,
)


def _run() -> Experiment:
    return Experiment('remote-test', backend='local')


def test_sharded_route_equals_one_call_bitwise():
    run = _run()
    train_shard = shard_trainer(run, cpu=1)
    one = asyncio.run(train_members_on(run, train_shard, seeds(range(5)), **SETTINGS))
    sharded = asyncio.run(train_members_on(run, train_shard, seeds(range(5)), shards=3, **SETTINGS))
    assert [m.name for m in sharded] == [m.name for m in one] == [f'seed-{s}' for s in range(5)]
    for a, b in zip(one, sharded, strict=True):
        assert all(torch.equal(a.state[k], b.state[k]) for k in a.state), a.name
        assert a.metrics == b.metrics
        assert a.label_counts == b.label_counts
    # Validation happens at the same steps on both routes.
    assert one.history.equals(sharded.history)


def test_a_sharded_run_reports_to_one_bar_through_the_callback_channel(monkeypatch):
    # The shards report their steps through `run.hither` (a modal.Queue on Modal, an in-process
    # channel here): the one bar sees every shard and ends at the last step.
    from ex_color.training import shards
    from utils.progress.display import Progress, ProgressState

    closed: list[ProgressState] = []
    draws: list[int] = []

    class Keep:
        def draw(self, state: ProgressState) -> None:
            draws.append(state.count)

        def close(self, state: ProgressState) -> None:
            closed.append(state)

    monkeypatch.setattr(shards, 'Progress', lambda *a, **k: Progress(*a, **k, interval=0, sink=Keep()))
    run = _run()
    train_shard = shard_trainer(run, cpu=1)
    asyncio.run(
        train_members_on(run, train_shard, seeds(range(4)), shards=2, **(SETTINGS | {'progress': True}))
    )
    (state,) = closed
    assert state.description == 'Training 4 members in 2 shards'
    assert state.count == len(SETTINGS['dopesheet']) and draws, 'no report reached the bar'
    assert 'train_loss' in state.metrics


def test_shard_function_is_a_modal_function_with_the_given_options():
    run = _run()
    train_shard = shard_trainer(run, cpu=2, timeout=600)
    options = run.modal_options(train_shard)
    assert options['cpu'] == 2 and options['timeout'] == 600
    assert run.modal_function(train_shard) is not None  # built offline, nothing sent


def test_bad_arguments_are_refused_by_name():
    run = _run()
    train_shard = shard_trainer(run)
    with pytest.raises(ValueError, match='empty'):
        asyncio.run(train_members_on(run, train_shard, [], **SETTINGS))
    with pytest.raises(ValueError, match='shards'):
        asyncio.run(train_members_on(run, train_shard, seeds(range(2)), shards=0, **SETTINGS))


def test_offline_runs_of_shards_come_back_into_the_local_wandb_folder(tmp_path, monkeypatch):
    # Each shard writes its runs in a temporary folder (a container's disk, remotely); they come
    # back inside the shard's result and land whole in the local wandb/ folder.
    monkeypatch.setenv('EX_COLOR_WANDB_DIR', str(tmp_path))
    monkeypatch.setenv('WANDB_SILENT', 'true')
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path / 'scratch'))
    (tmp_path / 'scratch').mkdir()
    run = _run()
    train_shard = shard_trainer(run, cpu=1)
    settings = {**SETTINGS, 'wandb_mode': 'offline', 'max_steps': 8}
    result = asyncio.run(train_members_on(run, train_shard, seeds(range(3)), shards=2, **settings))
    assert len(result) == 3 and result.offline_runs == {}
    runs = sorted((tmp_path / 'wandb').glob('offline-run-*'))
    assert len(runs) == 3, 'one wandb run per member'
    for folder in runs:
        assert list(folder.glob('run-*.wandb')), folder
    assert list((tmp_path / 'scratch').iterdir()) == [], 'the shards left their temporary folders'
    assert not list((tmp_path / 'wandb').glob('.*')), 'a staging folder was left behind'


def test_shards_get_this_machines_wandb_key_and_the_spec_never_shows_it(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.delenv('NETRC', raising=False)
    monkeypatch.delenv('WANDB_API_KEY', raising=False)
    monkeypatch.delenv('WANDB_BASE_URL', raising=False)
    secret = 'k' * 40
    (tmp_path / '.netrc').write_text(f'machine api.wandb.ai\n  login user\n  password {secret}\n')
    (tmp_path / '.netrc').chmod(0o600)
    run = _run()
    train_shard = shard_trainer(run, cpu=1)
    assert run.modal_options(train_shard)['env'] == {'WANDB_API_KEY': secret}
    spec = run._spec_for(train_shard)
    assert secret not in repr(spec) and 'WANDB_API_KEY' in repr(spec)
    assert secret not in repr(run)
    # an explicit value wins over the machine's
    other = shard_trainer(run, env={'WANDB_API_KEY': 'mine'})
    assert run.modal_options(other)['env'] == {'WANDB_API_KEY': 'mine'}
