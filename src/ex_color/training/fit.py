"""`fit`: train an `Engine` (one member or many), or the seed's `TrainingModule` over one, with the
project's loop and settings.

What it settles so notebooks need not:

* the CPU by default (``device='cpu'``): an 840-parameter model is slower on MPS or CUDA than on one
  CPU thread, and results stay comparable with the committed ones; a run of hundreds of members is
  where a GPU pays (``device='cuda'``);
* one torch thread and flushed denormals for the duration of the fit (measured on this tiny model:
  one thread is as fast as two without the occasional OpenMP stalls, and `Separate(power=100)`
  produces subnormal floats that are slow to compute with); both are restored afterwards;
* one progress bar for the whole fit;
* tracking: a wandb run for one member, or a `MemberWandbLogger` (one wandb run per member, grouped)
  for many, in the mode `wandb_access.wandb_mode` resolves, finished when the fit ends, also when it
  raises (with exit code 1), so re-running a cell starts fresh; a one-member run takes its name,
  group and config from ``record=`` (`run_record.member_record`: seed, shape, steps, schedule);
* label accounting (`LabelCounts`), logged per epoch and summarised in one log line;
* checkpoints: ``save_checkpoint=path`` writes one when the fit stops (at `max_steps` or the end),
  ``resume_from=path`` continues from one, bitwise as if the fit had never stopped.

The loop itself is `ex_color.training.loop.TrainLoop`; Lightning is not involved (the seed's
``L.Trainer(...).fit(module, ...)`` still works: see `ex_color.training.module`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch

from ex_color.runtime import fast_cpu_math
from ex_color.training.checkpointing import resolve_checkpoint, save_checkpoint
from ex_color.training.engine import Engine
from ex_color.training.loop import LoopCallback, TrainLoop
from ex_color.training.optim import MemberAdam
from ex_color.training.records import describe_config
from ex_color.training.run_record import RunRecord
from ex_color.training.tracking import MemberLogger, MemberWandbLogger, finished_run, make_logger
from utils.progress.display import Progress

if TYPE_CHECKING:  # the Lightning adapter: importing it imports Lightning, which a fit does not need
    from ex_color.training.module import TrainingModule

log = logging.getLogger(__name__)

__all__ = ['FitResult', 'fit', 'resolve_device']


@dataclass
class FitResult:
    """What a fit produced (for a run of many members, values are means over members)."""

    module: Engine | TrainingModule
    """What was trained (the engine, or the seed's Lightning module over it); `module.model` is the
    trained model (or stack)."""
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
    checkpoint: dict[str, Any] | None = field(default=None, repr=False)
    """The loop's checkpoint at the end of the fit, when one was asked for (``save_checkpoint``)."""


def positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be an int >= 1, got {value!r}')
    return value


def resolve_device(device: str | torch.device) -> torch.device:
    """'cpu', 'cuda' (or 'gpu'), 'cuda:1', 'mps' or 'auto' (CUDA when present, else the CPU)."""
    name = str(device)
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name == 'gpu':
        name = 'cuda'
    try:
        resolved = torch.device(name)
    except RuntimeError:
        raise ValueError(f"device must be 'cpu', 'cuda', 'gpu', 'mps' or 'auto', got {device!r}") from None
    if resolved.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'device={device!r}: no CUDA device is available on this machine')
    return resolved


def fit(
    module: Engine | TrainingModule,
    train_data: Iterable[Any],
    val_data: Iterable[Any] | None = None,
    *,
    run_name: str,
    project: str = '',
    max_steps: int | None = None,
    val_every_n_epochs: int = 10,
    log_every_n_steps: int = 16,
    wandb_mode: str | None = None,
    logger: Any | None = None,
    progress: bool | Progress = True,
    callbacks: Sequence[LoopCallback] = (),
    threads: int | None = 1,
    device: str | torch.device = 'cpu',
    save_checkpoint_to: str | Path | None = None,
    keep_checkpoint: bool = False,
    resume_from: str | Path | dict[str, Any] | None = None,
    record: RunRecord | None = None,
) -> FitResult:
    """Train `module` for `max_steps` steps (default: the length of its schedule).

    `logger` replaces the default tracking (a wandb run per member): anything with
    ``log_metrics(metrics, step)``, and ``log_members`` for a `MemberLogger`. `save_checkpoint_to`
    writes the loop's checkpoint when the fit stops; `keep_checkpoint` returns it in the result;
    `resume_from` (a path, or a checkpoint dict) continues a stopped fit. `progress` may be a
    `Progress` bar to draw into (its sink decides where). `record` names a one-member fit's wandb run
    and gives its group and config (default: named `run_name`, no group, the engine's description).
    """
    engine = module if isinstance(module, Engine) else module.engine
    if record is not None and (logger is not None or engine.n_members != 1):
        raise ValueError(
            f'fit: record= describes the run fit starts for one member; this fit has '
            f'{"a logger of its own" if logger is not None else f"{engine.n_members} members"}'
        )
    steps = engine.schedule.steps if max_steps is None else positive_int('max_steps', max_steps)
    positive_int('val_every_n_epochs', val_every_n_epochs)
    positive_int('log_every_n_steps', log_every_n_steps)
    for c in callbacks:
        if not isinstance(c, LoopCallback):
            raise TypeError(
                f"callbacks: {type(c).__name__} is not a LoopCallback (fit runs the project's loop; "
                'Lightning callbacks work with L.Trainer and TrainingModule)'
            )
    target = resolve_device(device)
    state, source = resolve_checkpoint(resume_from)
    # a TrainingModule subclass may override configure_optimizers; the schedule drives it either way
    optimizer = engine.make_optimizer() if isinstance(module, Engine) else module.configure_optimizers()
    if not isinstance(optimizer, MemberAdam):
        raise TypeError(
            f'fit needs a MemberAdam from configure_optimizers (got {type(optimizer).__name__}): '
            'the schedule sets its learning rate per step and per member'
        )
    loop = TrainLoop(
        engine,
        train_data,
        val_data,
        steps=steps,
        val_every_n_epochs=val_every_n_epochs,
        log_every_n_steps=log_every_n_steps,
        callbacks=callbacks,
        progress=progress,
        device=target,
        optimizer=optimizer,
    )
    engine.reset_records()
    engine.global_step = 0
    if state is not None:
        loop.restore(state, source=source)
    ok = False
    with finished_run() as run, fast_cpu_math(threads):
        if logger is None:  # inside: a run started here is finished whatever happens
            logger = _default_logger(engine, run_name, project, wandb_mode, record)
        engine.loggers = [logger]
        names = engine.member_names
        shown = ', '.join(names) if len(names) <= 4 else f'{names[0]}, {names[1]}, …, {names[-1]}'
        log.info(
            'Training %d member%s for %d steps: %s', len(names), '' if len(names) == 1 else 's', steps, shown
        )
        try:
            # the record's richer entries (a term's settings, not only its class) win over the engine's
            logger.log_hyperparams(describe_config(engine) | (dict(record.config) if record else {}))
            loop.run()
            _log_labels(loop, logger)
            ok = True
        finally:
            finalize = getattr(logger, 'finalize', None)
            if callable(finalize):
                finalize('success' if ok else 'failed')
    checkpoint = None
    if save_checkpoint_to is not None or keep_checkpoint:
        checkpoint = loop.checkpoint()
        if save_checkpoint_to is not None:
            save_checkpoint(checkpoint, save_checkpoint_to)
    if target.type != 'cpu':
        engine.to('cpu')
    metrics = dict(engine.latest_metrics) | loop.val_metrics
    history = engine.history() if engine.n_members > 1 else engine.history(0)
    return FitResult(
        module,
        metrics,
        loop.labels.counts,
        history,
        loop.labels.member_counts(),
        run.run_dir,
        run.run_id,
        checkpoint if keep_checkpoint else None,
    )


def _default_logger(
    engine: Any, run_name: str, project: str, wandb_mode: str | None, record: RunRecord | None
) -> Any:
    if engine.n_members == 1:
        if record is None:
            return make_logger(run_name, project, mode=wandb_mode)
        return make_logger(record.name, project, mode=wandb_mode, config=record.config, group=record.group)
    return MemberWandbLogger(
        [f'{run_name} · {name}' for name in engine.member_names],
        group=run_name,
        project=project,
        mode=wandb_mode,
    )


def _log_labels(loop: TrainLoop, logger: Any) -> None:
    labels, step, prefix = loop.labels, loop.engine.global_step, loop.label_prefix
    if isinstance(logger, MemberLogger):
        logger.log_members([labels.summary(prefix, c) for c in labels.member_counts()], step)
    else:
        logger.log_metrics(labels.summary(prefix), step=step)
    log.info('%s', labels.describe())
