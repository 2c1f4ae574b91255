"""`train_ensemble`: train one `CNColorMLP` per seed, all at once, with the single-model semantics.

Member m is exactly what ``ex_color.experiments.common.train_model(seed=seeds[m], ...)`` trains, up to
float rounding (batched instead of plain matmuls):

* its initial weights come from ``set_deterministic_mode(seed); CNColorMLP(k_bottleneck,
  n_nonlinear=n_nonlinear)``, then ``make_data(seed)`` builds its data, in that order;
* its batch k is the k-th batch of its own training iterable (`StackedBatches`);
* batch k uses schedule step k (clamped) for the learning rate and every regulariser weight; a term
  with weight exactly 0 is skipped; label-weighted terms and their skipping follow `TrainingModule`
  (see `ex_color.ensemble.terms`);
* the loss is MSE plus the weighted terms of the member's own activations; the optimiser is Adam
  (default betas and eps) over the stacked parameters. Adam is element-wise and the members share
  the schedule, hence the learning rate and step count, so one optimiser is M independent ones;
* the backward pass runs on the sum of the members' losses, whose gradient for member m is that of
  member m's loss alone: nothing couples members;
* validation (eval mode, clamped outputs, validate-phase regularisers, batch-size-weighted means)
  runs after every `val_every_n_epochs`-th complete epoch, as Lightning's does, and once more on the
  final weights if the fit did not end on one (Lightning skips that last one);
* train metrics are window means over `log_every_n_steps` steps and the final partial window.

**A plain loop, not Lightning.** Nothing Lightning offers would be used here (the update is manual,
validation has its own cadence, M members log into one run under our own keys), and its machinery
is not free: measured with `benchmarks/train_speed.py` when this module was written, Lightning's
per-batch hooks cost the single-model fit about 1.6 ms a step (7.4 s against 5.0 s for a bare loop),
which would have been 10 % of a 60-member step. (`fit` has since cut that by handing Lightning one
epoch per batch; the case for a plain loop here rests on the first reason.)

**Measured** (`benchmarks/sweep_speed.py`, 2 CPU cores, one torch thread, load average ≈ 1): the
Ex 2.10 sweep of 60 seeds took 22.6 s (15 ms per step for all 60), against ≈ 7.7 s per seed with the
single-model trainer, i.e. ≈ 464 s one after another: 20× faster. 8 seeds: 8.4 s (7.4×); 1 seed:
5.5 s (1.4×, the saving being Lightning's overhead).

Deliberately not here: objectives other than MSE, devices other than the CPU, gradient clipping,
resuming, and the label-proportion accounting of `fit` (labels are logged by the single-model fit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from ex_color.ensemble.batches import StackedBatches
from ex_color.ensemble.loop import EnsembleLoop, Schedule
from ex_color.ensemble.result import EnsembleResult
from ex_color.ensemble.stacked import StackedColorMLP
from ex_color.loss import RegularizerConfig
from ex_color.model import CNColorMLP
from ex_color.seed import set_deterministic_mode
from ex_color.training import TrainingModule, fast_cpu_math
from ex_color.training.tracking import finished_run, make_logger
from mini.temporal.dopesheet import Dopesheet
from utils.progress.display import Progress

__all__ = ['train_ensemble']

log = logging.getLogger(__name__)

MakeData = Callable[[int], tuple[Iterable[Any], Iterable[Any] | None]]


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Iterable):
        raise TypeError(f'seeds must be a sequence of ints, got {type(seeds).__name__}')
    out = list(seeds)
    if not out:
        raise ValueError('seeds must not be empty')
    for s in out:
        if isinstance(s, bool) or not isinstance(s, int):
            raise TypeError(f'seeds must contain ints, got {s!r}')
    dupes = sorted({s for s in out if out.count(s) > 1})
    if dupes:
        raise ValueError(f'seeds must be unique; repeated: {dupes}')
    return out


def _span(seeds: Sequence[int]) -> str:
    return (
        f'{seeds[0]}…{seeds[-1]}'
        if list(seeds) == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2
        else (', '.join(map(str, seeds)))
    )


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be an int >= 1, got {value!r}')
    return value


def train_ensemble(
    seeds: Sequence[int],
    *,
    dopesheet: Dopesheet,
    regularizers: Sequence[RegularizerConfig],
    make_data: MakeData,
    k_bottleneck: int,
    n_nonlinear: int,
    run_name: str,
    project: str = '',
    max_steps: int | None = None,
    val_every_n_epochs: int = 10,
    log_every_n_steps: int = 16,
    wandb_mode: str | None = None,
    progress: bool = True,
    threads: int | None = 1,
    unscheduled: Collection[str] = (),
    ignore_columns: Collection[str] = (),
) -> EnsembleResult:
    """Train one model per seed under `dopesheet` for `max_steps` batches (default: the sheet's length).

    `make_data(seed)` returns (training batches, validation batches or None) for one member, as for
    `train_model`. Metrics of member with seed s go to one wandb run under ``seed_<s>/<metric>``.
    """

    seeds = _check_seeds(seeds)
    steps = len(dopesheet) if max_steps is None else _positive('max_steps', max_steps)
    _positive('val_every_n_epochs', val_every_n_epochs)
    _positive('log_every_n_steps', log_every_n_steps)

    # The single-model system checks names both ways and layers; building it on a throwaway model
    # validates our configuration identically, before any member is built.
    with torch.random.fork_rng(devices=[]):
        template = CNColorMLP(k_bottleneck, n_nonlinear=n_nonlinear)
    reference = TrainingModule(
        template,
        dopesheet,
        nn.MSELoss(),
        regularizers,
        unscheduled=unscheduled,
        ignore_columns=ignore_columns,
    )

    log.info('Seeding %d members (seeds %s); PyTorch set to deterministic mode', len(seeds), _span(seeds))
    models, train_sets, val_sets = [], [], []
    for seed in seeds:
        set_deterministic_mode(seed, verbose=False)
        models.append(CNColorMLP(k_bottleneck, n_nonlinear=n_nonlinear))
        train_data, val_data = make_data(seed)
        train_sets.append(train_data)
        val_sets.append(val_data)
    n_val = sum(v is not None for v in val_sets)
    if n_val not in (0, len(seeds)):
        raise ValueError(
            f'make_data returned validation data for {n_val} of {len(seeds)} seeds; need all or none'
        )
    net = StackedColorMLP(models)
    for reg in regularizers:
        net.check_layers(reg.layer_affinities, needed_by=f'regulariser {reg.name!r}')
    train_batches = StackedBatches(train_sets, role='training')
    if len(train_batches) < 1:
        raise ValueError('make_data returned training data with no batches')
    val_batches = StackedBatches(val_sets, role='validation') if n_val else None

    logger = make_logger(run_name, project, mode=wandb_mode)
    bar: Progress | None = None
    loop: EnsembleLoop | None = None
    with finished_run() as run:
        try:
            logger.log_hyperparams({**dict(reference.hparams), 'seeds': seeds, 'max_steps': steps})
            # Opened after wandb has started, so the bar's rate and ETA reflect training alone.
            bar = Progress(f'Training {len(seeds)} seeds', total=steps) if progress else None
            loop = EnsembleLoop(
                net=net,
                seeds=seeds,
                regularizers=list(regularizers),
                schedule=Schedule.from_module(reference),
                objective=lambda y, x: F.mse_loss(y, x, reduction='none').mean(dim=(1, 2)),
                log=lambda step, values: logger.log_metrics(values, step=step),
                bar=bar,
            )
            with fast_cpu_math(threads):
                loop.run(
                    train_batches,
                    val_batches,
                    max_steps=steps,
                    val_every=val_every_n_epochs,
                    log_every=log_every_n_steps,
                )
        finally:
            if bar is not None:
                # The final metrics, not whichever the last rate-limited redraw happened to show.
                bar.close(loop.bar_metrics if loop is not None else None)
    net.eval()
    history = loop.history()
    metrics = (
        history.drop(columns='step').groupby('seed', sort=False).last().reindex(pd.Index(seeds, name='seed'))
    )
    return EnsembleResult(seeds, net, metrics, history, run.run_dir, run.run_id)
