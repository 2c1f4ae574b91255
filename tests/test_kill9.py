"""`kill -9` at random moments, 20 times each, never leaves an unreadable file or a changed committed one.

Writers tried: a notebook run in place (`utils.nbrun`); and a run checkpoint save
(`save_checkpoint`), a member save (`save_state`) and a `CheckpointStore` save, in turn. After every kill
the target is either absent (killed before the first write), the previous version, or a complete new
one; temp files a killed writer left behind are removed by the next write.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import torch

from tests.test_notebooks import probe_notebook, snapshot
from utils.paths import project_root

KILLS = 20
ROOT = project_root()

WRITER = """
import os, sys, torch
torch.set_num_threads(1)  # a forked child cannot use the parent's thread pool
from pathlib import Path
from ex_color.training.checkpointing import save_checkpoint, save_state
from mini.experiment.checkpoints import CheckpointStore
folder = Path(sys.argv[1])
store = CheckpointStore.local(folder / 'store')
writers = [
    lambda state: save_checkpoint(state, folder / 'run.ckpt'),
    lambda state: save_state(state, folder / 'member.pt'),
    lambda state: store.save('member', state),
]
big = torch.arange(2_000_000, dtype=torch.float32)
# A zygote: imports once, then for every line on stdin forks a writer, prints its pid, and reaps it
# once the test has killed it (a fork costs milliseconds; a fresh interpreter importing Lightning, 6 s).
for _ in sys.stdin:
    pid = os.fork()
    if pid == 0:
        version = 0
        while True:
            version += 1
            writers[version % 3]({'version': torch.tensor(version), 'weights': big + version})
    print(pid, flush=True)
    os.waitpid(pid, 0)
    print('reaped', flush=True)
"""
TARGETS = ('run.ckpt', 'member.pt', 'store/member.pt')


def readable_version(path: Path) -> int | None:
    """The version a saved file holds (None: absent); fails the test on a truncated file."""
    if not path.exists():
        return None
    state = torch.load(path, weights_only=True)
    version = int(state['version'])
    assert torch.equal(state['weights'], torch.arange(2_000_000, dtype=torch.float32) + version)
    return version


def test_saves_killed_at_random_moments_leave_complete_files(tmp_path):
    """One writer process per kill, saving a checkpoint, a member and a store entry in turn."""
    if not hasattr(os, 'fork'):
        pytest.skip('needs os.fork')
    rng = random.Random(0)
    env = os.environ | {'PYTHONPATH': str(ROOT / 'src')}
    mid_write = 0
    zygote = subprocess.Popen(
        [sys.executable, '-c', WRITER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    to_zygote, from_zygote = zygote.stdin, zygote.stdout
    assert to_zygote is not None and from_zygote is not None

    def start() -> int:
        to_zygote.write('go\n')
        to_zygote.flush()
        return int(from_zygote.readline())

    def kill(writer: int) -> None:
        os.kill(writer, signal.SIGKILL)
        assert from_zygote.readline() == 'reaped\n'

    try:
        # First one complete round of saves (a save's fsync takes 0.05 s to over 0.3 s here), so
        # every later kill finds a previous version that must survive it.
        writer, deadline = start(), time.monotonic() + 60
        while not all((tmp_path / name).exists() for name in TARGETS) and time.monotonic() < deadline:
            time.sleep(0.01)
        kill(writer)
        assert all((tmp_path / name).exists() for name in TARGETS), 'no complete round of saves in 60 s'
        for _ in range(KILLS):
            writer = start()
            time.sleep(rng.uniform(0.0, 0.3))
            kill(writer)
            mid_write += any(tmp_path.rglob('.*.tmp'))  # killed between temp file and rename
            for name in TARGETS:
                assert readable_version(tmp_path / name) is not None  # a truncated file fails in there
    finally:
        zygote.kill()
        zygote.wait()
    assert mid_write > 0, 'no kill landed in the middle of a save'
    # the next write removes whatever temp files the killed writers left beside the target
    from ex_color.training.checkpointing import save_state

    for name in TARGETS:
        save_state(
            {'version': torch.tensor(0), 'weights': torch.arange(2_000_000, dtype=torch.float32)},
            tmp_path / name,
        )
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob('*') if p.is_file())
    assert left == sorted(TARGETS)


def test_a_notebook_run_killed_at_random_moments_leaves_notebook_and_figures_whole(tmp_path, monkeypatch):
    monkeypatch.delenv('EX_COLOR_FIGURES_DIR')
    rng = random.Random(0)
    figure = tmp_path / 'assets' / 'probe.png'
    source = probe_notebook(tmp_path, figure, fail=False)
    original = source.read_bytes()
    committed = snapshot()
    env = os.environ | {'PYTHONPATH': str(ROOT / 'src')}
    script = f'from pathlib import Path; from utils.nbrun import run_notebook; run_notebook(Path({str(source)!r}), echo=False)'
    for _ in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, '-c', script],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.2, 4.0))
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and its kernel
        proc.wait()
        text = source.read_bytes()
        if text != original:
            nb = nbformat.reads(text.decode(), as_version=4)  # whole, or this raises
            assert nb.cells[1].outputs[0]['text'] == 'done\n'
        for png in (figure, figure.with_name('probe.dark.png')):
            assert not png.exists() or png.read_bytes()[:4] == b'\x89PNG'
        # a saved notebook implies its figures are in place (they move before the save)
        assert text == original or figure.exists()
    assert snapshot() == committed, 'killed notebook runs changed committed files'
    # the next run removes the staging folders of the killed runs
    subprocess.run([sys.executable, '-c', script], env=env, capture_output=True, check=True)
    stage = ROOT / '.nbrun-stage'
    assert not stage.exists() or not any(stage.iterdir())
