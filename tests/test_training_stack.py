"""The member-axis pieces of the engine: stacked model, stacked batches, and `train_members` results."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from ex_color.loss import AxisAlignedSubspace, RegularizerConfig, Separate
from ex_color.model import CNColorMLP
from ex_color.model.capture import capture
from ex_color.training import FixedBatches, RandomBatches, StackedBatches, StackedColorMLP
from ex_color.training.results import RunResult
from ex_color.training.run import train_members
from ex_color.training.specs import MemberSpec, seeds
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


@pytest.fixture(scope='module')
def result() -> RunResult:
    return train_members(
        seeds([7, 2]),
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


def test_result_members_are_standalone_models(result: RunResult, tmp_path):
    models = result.models
    assert len(models) == len(result) == 2
    assert all(type(m) is CNColorMLP and not m.training for m in models)
    assert [m.name for m in result] == ['seed-7', 'seed-2']
    net = StackedColorMLP(models).eval()
    x = torch.rand(5, 3)
    y, _ = net(torch.stack([x, x]))
    torch.testing.assert_close(models[1](x), y[1], rtol=1e-5, atol=1e-6)
    # The two seeds trained to different models.
    assert not torch.equal(
        models[0].get_parameter('decoder.0.weight'), models[1].get_parameter('decoder.0.weight')
    )


def test_result_metrics_and_history(result: RunResult):
    assert list(result.metrics.index) == ['seed-7', 'seed-2']
    expected = {
        'train_loss',
        'train_recon',
        'train_reg-separate',
        'train_reg-subspace',
        'val_loss',
        'val_recon',
    }
    assert expected | {'val_reg-subspace', 'seed'} == set(result.metrics.columns)
    assert np.isfinite(result.metrics.drop(columns='seed').to_numpy(float)).all()
    # 21 steps (0..20), 4 batches per epoch: logs after 16 and 21 steps; validation after epochs 2, 4
    # and 6 (8, 16 and 21 steps: the sixth epoch is cut short by max_steps, and Lightning validates at
    # its end). `step` is the 0-based index of the last batch.
    history = result[0].history
    assert list(history.columns) == ['step', 'metric', 'value']
    assert sorted(set(history.step)) == [7, 15, 20]
    assert set(history[history.step == 7].metric) == {'val_loss', 'val_recon', 'val_reg-subspace'}
    assert set(history[history.step == 20].metric) == {
        'train_loss',
        'train_recon',
        'train_reg-separate',
        'train_reg-subspace',
        'val_loss',
        'val_recon',
        'val_reg-subspace',
    }
    both = result.history
    assert list(both.columns) == ['member', 'step', 'metric', 'value']
    assert set(both.member) == {'seed-7', 'seed-2'}


def test_member_checkpoints_are_loadable(tmp_path):
    run = train_members(
        [MemberSpec(1), MemberSpec(2, name='second')],
        dopesheet=Dopesheet.from_text(SHEET),
        regularizers=regularizers(),
        make_data=make_data,
        k_bottleneck=4,
        n_nonlinear=2,
        run_name='test',
        wandb_mode='disabled',
        progress=False,
        max_steps=5,
        checkpoint_dir=tmp_path,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ['second.pt', 'seed-1.pt']
    for member in run:
        loaded = CNColorMLP(4, n_nonlinear=2)
        loaded.load_state_dict(torch.load(member.checkpoint, weights_only=True))
        for name, value in member.model.state_dict().items():
            assert torch.equal(loaded.state_dict()[name], value)


@pytest.mark.parametrize(
    ('members', 'kwargs', 'error', 'match'),
    [
        ([], {}, ValueError, 'members: the list is empty'),
        ([MemberSpec(1), MemberSpec(1)], {}, ValueError, r"repeated: \['seed-1'\]"),
        (
            [MemberSpec(1), MemberSpec(2, weights={'reg-sepa': 2.0})],
            {},
            ValueError,
            r"member seed-2 reg-sepa×2\): weights=\{'reg-sepa': 2.0\} names no regulariser: \['reg-sepa'\]",
        ),
        (
            [
                MemberSpec(1),
                MemberSpec(2, dopesheet=Dopesheet.from_text(SHEET.replace('20,', '30,'), source='long.csv')),
            ],
            {},
            ValueError,
            r'long.csv \(member seed-2 long\): the dopesheet has 31 steps, but member 0 .* has 21',
        ),
        (
            [MemberSpec(1, data={'scale': 2})],
            {},
            TypeError,
            r"member seed-1 scale=2: make_data\(seed, \*\*data\) failed for data=\{'scale': 2\}",
        ),
        ([MemberSpec(1)], {'max_steps': 0}, ValueError, 'max_steps must be an int >= 1'),
        ([MemberSpec(1)], {'workers': 0}, ValueError, 'workers must be an int >= 1'),
        (
            [MemberSpec(1)],
            {'regularizers': regularizers()[:1]},
            ValueError,
            r"columns \['reg-subspace'\] match no regulariser",
        ),
    ],
)
def test_bad_arguments_are_errors_naming_member_and_field(members, kwargs, error, match):
    args: dict[str, Any] = dict(
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
    with pytest.raises(error, match=match):
        train_members(members, **args)


def test_member_spec_fields_are_checked():
    with pytest.raises(TypeError, match='MemberSpec.seed must be an int'):
        MemberSpec(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"MemberSpec.weights\['reg-anchor'\] must be a number >= 0"):
        MemberSpec(1, weights={'reg-anchor': -1})
