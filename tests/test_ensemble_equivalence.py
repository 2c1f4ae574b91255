"""An ensemble member trains exactly like the single-model trainer with the same seed.

The schedule and data are small but exercise every rule: a regulariser whose weight is exactly 0 for
the first steps (skipped), a label-weighted anchor whose label is rare (skipped in batches without
it), a short last batch per epoch, validation every 10 epochs with several validation batches of
which only one carries the label, and a final partial logging window.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch
from lightning.pytorch.loggers import Logger
from torch import nn

from ex_color.data.color_cube import ColorCube
from ex_color.data.cube_dataset import CubeDataset, redness
from ex_color.ensemble import EnsembleResult, train_ensemble
from ex_color.model import CNColorMLP
from ex_color.seed import set_deterministic_mode
from ex_color.training import FixedBatches, RandomBatches, TrainingModule, fit
from mini.temporal.dopesheet import Dopesheet
from tests.training_helpers import regularizers

STEPS = 65  # 3 batches per epoch: validation after steps 30 and 60; logs at 16, 32, 48, 64 and 65
SHEET = """STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace
0,Train,,1e-8,0.01,0,0.25
+5,,,0.01,,0.1,
64,,,0.02,0.02,0.2,0.05
"""


def make_data(seed: int) -> tuple[RandomBatches, FixedBatches]:
    """80 draws per epoch in batches of 32, 32 and 16; red is rare (≈ one batch in three has one)."""
    cube = ColorCube.from_rgb(r=np.linspace(0, 1, 5), g=np.linspace(0, 1, 5), b=np.linspace(0, 1, 5))
    cube = cube.assign(red=redness(cube['color']) ** 8 * 0.3)
    train = CubeDataset(cube)
    val_cube = ColorCube.from_rgb(r=np.linspace(0, 1, 4), g=np.linspace(0, 1, 4), b=np.linspace(0, 1, 4))
    val_cube = val_cube.assign(red=(redness(val_cube['color']) == 1).astype(np.float64))
    val = CubeDataset(val_cube)
    return (
        RandomBatches(train.colors, train.labels, batch_size=32, num_samples=80, seed=seed),
        FixedBatches(val.colors, val.labels, batch_size=16),
    )


class RecordingLogger(Logger):
    """Keeps every (step, metrics) the single-model fit sends to its loggers."""

    name = 'recording'
    version = 0

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, dict[str, float]]] = []

    def log_metrics(self, metrics, step=None) -> None:
        self.calls.append((step, {k: float(v) for k, v in metrics.items()}))

    def log_hyperparams(self, *args, **kwargs) -> None:
        pass

    def logged(self, prefix: str) -> dict[int, dict[str, float]]:
        """Metrics whose names start with `prefix`, by step."""
        out: dict[int, dict[str, float]] = {}
        for step, metrics in self.calls:
            chosen = {k: v for k, v in metrics.items() if k.startswith(prefix)}
            if chosen:
                out.setdefault(step, {}).update(chosen)
        return out


class AttachLogger(L.Callback):
    def __init__(self, logger: Logger) -> None:
        self.logger = logger

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        trainer.loggers = [*trainer.loggers, self.logger]


def train_single(seed: int) -> tuple[TrainingModule, RecordingLogger]:
    """What `ex_color.experiments.common.train_model` does, with an extra logger that records."""
    set_deterministic_mode(seed)
    model = CNColorMLP(5, n_nonlinear=2)
    train_data, val_data = make_data(seed)
    module = TrainingModule(model, Dopesheet.from_text(SHEET), nn.MSELoss(), regularizers())
    recorder = RecordingLogger()
    fit(
        module,
        train_data,
        val_data,
        run_name='test',
        max_steps=STEPS,
        wandb_mode='disabled',
        progress=False,
        callbacks=[AttachLogger(recorder)],
    )
    return module, recorder


def train_members(seeds: list[int]) -> EnsembleResult:
    return train_ensemble(
        seeds,
        dopesheet=Dopesheet.from_text(SHEET),
        regularizers=regularizers(),
        make_data=make_data,
        k_bottleneck=5,
        n_nonlinear=2,
        run_name='test',
        max_steps=STEPS,
        wandb_mode='disabled',
        progress=False,
    )


@pytest.fixture(scope='module')
def single() -> tuple[TrainingModule, RecordingLogger]:
    return train_single(3)


@pytest.fixture(scope='module')
def trio() -> EnsembleResult:
    return train_members([3, 11, 5])


@pytest.fixture(scope='module')
def solo() -> EnsembleResult:
    return train_members([3])


@pytest.mark.filterwarnings('ignore:The number of training batches')
def test_one_member_ends_with_the_single_model_weights(single, solo):
    module, _ = single
    expected = module.model.state_dict()
    got = solo.member(0).state_dict()
    assert set(got) == set(expected)
    for name, value in expected.items():
        torch.testing.assert_close(got[name], value, rtol=0, atol=1e-5, msg=f'parameter {name}')
    # Not trivially equal: training moved the weights away from their initial values.
    set_deterministic_mode(3)
    initial = CNColorMLP(5, n_nonlinear=2).state_dict()
    assert (got['encoder.0.weight'] - initial['encoder.0.weight']).abs().max() > 1e-3


def _windows(history, prefix: str) -> list[tuple[int, dict[str, float]]]:
    """(step, metrics) of every history row with metrics starting with `prefix`, in step order."""
    keys = [k for k in history.columns if k.startswith(prefix)]
    rows = []
    for _, row in history.sort_values('step').iterrows():
        values = {k: v for k, v in row[keys].items() if not np.isnan(v)}
        if values:
            rows.append((int(row['step']), values))
    return rows


def _assert_same_logs(got: list[dict[str, float]], expected: list[dict[str, float]]) -> None:
    assert len(got) == len(expected)
    for i, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
        assert set(mine) == set(theirs), f'log {i}'
        for key, value in theirs.items():
            assert mine[key] == pytest.approx(value, rel=1e-5, abs=1e-7), f'{key} in log {i}'


def test_one_member_logs_what_the_single_model_logs(single, solo):
    _, recorder = single
    # Step numbers are compared by order only: the single-model fit may number a window by the count
    # of steps done or by the index of its last step (as Lightning's own logging does, and we do).
    expected = [metrics for _, metrics in sorted(recorder.logged('train_').items())]
    # The red label is rare: the last window (the 65th step alone) has no red sample, so no anchor term.
    assert 'train_reg-anchor' in expected[0] and 'train_reg-anchor' not in expected[-1]
    windows = _windows(solo.history, 'train_')
    assert [step for step, _ in windows] == [15, 31, 47, 63, 64]
    _assert_same_logs([metrics for _, metrics in windows], expected)


def test_one_member_validates_like_the_single_model(single, solo):
    _, recorder = single
    expected = [metrics for _, metrics in sorted(recorder.logged('val_').items())]
    assert [set(m) for m in expected] == [{'val_loss', 'val_recon', 'val_reg-anchor'}] * 2
    rounds = _windows(solo.history, 'val_')
    # After epochs 10 and 20 (30 and 60 steps), and once more on the final weights, which Lightning
    # does not do mid-epoch.
    assert [step for step, _ in rounds] == [29, 59, 64]
    _assert_same_logs([metrics for _, metrics in rounds[:2]], expected)
    assert solo.metrics.loc[3, 'val_recon'] == rounds[-1][1]['val_recon']


def test_members_are_independent(trio, solo):
    for name, value in solo.member(0).state_dict().items():
        torch.testing.assert_close(trio.member(0).state_dict()[name], value, rtol=0, atol=1e-6)
    alone = train_members([5])
    for name, value in alone.member(0).state_dict().items():
        torch.testing.assert_close(trio.member(trio.index(5)).state_dict()[name], value, rtol=0, atol=1e-6)
    a, b = trio.member(0).state_dict(), trio.member(1).state_dict()
    assert (a['decoder.4.weight'] - b['decoder.4.weight']).abs().max() > 1e-2  # different seeds differ


def test_history_of_a_member_does_not_depend_on_its_neighbours(trio, solo):
    mine = trio.history[trio.history.seed == 3].dropna(axis=1, how='all').reset_index(drop=True)
    alone = solo.history.dropna(axis=1, how='all').reset_index(drop=True)
    assert list(mine.columns) == list(alone.columns)
    np.testing.assert_allclose(
        mine.to_numpy(float), alone.to_numpy(float), rtol=1e-6, atol=1e-8, equal_nan=True
    )
