"""Sweeps over seeds, checkpoint stores and hither callbacks on the local backend."""

import asyncio
import pickle
import re
from pathlib import Path, PurePosixPath

import pytest
import torch

from mini.experiment import CheckpointError, CheckpointStore, Experiment
from mini.hither import hither


async def fit(steps: int, *, store: CheckpointStore, seed: int) -> list[float]:
    """Train w, b of y = w*x + b towards y = 3x - 1 for a few SGD steps; save the state dict."""
    torch.manual_seed(seed)
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x = torch.tensor([[-1.0], [0.0], [1.0], [2.0]])
    y = 3 * x - 1
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    store.save(f'model-{seed}', model.state_dict())
    return [model.weight.item(), model.bias.item()]


def test_sweep_returns_results_in_seed_order_with_loadable_checkpoints(tmp_path):
    run = Experiment('Ex sweep', backend='local')
    store = run.checkpoints(root=tmp_path / 'runs')
    remote_fit = run.thither(max_containers=20)(fit)
    seeds = [5, 0, 2]

    results = asyncio.run(run.sweep(remote_fit, seeds, 5, store=store))

    expected = [asyncio.run(fit(5, store=CheckpointStore.local(tmp_path / 'direct'), seed=s)) for s in seeds]
    assert results == expected  # same order as the seeds, same numbers as direct calls
    assert len({tuple(r) for r in results}) == 3  # different seeds, different models
    for seed, (w, b) in zip(seeds, results, strict=True):
        state = store.load(f'model-{seed}')
        assert set(state) == {'weight', 'bias'}
        assert state['weight'].item() == w
        assert state['bias'].item() == b


def test_sweep_rejects_foreign_functions_and_a_fixed_seed():
    run = Experiment('Ex sweep errors', backend='local')
    with pytest.raises(KeyError, match='not a function decorated'):
        asyncio.run(run.sweep(fit, [0]))
    remote_fit = run.thither(fit)
    with pytest.raises(ValueError, match='seed'):
        asyncio.run(run.sweep(remote_fit, [0], 1, seed=3))


def test_checkpoint_store_round_trip_and_key_validation(tmp_path):
    store = CheckpointStore.local(tmp_path / 'a' / 'b')
    state = {'w': torch.arange(3.0)}
    path = store.save('run.1', state)
    assert path == tmp_path / 'a' / 'b' / 'run.1.pt'
    assert torch.equal(store.load('run.1')['w'], torch.tensor([0.0, 1.0, 2.0]))
    assert [p.name for p in path.parent.iterdir()] == ['run.1.pt']  # no temp file left behind
    for bad in ['../escape', 'a/b', '', '.hidden']:
        with pytest.raises(ValueError, match='key'):
            store.save(bad, state)
    with pytest.raises(FileNotFoundError, match='missing'):
        store.load('missing')


@pytest.mark.parametrize('keep', [0, 10, 0.5, -10])
def test_a_truncated_checkpoint_is_an_error_that_names_the_file(tmp_path, keep):
    store = CheckpointStore.local(tmp_path)
    path = store.save('model-0', {'w': torch.arange(1000.0), 'b': torch.ones(3)})
    whole = path.read_bytes()
    end = int(len(whole) * keep) if isinstance(keep, float) else keep % len(whole)
    path.write_bytes(whole[:end])  # a copy cut short, or a disk that filled up under another writer
    with pytest.raises(CheckpointError, match=rf'{re.escape(str(path))}: .*truncated or corrupt'):
        store.load('model-0')


def test_a_checkpoint_that_is_not_one_is_an_error_that_names_the_file(tmp_path):
    store = CheckpointStore.local(tmp_path)
    (tmp_path / 'model-0.pt').write_bytes(b'not a checkpoint ' * 50)
    with pytest.raises(CheckpointError, match=rf'{re.escape(str(tmp_path / "model-0.pt"))}: '):
        store.load('model-0')


class FolderVolume:
    """A folder standing in for a Modal Volume: the container's mount *is* the volume's content."""

    def __init__(self, folder: Path):
        self.folder, self.commits = folder, 0

    def read_file(self, path: str):
        if not (self.folder / path).is_file():
            raise FileNotFoundError(path)
        yield (self.folder / path).read_bytes()

    def commit(self) -> None:
        self.commits += 1


def test_checkpoint_store_on_volume_is_plain_picklable_data(tmp_path):
    store = CheckpointStore.on_volume('ex-vol', root=tmp_path / 'runs', mount='/data', subdir='ex-2-10')
    assert store.remote_root == PurePosixPath('/data/ex-2-10')
    assert pickle.loads(pickle.dumps(store)) == store
    with pytest.raises(ValueError, match='mount'):
        CheckpointStore(root=str(tmp_path), volume='ex-vol', mount='data')
    with pytest.raises(ValueError, match='subdir'):
        CheckpointStore(root=str(tmp_path), volume='ex-vol', mount='/data', subdir='../up')


def test_sweep_checkpoints_on_modal_are_written_where_each_process_can_and_read_back(tmp_path, monkeypatch):
    # The notebook's own saves (states that came back from the shards) go to its runs folder; a
    # container's saves go to the volume's mount and are read back from the volume by the notebook.
    from mini.experiment import checkpoints

    mount = tmp_path / 'volume'  # stands in for the container's mount of the volume
    volume = FolderVolume(mount)
    monkeypatch.setattr(checkpoints, 'open_volume', lambda name: volume)
    monkeypatch.setenv('EX_COLOR_RUNS_DIR', str(tmp_path / 'runs'))
    run = Experiment('Ex 2.10.1: Sweep', backend='modal')
    store = run.checkpoints(mount=str(mount))
    assert str(mount) in run.volumes  # the container will have the volume mounted there
    assert store.root == str(tmp_path / 'runs' / 'ex-2-10-1-sweep')
    notebook_state, container_state = {'w': torch.arange(3.0)}, {'w': torch.ones(2)}

    shipped = pickle.loads(pickle.dumps(store))  # what a remote call receives
    monkeypatch.setenv('MODAL_IS_REMOTE', '1')
    written = shipped.save('from-container', container_state)
    assert written == mount / 'from-container.pt' and volume.commits == 1
    monkeypatch.delenv('MODAL_IS_REMOTE')

    written = store.save('from-notebook', notebook_state)
    assert written == tmp_path / 'runs' / 'ex-2-10-1-sweep' / 'from-notebook.pt'
    assert not (mount / 'from-notebook.pt').exists() and volume.commits == 1
    assert torch.equal(store.load('from-notebook')['w'], notebook_state['w'])
    assert torch.equal(store.load('from-container')['w'], container_state['w'])  # via the volume
    with pytest.raises(FileNotFoundError, match=r"'nowhere'.*volume 'ex-2-10-1-sweep'"):
        store.load('nowhere')


def test_local_checkpoints_default_to_runs_folder_of_project(tmp_path, monkeypatch):
    monkeypatch.delenv('EX_COLOR_RUNS_DIR')  # conftest points it at a temp folder
    monkeypatch.setenv('EX_COLOR_ROOT', str(tmp_path))
    (tmp_path / 'notebooks').mkdir()
    monkeypatch.chdir(tmp_path / 'notebooks')
    store = Experiment('Ex 2.10: Ablate red', backend='local').checkpoints()
    assert store.root == str(tmp_path / 'runs' / 'ex-2-10-ablate-red')


def test_a_runs_folder_override_keeps_smoke_checkpoints_out_of_runs(tmp_path, monkeypatch):
    monkeypatch.setenv('EX_COLOR_ROOT', str(tmp_path))
    monkeypatch.setenv('EX_COLOR_RUNS_DIR', str(tmp_path / 'smoke' / 'runs'))
    store = Experiment('Ex 2.10: Ablate red', backend='local').checkpoints()
    assert store.root == str(tmp_path / 'smoke' / 'runs' / 'ex-2-10-ablate-red')


def test_hither_local_delivers_sync_and_async_callbacks_in_order():
    received = []

    async def record_async(step, *, loss):
        await asyncio.sleep(0)
        received.append(('async', step, loss))

    async def main():
        run = Experiment('hither', backend='local')

        @run.thither
        async def work(report):
            for step in range(3):
                report(step, loss=1.0 / (step + 1))
            return 'done'

        async with run.hither(record_async) as stub:
            assert pickle.loads(pickle.dumps(stub)) == stub
            assert await work(stub) == 'done'
        async with hither(lambda step, loss: received.append(('sync', step, loss))) as stub:
            await work(stub)
        return stub

    stale = asyncio.run(main())
    assert received == [
        ('async', 0, 1.0),
        ('async', 1, 0.5),
        ('async', 2, 1 / 3),
        ('sync', 0, 1.0),
        ('sync', 1, 0.5),
        ('sync', 2, 1 / 3),
    ]
    with pytest.raises(RuntimeError, match='closed'):
        stale(0, loss=0.0)


def test_hither_rejects_unknown_backend():
    async def main():
        async with hither(print, backend='cloud'):
            pass

    with pytest.raises(ValueError, match='backend'):
        asyncio.run(main())
