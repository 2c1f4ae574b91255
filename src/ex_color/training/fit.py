"""`fit`: run a `TrainingModule` with the project's trainer settings, tracking and progress bar.

What it settles so notebooks need not:

* one torch thread and flushed denormals for the duration of the fit (measured on this tiny model:
  one thread is as fast as two without the occasional OpenMP stalls, and `Separate(power=100)`
  produces subnormal floats that are slow to compute with); both are restored afterwards;
* our own single-bar progress callback (Lightning would otherwise pick Rich or tqdm bars);
* a `WandbLogger` in the mode `tracking.wandb_mode` resolves, and a finished wandb run afterwards,
  also when the fit raises, so re-running a cell starts a fresh run;
* label accounting through `LabelProportionCallback`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ProgressBar

from ex_color.callbacks import LabelProportionCallback
from ex_color.runtime import fast_cpu_math
from ex_color.training.batches import EpochGroups, FixedBatches, RandomBatches
from ex_color.training.module import TrainingModule
from ex_color.training.tracking import finished_run, make_logger
from utils.progress.lightning import LightningProgress

log = logging.getLogger(__name__)


class _DropAdverts(logging.Filter):
    """Lightning logs an advert for a hosted logger at every Trainer construction; it is not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith('💡 Tip')


def _quieten_lightning() -> None:
    rank_zero = logging.getLogger('lightning.pytorch.utilities.rank_zero')
    if not any(isinstance(f, _DropAdverts) for f in rank_zero.filters):
        rank_zero.addFilter(_DropAdverts())
    # Lightning 2.6 calls a pytree API that torch 2.13 deprecates; harmless and not ours to fix.
    warnings.filterwarnings('ignore', message=r'.*isinstance\(treespec, LeafSpec\)')


@dataclass
class FitResult:
    """What a fit produced."""

    module: TrainingModule
    """The trained system; `module.model` is the trained model."""
    metrics: dict[str, float]
    """Final value of every metric Lightning recorded (latest window for train metrics)."""
    label_counts: dict[str, int] = field(default_factory=dict)
    """Samples that carried each active label over the fit."""
    run_dir: Path | None = None
    """Local wandb run folder, when tracking was on."""
    run_id: str | None = None
    """wandb run id, when tracking was on."""


def fit(
    module: TrainingModule,
    train_data: Iterable[Any],
    val_data: Iterable[Any] | None = None,
    *,
    run_name: str,
    project: str = '',
    max_steps: int | None = None,
    val_every_n_epochs: int = 10,
    log_every_n_steps: int = 16,
    wandb_mode: str | None = None,
    progress: bool = True,
    callbacks: Iterable[L.Callback] = (),
    threads: int | None = 1,
    group_epochs: bool = True,
    **trainer_kwargs: Any,
) -> FitResult:
    """Train `module` for `max_steps` batches (default: the length of its dopesheet).

    In-memory training data (`RandomBatches`, `FixedBatches`) is handed to Lightning one epoch at a
    time (`EpochGroups`) unless `group_epochs` is False; the training itself is identical either way.
    """

    _quieten_lightning()
    steps = len(module.timeline) if max_steps is None else max_steps
    if steps < 1:
        raise ValueError(f'max_steps must be >= 1, got {steps}')
    labels = LabelProportionCallback(prefix='labels', get_active_labels=lambda: module.active_labels)
    all_callbacks: list[L.Callback] = [labels, *callbacks]
    has_bar = any(isinstance(c, ProgressBar) for c in all_callbacks)
    if progress and not has_bar:
        all_callbacks.insert(0, LightningProgress())
    logger = make_logger(run_name, project, mode=wandb_mode)
    trainer = L.Trainer(
        max_steps=steps,
        callbacks=all_callbacks,
        logger=logger,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=progress or has_bar,
        check_val_every_n_epoch=val_every_n_epochs,
        # The module logs training windows itself; Lightning only logs validation, once an epoch.
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        accelerator='auto',
        devices=1,
        **trainer_kwargs,
    )
    module.log_every_n_steps = log_every_n_steps
    if group_epochs and isinstance(train_data, RandomBatches | FixedBatches):
        train_data = EpochGroups(train_data)
    with finished_run() as run:
        with fast_cpu_math(threads):
            trainer.fit(module, train_data, val_data)
    metrics = dict(module.latest_metrics) | {k: float(v) for k, v in trainer.callback_metrics.items()}
    return FitResult(module, metrics, labels.counts, run.run_dir, run.run_id)
