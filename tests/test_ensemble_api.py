"""The ensemble's public pieces: stacked model, stacked batches, result object, logging keys, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from ex_color.capture import capture
from ex_color.ensemble import EnsembleResult, StackedBatches, StackedColorMLP, train_ensemble
from ex_color.ensemble.loop import EnsembleLoop, Schedule
from ex_color.loss import AxisAlignedSubspace, RegularizerConfig, Separate
from ex_color.model import CNColorMLP
from ex_color.training import FixedBatches, RandomBatches
from mini.temporal.dopesheet import Dopesheet

SHEET = """STEP,PHASE,ACTION,lr,reg-separate,reg-subspace
0,Train,,0.01,0.01,0.1
20,,,0.01,0.01,0.1
"""


def regularizers() -> list[RegularizerConfig]:
    return [
        RegularizerConfig('reg-separate', Separate(power=10.0), None, ['bottleneck']),
        RegularizerConfig(
            'reg-subspace', AxisAlignedSubspace((0,), invert=True), None, ['encoder.2'], ('train', 'validate')
        ),
    ]


def make_data(seed: int) -> tuple[RandomBatches, FixedBatches]:
    colors = torch.rand(50, 3, generator=torch.Generator().manual_seed(100))
    return (
        RandomBatches(colors, {'red': colors[:, 0] * 0.5}, batch_size=16, seed=seed),
        FixedBatches(colors[:20], {'red': (colors[:20, 0] > 0.9).float()}, batch_size=8),
    )


@pytest.fixture(scope='module')
def result() -> EnsembleResult:
    return train_ensemble(
        [7, 2],
        dopesheet=Dopesheet.from_text(SHEET),
        regularizers=regularizers(),
        make_data=make_data,
        k_bottleneck=4,
        n_nonlinear=2,
        run_name='test',
        wandb_mode='disabled',
        progress=False,
        val_every_n_epochs=2,
    )


def test_stacked_forward_and_capture_equal_each_member():
    models = [CNColorMLP(4, n_nonlinear=2) for _ in range(3)]
    net = StackedColorMLP(models)
    x = torch.rand(3, 10, 3) * 1.4 - 0.2
    for training in (True, False):
        net.train(training)
        y, acts = net(x, capture=['encoder.2', 'bottleneck', 'decoder'])
        for m, model in enumerate(models):
            model.train(training)
            with capture(model, ['encoder.2', 'bottleneck', 'decoder']) as expected:
                y_m = model(x[m])
            torch.testing.assert_close(y[m], y_m, rtol=1e-5, atol=1e-6)
            for name, value in expected.items():
                torch.testing.assert_close(acts[name][m], value, rtol=1e-5, atol=1e-6)
    assert float(y.detach().min()) >= 0.0 and float(y.detach().max()) <= 1.0  # eval mode clamps


def test_stacked_model_rejects_unknown_layers_and_mixed_shapes():
    net = StackedColorMLP([CNColorMLP(4)])
    with pytest.raises(ValueError, match="'encoder.9'.*Available layers: encoder, encoder.0"):
        net(torch.rand(1, 2, 3), capture=['encoder.9'])
    with pytest.raises(ValueError, match=r'models\[1\] has shape'):
        StackedColorMLP([CNColorMLP(4), CNColorMLP(5)])


def test_member_extraction_leaves_the_global_rng_alone():
    net = StackedColorMLP([CNColorMLP(4), CNColorMLP(4)])
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    net.member(1)
    assert torch.equal(torch.rand(3), expected)


def test_stacked_batches_give_each_member_its_own_batches():
    members = [make_data(seed)[0] for seed in (7, 2)]
    alone = [list(make_data(seed)[0]) for seed in (7, 2)]
    stacked = list(StackedBatches(members))
    assert len(stacked) == len(alone[0]) == 4  # 50 draws in batches of 16: 16, 16, 16, 2
    for k, (x, labels) in enumerate(stacked):
        for m in range(2):
            assert torch.equal(x[m], alone[m][k][0])
            assert torch.equal(labels['red'][m], alone[m][k][1]['red'])
    # Any iterable works the same way (the general path), and mismatches are errors.
    plain = list(StackedBatches([alone[0], alone[1]]))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(plain, stacked, strict=True))
    with pytest.raises(ValueError, match='different numbers of batches'):
        StackedBatches([alone[0], alone[1][:2]])


def test_result_members_are_standalone_models(result: EnsembleResult, tmp_path):
    models = result.models
    assert len(models) == len(result) == 2
    assert all(type(m) is CNColorMLP and not m.training for m in models)
    x = torch.rand(5, 3)
    y, _ = result.stacked(torch.stack([x, x]))
    torch.testing.assert_close(models[1](x), y[1], rtol=1e-5, atol=1e-6)
    path = result.save_member(result.index(2), tmp_path / 'seed-2.pt')
    loaded = CNColorMLP(4, n_nonlinear=2)
    loaded.load_state_dict(torch.load(path))
    for name, value in models[1].state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value)
    # The two seeds trained to different models.
    assert not torch.equal(models[0].decoder[0].weight, models[1].decoder[0].weight)
    with pytest.raises(KeyError, match='seed 3'):
        result.index(3)
    with pytest.raises(IndexError):
        result.member(2)


def test_result_metrics_and_history(result: EnsembleResult):
    assert list(result.metrics.index) == [7, 2]
    expected = {
        'train_loss',
        'train_recon',
        'train_reg-separate',
        'train_reg-subspace',
        'val_loss',
        'val_recon',
    }
    assert expected | {'val_reg-subspace'} == set(result.metrics.columns)
    assert np.isfinite(result.metrics.to_numpy(float)).all()
    # 21 steps (0..20), 4 batches per epoch: logs after 16 and 21 steps; validation after epochs 2 and 4
    # (8 and 16 steps) and on the final weights. `step` is the 0-based index of the last batch.
    steps = sorted(set(result.history.step))
    assert steps == [7, 15, 20]
    at_7 = result.history[result.history.step == 7]
    assert at_7['train_loss'].isna().all() and at_7['val_recon'].notna().all()


def test_one_wandb_run_gets_every_members_metrics_under_its_seed():
    sets = [make_data(s) for s in (4, 9)]
    from ex_color.training import TrainingModule

    ds = Dopesheet.from_text(SHEET)
    module = TrainingModule(CNColorMLP(4, n_nonlinear=2), ds, torch.nn.MSELoss(), regularizers())
    logged: list[tuple[int, dict[str, float]]] = []
    loop = EnsembleLoop(
        net=StackedColorMLP([CNColorMLP(4, n_nonlinear=2) for _ in range(2)]),
        seeds=[4, 9],
        regularizers=regularizers(),
        schedule=Schedule.from_module(module),
        objective=lambda y, x: F.mse_loss(y, x, reduction='none').mean(dim=(1, 2)),
        log=lambda step, values: logged.append((step, values)),
        bar=None,
    )
    loop.run(StackedBatches([s[0] for s in sets]), None, max_steps=6, val_every=10, log_every=4)
    assert [step for step, _ in logged] == [3, 5]
    keys = set(logged[0][1])
    assert {
        'seed_4/train_loss',
        'seed_9/train_loss',
        'seed_4/train_reg-separate',
        'seed_9/train_recon',
    } <= keys
    assert all(k.split('/')[0] in ('seed_4', 'seed_9') for k in keys)


@pytest.mark.parametrize(
    ('kwargs', 'error', 'match'),
    [
        ({'seeds': []}, ValueError, 'seeds must not be empty'),
        ({'seeds': [1, 1]}, ValueError, r'repeated: \[1\]'),
        ({'seeds': [1.0]}, TypeError, 'seeds must contain ints'),
        ({'max_steps': 0}, ValueError, 'max_steps must be an int >= 1'),
        (
            {'regularizers': regularizers()[:1]},
            ValueError,
            r"columns \['reg-subspace'\] match no regulariser",
        ),
    ],
)
def test_bad_arguments_are_errors(kwargs, error, match):
    args = dict(
        seeds=[1],
        dopesheet=Dopesheet.from_text(SHEET),
        regularizers=regularizers(),
        make_data=make_data,
        k_bottleneck=4,
        n_nonlinear=2,
        run_name='test',
        wandb_mode='disabled',
        progress=False,
    )
    args.update(kwargs)
    seeds = args.pop('seeds')
    with pytest.raises(error, match=match):
        train_ensemble(seeds, **args)
