"""`TrainingModule`: the Lightning system that trains a model under a keyframed schedule.

The model stays a plain `nn.Module`; this module owns the training logic (Lightning's "model
separate from system" style):

* **Schedule.** Batch k uses schedule step k (clamped to the last step) for every regulariser
  weight and for the learning rate. Values come from `Timeline.values`, precomputed once, so a
  step costs a list lookup and resuming from a checkpoint needs no replay: the position is the
  global step, which the checkpoint stores.
* **Names are checked both ways.** A train-phase regulariser with no dopesheet column, or a column
  (other than ``lr``) with no regulariser, is an error unless listed in `unscheduled` (full weight
  1.0) or `ignore_columns`. The schedule must have an ``lr`` column.
* **Each regulariser is evaluated once per layer and step.** A term whose weight is exactly zero is
  skipped; so is a label-weighted term when no sample in the batch carries its labels (it would be
  0 and only drag the logged mean towards 0). A non-finite term raises, naming term, layer and step.
* **Epoch groups.** Given a `BatchGroup` (see `EpochGroups`, which `fit` uses for in-memory data),
  one Lightning batch runs the optimiser steps of a whole epoch, with exactly the same per-step
  semantics; Lightning's per-batch overhead is then paid once an epoch instead of once a step.
* **Hooks are scoped to one forward pass** (`ex_color.capture.capture`), so the model never carries
  hooks between steps, whether a fit ends normally or raises.
* **Cheap logging.** Per-step values are summed in place and sent to the trainer's loggers as window
  means every `log_every_n_steps` steps (and at the last step); `latest_metrics` holds the
  latest means for progress bars. Calling `self.log` on every step would cost more than the model's
  own forward and backward pass. Validation metrics use `self.log` as usual.

Metric names: ``train_loss``, ``train_recon``, ``train_<name>`` (``train_<name>:<layer>`` when a
regulariser watches several layers), ``val_loss``, ``val_recon`` and ``val_<name>`` for
validate-phase regularisers.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from ex_color.capture import capture, resolve_layer
from ex_color.loss import RegularizerConfig
from ex_color.training.batches import Batch, BatchGroup
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline

RESERVED_COLUMNS = {'lr'}
_PLAIN_ATTRIBUTES = frozenset(
    {
        '_current_fx_name',
        '_step',
        '_window',
        '_window_keys',
        '_window_sum',
        '_window_n',
        'latest_metrics',
        '_plain_backward',
    }
)


class TrainingModule(L.LightningModule):
    """Train `model` to reconstruct its input under `objective` plus scheduled regularisers."""

    def __init__(
        self,
        model: nn.Module,
        dopesheet: Dopesheet,
        objective: nn.Module,
        regularizers: Sequence[RegularizerConfig],
        *,
        unscheduled: Collection[str] = (),
        ignore_columns: Collection[str] = (),
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.model = model
        self.objective = objective
        self.regularizers = list(regularizers)
        self.dopesheet = dopesheet
        self.timeline = Timeline(dopesheet)
        self._check_names(set(unscheduled), set(ignore_columns))
        self._check_layers()
        # Registered as children so their buffers (anchor vectors) follow .to(device).
        self.reg_modules = nn.ModuleDict({r.name: r.compute_loss_term for r in self.regularizers})

        props = set(dopesheet.props)
        self._last_step = len(self.timeline) - 1
        self._lr = self.timeline.values('lr').tolist()
        self._weights = {
            r.name: (self.timeline.values(r.name).tolist() if r.name in props else None)
            for r in self.regularizers
        }
        self._phase_starts = {
            s: self.timeline.at(s).phase
            for s in range(len(self.timeline))
            if self.timeline.at(s).is_phase_start
        }
        self._train_regs = [r for r in self.regularizers if 'train' in r.phases]
        self._val_regs = [r for r in self.regularizers if 'validate' in r.phases]
        self._train_layers = list(
            dict.fromkeys(layer for r in self._train_regs for layer in r.layer_affinities)
        )
        self._val_layers = list(dict.fromkeys(layer for r in self._val_regs for layer in r.layer_affinities))
        self._step = 0
        self._window: dict[str, tuple[float, int]] = {}
        self._window_keys: tuple[str, ...] = ()
        self._window_sum = torch.zeros(0)
        self._window_n = 0
        self._plain_backward = False
        self.log_every_n_steps = 16
        """Training metrics are logged as means over windows of this many steps (`fit` sets it)."""
        self.latest_metrics: dict[str, float] = {}
        """Latest window means of the training metrics (progress bars and `fit` read these)."""
        self.save_hyperparameters(
            {
                'dopesheet': dopesheet.to_dict(),
                'regularizers': [
                    {
                        'name': r.name,
                        'term': type(r.compute_loss_term).__name__,
                        'labels': r.label_affinities,
                        'layers': list(r.layer_affinities),
                        'phase': sorted(r.phases),
                    }
                    for r in self.regularizers
                ],
            }
        )

    # -- validation of the configuration ---------------------------------------------------------

    def _check_names(self, unscheduled: set[str], ignore_columns: set[str]) -> None:
        names = [r.name for r in self.regularizers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f'Regulariser names must be unique; repeated: {dupes}')
        props = set(self.dopesheet.props)
        if 'lr' not in props:
            raise ValueError(
                "The dopesheet has no 'lr' column; the learning rate must be scheduled explicitly"
            )
        missing = [
            r.name
            for r in self.regularizers
            if 'train' in r.phases and r.name not in props and r.name not in unscheduled
        ]
        if missing:
            raise ValueError(
                f'Regularisers {missing} have no dopesheet column (columns: {sorted(props)}). '
                'Add a column, or pass unscheduled=[...] to give them a constant weight of 1.0.'
            )
        unused = sorted(props - set(names) - RESERVED_COLUMNS - ignore_columns)
        if unused:
            raise ValueError(
                f'Dopesheet columns {unused} match no regulariser (regularisers: {names}). '
                'Fix the name, or pass ignore_columns=[...] to leave them unused.'
            )

    def _check_layers(self) -> None:
        for reg in self.regularizers:
            for layer in reg.layer_affinities:
                resolve_layer(self.model, layer, needed_by=f'regulariser {reg.name!r}')

    # -- schedule --------------------------------------------------------------------------------

    @property
    def schedule_step(self) -> int:
        """The schedule step the current (or next) training batch uses."""
        return min(self.global_step, self._last_step)

    def weight(self, name: str, step: int | None = None) -> float:
        """Scheduled weight of regulariser `name` (1.0 when it is unscheduled)."""
        values = self._weights[name]
        return 1.0 if values is None else values[self.schedule_step if step is None else step]

    @property
    def active_labels(self) -> set[str]:
        """Labels that currently influence training: those of label-weighted terms with non-zero weight."""
        return {
            label
            for r in self._train_regs
            if r.label_affinities and self.weight(r.name, self._step) != 0
            for label in r.label_affinities
        }

    # -- loss terms ------------------------------------------------------------------------------

    def _term(
        self, reg: RegularizerConfig, layer: str, act: Tensor, labels: dict[str, Tensor]
    ) -> Tensor | None:
        per_sample = self.reg_modules[reg.name](act)
        if reg.label_affinities is None:
            term = per_sample.mean()
        else:
            present = [name for name in reg.label_affinities if name in labels]
            if not present:
                return None
            alpha = sum(labels[name] * reg.label_affinities[name] for name in present).clamp(0, 1)
            total_alpha = alpha.sum()
            if total_alpha == 0:
                return None
            if per_sample.ndim == 0:
                per_sample = per_sample.expand_as(alpha)
            elif per_sample.shape != alpha.shape:
                raise ValueError(
                    f'Regulariser {reg.name!r} returned shape {tuple(per_sample.shape)} on layer {layer!r}; '
                    f'expected a scalar or [{alpha.shape[0]}]'
                )
            term = (alpha * per_sample).sum() / (total_alpha + 1e-8)
        if not self.training and not torch.isfinite(term):
            raise RuntimeError(
                f'Loss term {reg.name!r} on layer {layer!r} is {term.item()} at step {self._step}'
                f' ({"training" if self.training else "validation"})'
            )
        return term

    @staticmethod
    def _key(reg: RegularizerConfig, layer: str) -> str:
        return reg.name if len(reg.layer_affinities) == 1 else f'{reg.name}:{layer}'

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
            return BatchGroup(
                [self.transfer_batch_to_device(b, device, dataloader_idx) for b in batch.batches]
            )
        x, labels = batch
        if x.device == device:
            return batch
        return x.to(device), {k: v.to(device) for k, v in labels.items()}

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def on_fit_start(self) -> None:
        # At full precision on one device Lightning's backward wrapper only dispatches hooks (about a
        # tenth of a millisecond a step here); mixed precision or distributed strategies need it.
        self._plain_backward = self.trainer.precision == '32-true' and self.trainer.world_size == 1

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # The schedule sets the real learning rate before every step.
        # foreach: one fused update over the model's few small tensors (about 1/3 faster on CPU).
        self._optimizer = torch.optim.Adam(self.model.parameters(), lr=self._lr[0], foreach=True)
        return self._optimizer

    def training_step(self, batch: Batch | BatchGroup, batch_idx: int) -> Tensor | None:
        if not isinstance(batch, BatchGroup):
            return self._train_on(batch)
        # One optimiser step per batch of the group, stopping exactly at max_steps.
        max_steps = self.trainer.max_steps
        for item in batch.batches:
            if max_steps >= 0 and self.global_step >= max_steps:
                break
            self._train_on(item)
            batch.active.append(frozenset(self.active_labels))
        return None

    def _train_on(self, batch: Batch) -> Tensor:
        x, labels = batch
        step = self._step = self.schedule_step
        if step in self._phase_starts:
            print(f'Starting phase: {self._phase_starts[step]}')
        with capture(self.model, self._train_layers) as acts:
            y = self.model(x)
        recon = self.objective(y, x)
        total = recon
        metrics: dict[str, Tensor] = {'train_recon': recon}
        for reg in self._train_regs:
            w = self.weight(reg.name, step)
            if w == 0:
                continue
            for layer in reg.layer_affinities:
                term = self._term(reg, layer, acts[layer], labels)
                if term is not None:
                    metrics[f'train_{self._key(reg, layer)}'] = term
                    total = total + w * term
        metrics['train_loss'] = total
        # One finiteness check per step; only a failure pays for finding the culprit.
        if not torch.isfinite(total):
            self._raise_non_finite(metrics, step)
        # Manual optimisation: Lightning's automatic path wraps every step in closures and hooks
        # that cost more than this model's whole update.
        opt = self.optimizers()
        self._optimizer.zero_grad(set_to_none=True)
        if self._plain_backward:
            total.backward()
        else:
            self.manual_backward(total)
        for group in self._optimizer.param_groups:
            group['lr'] = self._lr[step]
        opt.step()
        self._accumulate(metrics)
        self._maybe_log()
        return total

    def _raise_non_finite(self, metrics: dict[str, Tensor], step: int) -> None:
        bad = {k: v.item() for k, v in metrics.items() if k != 'train_loss' and not torch.isfinite(v)}
        name = next(iter(bad), 'train_loss').removeprefix('train_')
        raise RuntimeError(
            f'Loss term {name!r} is {bad.get("train_" + name, metrics["train_loss"].item())} at step {step}; '
            f'non-finite terms: {bad or {"train_loss": metrics["train_loss"].item()}}'
        )

    def _accumulate(self, metrics: dict[str, Tensor]) -> None:
        # The same terms are present on almost every step, so they are summed as one stacked tensor
        # (two ops a step); a change in the set of terms folds the running sums into per-key totals.
        keys = tuple(metrics)
        values = torch.stack([v.detach() for v in metrics.values()])
        if keys != self._window_keys:
            self._fold_window()
            self._window_keys, self._window_sum, self._window_n = keys, values, 1
        else:
            self._window_sum = self._window_sum + values
            self._window_n += 1

    def _maybe_log(self) -> None:
        trainer = self._trainer
        if trainer is None:
            return
        done = self.global_step
        if done % self.log_every_n_steps == 0 or done == trainer.max_steps:
            self._fold_window()
            means = {key: total / count for key, (total, count) in self._window.items()}
            self._window = {}
            self.latest_metrics.update(means)
            # Straight to the loggers: `self.log` moves its result store between devices on every
            # call, which costs about a millisecond per metric here.
            for logger in trainer.loggers:
                logger.log_metrics(means, step=done - 1)

    def _fold_window(self) -> None:
        if not self._window_n:
            return
        for key, value in zip(self._window_keys, self._window_sum.tolist(), strict=True):
            total, count = self._window.get(key, (0.0, 0))
            self._window[key] = (total + value, count + self._window_n)
        self._window_keys, self._window_n = (), 0

    def validation_step(self, batch: tuple[Tensor, dict[str, Tensor]], batch_idx: int) -> None:
        x, labels = batch
        with capture(self.model, self._val_layers) as acts:
            y = self.model(x)
        recon = self.objective(y, x)
        n = len(x)
        self.log('val_loss', recon, prog_bar=True, batch_size=n)
        self.log('val_recon', recon, batch_size=n)
        for reg in self._val_regs:
            for layer in reg.layer_affinities:
                term = self._term(reg, layer, acts[layer], labels)
                if term is not None:
                    self.log(f'val_{self._key(reg, layer)}', term, batch_size=n)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint['schedule_step'] = self.global_step

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.resumed_schedule_step = int(checkpoint.get('schedule_step', 0))
