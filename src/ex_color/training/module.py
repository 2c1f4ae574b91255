"""`TrainingModule`: the seed's Lightning API over the project's training engine.

``TrainingModule(model, dopesheet, objective, regularizers)`` under ``L.Trainer(...).fit(module,
train_loader, val_loader)`` with `LightningProgress` and `LabelProportionCallback` is how the seed
notebook trains, and it keeps working. The module is a thin adapter: every training step is
`Engine.train_step` (``ex_color.training.engine``, the only definition of a step), with Lightning's
optimizer wrapper and `manual_backward` passed in so that Lightning counts steps and runs its hooks;
validation batches go to `Engine.validation_step`. It uses public Lightning API only.

The project's own runs (`fit`, `train_members`) drive the same engine with the project's loop
(`ex_color.training.loop`) instead: at this model's size Lightning's per-batch machinery costs about
as much as a training step.

Resume under Lightning: checkpoints carry the RNG states and the data's position
(`ex_color.training.resume`), so ``trainer.fit(..., ckpt_path=...)`` from a checkpoint at an epoch
boundary continues bitwise as if never stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from typing import Any, cast

import lightning as L
import torch
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch import Tensor, nn

from ex_color.loss import RegularizerConfig
from ex_color.training import resume
from ex_color.training.batches import Batch
from ex_color.training.engine import Engine
from ex_color.training.optim import MemberAdam
from ex_color.training.records import describe_config
from ex_color.training.schedule import Schedule
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline
from utils.logging.lightning import quieten_lightning

__all__ = ['TrainingModule']

log = logging.getLogger(__name__)


class TrainingModule(L.LightningModule):
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
        quieten_lightning()  # before the notebook builds its L.Trainer
        self.automatic_optimization = False
        self.model = model
        self.objective = objective
        self.engine = Engine(
            model,
            dopesheet,
            objective,
            regularizers,
            unscheduled=unscheduled,
            ignore_columns=ignore_columns,
            member_names=member_names,
        )
        # Registered as children so their buffers (anchor vectors) follow .to(device).
        self.reg_modules = nn.ModuleDict(self.engine.reg_modules)
        self._resume: resume.ResumeState | None = None
        self._resume_skip = 0
        self._epoch_first_step = 0
        self.save_hyperparameters(describe_config(self.engine))

    # -- the engine's view, under the names the notebooks use -------------------------------------

    @property
    def regularizers(self) -> list[RegularizerConfig]:
        return self.engine.regularizers

    @property
    def dopesheet(self) -> Dopesheet | None:
        return self.engine.dopesheet

    @property
    def schedule(self) -> Schedule:
        return self.engine.schedule

    @property
    def stack(self) -> Any:
        return self.engine.stack

    @property
    def member_names(self) -> list[str]:
        return self.engine.member_names

    @property
    def n_members(self) -> int:
        return self.engine.n_members

    @property
    def latest_metrics(self) -> dict[str, float]:
        """Latest window means (over members) of the training metrics, for progress bars."""
        return self.engine.latest_metrics

    @property
    def log_every_n_steps(self) -> int:
        return self.engine.log_every_n_steps

    @log_every_n_steps.setter
    def log_every_n_steps(self, value: int) -> None:
        self.engine.log_every_n_steps = value

    @property
    def timeline(self) -> Timeline:
        """The dopesheet's timeline (single-dopesheet modules only)."""
        if self.engine.dopesheet is None:
            raise AttributeError('this module was built from a Schedule, not a dopesheet; read .schedule')
        return Timeline(self.engine.dopesheet)

    @property
    def schedule_step(self) -> int:
        return self.engine.schedule_step

    @property
    def active_labels(self) -> set[str]:
        return self.engine.active_labels

    def active_label_members(self) -> dict[str, Tensor]:
        return self.engine.active_label_members()

    def weight(self, name: str, step: int | None = None, member: int = 0) -> float:
        return self.engine.weight(name, step, member)

    def history(self, member: int | None = None):
        return self.engine.history(member)

    def final_metrics(self, member: int) -> dict[str, float]:
        return self.engine.final_metrics(member)

    # -- Lightning hooks -------------------------------------------------------------------------

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return self.engine.make_optimizer()

    def on_fit_start(self) -> None:
        engine = self.engine
        optimizers = self.trainer.optimizers
        if len(optimizers) != 1 or not isinstance(optimizers[0], MemberAdam):
            kinds = ', '.join(type(o).__name__ for o in optimizers) or 'none'
            raise TypeError(
                f'TrainingModule needs exactly one MemberAdam from configure_optimizers (got {kinds}): '
                'the schedule sets its learning rate per step and per member'
            )
        engine.to(self.device)
        engine.loggers = list(self.trainer.loggers)
        engine.max_steps = self.trainer.max_steps
        if self._resume is None:  # re-running fit on the same module starts clean accounting
            engine.reset_records()

    def on_train_start(self) -> None:
        # After Lightning has restored the loops and built the dataloaders, before the first batch.
        if self._resume is not None:
            self._resume_skip = resume.restore(self._resume, self.trainer.train_dataloader)
            self._resume = None

    def on_train_epoch_start(self) -> None:
        # A resumed epoch starts with the batches the interrupted fit had already trained on.
        self._epoch_first_step = self.global_step - self._resume_skip
        self._resume_skip = 0

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        opt = cast(LightningOptimizer, self.optimizers())
        self.engine.global_step = self.global_step
        return self.engine.train_step(
            batch, cast(MemberAdam, opt.optimizer), backward=self.manual_backward, step=opt.step
        )

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self.engine.validation_step(batch)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            self.engine.discard_validation()
            return
        for key, value in self.engine.end_validation().items():
            self.log(key, value, prog_bar=key == 'val_loss', logger=False)

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
