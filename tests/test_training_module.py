"""TrainingModule and `fit`: determinism, schedule use, name checks, failure handling, hook hygiene, and
the seed's Lightning API over the same engine."""

from __future__ import annotations

import math
import signal

import lightning as L
import pytest
import torch
import wandb
from torch import Tensor, nn

from ex_color.loss import RegularizerConfig
from ex_color.training import MemberAdam, fast_cpu_math, fit
from ex_color.training.loop import LoopCallback
from tests.training_helpers import all_forward_hooks, data, module, regularizers, short_dopesheet


def run(seed: int, steps: int = 30, **kwargs):
    m = module(seed)
    train, val = data(seed)
    return fit(
        m, train, val, run_name='test', max_steps=steps, wandb_mode='disabled', progress=False, **kwargs
    )


def test_same_seed_gives_bitwise_identical_weights_and_other_seeds_differ():
    a = run(0).module.model.state_dict()
    b = run(0).module.model.state_dict()
    c = run(1).module.model.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_learning_rate_follows_the_schedule_step_by_step(monkeypatch):
    # Batch k must use schedule step k: record the lr each optimiser step actually used.
    m = module(0)
    seen: list[float] = []

    class Spy(MemberAdam):
        def step(self, closure=None):
            seen.append(self.param_groups[0]['lr'])
            return super().step(closure)

    monkeypatch.setattr(m, 'configure_optimizers', lambda: Spy(m.model.parameters(), lr=1e-8, stacked=False))
    train, val = data(0)
    fit(m, train, val, run_name='t', max_steps=25, wandb_mode='disabled', progress=False)
    expected = m.timeline.values('lr')[:25].tolist()
    assert seen == expected


def test_an_optimiser_the_schedule_cannot_drive_is_refused_by_name(monkeypatch):
    m = module(0)
    monkeypatch.setattr(m, 'configure_optimizers', lambda: torch.optim.SGD(m.model.parameters(), lr=0.1))
    train, val = data(0)
    with pytest.raises(TypeError, match=r'MemberAdam.*SGD'):
        fit(m, train, val, run_name='t', max_steps=5, wandb_mode='disabled', progress=False)


def test_a_regulariser_selecting_a_label_the_data_lacks_is_refused_naming_both():
    regs = regularizers()
    regs[1] = RegularizerConfig('reg-anchor', regs[1].compute_loss_term, {'redd': 1.0}, ['bottleneck'])
    m = module(0, regs=regs)
    train, val = data(0)
    with pytest.raises(ValueError, match=r"'reg-anchor'.*\['redd'\].*carry labels \['red'\]"):
        fit(m, train, val, run_name='t', max_steps=5, wandb_mode='disabled', progress=False)


def test_training_reduces_reconstruction_error():
    result = run(0, steps=40)
    assert math.isfinite(result.metrics['train_recon'])
    assert result.metrics['train_recon'] < 0.1
    for key in (
        'train_loss',
        'train_recon',
        'train_reg-separate',
        'train_reg-anti-subspace',
        'val_loss',
        'val_recon',
    ):
        assert key in result.metrics, key


def test_regulariser_without_a_column_is_an_error_naming_it():
    regs = regularizers()
    regs[0] = RegularizerConfig('reg-sepparate', regs[0].compute_loss_term, None, ['bottleneck'])
    with pytest.raises(ValueError, match=r'reg-sepparate'):
        module(0, regs)


def test_column_without_a_regulariser_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r'reg-anti-subspace'):
        module(0, regularizers()[:2])


def test_unscheduled_and_ignored_names_are_explicit_opt_ins():
    from ex_color.model import CNColorMLP
    from ex_color.training import TrainingModule

    regs = regularizers()[:2] + [
        RegularizerConfig('reg-extra', regularizers()[2].compute_loss_term, None, ['bottleneck'])
    ]
    m = TrainingModule(
        CNColorMLP(5, n_nonlinear=2),
        short_dopesheet(),
        nn.MSELoss(),
        regs,
        unscheduled=['reg-extra'],
        ignore_columns=['reg-anti-subspace'],
    )
    assert m.weight('reg-extra') == 1.0


def test_unknown_layer_is_an_error_naming_layer_and_regulariser():
    regs = regularizers()
    regs[2] = RegularizerConfig('reg-anti-subspace', regs[2].compute_loss_term, None, ['bottlenek'])
    with pytest.raises(ValueError, match=r"'bottlenek'.*reg-anti-subspace"):
        module(0, regs)


class NaNAfter(nn.Module):
    """A regulariser that turns NaN from a given call on: a loss term that blows up mid-fit."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after
        self.calls = 0

    def forward(self, x: Tensor) -> Tensor:
        self.calls += 1
        value = x[:, 0] ** 2
        return value * float('nan') if self.calls > self.after else value


def nan_regs() -> list[RegularizerConfig]:
    regs = regularizers()
    regs[2] = RegularizerConfig('reg-anti-subspace', NaNAfter(5), None, ['bottleneck'])
    return regs


def test_nan_term_raises_naming_term_and_step_and_leaves_no_hooks_or_run():
    wandb.finish()
    m = module(0, nan_regs())
    train, val = data(0)
    with pytest.raises(RuntimeError, match=r"'reg-anti-subspace'.*step 5"):
        fit(m, train, val, run_name='t', max_steps=30, wandb_mode='offline', progress=False)
    assert all_forward_hooks(m.model) == []
    assert wandb.run is None


def test_fit_leaves_no_hooks_and_no_open_run():
    result = run(0, steps=12)
    assert all_forward_hooks(result.module) == []
    assert wandb.run is None


def test_terms_with_zero_weight_are_skipped_and_not_logged():
    sheet = short_dopesheet(
        'STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace\n0,Train,,0.01,0,0,0.2\n20,,,0.01,0,0,0.2\n'
    )
    m = module(0, sheet=sheet)
    train, val = data(0)
    result = fit(m, train, val, run_name='t', max_steps=16, wandb_mode='disabled', progress=False)
    assert 'train_reg-separate' not in result.metrics
    assert 'train_reg-anchor' not in result.metrics
    assert m.active_labels == set()


def test_checkpoint_stores_schedule_position(tmp_path):
    import lightning as L

    m = module(0)
    train, val = data(0)
    trainer = L.Trainer(
        max_steps=7,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        enable_checkpointing=False,
    )
    trainer.fit(m, train)
    path = tmp_path / 'ck.ckpt'
    trainer.save_checkpoint(path)
    checkpoint = torch.load(path, weights_only=False)
    assert checkpoint['schedule_step'] == 7
    fresh = module(0)
    fresh.on_load_checkpoint(checkpoint)
    assert fresh.resumed_schedule_step == 7


def test_the_seed_lightning_api_and_the_projects_loop_train_the_same_steps():
    # `TrainingModule` under `L.Trainer` is a thin adapter over the engine: with the same in-memory
    # batches it takes the same steps as `fit`'s own loop, bitwise, also when max_steps ends mid-epoch
    # (30 = 7 x 4 + 2), with the same logged windows and label counts.
    from ex_color.callbacks import LabelProportionCallback
    from tests.test_training_equivalence import RecordingLogger

    ours = fit(module(0), *data(0), run_name='t', max_steps=30, wandb_mode='disabled', progress=False,
               log_every_n_steps=4)  # fmt: skip
    m = module(0)
    train, val = data(0)
    m.log_every_n_steps = 4
    counts = LabelProportionCallback(get_active_labels=lambda: m.active_labels)
    recorder = RecordingLogger()
    trainer = L.Trainer(
        max_steps=30, logger=recorder, callbacks=[counts], enable_progress_bar=False, log_every_n_steps=1,
        enable_model_summary=False, enable_checkpointing=False, check_val_every_n_epoch=10,
        accelerator='cpu',
    )  # fmt: skip
    with fast_cpu_math(1):  # as fit trains
        trainer.fit(m, train, val)
    assert trainer.global_step == 30
    sa, sb = ours.module.model.state_dict(), m.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert counts.counts == ours.label_counts
    assert m.history(0).equals(ours.history)


@pytest.mark.parametrize('bad', [1.5, 0, True, '100'])
def test_a_max_steps_that_is_not_a_positive_int_is_refused_naming_it(bad):
    train, val = data(0)
    with pytest.raises(ValueError, match=f'max_steps must be an int >= 1, got {bad!r}'):
        fit(module(0), train, val, run_name='t', max_steps=bad, wandb_mode='disabled', progress=False)


class _InterruptAt(LoopCallback):
    def __init__(self, step: int, error: BaseException):
        self.step, self.error = step, error

    def on_step_end(self, loop):
        if loop.engine.global_step >= self.step:
            raise self.error


@pytest.mark.parametrize('error', [KeyboardInterrupt(), RuntimeError('boom')], ids=['interrupt', 'crash'])
def test_a_fit_that_stops_early_reraises_its_own_exception_and_finishes_wandb_as_failed(error, monkeypatch):
    codes = []
    real_finish = wandb.finish

    def finish(exit_code=None, **kw):
        codes.append(exit_code)
        return real_finish()

    monkeypatch.setattr(wandb, 'finish', finish)
    handler = signal.getsignal(signal.SIGINT)
    train, val = data(0)
    with pytest.raises(type(error)):
        fit(
            module(0),
            train,
            val,
            run_name='t',
            max_steps=10,
            wandb_mode='disabled',
            progress=False,
            callbacks=[_InterruptAt(3, error)],
        )
    assert codes == [1]
    assert signal.getsignal(signal.SIGINT) is handler, 'Ctrl+C must keep working after an interrupted fit'
    codes.clear()
    fit(module(0), train, val, run_name='t', max_steps=5, wandb_mode='disabled', progress=False)
    assert codes == [0]


@pytest.mark.parametrize('caller_flushes', [True, False])
def test_fit_gives_back_the_callers_thread_count_and_denormal_setting(caller_flushes):
    from ex_color.runtime import flushing_denormals

    threads = torch.get_num_threads()
    torch.set_flush_denormal(caller_flushes)
    try:
        assert flushing_denormals() is caller_flushes or not torch.backends.cpu.get_cpu_capability()
        train, val = data(0)
        fit(
            module(0), train, val, run_name='t', max_steps=3, wandb_mode='disabled', progress=False, threads=1
        )
        assert flushing_denormals() is caller_flushes
        assert torch.get_num_threads() == threads
    finally:
        torch.set_flush_denormal(False)


def test_fitting_the_same_module_again_starts_clean_accounting():
    m = module(0)
    train, val = data(0)
    first = fit(m, train, val, run_name='t', max_steps=20, wandb_mode='disabled', progress=False)
    again = fit(m, *data(0), run_name='t', max_steps=20, wandb_mode='disabled', progress=False)
    fresh = fit(module(0), *data(0), run_name='t', max_steps=20, wandb_mode='disabled', progress=False)
    assert first.history is not again.history
    assert again.history[['step', 'metric']].equals(fresh.history[['step', 'metric']])
    assert again.label_counts == fresh.label_counts
    assert set(again.metrics) == set(fresh.metrics)
