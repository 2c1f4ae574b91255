"""The engine on CUDA: a 60-member Ex 2.10 sweep trains there and agrees with the CPU (marked `gpu`)."""

from __future__ import annotations

import pytest
import torch

from ex_color.experiments import ex_2_10
from ex_color.training import seeds, train_members
from tests.training_helpers import notebook_dopesheet

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA device'),
]

STEPS = 160  # ten epochs: one validation round, the anchor term switched on


def _sweep(device: str):
    return train_members(
        seeds(range(60)),
        dopesheet=notebook_dopesheet(ex_2_10.DOPESHEET),
        regularizers=ex_2_10.regularizers(),
        make_data=ex_2_10.make_data,
        k_bottleneck=ex_2_10.K,
        n_nonlinear=ex_2_10.N,
        run_name='gpu-test',
        max_steps=STEPS,
        wandb_mode='disabled',
        progress=False,
        device=device,
    )


def test_sixty_members_on_cuda_match_the_cpu():
    cpu, gpu = _sweep('cpu'), _sweep('cuda')
    assert [m.name for m in gpu.members] == [m.name for m in cpu.members]
    for c, g in zip(cpu.members, gpu.members, strict=True):
        assert all(v.device.type == 'cpu' for v in g.state.values()), 'member weights come back on the CPU'
        for k in c.state:
            assert torch.allclose(c.state[k], g.state[k], atol=1e-4, rtol=0), (c.name, k)
        assert c.label_counts == g.label_counts, c.name
        for key, value in c.metrics.items():
            assert g.metrics[key] == pytest.approx(value, abs=1e-4), (c.name, key)
    merged = cpu.history.merge(gpu.history, on=['member', 'step', 'metric'], suffixes=('_cpu', '_gpu'))
    assert len(merged) == len(cpu.history) == len(gpu.history)
    assert (merged['value_cpu'] - merged['value_gpu']).abs().max() <= 1e-4
