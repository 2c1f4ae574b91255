"""Member m of a mixed run trains exactly like the one-member run of member m's spec.

The schedules and data are small but exercise every rule: a regulariser whose weight is exactly 0 for
the first steps (skipped), a label-weighted anchor whose label is rare (skipped in batches without
it), a short last batch per epoch, validation every 10 epochs with several validation batches of
which only one carries the label, and a final partial logging window. The members differ in seed,
dopesheet (a second sheet with other values, the learning rate included) and label rate.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lightning.pytorch.loggers import Logger
from torch import nn

from ex_color.data.color_cube import ColorCube
from ex_color.data.cube_dataset import CubeDataset, redness
from ex_color.model import CNColorMLP
from ex_color.seed import set_deterministic_mode
from ex_color.training import FixedBatches, RandomBatches, TrainingModule, fit
from ex_color.training.results import RunResult
from ex_color.training.run import train_members
from ex_color.training.specs import MemberSpec
from mini.temporal.dopesheet import Dopesheet
from tests.training_helpers import regularizers

STEPS = 65  # 3 batches per epoch: validation after steps 30 and 60; logs at 16, 32, 48, 64 and 65
SHEET = """STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace
0,Train,,1e-8,0.01,0,0.25
+5,,,0.01,,0.1,
64,,,0.02,0.02,0.2,0.05
"""


OTHER_SHEET = """STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace
0,Train,,0.02,0,0.3,0
20,,,0.005,0,0.3,0
40,,,0.03,0.05,0,0.5
64,,,0.03,0.01,0,0.05
"""


def make_data(seed: int, red_scale: float = 1.0) -> tuple[RandomBatches, FixedBatches]:
    """80 draws per epoch in batches of 32, 32 and 16; red is rare (≈ one batch in three has one)."""
    cube = ColorCube.from_rgb(r=np.linspace(0, 1, 5), g=np.linspace(0, 1, 5), b=np.linspace(0, 1, 5))
    cube = cube.assign(red=redness(cube['color']) ** 8 * 0.3 * red_scale)
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


def sheet(text: str = SHEET) -> Dopesheet:
    return Dopesheet.from_text(text, source='other.csv' if text is OTHER_SHEET else 'sheet.csv')


SPECS = [
    MemberSpec(3),
    MemberSpec(11, dopesheet=sheet(OTHER_SHEET), name='b'),
    MemberSpec(5, data={'red_scale': 2.5}, name='c'),
    MemberSpec(
        8, dopesheet=sheet(OTHER_SHEET), data={'red_scale': 2.5}, weights={'reg-anchor': 3.0}, name='d'
    ),
]


def run(specs: list[MemberSpec], **kwargs) -> RunResult:
    return train_members(
        specs,
        dopesheet=sheet(),
        regularizers=regularizers(),
        make_data=make_data,
        k_bottleneck=5,
        n_nonlinear=2,
        run_name='test',
        max_steps=STEPS,
        wandb_mode='disabled',
        progress=False,
        **kwargs,
    )


@pytest.fixture(scope='module')
def mixed() -> RunResult:
    return run(SPECS)


@pytest.fixture(scope='module')
def alone() -> list[RunResult]:
    return [run([spec]) for spec in SPECS]


def _by_step(history) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for step, metric, value in history[['step', 'metric', 'value']].itertuples(index=False):
        out.setdefault(int(step), {})[metric] = value
    return out


def test_the_members_really_differ(mixed):
    states = [m.state for m in mixed]
    for a in range(4):
        for b in range(a + 1, 4):
            assert (states[a]['decoder.4.weight'] - states[b]['decoder.4.weight']).abs().max() > 1e-2
    # The label rate reached the data: c and d saw more red than the first member.
    counts = [m.label_counts.get('red', 0) for m in mixed]
    assert counts[2] > counts[0] and counts[3] > counts[0]


def test_each_member_equals_its_one_member_run_at_every_window_and_validation(mixed, alone):
    for i, (member, solo) in enumerate(zip(mixed, alone, strict=True)):
        mine, theirs = _by_step(member.history), _by_step(solo[0].history)
        assert list(mine) == list(theirs), f'member {i}: logged steps'
        for step, expected in theirs.items():
            assert set(mine[step]) == set(expected), f'member {i}, step {step}'
            for key, value in expected.items():
                assert mine[step][key] == pytest.approx(value, rel=0, abs=1e-6), (
                    f'member {i}, {key} at {step}'
                )
        for name, value in solo[0].state.items():
            torch.testing.assert_close(
                member.state[name], value, rtol=0, atol=1e-6, msg=f'member {i}: {name}'
            )
        assert member.label_counts == solo[0].label_counts


def test_windows_cover_zero_weights_skipped_labels_and_a_partial_final_window(alone):
    steps = _by_step(alone[0][0].history)
    train = {s: m for s, m in steps.items() if 'train_loss' in m}
    assert list(train) == [15, 31, 47, 63, 64]  # every 16 steps, then the partial window of step 65
    # The red label is rare: the last window (the 65th step alone) has no red sample, so no anchor term.
    assert 'train_reg-anchor' in train[15] and 'train_reg-anchor' not in train[64]
    # Member b's sheet holds reg-separate at exactly 0 for steps 0-20, and reg-anchor from step 40:
    # skipped, so not logged (in the mixed run, while the other members' terms are not).
    b = _by_step(alone[1][0].history)
    assert 'train_reg-separate' not in b[15] and 'train_reg-separate' in b[31]
    assert 'train_reg-anchor' in b[47] and 'train_reg-anchor' not in b[63]
    # Validation after epochs 10 and 20 (30 and 60 steps).
    assert [s for s, m in steps.items() if 'val_loss' in m] == [29, 59]


def test_a_single_model_module_trains_like_a_one_member_run(alone):
    """The seed's usage (`TrainingModule(model, ...)` on the caller's model) is the same engine."""
    set_deterministic_mode(3)
    model = CNColorMLP(5, n_nonlinear=2)
    train_data, val_data = make_data(3)
    module = TrainingModule(model, sheet(), nn.MSELoss(), regularizers())
    recorder = RecordingLogger()
    result = fit(
        module,
        train_data,
        val_data,
        run_name='test',
        max_steps=STEPS,
        wandb_mode='disabled',
        progress=False,
        logger=recorder,
    )
    assert result.module.model is model  # trained in place
    for name, value in alone[0][0].state.items():
        torch.testing.assert_close(model.state_dict()[name], value, rtol=0, atol=1e-5, msg=name)
    expected = _by_step(alone[0][0].history)
    mine = _by_step(result.history)
    assert list(mine) == list(expected)
    for step, values in expected.items():
        for key, value in values.items():
            assert mine[step][key] == pytest.approx(value, rel=1e-4, abs=1e-6), f'{key} at {step}'
    # The loggers got exactly what the history holds.
    assert recorder.logged('train_') == {
        s: {k: v for k, v in m.items() if k.startswith('train_')}
        for s, m in mine.items()
        if 'train_loss' in m
    }


def test_shards_in_worker_processes_give_identical_results(mixed):
    sharded = run(SPECS, workers=2)
    assert [m.name for m in sharded] == [m.name for m in mixed]
    for a, b in zip(sharded, mixed, strict=True):
        for name, value in b.state.items():
            assert torch.equal(a.state[name], value), f'{a.name}: {name}'
        assert a.history.equals(b.history)
        assert a.label_counts == b.label_counts


def test_a_sharded_run_shows_one_bar_that_ends_at_the_last_step_with_the_members_metrics(monkeypatch):
    from ex_color.training import shards
    from utils.progress.display import Progress, ProgressState

    closed: list[ProgressState] = []

    class Keep:
        def draw(self, state: ProgressState) -> None:
            pass

        def close(self, state: ProgressState) -> None:
            closed.append(state)

    monkeypatch.setattr(shards, 'Progress', lambda *a, **k: Progress(*a, **k, sink=Keep()))
    train_members(
        SPECS[:2], dopesheet=sheet(), regularizers=regularizers(), make_data=make_data, k_bottleneck=5,
        n_nonlinear=2, run_name='test', max_steps=STEPS, wandb_mode='disabled', progress=True, workers=2,
    )  # fmt: skip
    (state,) = closed
    assert state.count == STEPS  # not the last step a worker happened to report
    assert 'train_loss' in state.metrics and state.history.steps  # the live chart has something to draw
