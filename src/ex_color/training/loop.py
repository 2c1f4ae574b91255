"""`TrainLoop`: the project's training loop, a plain loop over the member stack.

    for each epoch:
        for each batch:   engine.train_step(batch, optimizer)   # schedule, terms, Adam, log window
        count the epoch's labels; validate every `val_every_n_epochs` epochs
    until `steps` optimiser steps are done

An epoch is one pass over the training data; the pass that reaches `steps` ends the run there and
counts as an epoch (it is validated when its number says so). Everything a step does is in
`ex_color.training.engine`; this module only decides order and cadence, keeps the label counts, drives
the progress bar and the callbacks, and saves or restores checkpoints.

**Checkpoints** (`checkpoint()`, `ex_color.training.checkpointing`) hold everything the remaining steps
depend on: weights, optimiser state, step, epoch and the batches already trained in it, the data's
position (its private generators), the global RNGs, label counts and the metric history. A loop that
resumes from one continues bitwise as if it had never stopped (the tests compare weights in fresh
processes). A checkpoint is refused unless it belongs to this run: the same member names, schedule,
regularisers and model shape (`RunFingerprint`).

Deliberately not here: building models, data or tracking runs (`fit` and `train_members` do), and
Lightning: the seed's `TrainingModule` under `L.Trainer` drives the same engine through Lightning's loop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from ex_color.training import resume
from ex_color.training.checkpointing import RunFingerprint
from ex_color.training.engine import Engine
from ex_color.training.labels import LabelCounts
from ex_color.training.optim import MemberAdam
from utils.progress.display import Progress

__all__ = ['LoopCallback', 'TrainLoop']

log = logging.getLogger(__name__)


class LoopCallback:
    """Hooks that `TrainLoop` calls; subclass and override the ones you need."""

    def on_fit_start(self, loop: TrainLoop) -> None:
        """Before the first step (after a checkpoint has been restored)."""

    def on_step_end(self, loop: TrainLoop) -> None:
        """After every optimiser step; `loop.engine.global_step` steps are done."""

    def on_validation_end(self, loop: TrainLoop, metrics: dict[str, float]) -> None:
        """After a validation round, with its means over members."""

    def on_fit_end(self, loop: TrainLoop) -> None:
        """After the last step, also when the run stopped early at `steps`."""

    def describe(self) -> Any:
        """What this callback adds to the members' results, as plain values (the run cache keys on
        it); None, the default, for a callback that only watches."""
        return None


class TrainLoop:
    """Train `engine` on `train_data` for `steps` optimiser steps (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        train_data: Iterable[Any],
        val_data: Iterable[Any] | None = None,
        *,
        steps: int | None = None,
        val_every_n_epochs: int = 10,
        log_every_n_steps: int = 16,
        callbacks: Sequence[LoopCallback] = (),
        progress: bool | Progress = True,
        device: torch.device | str = 'cpu',
        label_prefix: str = 'labels',
        optimizer: MemberAdam | None = None,
    ) -> None:
        self.engine = engine
        self.train_data = train_data
        self.val_data = val_data
        self.steps = engine.schedule.steps if steps is None else steps
        self.val_every_n_epochs = val_every_n_epochs
        self.callbacks = list(callbacks)
        self.device = torch.device(device)
        self.label_prefix = label_prefix
        engine.log_every_n_steps = log_every_n_steps
        engine.max_steps = self.steps
        if optimizer is None:
            optimizer = engine.make_optimizer()
        elif not isinstance(optimizer, MemberAdam):
            raise TypeError(
                f'the loop needs a MemberAdam (got {type(optimizer).__name__}): the schedule sets its '
                'learning rate per step and per member'
            )
        self.optimizer = optimizer
        self.labels = LabelCounts(engine.n_members)
        self.epoch = 0
        """Epochs completed before the current one."""
        self.consumed = 0
        """Batches of the current epoch already trained."""
        self.val_metrics: dict[str, float] = {}
        """The latest validation means (over members)."""
        self._progress = progress
        self._skip = 0

    # -- checkpoints -----------------------------------------------------------------------------

    def fingerprint(self) -> RunFingerprint:
        return RunFingerprint.of(self.engine)

    def checkpoint(self) -> dict[str, Any]:
        """Everything the remaining steps depend on (see the module docstring)."""
        epoch, consumed = self.epoch, self.consumed
        position = getattr(self.train_data, 'position', None)
        data = position(consumed) if callable(position) else None
        if consumed >= _length(self.train_data):
            epoch, consumed = epoch + 1, 0
        return {
            'fingerprint': self.fingerprint().as_dict(),
            'model': {k: v.detach().cpu() for k, v in self.engine.model.state_dict().items()},
            'optimizer': _to_cpu(self.optimizer.state_dict()),
            'step': self.engine.global_step,
            'epoch': epoch,
            'consumed': consumed,
            'data': data,
            'rng': resume.capture_rng(),
            'labels': self.labels.state_dict(),
            **self.engine.records_state(),
            'val_metrics': dict(self.val_metrics),
        }

    def restore(self, state: dict[str, Any], *, source: str = 'the checkpoint') -> None:
        """Continue from `checkpoint()`'s dict; refused, naming what differs, unless it is this run's."""
        RunFingerprint.from_dict(state['fingerprint'], source=source).check(self.fingerprint(), source=source)
        step = int(state['step'])
        if step > self.steps:
            raise ValueError(f"{source} is at step {step}, past this run's {self.steps} steps")
        self.engine.model.load_state_dict(state['model'])
        self.optimizer.load_state_dict(state['optimizer'])
        self.engine.global_step = step
        self.epoch, self.consumed = int(state['epoch']), int(state['consumed'])
        if state['data'] is None and self.consumed:
            raise ValueError(
                f'{source} was taken {self.consumed} batches into an epoch, but holds no data position '
                f'(the training data, {type(self.train_data).__name__}, has none), so the resumed run '
                'could not continue with the same batches'
            )
        if state['data'] is not None:
            restore_position = getattr(self.train_data, 'restore_position', None)
            if not callable(restore_position):
                raise TypeError(
                    f'{source} holds a data position, but the training data ({type(self.train_data).__name__}) '
                    'cannot restore one; resume with the same kind of data as the interrupted run'
                )
            restore_position(state['data'])
        self._skip = self.consumed
        resume.restore_rng(state['rng'])
        self.labels.load_state_dict(state['labels'])
        self.engine.restore_records(state)
        self.val_metrics = dict(state['val_metrics'])

    # -- the loop --------------------------------------------------------------------------------

    def metrics(self) -> dict[str, float]:
        """What a progress bar shows: the latest training window and validation means."""
        return {**self.engine.latest_metrics, **self.val_metrics}

    def run(self) -> None:
        engine, optimizer = self.engine, self.optimizer
        engine.to(self.device)
        bar = self._open_bar()
        single = engine.n_members == 1
        for c in self.callbacks:
            c.on_fit_start(self)
        engine.model.train()
        ok = False
        try:
            while engine.global_step < self.steps:
                self.consumed = self._skip
                self._skip = 0
                trained = 0
                for batch in self.train_data:
                    batch = self._to_device(batch)
                    engine.train_step(batch, optimizer)
                    self.labels.add(batch, engine.active_labels if single else engine.active_label_members())
                    self.consumed += 1
                    trained += 1
                    if bar is not None:
                        bar.update(engine.global_step, self.metrics)
                    for c in self.callbacks:
                        c.on_step_end(self)
                    if engine.global_step >= self.steps:
                        break
                if trained == 0:
                    raise ValueError(
                        f'the training data ({type(self.train_data).__name__}) yielded no batch in epoch '
                        f'{self.epoch}; a run needs at least one batch per epoch'
                    )
                self._end_epoch()
                if self.consumed >= _length(self.train_data):
                    self.epoch += 1
                    self.consumed = 0
            ok = True
        finally:
            if bar is not None:
                bar.close(self.metrics() if ok else None)
        for c in self.callbacks:
            c.on_fit_end(self)

    def _end_epoch(self) -> None:
        proportions = self.labels.end_epoch()
        if proportions:
            epoch_metrics = {f'{self.label_prefix}/epoch/{k}': v for k, v in proportions.items()}
            for logger in self.engine.loggers:
                logger.log_metrics(epoch_metrics, step=self.engine.global_step - 1)
        if self.val_data is not None and (self.epoch + 1) % self.val_every_n_epochs == 0:
            batches = (self._to_device(b) for b in self.val_data)
            self.val_metrics = self.engine.validate(batches)
            for c in self.callbacks:
                c.on_validation_end(self, self.val_metrics)

    def _to_device(self, batch: Any) -> Any:
        x, labels = batch
        if x.device == self.device:
            return batch
        return x.to(self.device), {k: v.to(self.device) for k, v in labels.items()}

    def _open_bar(self) -> Progress | None:
        if isinstance(self._progress, Progress):
            return self._progress
        if not self._progress:
            return None
        members = self.engine.n_members
        return Progress('Training' if members == 1 else f'Training {members} members', self.steps)


def _length(data: Iterable[Any]) -> int:
    try:
        return len(data)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f'the training data ({type(data).__name__}) has no len(); the loop needs to know where an epoch ends'
        ) from None


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_cpu(v) for v in value]
    return value
