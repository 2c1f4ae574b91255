"""`Engine`: the per-step semantics of training, for one model or M members side by side.

This is the only place that says what a training step is. The project's own loop
(`ex_color.training.loop`) drives it, and so does the seed's Lightning API (`TrainingModule`,
a thin adapter whose `training_step` calls `Engine.train_step`).

Per-step semantics:

* **Schedule.** Step k uses schedule row k (clamped to the last) of the `Schedule` built once from
  ``(dopesheet, regularizers)`` (names checked both ways there), for every regulariser weight and the
  learning rate of every member.
* **Terms.** Each regulariser is evaluated once per layer and step on every member's activations
  (`ex_color.training.terms`). A term whose weight is exactly 0 is skipped (for the members whose
  weight is 0); so is a label-weighted term for a member whose batch carries none of its labels.
  A non-finite loss raises, naming term, layer, step and member.
* **Optimiser.** `MemberAdam`: M independent Adams, with per-member learning rates for a stack, and
  exactly `torch.optim.Adam`'s arithmetic for a single model.
* **Logging windows.** Per-step values are summed on the tensor side (`MemberWindow`) and recorded
  every `log_every_n_steps` steps and at the last step, as per-member window means: into the metric
  `history`, to the `loggers` (a `MemberLogger` gets every member's values, any other logger the
  mean over members), and into `latest_metrics`.
* **Validation** runs in eval mode with validate-phase regularisers unweighted; batch-size-weighted
  means are recorded at the step of the last training batch.

Deliberately not here: the loop (when to validate, checkpoints, progress, tracking runs) and the
data; the engine is handed one batch at a time.

Metric names: ``train_loss``, ``train_recon``, ``train_<name>`` (``train_<name>:<layer>`` when a
regulariser watches several layers), ``val_loss``, ``val_recon`` and ``val_<name>`` for
validate-phase regularisers.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ex_color.loss import RegularizerConfig
from ex_color.model.stacked import StackedColorMLP
from ex_color.training.batches import Batch
from ex_color.training.members import as_stack
from ex_color.training.optim import MemberAdam
from ex_color.training.records import MemberRecords
from ex_color.training.schedule import Schedule
from ex_color.training.tables import ScheduleTables
from ex_color.training.terms import per_member_loss, weighted_term
from ex_color.training.window import MemberWindow
from mini.temporal.dopesheet import Dopesheet

__all__ = ['Engine']

log = logging.getLogger(__name__)


class Engine(MemberRecords, ScheduleTables):
    """Train one model, or a stack of M, to reconstruct its input under `objective` plus scheduled terms.

    `reg_modules` are the regularisers' loss modules by name; pass the ones a host module registers
    as its children (so that they follow it between devices), or leave None to use the configs' own.
    """

    def __init__(
        self,
        model: nn.Module,
        schedule: Dopesheet | Schedule,
        objective: nn.Module,
        regularizers: Sequence[RegularizerConfig],
        *,
        unscheduled: Collection[str] = (),
        ignore_columns: Collection[str] = (),
        member_names: Sequence[str] | None = None,
    ) -> None:
        self.model = model
        self.objective = objective
        self.regularizers = list(regularizers)
        if isinstance(schedule, Schedule):
            self.dopesheet: Dopesheet | None = None
            self.schedule = schedule
        else:
            self.dopesheet = schedule
            self.schedule = Schedule.build(
                schedule, self.regularizers, unscheduled=unscheduled, ignore_columns=ignore_columns
            )
        self.stack = as_stack(model)
        self._stacked = self.stack.stacked  # a single model's values have no member axis
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
        self.reg_modules: dict[str, nn.Module] = {r.name: r.compute_loss_term for r in self.regularizers}
        self._train_regs = [r for r in self.regularizers if 'train' in r.phases]
        self._val_regs = [r for r in self.regularizers if 'validate' in r.phases]
        self._train_layers = list(dict.fromkeys(x for r in self._train_regs for x in r.layer_affinities))
        # what a step walks: each train-phase regulariser, its loss module and (layer, metric name)s
        self._train_terms = [
            (r, self.reg_modules[r.name], [(x, f'train_{self._key(r, x)}') for x in r.layer_affinities])
            for r in self._train_regs
        ]
        self._val_layers = list(dict.fromkeys(x for r in self._val_regs for x in r.layer_affinities))
        self._tables()
        self.global_step = 0
        """Optimiser steps taken so far; the next step uses schedule row `schedule.row(global_step)`."""
        self.max_steps = self.schedule.steps
        """The step at which the run ends (its last window is recorded there)."""
        self.log_every_n_steps = 16
        """Training metrics are logged as means over windows of this many steps."""
        self.loggers: list[Any] = []
        """Where recorded means go (`log_metrics(metrics, step)`; a `MemberLogger` gets every member's)."""
        self._step = 0
        self._seen_labels: tuple[str, ...] | None = None
        self.reset_records()

    @property
    def n_members(self) -> int:
        return self.stack.n_members

    def reset_records(self) -> None:
        """Start clean accounting: windows, history and latest metrics (a new fit on the same model)."""
        self._window = MemberWindow(self.n_members)
        self._val_window = MemberWindow(self.n_members)
        self._history: list[tuple[int, int, str, float]] = []
        self.latest_metrics: dict[str, float] = {}
        self._seen_labels = None

    def make_optimizer(self) -> MemberAdam:
        """The optimiser the schedule drives: a `MemberAdam` over the trainable parameters."""
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = MemberAdam(params, stacked=isinstance(self.model, StackedColorMLP))
        optimizer.set_lr(self._lr[0])
        return optimizer

    def to(self, device: torch.device | str) -> Engine:
        """Move the model, the regularisers' buffers and the schedule tables to `device`."""
        device = torch.device(device)
        self.model.to(device)
        for module in self.reg_modules.values():
            module.to(device)
        self.objective.to(device)
        self._tables_to(device)
        return self

    # -- loss ------------------------------------------------------------------------------------

    def _recon(self, y: Tensor, x: Tensor) -> Tensor:  # [M, B, 3] x2 -> [M]; one model: [B, 3] x2 -> 0-d
        if not self._stacked:
            return self.objective(y, x)
        kind = type(self.objective)
        if kind in (nn.MSELoss, nn.L1Loss) and self.objective.reduction == 'mean':
            fn = F.mse_loss if kind is nn.MSELoss else F.l1_loss
            return fn(y, x, reduction='none').mean(dim=(1, 2))
        return torch.stack([self.objective(y[m], x[m]) for m in range(y.shape[0])])

    @staticmethod
    def _key(reg: RegularizerConfig, layer: str) -> str:
        return reg.name if len(reg.layer_affinities) == 1 else f'{reg.name}:{layer}'

    def _check_batch(self, x: Tensor) -> None:
        want = 3 if self._stacked else 2
        if x.ndim != want:
            shape = '[M, B, 3] (a stack of members)' if self._stacked else '[B, 3] (one model)'
            raise ValueError(f'the batch has shape {tuple(x.shape)}; this engine trains on {shape}')

    # -- steps -----------------------------------------------------------------------------------

    def train_step(
        self,
        batch: Batch,
        optimizer: MemberAdam,
        *,
        backward: Callable[[Tensor], Any] | None = None,
        step: Callable[[], Any] | None = None,
    ) -> Tensor:
        """One optimiser step on `batch`; returns the summed loss. `backward(loss)` and `step()`
        replace ``loss.backward()`` and ``optimizer.step()`` (a host framework's hooks)."""
        x, labels = batch
        if (names := tuple(labels)) != self._seen_labels:
            self._check_batch(x)
            self._check_labels(names)
        row = self._step = self.schedule.row(self.global_step)
        if row in self.schedule.phase_starts:
            log.info('Starting phase: %s', self.schedule.phase_starts[row])
        stacked = self._stacked
        y, acts = self.stack(x, self._train_layers)
        recon = self._recon(y, x)
        total = recon
        values: dict[str, Tensor] = {'train_recon': recon}
        present: dict[str, Tensor] = {}
        for reg, module, layers in self._train_terms:
            w = self._w[reg.name][row]
            if w is None:
                continue
            w_mask = self._w_mask[reg.name][row]
            for layer, key in layers:
                per = per_member_loss(module, acts[layer], name=reg.name, stacked=stacked)
                term = weighted_term(per, labels, reg.label_affinities, stacked=stacked)
                if term is None:
                    continue
                value, mask = term.value, term.present
                if w_mask is not None:
                    # Members whose weight is 0 skip the term, as their one-member runs would.
                    mask = w_mask if mask is None else mask & w_mask
                    value = torch.where(w_mask, value, value.new_zeros(()))
                values[key] = value
                if mask is not None:
                    present[key] = mask
                total = total + w * value
        values['train_loss'] = total
        # One finiteness check per step; only a failure pays for finding the culprit.
        finite = bool(torch.isfinite(total).all()) if stacked else math.isfinite(total.item())
        if not finite:
            self._raise_non_finite(values, present, row, 'training')
        for group in optimizer.param_groups:
            for p in group['params']:
                p.grad = None
        loss = total.sum() if stacked else total
        if backward is None:
            loss.backward()
        else:
            backward(loss)
        optimizer.set_lr(self._lr[row])
        if step is None:
            optimizer.step()
        else:
            step()
        self.global_step += 1
        self._window.add(values, present)
        done = self.global_step
        if done % self.log_every_n_steps == 0 or done == self.max_steps:
            self._record(done - 1, self._window.flush())
        return loss

    def validation_step(self, batch: Batch) -> None:
        """Add one validation batch to the validation window (the model must be in eval mode)."""
        x, labels = batch
        self._check_batch(x)
        stacked = self._stacked
        y, acts = self.stack(x, self._val_layers)
        recon = self._recon(y, x)
        values: dict[str, Tensor] = {'val_loss': recon, 'val_recon': recon}
        present: dict[str, Tensor] = {}
        for reg in self._val_regs:
            for layer in reg.layer_affinities:
                per = per_member_loss(self.reg_modules[reg.name], acts[layer], name=reg.name, stacked=stacked)
                term = weighted_term(per, labels, reg.label_affinities, stacked=stacked)
                if term is None:
                    continue
                key = f'val_{self._key(reg, layer)}'
                values[key] = term.value
                if term.present is not None:
                    present[key] = term.present
        counted = [v if k not in present else v[present[k]] for k, v in values.items()]
        if not all(bool(torch.isfinite(v).all()) for v in counted):
            self._raise_non_finite(values, present, self.schedule_step, 'validation')
        self._val_window.add(values, present, weight=float(x.shape[-2]))

    def record_values(self, step: int, values: dict[str, list[float | None]]) -> None:
        """Add per-member values {metric: [M]} at `step` (a callback's own measurements, e.g. every
        step) to the history only: loggers get the engine's windows, at their own steps."""
        for key, per_member in values.items():
            self._history += [(m, step, key, v) for m, v in enumerate(per_member) if v is not None]

    def discard_validation(self) -> None:
        """Forget the validation window (Lightning's sanity check runs batches that count for nothing)."""
        self._val_window.flush()

    def end_validation(self) -> dict[str, float]:
        """Record the validation window's means at the last trained step; their means over members."""
        means = self._val_window.flush()
        if not means:
            return {}
        self._record(self.global_step - 1, means)
        out = {}
        for key, values in means.items():
            seen = [v for v in values if v is not None]
            if seen:
                out[key] = float(np.mean(seen))
        return out

    @torch.no_grad()
    def validate(self, batches: Any) -> dict[str, float]:
        """Run every batch of `batches` through `validation_step` in eval mode and record the means."""
        was_training = self.model.training
        self.model.eval()
        try:
            for batch in batches:
                self.validation_step(batch)
        finally:
            self.model.train(was_training)
        return self.end_validation()
