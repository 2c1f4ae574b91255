"""`TrainingModule`: the one training engine, for one model or M members side by side.

The model stays a plain `nn.Module`; this module owns the training logic (Lightning's "model
separate from system" style), written once for a stack of M members (`ex_color.training.members`):
``TrainingModule(model, dopesheet, objective, regularizers)`` trains one model in place (M = 1), and
``TrainingModule(StackedColorMLP([...]), Schedule.stack([...]), ...)`` trains M members, each with its
own schedule, data and regulariser weights. Lightning drives both, so its loggers, callbacks,
checkpointing and accelerators work the same for one member and for many.

Per-step semantics (the only implementation):

* **Schedule.** Batch k uses schedule row k (clamped to the last) of the `Schedule` built once from
  ``(dopesheet, regularizers)`` (names checked both ways there), for every regulariser weight and the
  learning rate of every member.
* **Terms.** Each regulariser is evaluated once per layer and step on every member's activations
  (`ex_color.training.terms`). A term whose weight is exactly 0 is skipped (for the members whose
  weight is 0); so is a label-weighted term for a member whose batch carries none of its labels.
  A non-finite loss raises, naming term, layer, step and member.
* **Optimiser.** `MemberAdam`: M independent Adams, with per-member learning rates when the members'
  schedules differ, and exactly `torch.optim.Adam`'s arithmetic when they do not.
* **Logging windows.** Per-step values are summed on the tensor side (`MemberWindow`) and recorded
  every `log_every_n_steps` steps and at the last step, as per-member window means: into the metric
  `history`, to the trainer's loggers (a `MemberLogger` gets every member's values, any other logger
  the mean over members, which for M = 1 is the member's value), and into `latest_metrics`.
* **Validation** runs when Lightning's cadence says (``check_val_every_n_epoch``), in eval mode, with
  validate-phase regularisers unweighted; batch-size-weighted means are recorded at the step of the
  last training batch and put in `callback_metrics` (mean over members), for monitors and bars.
* **Epoch groups.** Given a `BatchGroup` (see `EpochGroups`), one Lightning batch runs the optimiser
  steps of a whole epoch, with exactly the same per-step semantics.
* **Resume.** Checkpoints carry the RNG states and the data's position (`ex_color.training.resume`),
  so ``trainer.fit(..., ckpt_path=...)`` continues bitwise as if never stopped.

Where Lightning costs more than it gives, the module steps around it while leaving Lightning in
control of the loop: it optimises manually; it logs window means straight to the loggers (`self.log`
costs about 1 ms per call here); at full precision on one device it calls `backward()` itself
(Lightning's wrapper only dispatches hooks, about 0.1 ms a step); its batches take a direct device
transfer; and `fit` hands in-memory data over one epoch per Lightning batch. Measured with
``benchmarks/train_speed.py`` (2-core machine, 2026-12): Lightning's per-batch machinery cost about
0.8 ms a step, half a plain step of this model, before grouping; 0.05 ms after.

Metric names: ``train_loss``, ``train_recon``, ``train_<name>`` (``train_<name>:<layer>`` when a
regulariser watches several layers), ``val_loss``, ``val_recon`` and ``val_<name>`` for
validate-phase regularisers.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from typing import Any, cast

import lightning as L
import numpy as np
import torch
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.strategies import SingleDeviceStrategy
from torch import Tensor, nn
from torch.nn import functional as F

from ex_color.loss import RegularizerConfig
from ex_color.training import resume
from ex_color.training.batches import Batch, BatchGroup
from ex_color.training.members import as_stack
from ex_color.training.optim import MemberAdam
from ex_color.training.records import MemberRecords, describe_config
from ex_color.training.schedule import Schedule
from ex_color.training.stacked import StackedColorMLP
from ex_color.training.tables import ScheduleTables
from ex_color.training.terms import per_member_loss, weighted_term
from ex_color.training.window import MemberWindow
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline

__all__ = ['TrainingModule']

log = logging.getLogger(__name__)

_PLAIN_ATTRIBUTES = frozenset(
    {
        '_current_fx_name',
        '_step',
        '_plain_backward',
        '_epoch_first_step',
        'latest_metrics',
        '_history',
        '_resume_skip',
    }
)


class TrainingModule(MemberRecords, ScheduleTables, L.LightningModule):
    """Train one model, or a stack of M, to reconstruct its input under `objective` plus scheduled terms."""

    def __init__(
        self,
        model: nn.Module,
        dopesheet: Dopesheet | Schedule,
        objective: nn.Module,
        regularizers: Sequence[RegularizerConfig],
        *,
        unscheduled: Collection[str] = (),
        ignore_columns: Collection[str] = (),
        member_names: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.model = model
        self.objective = objective
        self.regularizers = list(regularizers)
        if isinstance(dopesheet, Schedule):
            self.dopesheet: Dopesheet | None = None
            self.schedule = dopesheet
        else:
            self.dopesheet = dopesheet
            self.schedule = Schedule.build(
                dopesheet, self.regularizers, unscheduled=unscheduled, ignore_columns=ignore_columns
            )
        self.stack = as_stack(model)
        m = self.stack.n_members
        if self.schedule.members != m:
            raise ValueError(f'the schedule has {self.schedule.members} members, the model {m}')
        if list(self.schedule.weights) != [r.name for r in self.regularizers]:
            raise ValueError(
                f'the schedule weights {list(self.schedule.weights)}, '
                f'but the regularisers are {[r.name for r in self.regularizers]}'
            )
        self.member_names = list(member_names) if member_names is not None else [str(i) for i in range(m)]
        if len(self.member_names) != m:
            raise ValueError(f'member_names has {len(self.member_names)} names for {m} members')
        for reg in self.regularizers:
            self.stack.check_layers(reg.layer_affinities, needed_by=f'regulariser {reg.name!r}')
        # Registered as children so their buffers (anchor vectors) follow .to(device).
        self.reg_modules = nn.ModuleDict({r.name: r.compute_loss_term for r in self.regularizers})
        self._train_regs = [r for r in self.regularizers if 'train' in r.phases]
        self._val_regs = [r for r in self.regularizers if 'validate' in r.phases]
        self._train_layers = list(dict.fromkeys(x for r in self._train_regs for x in r.layer_affinities))
        self._val_layers = list(dict.fromkeys(x for r in self._val_regs for x in r.layer_affinities))
        self._tables()
        self._step = 0
        self._seen_labels = None  # label names the training batches carry
        self._epoch_first_step = 0
        self._plain_backward = False
        self._window = MemberWindow(m)
        self._val_window = MemberWindow(m)
        self._history: list[tuple[int, int, str, float]] = []
        self.log_every_n_steps = 16
        """Training metrics are logged as means over windows of this many steps (`fit` sets it)."""
        self.latest_metrics: dict[str, float] = {}
        """Latest window means (over members) of the training metrics, for progress bars and `fit`."""
        self._resume: resume.ResumeState | None = None
        self._resume_skip = 0
        self.save_hyperparameters(describe_config(self))

    @property
    def timeline(self) -> Timeline:
        """The dopesheet's timeline (single-dopesheet modules only)."""
        if self.dopesheet is None:
            raise AttributeError('this module was built from a Schedule, not a dopesheet; read .schedule')
        return Timeline(self.dopesheet)

    @property
    def n_members(self) -> int:
        return self.stack.n_members

    def member_model(self, i: int) -> nn.Module:
        """Member i as a standalone model (for M = 1, the trained model itself)."""
        return self.stack.member(i)

    # -- loss ------------------------------------------------------------------------------------

    def _recon(self, y: Tensor, x: Tensor) -> Tensor:  # [M, B, 3] x2 -> [M]
        if self.stack.n_members == 1:
            return self.objective(y[0], x[0]).reshape(1)
        kind = type(self.objective)
        if kind in (nn.MSELoss, nn.L1Loss) and self.objective.reduction == 'mean':
            fn = F.mse_loss if kind is nn.MSELoss else F.l1_loss
            return fn(y, x, reduction='none').mean(dim=(1, 2))
        return torch.stack([self.objective(y[m], x[m]) for m in range(y.shape[0])])

    @staticmethod
    def _key(reg: RegularizerConfig, layer: str) -> str:
        return reg.name if len(reg.layer_affinities) == 1 else f'{reg.name}:{layer}'

    @staticmethod
    def _as_stacked(batch: Batch) -> Batch:
        x, labels = batch
        if x.ndim == 2:  # one member's plain batch: add the member axis (views)
            return x.unsqueeze(0), {k: v.unsqueeze(0) for k, v in labels.items()}
        return x, labels

    # -- Lightning hooks -------------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        # Lightning sets `_current_fx_name` around every hook call (~45 times a step); nn.Module's
        # __setattr__ checks for parameters, buffers and submodules each time. These attributes are
        # never any of those, so they take the plain path.
        if name in _PLAIN_ATTRIBUTES:
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def transfer_batch_to_device(self, batch: Any, device: torch.device, dataloader_idx: int) -> Any:
        # Lightning's generic collection walk costs more than a training step of this model; our
        # batches are always (tensor, {name: tensor}) or a group of them.
        if isinstance(batch, BatchGroup):
            moved = [self.transfer_batch_to_device(b, device, dataloader_idx) for b in batch.batches]
            return BatchGroup(moved, active=batch.active, trained=batch.trained)
        x, labels = batch
        if x.device == device:
            return batch
        return x.to(device), {k: v.to(device) for k, v in labels.items()}

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # The schedule sets the real learning rate before every step.
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = MemberAdam(params, stacked=isinstance(self.model, StackedColorMLP))
        optimizer.set_lr(self._lr[0])
        return optimizer

    def on_fit_start(self) -> None:
        # At full precision on one device Lightning's backward wrapper only dispatches hooks (about a
        # tenth of a millisecond a step here); mixed precision or distributed strategies need it.
        self._plain_backward = self.trainer.precision == '32-true' and self.trainer.world_size == 1
        self._tables_to(self.device)
        self._bind_optimizer()
        self._seen_labels = None
        # Lightning's optimizer step only dispatches `on_before_optimizer_step` hooks through the
        # strategy and precision plugin (about 0.3 ms a step here); when nothing listens, step directly
        # and let Lightning count the step all the same.
        self._direct_step = (
            self._plain_backward
            and type(self.trainer.strategy) is SingleDeviceStrategy
            and _no_override(type(self), L.LightningModule, 'on_before_optimizer_step')
            and all(
                _no_override(type(c), L.Callback, 'on_before_optimizer_step')
                # Trainer sets .callbacks in its callback connector without declaring the attribute
                for c in self.trainer.callbacks  # type: ignore[attr-defined]
            )
        )
        # Re-running fit on the same module starts clean accounting.
        self._window, self._val_window = MemberWindow(self.n_members), MemberWindow(self.n_members)
        if self._resume is None:
            self._history = []
            self.latest_metrics = {}

    def _bind_optimizer(self) -> None:
        # Whatever configure_optimizers returned (a subclass may override it), the schedule drives it.
        optimizers = self.trainer.optimizers
        if len(optimizers) != 1 or not isinstance(optimizers[0], MemberAdam):
            kinds = ', '.join(type(o).__name__ for o in optimizers) or 'none'
            raise TypeError(
                f'TrainingModule needs exactly one MemberAdam from configure_optimizers (got {kinds}): '
                'the schedule sets its learning rate per step and per member'
            )
        self._optimizer = optimizers[0]
        self._params = [p for group in self._optimizer.param_groups for p in group['params']]

    def on_train_start(self) -> None:
        # After Lightning has restored the loops and built the dataloaders, before the first batch.
        if self._resume is not None:
            self._resume_skip = resume.restore(self._resume, self.trainer.train_dataloader)
            self._resume = None

    def on_train_epoch_start(self) -> None:
        # A resumed epoch starts with the batches the interrupted fit had already trained on.
        self._epoch_first_step = self.global_step - self._resume_skip
        self._resume_skip = 0

    def training_step(self, batch: Batch | BatchGroup, batch_idx: int) -> Tensor | None:
        if not isinstance(batch, BatchGroup):
            return self._train_on(batch)
        # One optimiser step per batch of the group, stopping exactly at max_steps.
        max_steps = self.trainer.max_steps
        for item in batch.batches:
            if max_steps >= 0 and self.global_step >= max_steps:
                break
            self._train_on(item)
            batch.active.append(self.active_label_members() if self.n_members > 1 else self.active_labels)
            batch.trained += 1
        return None

    def _train_on(self, batch: Batch) -> Tensor:
        x, labels = self._as_stacked(batch)
        if (names := tuple(labels)) != self._seen_labels:
            self._check_labels(names)
        step = self._step = self.schedule.row(self.global_step)
        if step in self.schedule.phase_starts:
            log.info('Starting phase: %s', self.schedule.phase_starts[step])
        y, acts = self.stack(x, self._train_layers)
        recon = self._recon(y, x)
        total = recon
        values: dict[str, Tensor] = {'train_recon': recon}
        present: dict[str, Tensor] = {}
        for reg in self._train_regs:
            table = self._w[reg.name]
            w = table[step]
            if w is None:
                continue
            w_mask = self._w_mask[reg.name][step]
            for layer in reg.layer_affinities:
                per = per_member_loss(self.reg_modules[reg.name], acts[layer], name=reg.name)
                term = weighted_term(per, labels, reg.label_affinities)
                if term is None:
                    continue
                value, mask = term.value, term.present
                if w_mask is not None:
                    # Members whose weight is 0 skip the term, as their one-member runs would.
                    mask = w_mask if mask is None else mask & w_mask
                    value = torch.where(w_mask, value, value.new_zeros(()))
                key = f'train_{self._key(reg, layer)}'
                values[key] = value
                if mask is not None:
                    present[key] = mask
                total = total + w * value
        values['train_loss'] = total
        # One finiteness check per step; only a failure pays for finding the culprit.
        if not bool(torch.isfinite(total).all()):
            self._raise_non_finite(values, present, step, 'training')
        opt = cast(LightningOptimizer, self.optimizers())  # exactly one (checked by _bind_optimizer)
        for p in self._params:
            p.grad = None
        loss = total.sum()
        if self._plain_backward:
            loss.backward()
        else:
            self.manual_backward(loss)
        self._optimizer.set_lr(self._lr[step])
        if self._direct_step:
            opt._on_before_step()
            self._optimizer.step()
            opt._on_after_step()
        else:
            opt.step()
        self._window.add(values, present)
        trainer = self._trainer
        if trainer is not None:
            done = self.global_step
            if done % self.log_every_n_steps == 0 or done == trainer.max_steps:
                self._record(done - 1, self._window.flush(), trainer)
        return loss

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        x, labels = self._as_stacked(batch)
        y, acts = self.stack(x, self._val_layers)
        recon = self._recon(y, x)
        values: dict[str, Tensor] = {'val_loss': recon, 'val_recon': recon}
        present: dict[str, Tensor] = {}
        for reg in self._val_regs:
            for layer in reg.layer_affinities:
                per = per_member_loss(self.reg_modules[reg.name], acts[layer], name=reg.name)
                term = weighted_term(per, labels, reg.label_affinities)
                if term is None:
                    continue
                key = f'val_{self._key(reg, layer)}'
                values[key] = term.value
                if term.present is not None:
                    present[key] = term.present
        counted = [v if k not in present else v[present[k]] for k, v in values.items()]
        if not all(bool(torch.isfinite(v).all()) for v in counted):
            self._raise_non_finite(values, present, self.schedule_step, 'validation')
        self._val_window.add(values, present, weight=float(x.shape[1]))

    def on_validation_epoch_end(self) -> None:
        means = self._val_window.flush()
        if self.trainer.sanity_checking or not means:
            return
        self._record(self.global_step - 1, means, self.trainer)
        for key, values in means.items():
            seen = [v for v in values if v is not None]
            if seen:
                self.log(key, float(np.mean(seen)), prog_bar=key == 'val_loss', logger=False)

    # -- checkpoints -----------------------------------------------------------------------------

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint['schedule_step'] = self.global_step
        consumed = self.global_step - self._epoch_first_step
        checkpoint[resume.KEY] = resume.capture(self.trainer.train_dataloader, consumed)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.resumed_schedule_step = int(checkpoint.get('schedule_step', 0))
        state = checkpoint.get(resume.KEY)
        if state is not None:
            self._resume = resume.ResumeState.from_dict(state)
            resume.rewind_epoch_if_partial(checkpoint, self._resume)


def _no_override(kind: type, base: type, hook: str) -> bool:
    return getattr(kind, hook) is getattr(base, hook)
