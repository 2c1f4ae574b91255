"""`train_members_on`: the sharded route (Modal's) merges shard results into exactly the one-call run."""

from __future__ import annotations

import asyncio

import pytest
import torch

from ex_color.training import seeds
from ex_color.training.remote import shard_trainer, train_members_on
from mini.experiment import Experiment
from tests.training_helpers import data, regularizers, short_dopesheet

SETTINGS = dict(
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
