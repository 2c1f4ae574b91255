"""`train_members_on`: one run of many members on an `Experiment`'s backend, locally or on Modal.

The same run, the same code, either way:

    train_shard = shard_trainer(run, cpu=1, timeout=3600, max_containers=20)
    result = await train_members_on(run, train_shard, seeds(range(60)), dopesheet=..., ...)

* **Locally** the members train with `train_members` in this machine's processes (``workers=``);
* **on Modal** the members are split into contiguous shards (`shards.split`), one `train_members` call
  per container, and the results are merged back in member order. Each container reports its steps
  and metrics through a `modal.Queue` (`mini.hither`), so the notebook shows one progress bar for
  the whole run, as for a local one.

Every shard is an ordinary `train_members` call with the run's settings, so validation cadence, label
accounting and metrics are those of a local run: a member's result depends only on its spec, and
`tests/test_training_remote.py` checks that the sharded route gives bitwise the weights of one call.
Passing ``shards=`` locally takes the sharded route in this process (the calls then run one after
another), which is how that test exercises the merge without a network.

The shard function is registered with `shard_trainer` before the session starts (Modal builds its
app from the registrations); it runs `train_members` from this package, so the container's image must
hold the project's packages (``project_packages()`` in the image recipe).

Tracking: the mode is resolved once, here (`wandb_access.tracking_mode`, with its reachability probe),
and every shard runs in it. `shard_trainer` forwards this machine's wandb credentials (``WANDB_API_KEY``
from the environment or ``wandb login``, and ``WANDB_BASE_URL``) to the containers as a Modal secret,
so online runs are made as the user. Offline runs are written by each shard into a temporary folder,
packed into its result and unpacked into the local ``wandb/`` folder, so they outlive the container
and can be uploaded with ``wandb sync`` like any local run.

Deliberately not here: process shards on one machine (`ex_color.training.shards`).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ex_color.training.fit import positive_int
from ex_color.training.results import RunResult
from ex_color.training.run import train_members
from ex_color.training.shards import ReportSteps, ShardBar, split
from ex_color.training.specs import MemberSpec, check_specs
from ex_color.training.tracking import local_wandb_dir, pack_runs, unpack_runs
from ex_color.training.wandb_access import tracking_mode, with_credentials

__all__ = ['shard_trainer', 'train_members_on']

DEFAULT_SHARDS = 20
"""Shards of a remote run when `shards` is not given (fewer when there are fewer members)."""


log = logging.getLogger(__name__)


async def _train_shard(
    settings: dict[str, Any], *, members: tuple[int, Sequence[MemberSpec]], report: Any = None
) -> RunResult:
    shard, specs = members
    if report is not None:  # this shard's steps and metrics, to the notebook's bar (`mini.hither`)
        callbacks = [
            *settings.get('callbacks', ()),
            ReportSteps(lambda step, metrics: report(shard, step, metrics)),
        ]
        settings = {**settings, 'callbacks': callbacks}
    if settings.get('wandb_mode') != 'offline':
        return train_members(list(specs), **settings)
    # The shard's offline runs travel back in its result: a container's disk goes with the container.
    with tempfile.TemporaryDirectory(prefix='ex-color-shard-wandb-') as folder:
        result = train_members(list(specs), **settings, wandb_dir=folder)
        result.offline_runs = pack_runs(Path(folder) / 'wandb')
    return result


def shard_trainer(run: Any, **modal_options: Any) -> Callable[..., Any]:
    """Register on `run` (an `Experiment`) the function that trains one shard; options go to Modal.

    This machine's wandb credentials are added to the containers' environment (``env=``), unless
    `modal_options` sets them already.
    """
    return run.thither(**with_credentials(modal_options))(_train_shard)


async def train_members_on(
    run: Any,
    shard_fn: Callable[..., Any],
    members: Sequence[MemberSpec],
    *,
    shards: int | None = None,
    workers: int = 1,
    **settings: Any,
) -> RunResult:
    """Train `members` on `run`'s backend; `settings` are `train_members`' keyword arguments.

    `shard_fn` is what `shard_trainer(run, ...)` returned. `workers` applies to a local run in one
    call; each shard trains in one process.
    """
    specs = check_specs(members)
    positive_int('workers', workers)
    if 'members' in settings:
        raise TypeError('train_members_on: pass the members positionally, not as members=')
    if run.backend.name == 'local' and shards is None:
        return train_members(specs, workers=workers, **settings)
    n = min(len(specs), DEFAULT_SHARDS) if shards is None else positive_int('shards', shards)
    parts = split(len(specs), min(n, len(specs)))
    mode = tracking_mode(settings.get('wandb_mode'))
    show = settings.get('progress', True)
    shard_settings = {**settings, 'workers': 1, 'progress': False, 'wandb_mode': mode}
    steps = settings.get('max_steps') or len(settings['dopesheet'])
    where = 'containers' if run.backend.name == 'modal' else 'shards'
    bar = ShardBar(
        f'Training {len(specs)} members in {len(parts)} {where}', steps, [len(r) for r in parts], show=show
    )
    start = time.perf_counter()
    ok = False
    try:
        # Each shard reports its steps back here (a modal.Queue on Modal), so a remote run shows the
        # same one bar as a local one.
        async with run.hither(bar.report) as report:
            outputs = await run.sweep(
                shard_fn,
                [(i, [specs[j] for j in r]) for i, r in enumerate(parts)],
                shard_settings,
                seed_arg='members',
                report=report if show else None,
            )
        for i in range(len(parts)):
            bar.done(i)
        ok = True
    finally:
        bar.close(ok)
    for i, (r, out) in enumerate(zip(parts, outputs, strict=True)):
        if not isinstance(out, RunResult) or len(out) != len(r):
            raise RuntimeError(
                f'shard {i} (members {r.start}..{r.stop - 1}) returned {type(out).__name__} '
                f'of {len(out) if isinstance(out, RunResult) else "?"} members; expected {len(r)}'
            )
    merged = [m for out in outputs for m in out.members]
    packed = {name: data for out in outputs for name, data in out.offline_runs.items()}
    if packed:
        into = local_wandb_dir() / 'wandb'
        unpack_runs(packed, into)
        log.info('%d offline wandb runs brought back under %s/', len(packed), into.name)
    return RunResult(merged, settings.get('run_name', ''), time.perf_counter() - start)
