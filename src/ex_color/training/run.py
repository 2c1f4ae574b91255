"""`train_members`: one run of the engine over a list of members that differ.

A run is a list of `MemberSpec`s. Each member has its own seed and may have its own dopesheet (same
step count; any values, the learning rate included), its own data (``make_data(seed, **spec.data)``,
e.g. a label-rate scale) and its own regulariser weight scales; a member may also start from given
weights, keep entries frozen or an edit in place (fine-tuning). All members are trained side by side
over a `StackedColorMLP` by the project's loop (`fit`, `ex_color.training.loop`); member m of a mixed
run equals the one-member run of member m's spec (the tests compare them at every logged window,
and a stack of one and a stack of many give the same bits).

Member m is built exactly as the single-model notebooks build a model: ``set_deterministic_mode(seed)``,
then ``CNColorMLP(k_bottleneck, n_nonlinear=n_nonlinear)`` (loaded with ``spec.start`` when given),
then its data, in that order.

Most callers want the front door instead (`ex_color.training.front.train`: recipes, run settings and
the run cache); this is the engine run it makes.

With ``workers > 1`` the members are split into contiguous shards trained in worker processes (both
cores of a laptop; see `ex_color.training.shards`), and merged back in member order; results are
identical to one process. On a Modal backend the same shards go to containers
(`train_members_on`).

Deliberately not here: evaluation of the trained members (see `ex_color.evaluation`).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from torch import nn

from ex_color.loss import RegularizerConfig
from ex_color.model import CNColorMLP
from ex_color.model.stacked import StackedColorMLP, StackedEdits, check_frozen, freeze_entries
from ex_color.seed import set_deterministic_mode
from ex_color.training.engine import Engine
from ex_color.training.fit import fit, positive_int, resolve_device
from ex_color.training.loop import LoopCallback
from ex_color.training.results import MemberResult, RunResult, save_member_files
from ex_color.training.run_record import member_record
from ex_color.training.schedule import Schedule
from ex_color.training.shards import train_sharded
from ex_color.training.specs import MakeData, MemberSpec, check_specs
from ex_color.training.stacked_batches import StackedBatches
from ex_color.training.tracking import MemberWandbLogger
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline
from utils.atomic import check_writable

__all__ = ['train_members']

log = logging.getLogger(__name__)


def train_members(
    members: Sequence[MemberSpec],
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
    job_type: str | None = None,
    tags: Sequence[str] = (),
    progress: bool = True,
    threads: int | None = 1,
    device: str = 'cpu',
    workers: int = 1,
    checkpoint_dir: str | Path | None = None,
    unscheduled: Collection[str] = (),
    ignore_columns: Collection[str] = (),
    callbacks: Sequence[LoopCallback] = (),
    save_checkpoint_to: str | Path | None = None,
    resume_from: str | Path | dict[str, Any] | None = None,
    keep_checkpoint: bool = False,
    wandb_dir: str | Path | None = None,
    recipe: str | None = None,
) -> RunResult:
    """Train every member in one run of the engine (see the module docstring).

    `save_checkpoint_to` writes the run's checkpoint when it stops (at `max_steps` or the end);
    `resume_from` continues from one (a path or the dict), refused unless it is this run's;
    `keep_checkpoint` returns it in the result (shards send theirs to the parent that way).
    `wandb_dir` is where wandb run folders go (default: `tracking.local_wandb_dir`); `recipe` names
    the recipe in each member's run config (default: `run_name`; see `run_record.member_record`).
    """
    specs = check_specs(members)
    positive_int('workers', workers)
    resolve_device(device)
    if checkpoint_dir is not None:
        check_writable(Path(checkpoint_dir), 'checkpoint_dir')
    if save_checkpoint_to is not None:
        check_writable(Path(save_checkpoint_to).parent, 'save_checkpoint_to')
    if workers > 1 and len(specs) > 1:
        settings = {
            k: v for k, v in locals().items() if k not in ('members', 'specs', 'workers', 'checkpoint_dir')
        }
        start = time.perf_counter()
        members, checkpoint = train_sharded(
            specs, workers=min(workers, len(specs)), settings=settings, train=train_members
        )
        run = RunResult(members, run_name, time.perf_counter() - start, checkpoint=checkpoint)
        if checkpoint_dir is not None:  # one set, once every shard is back
            save_member_files(run, Path(checkpoint_dir))
        return run
    start = time.perf_counter()
    names = [s.label for s in specs]
    schedules = []
    timelines: dict[int, Timeline] = {}  # members that share a sheet share its realisation
    for s, name in zip(specs, names, strict=True):
        sheet = s.dopesheet if s.dopesheet is not None else dopesheet
        if id(sheet) not in timelines:
            timelines[id(sheet)] = Timeline(sheet)
        schedules.append(
            Schedule.build(
                sheet,
                regularizers,
                unscheduled=unscheduled,
                ignore_columns=ignore_columns,
                weight_scale=s.weights,
                member=name,
                timeline=timelines[id(sheet)],
            )
        )
    schedule = Schedule.stack(schedules)
    models, train_sets, val_sets = [], [], []
    for s, name in zip(specs, names, strict=True):
        set_deterministic_mode(s.seed, verbose=False)
        model = CNColorMLP(k_bottleneck, n_nonlinear=n_nonlinear)
        if s.start is not None:
            try:
                model.load_state_dict(dict(s.start))
            except RuntimeError as e:
                raise ValueError(
                    f'member {name}: start weights do not fit CNColorMLP({k_bottleneck}, n_nonlinear={n_nonlinear}): {e}'
                ) from None
        check_frozen(model, s.frozen, name)
        models.append(model)
        try:
            train_data, val_data = make_data(s.seed, **dict(s.data))
        except TypeError as e:
            raise TypeError(
                f'member {name}: make_data(seed, **data) failed for data={dict(s.data)}: {e}'
            ) from e
        train_sets.append(train_data)
        val_sets.append(val_data)
    n_val = sum(v is not None for v in val_sets)
    if n_val not in (0, len(specs)):
        raise ValueError(
            f'make_data returned validation data for {n_val} of {len(specs)} members; need all or none'
        )
    net = StackedColorMLP(models)
    if any(s.edit is not None for s in specs):
        net.bottleneck = StackedEdits(net.bottleneck, [copy.deepcopy(s.edit) for s in specs])
    if any(s.frozen for s in specs):
        freeze_entries(net, [s.frozen for s in specs])
    engine = Engine(net, schedule, nn.MSELoss(), regularizers, member_names=names)
    train_batches = StackedBatches(train_sets, role='training')
    val_batches = StackedBatches([v for v in val_sets if v is not None], role='validation') if n_val else None
    if max_steps is not None and (
        isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1
    ):
        # checked before the members' records and wandb runs are made (fit checks it again)
        raise ValueError(f'max_steps must be an int >= 1, got {max_steps!r}')
    records = [
        member_record(
            s,
            run=run_name,
            recipe=recipe or run_name,
            steps=max_steps if max_steps is not None else schedule.steps,
            k_bottleneck=k_bottleneck,
            n_nonlinear=n_nonlinear,
            regularizers=regularizers,
            dopesheet=dopesheet,
            unscheduled=unscheduled,
        )
        for s in specs
    ]
    logger = MemberWandbLogger(
        [r.name for r in records],
        group=run_name,
        project=project,
        configs=[r.config for r in records],
        job_type=job_type,
        tags=tags,
        mode=wandb_mode,
        save_dir=Path(wandb_dir) if wandb_dir is not None else None,
    )
    fitted = fit(
        engine,
        train_batches,
        val_batches,
        run_name=run_name,
        project=project,
        max_steps=max_steps,
        val_every_n_epochs=val_every_n_epochs,
        log_every_n_steps=log_every_n_steps,
        logger=logger,
        progress=progress,
        callbacks=callbacks,
        threads=threads,
        device=device,
        save_checkpoint_to=save_checkpoint_to,
        keep_checkpoint=keep_checkpoint,
        resume_from=resume_from,
    )
    net.cpu()
    histories, finals = engine.member_histories(), engine.member_final_metrics()
    edits = net.bottleneck.member_edits() if isinstance(net.bottleneck, StackedEdits) else [None] * len(specs)
    results = [
        MemberResult(
            spec=s,
            name=name,
            metrics=finals[i],
            history=histories[i],
            label_counts=fitted.member_label_counts[i],
            state=net.member_state(i),
            shape=(k_bottleneck, n_nonlinear),
            edit=edits[i],
        )
        for i, (s, name) in enumerate(zip(specs, names, strict=True))
    ]
    run = RunResult(results, run_name, time.perf_counter() - start, checkpoint=fitted.checkpoint)
    if checkpoint_dir is not None:
        save_member_files(run, Path(checkpoint_dir))
    return run
