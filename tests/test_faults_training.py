"""Training under faults: foreign checkpoints, clashing member names, a killed parent, full and
read-only disks. Each case either does the right thing or says what is wrong, naming the member,
field or file, before anything is lost.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from ex_color.training import MemberSpec, RunResult, seeds, train_members
from ex_color.training.checkpointing import load_checkpoint
from tests.training_helpers import SHORT_SHEET, data, regularizers, short_dopesheet

ROOT = Path(__file__).resolve().parents[1]


def run(members: list[MemberSpec], **kwargs: Any) -> RunResult:
    args: dict[str, Any] = {
        'dopesheet': short_dopesheet(), 'regularizers': regularizers(), 'make_data': data, 'k_bottleneck': 5,
        'n_nonlinear': 2, 'run_name': 'faults', 'wandb_mode': 'disabled', 'progress': False,
    }  # fmt: skip
    return train_members(members, **(args | kwargs))


def test_member_names_that_differ_only_in_unsafe_characters_save_to_distinct_files(tmp_path):
    result = run(
        [MemberSpec(0, name='trial 1'), MemberSpec(1, name='trial_1')], max_steps=5, checkpoint_dir=tmp_path
    )
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2, files
    for member in result:
        saved = torch.load(member.checkpoint)
        assert all(torch.equal(saved[k], member.state[k]) for k in saved), member.name


def test_resuming_from_another_runs_checkpoint_is_refused_naming_what_differs(tmp_path):
    ckpt = tmp_path / 'run.ckpt'
    run(seeds([0, 1]), max_steps=8, save_checkpoint_to=ckpt)
    with pytest.raises(
        ValueError,
        match=r'belongs to another run: its members are 2 \(seed-0, seed-1\), .* \(seed-0, seed-2\)',
    ):
        run(seeds([0, 2]), resume_from=ckpt)
    shorter = short_dopesheet(SHORT_SHEET.replace('40,', '30,'))
    with pytest.raises(ValueError, match=r'its schedule has 41 steps, this run.s 31'):
        run(seeds([0, 1]), resume_from=ckpt, dopesheet=shorter)
    with pytest.raises(ValueError, match=r"member 'seed-1' was trained under another schedule"):
        run([MemberSpec(0), MemberSpec(1, weights={'reg-anchor': 2.0}, name='seed-1')], resume_from=ckpt)
    with pytest.raises(FileNotFoundError, match=rf'checkpoint {tmp_path}.*: no such file'):
        run(seeds([0, 1]), resume_from=tmp_path / 'missing.ckpt')
    (tmp_path / 'cut.ckpt').write_bytes(ckpt.read_bytes()[:500])
    with pytest.raises(ValueError, match=r'cut.ckpt: cannot be read .*truncated'):
        run(seeds([0, 1]), resume_from=tmp_path / 'cut.ckpt')
    assert load_checkpoint(ckpt)['step'] == 8  # the good one is still good


PARENT = textwrap.dedent(
    """
    import sys
    from ex_color.training import seeds, train_members
    from tests.training_helpers import SHORT_SHEET, data, regularizers, short_dopesheet
    from tests.training_helpers import SHORT_SHEET

    long = short_dopesheet(SHORT_SHEET.replace('40,', '100000,'))
    train_members(
        seeds(range(4)), dopesheet=long, regularizers=regularizers(),
        make_data=data, k_bottleneck=5, n_nonlinear=2, run_name='orphans', wandb_mode='disabled',
        progress=False, workers=2,
    )
    """
)


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state, ppid, ...), or None once it is gone."""
    try:
        text = Path(f'/proc/{pid}/stat').read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(')', 1)[1].split()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path('/proc').iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[1] == str(pid):
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ('Z', 'X')


@pytest.mark.skipif(not Path('/proc/self/stat').exists(), reason='reads processes from /proc (Linux)')
def test_killing_the_parent_of_a_two_worker_run_leaves_no_worker_behind():
    env = os.environ | {'PYTHONPATH': str(ROOT), 'WANDB_MODE': 'disabled'}
    parent = subprocess.Popen([sys.executable, '-c', PARENT], cwd=ROOT, env=env)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.2)
            workers = [p for p in _children(parent.pid) if _alive(p)]
        assert len(workers) == 2, 'the run never started its two workers'
        time.sleep(1.0)  # the workers are training now
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        time.sleep(2.0)
        alive = [w for w in workers if _alive(w)]
        assert alive == [], f'workers {alive} outlived their parent by 2 s'
    finally:
        if parent.poll() is None:
            parent.kill()
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 64 kB tmpfs: about a dozen member files fit."""
    mount = tmp_path / 'disk'
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip('mounting a small tmpfs needs root (CI runs as root)')
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(['umount', '-l', str(mount)], check=False)


def test_a_full_disk_during_member_saves_leaves_the_folder_as_it_was_and_returns_the_results(
    small_disk, caplog
):
    folder = small_disk / 'members'
    run(seeds(range(3)), max_steps=3, checkpoint_dir=folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    caplog.set_level(logging.ERROR)
    with pytest.warns(RuntimeWarning, match=r'member weights were not saved'):
        result = run(seeds(range(30)), max_steps=3, checkpoint_dir=folder)
    assert len(result) == 30 and result.save_error is not None
    assert str(folder) in result.save_error and 'No space left' in result.save_error
    assert all(m.checkpoint is None for m in result)
    after = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert after == before, 'a failed set of saves changed the folder'


def test_a_read_only_target_is_refused_before_training(small_disk):
    subprocess.run(['mount', '-o', 'remount,ro', str(small_disk)], check=True)
    start = time.perf_counter()
    with pytest.raises(OSError, match=rf'checkpoint_dir: cannot write files in {small_disk}'):
        run(seeds(range(2)), checkpoint_dir=small_disk / 'members')
    with pytest.raises(OSError, match=r'save_checkpoint_to: cannot write files in'):
        run(seeds(range(2)), save_checkpoint_to=small_disk / 'run.ckpt')
    assert time.perf_counter() - start < 5  # refused up front, not after a run


AFTER_THREADED_WORK = textwrap.dedent(
    """
    from types import SimpleNamespace

    import torch
    from ex_color.training import MemberSpec
    from ex_color.training.shards import train_sharded

    def work(specs, **settings):
        # a big fill is a parallel loop: in a worker whose OpenMP pool the fork left behind it never returns
        return SimpleNamespace(members=[float(torch.zeros(4_000_000).fill_(1.0).sum()) for _ in specs], checkpoint=None)

    torch.set_num_threads(2)
    torch.zeros(4_000_000).fill_(2.0).sum()  # the parent's thread pool has run: a notebook that scored models
    members, _ = train_sharded([MemberSpec(0), MemberSpec(1)], workers=2, settings={'max_steps': 1, 'progress': False}, train=work)
    print(members)
    """
)


def test_workers_forked_after_the_parent_used_threads_still_train():
    """A forked child cannot use the OpenMP thread pool its parent had started (it waits forever for
    threads the fork did not copy): a notebook that scored models with two threads, then trained a
    sharded run, hung in every worker. Forked workers start on one thread."""
    env = os.environ | {'PYTHONPATH': str(ROOT / 'src'), 'WANDB_MODE': 'disabled'}
    try:
        done = subprocess.run(
            [sys.executable, '-c', AFTER_THREADED_WORK],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail('the two workers hung (still running after 60 s)')
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '[4000000.0, 4000000.0]'
