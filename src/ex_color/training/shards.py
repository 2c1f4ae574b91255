"""Shards: the members of one run split over worker processes, results merged in member order.

On this project's 2-core machines one torch thread per process is faster than two threads in one
process (two threads stall 3-20× at times), so a run of many members uses both cores by training two
shards at once. Each shard is an ordinary `train_members` call on a contiguous slice of the members;
a member's result depends only on its own spec, so the merged results are identical to one process
(the tests compare them bitwise).

Workers are forked where the platform allows it (Linux): nothing is re-imported and nothing needs to
be pickled on the way in, so a notebook's `make_data` closure works. Elsewhere they are spawned, and
`make_data` must be importable. Results come back through a pipe, pickled by value. A worker that fails sends
its exception back; the run raises it with the shard named, after stopping the other workers.

The parent shows one progress bar for the whole run: the slowest shard's step, and each metric's mean
over the members of every shard (so the notebook's live chart draws a sharded run too).

Deliberately not here: Modal (see `train_members_on`, which sends the same shards to containers).
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import sys
import time
import traceback
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

import lightning as L

from utils.progress.display import Progress
from utils.progress.lightning import latest_metrics

__all__ = ['split', 'train_sharded']


def split(n: int, parts: int) -> list[range]:
    """`parts` contiguous ranges covering 0..n-1, sizes differing by at most one."""
    base, extra = divmod(n, parts)
    out, start = [], 0
    for i in range(parts):
        size = base + (i < extra)
        out.append(range(start, start + size))
        start += size
    return [r for r in out if len(r)]


class _ReportSteps(L.Callback):
    """Sends the global step and the bar's metrics (means over the shard's members) to the parent, at
    most every `interval` seconds, and once more when training ends."""

    def __init__(self, conn: Connection, shard: int, interval: float = 0.5) -> None:
        self.conn, self.shard, self.interval, self._last = conn, shard, interval, 0.0

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._send(trainer, pl_module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._send(trainer, pl_module)

    def _send(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.conn.send(('step', self.shard, (trainer.global_step, latest_metrics(trainer, pl_module))))


def _merged(metrics: list[dict[str, float]], weights: list[int]) -> dict[str, float]:
    """Each metric's mean over the shards that report it, weighted by their member counts."""
    keys = dict.fromkeys(k for m in metrics for k in m)
    out = {}
    for key in keys:
        pairs = [(m[key], w) for m, w in zip(metrics, weights, strict=True) if key in m]
        out[key] = sum(v * w for v, w in pairs) / sum(w for _, w in pairs)
    return out


def _worker(conn: Connection, shard: int, specs: list[Any], settings: dict[str, Any]) -> None:
    from ex_color.training.run import train_members

    try:
        callbacks = [*settings.pop('callbacks', ()), _ReportSteps(conn, shard)]
        result = train_members(specs, **settings, progress=False, workers=1, callbacks=callbacks)
        # Plain pickle, by value: multiprocessing's own pickler would share tensors through file
        # descriptors that vanish when this process exits.
        conn.send(('done', shard, pickle.dumps(result)))
    except BaseException as e:  # sent back, then re-raised in the parent
        conn.send(('error', shard, f'{type(e).__name__}: {e}\n{traceback.format_exc()}'))
    finally:
        conn.close()


def _context() -> mp.context.ForkContext | mp.context.SpawnContext:
    if sys.platform.startswith('linux'):
        return mp.get_context('fork')
    return mp.get_context('spawn')


def train_sharded(specs: Sequence[Any], *, workers: int, settings: dict[str, Any]):
    """Train `specs` in `workers` processes; a `RunResult` in spec order."""
    from ex_color.training.run import RunResult

    start = time.perf_counter()
    ranges = split(len(specs), workers)
    ctx = _context()
    show = settings.pop('progress', True)
    steps = settings.get('max_steps') or settings['dopesheet'].__len__()
    procs, conns = [], []
    for shard, r in enumerate(ranges):
        parent, child = ctx.Pipe(duplex=False)
        p = ctx.Process(
            target=_worker, args=(child, shard, [specs[i] for i in r], dict(settings)), daemon=True
        )
        p.start()
        child.close()
        procs.append(p)
        conns.append(parent)
    bar = Progress(f'Training {len(specs)} members in {len(ranges)} processes', total=steps) if show else None
    results: dict[int, Any] = {}
    at = [0] * len(ranges)
    shown: list[dict[str, float]] = [{} for _ in ranges]  # each shard's latest bar metrics
    sizes = [len(r) for r in ranges]
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
                    at[shard], shown[shard] = payload
                    if bar is not None:
                        bar.update(min(at), lambda: _merged(shown, sizes))
                elif kind == 'error':
                    raise RuntimeError(f'shard {shard} (members {list(ranges[shard])}) failed: {payload}')
                else:
                    results[shard] = pickle.loads(payload)
                    at[shard] = steps
                    pending.discard(shard)
                    if bar is not None:  # the bar ends where training did, not at the last report
                        bar.update(min(at), lambda: _merged(shown, sizes), force=True)
    finally:
        for p in procs:
            if p.is_alive() and len(results) < len(ranges):
                p.terminate()
            p.join()
        if bar is not None:
            bar.close(_merged(shown, sizes) if len(results) == len(ranges) else None)
    members = [m for shard in range(len(ranges)) for m in results[shard].members]
    return RunResult(members, settings['run_name'], time.perf_counter() - start)
