"""Resume is real: a fit stopped mid-run and resumed from its checkpoint in a new process ends bitwise
where the uninterrupted fit ends, for the project's Ex 2.10 run, a 4-member run, the same run split
over two worker processes, and the seed notebook's own `train()` set-up. A sharded checkpoint resumes
unsharded and back (the members keep their identity). Also: the seed's `train()` cell, run as written,
meets the Ex 2.10 thresholds.

Each side runs in its own interpreter (`tests.resume_runs`); two run at a time, one per core.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def _start(tmp: Path, setup: str, out: str, *args: str) -> subprocess.Popen:
    env = os.environ | {'WANDB_MODE': 'disabled', 'PYTHONPATH': str(ROOT)}
    cmd = [
        sys.executable,
        '-m',
        'tests.resume_runs',
        setup,
        '--root',
        str(tmp),
        '--out',
        str(tmp / out),
        *args,
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait(*procs: subprocess.Popen[bytes]) -> None:
    for p in procs:
        output, _ = p.communicate(timeout=600)
        assert p.returncode == 0, f'{p.args!r} failed:\n{output.decode()[-4000:]}'


def _assert_bitwise(a_path: Path, b_path: Path) -> None:
    a, b = torch.load(a_path), torch.load(b_path)
    assert a.keys() == b.keys()
    differ = {k: (a[k] - b[k]).abs().max().item() for k in a if not torch.equal(a[k], b[k])}
    assert not differ, f'resumed weights differ from the uninterrupted run: {differ}'


@pytest.mark.parametrize('setup', ['ex210', 'members', 'sharded'])
def test_stop_at_700_and_resume_in_a_new_process_is_bitwise(tmp_path, setup):
    ckpt = tmp_path / 'stopped.ckpt'
    _wait(
        _start(tmp_path, setup, 'full.pt'),
        _start(tmp_path, setup, 'stopped.pt', '--stop', '700', '--save', str(ckpt)),
    )
    stopped = torch.load(tmp_path / 'stopped.pt')
    full = torch.load(tmp_path / 'full.pt')
    # The stop really happened mid-run: the stopped weights are not the final ones.
    assert any(not torch.equal(stopped[k], full[k]) for k in full)
    assert torch.load(ckpt, weights_only=False)['step'] == 700
    _wait(_start(tmp_path, setup, 'resumed.pt', '--resume', str(ckpt)))
    _assert_bitwise(tmp_path / 'full.pt', tmp_path / 'resumed.pt')
    if setup == 'sharded':
        # the sharded run's checkpoint is one run's checkpoint: it resumes in one process too
        _wait(_start(tmp_path, 'members', 'unsharded.pt', '--resume', str(ckpt)))
        _assert_bitwise(tmp_path / 'full.pt', tmp_path / 'unsharded.pt')


def test_seed_train_cell_meets_thresholds_and_resumes_from_an_epoch_checkpoint(tmp_path):
    from ex_color.experiments.common import ablation_summary, check_thresholds, evaluation_cubes
    from ex_color.model import CNColorMLP

    ckpts = tmp_path / 'checkpoints'
    _wait(_start(tmp_path, 'seed', 'full.pt', '--save', str(ckpts)))
    # ModelCheckpoint saves after each validation, at the end of every 10th epoch of 16 batches.
    boundary = ckpts / 'epoch=39-step=640.ckpt'
    assert boundary.exists(), sorted(p.name for p in ckpts.iterdir())
    _wait(_start(tmp_path, 'seed', 'resumed.pt', '--resume', str(boundary)))
    _assert_bitwise(tmp_path / 'full.pt', tmp_path / 'resumed.pt')

    model = CNColorMLP(5, n_nonlinear=2)
    model.load_state_dict(torch.load(tmp_path / 'full.pt'))
    checks = check_thresholds(ablation_summary(model, evaluation_cubes().hd_hsv))
    assert all(checks.values()), checks
