"""Shards: the members of one run split over worker processes, results merged in member order.

The caller passes the function each worker runs (`train_members`), so this module imports nothing
of the run's: the import graph has no cycle.

On this project's 2-core machines one torch thread per process is faster than two threads in one
process (two threads stall 3-20× at times), so a run of many members uses both cores by training two
shards at once. Each shard is an ordinary `train_members` call on a contiguous slice of the members;
a member's result depends only on its own spec, so the merged results are identical to one process
(the tests compare them bitwise).

Workers are forked where the platform allows it (Linux): nothing is re-imported and nothing needs to
be pickled on the way in, so a notebook's `make_data` closure works. Elsewhere they are spawned, and
`make_data` must be importable. A forked worker starts on one torch thread: the fork copies the
parent's OpenMP thread pool without its threads, so a child that runs a parallel loop waits for them
forever (a notebook that scored models on two threads, then trained a sharded run, hung so). A run
that asks for more than one thread per worker is therefore spawned everywhere.

Results come back through a pipe, pickled by value. A worker that fails sends its exception back;
the run raises it with the shard named, after stopping the other workers.

The parent shows one progress bar for the whole run: the slowest shard's step, and each metric's mean
over the members of every shard (so the notebook's live chart draws a sharded run too).

Deliberately not here: Modal (see `train_members_on`, which sends the same shards to containers).
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import torch

from ex_color.training.checkpointing import merge_members, resolve_checkpoint, save_checkpoint, select_members
from ex_color.training.loop import LoopCallback, TrainLoop
from utils.progress.display import Progress

__all__ = ['ReportSteps', 'ShardBar', 'split', 'train_sharded']


def split(n: int, parts: int) -> list[range]:
    """`parts` contiguous ranges covering 0..n-1, sizes differing by at most one."""
    base, extra = divmod(n, parts)
    out, start = [], 0
    for i in range(parts):
        size = base + (i < extra)
        out.append(range(start, start + size))
        start += size
    return [r for r in out if len(r)]


class ReportSteps(LoopCallback):
    """Calls ``send(step, metrics)`` (the bar's metrics: means over the shard's members) at most every
    `interval` seconds, and once more when training ends: how a worker process or a Modal container
    tells the notebook's one progress bar where it is."""

    def __init__(self, send: Callable[[int, dict[str, float]], Any], interval: float = 0.5) -> None:
        self.send, self.interval, self._last = send, interval, 0.0

    def on_step_end(self, loop: TrainLoop) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._send(loop)

    def on_fit_end(self, loop: TrainLoop) -> None:
        self._send(loop)

    def _send(self, loop: TrainLoop) -> None:
        self.send(loop.engine.global_step, loop.metrics())


class ShardBar:
    """One progress bar for a run split into shards: the slowest shard's step, and each metric's mean
    over every shard's members (weighted by their counts)."""

    def __init__(self, description: str, steps: int, sizes: Sequence[int], *, show: bool = True) -> None:
        self.steps, self.sizes = steps, list(sizes)
        self.at = [0] * len(sizes)
        self.shown: list[dict[str, float]] = [{} for _ in sizes]
        self.bar = Progress(description, total=steps) if show else None

    def report(self, shard: int, step: int, metrics: dict[str, float]) -> None:
        self.at[shard], self.shown[shard] = step, metrics
        if self.bar is not None:
            self.bar.update(min(self.at), lambda: _merged(self.shown, self.sizes))

    def done(self, shard: int) -> None:
        self.at[shard] = self.steps
        if self.bar is not None:  # the bar ends where training did, not at the last report
            self.bar.update(min(self.at), lambda: _merged(self.shown, self.sizes), force=True)

    def close(self, ok: bool) -> None:
        if self.bar is not None:
            self.bar.close(_merged(self.shown, self.sizes) if ok else None)


def _die_with_parent(parent: int) -> None:
    """End this worker as soon as the process that started it is gone (even by kill -9): Linux's
    parent-death signal where available, and a watchdog thread everywhere."""
    if sys.platform.startswith('linux'):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # the watchdog below still ends the worker
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.25)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name='shard-parent-watchdog', daemon=True).start()


def _merged(metrics: list[dict[str, float]], weights: list[int]) -> dict[str, float]:
    """Each metric's mean over the shards that report it, weighted by their member counts."""
    keys = dict.fromkeys(k for m in metrics for k in m)
    out = {}
    for key in keys:
        pairs = [(m[key], w) for m, w in zip(metrics, weights, strict=True) if key in m]
        out[key] = sum(v * w for v, w in pairs) / sum(w for _, w in pairs)
    return out


def _worker(
    conn: Connection,
    shard: int,
    train: Callable[..., Any],
    specs: list[Any],
    settings: dict[str, Any],
    parent: int,
) -> None:
    _die_with_parent(parent)
    torch.set_num_threads(1)  # before any tensor work: see the module doc (a spawned worker starts so anyway)
    try:
        report = ReportSteps(lambda step, metrics: conn.send(('step', shard, (step, metrics))))
        callbacks = [*settings.pop('callbacks', ()), report]
        result = train(specs, **settings, progress=False, workers=1, callbacks=callbacks)
        # Plain pickle, by value: multiprocessing's own pickler would share tensors through file
        # descriptors that vanish when this process exits.
        conn.send(('done', shard, pickle.dumps(result)))
    except BaseException as e:  # sent back, then re-raised in the parent
        conn.send(('error', shard, f'{type(e).__name__}: {e}\n{traceback.format_exc()}'))
    finally:
        conn.close()


def _context(threads: int | None) -> mp.context.ForkContext | mp.context.SpawnContext:
    if sys.platform.startswith('linux') and threads in (None, 1):
        return mp.get_context('fork')
    return mp.get_context('spawn')


def train_sharded(
    specs: Sequence[Any], *, workers: int, settings: dict[str, Any], train: Callable[..., Any]
) -> tuple[list[Any], dict[str, Any] | None]:
    """Train `specs` in `workers` processes, each calling ``train(specs, **settings)`` on its shard (and
    returning a `RunResult`); the members in spec order, and the run's checkpoint when one was asked
    for (``save_checkpoint_to``, written here, or ``keep_checkpoint``)."""
    ranges = split(len(specs), workers)
    ctx = _context(settings.get('threads'))
    show = settings.pop('progress', True)
    steps = settings.get('max_steps') or settings['dopesheet'].__len__()
    save_to = settings.pop('save_checkpoint_to', None)
    keep = settings.pop('keep_checkpoint', False)
    resume_from = settings.pop('resume_from', None)
    resumed, source = resolve_checkpoint(resume_from)
    names = [s.label for s in specs]
    if resumed is not None:
        # Each shard resumes from its own members' part; a checkpoint of other members is refused here.
        have = list(resumed['fingerprint']['members'])
        if have != names:
            raise ValueError(
                f'{source} belongs to another run: its members are {len(have)} ({", ".join(have[:4])}'
                f"{', …' if len(have) > 4 else ''}), this run's {len(names)} ({', '.join(names[:4])}"
                f'{", …" if len(names) > 4 else ""})'
            )
    procs, conns = [], []
    me = os.getpid()
    for shard, r in enumerate(ranges):
        parent, child = ctx.Pipe(duplex=False)
        shard_settings = dict(settings, keep_checkpoint=save_to is not None or keep)
        if resumed is not None:
            part = select_members(resumed, [names[i] for i in r], source=source)
            shard_settings['resume_from'] = part
        p = ctx.Process(
            target=_worker, args=(child, shard, train, [specs[i] for i in r], shard_settings, me), daemon=True
        )
        p.start()
        child.close()
        procs.append(p)
        conns.append(parent)
    bar = ShardBar(
        f'Training {len(specs)} members in {len(ranges)} processes',
        steps,
        [len(r) for r in ranges],
        show=show,
    )
    results: dict[int, Any] = {}
    try:
        pending = set(range(len(ranges)))
        while pending:
            for ready in wait([conns[i] for i in pending]):
                shard = next(i for i in pending if conns[i] is ready)
                try:
                    kind, _, payload = conns[shard].recv()
                except EOFError:
                    raise RuntimeError(
                        f'shard {shard} (members {list(ranges[shard])}) died without a result '
                        f'(exit code {procs[shard].exitcode})'
                    ) from None
                if kind == 'step':
                    bar.report(shard, *payload)
                elif kind == 'error':
                    raise RuntimeError(f'shard {shard} (members {list(ranges[shard])}) failed: {payload}')
                else:
                    results[shard] = pickle.loads(payload)
                    pending.discard(shard)
                    bar.done(shard)
    finally:
        for p in procs:
            if p.is_alive() and len(results) < len(ranges):
                p.terminate()
            p.join()
        bar.close(len(results) == len(ranges))
    members = [m for shard in range(len(ranges)) for m in results[shard].members]
    checkpoint = None
    if save_to is not None or keep:
        checkpoint = merge_members([results[shard].checkpoint for shard in range(len(ranges))])
        if save_to is not None:
            save_checkpoint(checkpoint, Path(save_to))
    return members, checkpoint if keep else None
