"""`fit`: run a `TrainingModule` (one member or many) with the project's trainer settings.

What it settles so notebooks need not:

* the CPU by default (``accelerator='cpu'``): an 840-parameter model is slower on MPS or CUDA than on
  one CPU thread, and results stay comparable with the committed ones; any Lightning accelerator can
  be chosen (a run of hundreds of members is where a GPU pays);
* one torch thread and flushed denormals for the duration of the fit (measured on this tiny model:
  one thread is as fast as two without the occasional OpenMP stalls, and `Separate(power=100)`
  produces subnormal floats that are slow to compute with); both are restored afterwards;
* our own single-bar progress callback (Lightning would otherwise pick Rich or tqdm bars);
* tracking: a `WandbLogger` for one member, or a `MemberWandbLogger` (one wandb run per member,
  grouped) for many, in the mode `tracking.wandb_mode` resolves, finished when the fit ends, also
  when it raises, so re-running a cell starts fresh;
* label accounting through `LabelProportionCallback`;
* in-memory data handed to Lightning one epoch per batch (`EpochGroups`).
"""

from __future__ import annotations

import logging
import signal
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.loggers import Logger

from ex_color.callbacks import LabelProportionCallback
from ex_color.runtime import fast_cpu_math
from ex_color.training.batches import EpochGroups, FixedBatches, RandomBatches
from ex_color.training.checkpointing import AtomicCheckpointIO
from ex_color.training.module import TrainingModule
from ex_color.training.stacked_batches import StackedBatches
from ex_color.training.tracking import MemberWandbLogger, finished_run, make_logger
from utils.logging import route_to_root
from utils.progress.lightning import LightningProgress

log = logging.getLogger(__name__)

__all__ = ['FitResult', 'fit']


class _DropAdverts(logging.Filter):
    """Lightning logs an advert for a hosted logger at every Trainer construction; it is not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith('💡 Tip')


LIGHTNING_LOGGERS = ('lightning', 'lightning.pytorch', 'lightning.fabric')
"""Loggers to which Lightning attaches console handlers of its own when imported."""


def quieten_lightning() -> None:
    # Where logging is configured (a root handler), Lightning's own console handlers would print each
    # of its messages a second time ('lightning' adds one whatever the root has): route them to root.
    if logging.getLogger().handlers:
        route_to_root(*LIGHTNING_LOGGERS)
    rank_zero = logging.getLogger('lightning.pytorch.utilities.rank_zero')
    if not any(isinstance(f, _DropAdverts) for f in rank_zero.filters):
        rank_zero.addFilter(_DropAdverts())
    # Lightning 2.6 calls a pytree API that torch 2.13 deprecates; harmless and not ours to fix.
    warnings.filterwarnings('ignore', message=r'.*isinstance\(treespec, LeafSpec\)')


@dataclass
class FitResult:
    """What a fit produced (for a run of many members, values are means over members)."""

    module: TrainingModule
    """The trained system; `module.model` is the trained model (or stack)."""
    metrics: dict[str, float]
    """Final value of every metric: latest window for train metrics, latest validation otherwise."""
    label_counts: dict[str, int] = field(default_factory=dict)
    """Samples that carried each active label over the fit (summed over members)."""
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Every recorded metric: rows (step, metric, value), plus ``member`` for runs of many members."""
    member_label_counts: list[dict[str, int]] = field(default_factory=list)
    """Each member's label counts."""
    run_dir: Path | None = None
    """Local wandb run folder, when tracking a single member was on."""
    run_id: str | None = None
    """wandb run id, when tracking a single member was on."""


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be an int >= 1, got {value!r}')
    return value


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
    logger: Logger | None = None,
    progress: bool = True,
    callbacks: Iterable[L.Callback] = (),
    threads: int | None = 1,
    group_epochs: bool = True,
    accelerator: str = 'cpu',
    ckpt_path: str | Path | None = None,
    **trainer_kwargs: Any,
) -> FitResult:
    """Train `module` for `max_steps` batches (default: the length of its schedule).

    `logger` replaces the default tracking (a wandb run per member). `ckpt_path` resumes a fit from a
    Lightning checkpoint, bitwise as if it had never stopped.
    """
    quieten_lightning()
    steps = module.schedule.steps if max_steps is None else _positive('max_steps', max_steps)
    _positive('val_every_n_epochs', val_every_n_epochs)
    _positive('log_every_n_steps', log_every_n_steps)
    labels = LabelProportionCallback(prefix='labels', get_active_labels=_active_labels(module))
    all_callbacks: list[L.Callback] = [labels, *callbacks]
    has_bar = any(isinstance(c, ProgressBar) for c in all_callbacks)
    if progress and not has_bar:
        all_callbacks.insert(0, LightningProgress())
    if logger is None:
        if module.n_members == 1:
            logger = make_logger(run_name, project, mode=wandb_mode)
        else:
            logger = MemberWandbLogger(
                [f'{run_name} · {name}' for name in module.member_names],
                group=run_name,
                project=project,
                mode=wandb_mode,
            )
    trainer = L.Trainer(
        max_steps=steps,
        callbacks=all_callbacks,
        logger=logger,
        enable_checkpointing=any(isinstance(c, ModelCheckpoint) for c in all_callbacks),
        enable_model_summary=False,
        enable_progress_bar=progress or has_bar,
        check_val_every_n_epoch=val_every_n_epochs,
        # The module logs training windows itself; Lightning only logs validation, once an epoch.
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        accelerator=accelerator,
        devices=1,
        plugins=[AtomicCheckpointIO()],
        **trainer_kwargs,
    )
    module.log_every_n_steps = log_every_n_steps
    if group_epochs and isinstance(train_data, RandomBatches | FixedBatches | StackedBatches):
        train_data = EpochGroups(train_data)
    with finished_run() as run, fast_cpu_math(threads), _interrupts_stay_interrupts():
        trainer.fit(module, train_data, val_data, ckpt_path=ckpt_path)
    metrics = dict(module.latest_metrics) | {k: float(v) for k, v in trainer.callback_metrics.items()}
    history = module.history() if module.n_members > 1 else module.history(0)
    return FitResult(
        module,
        metrics,
        labels.counts,
        history,
        labels.member_counts(module.n_members),
        run.run_dir,
        run.run_id,
    )


@contextmanager
def _interrupts_stay_interrupts() -> Iterator[None]:
    """Lightning turns Ctrl+C into `sys.exit(1)` and then ignores SIGINT for good; in a notebook that
    kills nothing but leaves the next Ctrl+C dead. Re-raise the `KeyboardInterrupt` itself and put
    the caller's SIGINT handler back."""
    handler = signal.getsignal(signal.SIGINT)
    try:
        yield
    except SystemExit as e:
        if isinstance(e.__context__, KeyboardInterrupt):
            raise e.__context__ from None
        raise
    finally:
        if (
            signal.getsignal(signal.SIGINT) is not handler
            and threading.current_thread() is threading.main_thread()
        ):
            signal.signal(signal.SIGINT, handler)


def _active_labels(module: TrainingModule):
    if module.n_members == 1:
        return lambda: module.active_labels
    return module.active_label_members
