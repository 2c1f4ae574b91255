"""`hither`: let code running elsewhere (a Modal container) call back into the notebook.

    async with hither(show_progress, backend=run.backend.name) as stub:
        model = await train(..., on_progress=stub)

Design decisions:
- The stub is fire-and-forget (returns None) and picklable, so it can be passed as an argument to a
  remote function. Calls reach the callback in the order they were made.
- Local backend: the stub is a token into a table of open channels in this process. Calling it calls
  the callback at once; if that returns an awaitable (an async callback), a consumer task awaits it
  in order on the notebook's event loop. Leaving the block awaits everything still pending. The stub
  works from other threads too (hand-off via `call_soon_threadsafe`).
- Modal backend: calls are put on an ephemeral `modal.Queue`; a local consumer task drains it with
  `get_many` and calls the callback. On exit the consumer gets `drain_timeout` seconds to deliver
  what is left; anything still queued after that is dropped together with the ephemeral queue.
- A stub used after its block has closed raises RuntimeError rather than dropping the call silently.
  An exception from an async callback stops delivery and is raised when the block exits.

Deliberately not done: return values back to the caller, batching callbacks, context-manager
factories as callbacks. Only the local path is exercised by the test suite (no Modal account).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import queue as stdlib_queue
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

_DONE = object()
_tokens = itertools.count(1)


class _LocalChannel:
    """Delivers calls to the callback in this process; awaitables are awaited in call order."""

    def __init__(self, callback: Callable[..., Any], loop: asyncio.AbstractEventLoop):
        self.callback = callback
        self.loop = loop
        self.pending: asyncio.Queue[Any] = asyncio.Queue()

    def deliver(self, args: tuple, kwargs: dict) -> None:
        result = self.callback(*args, **kwargs)
        if inspect.isawaitable(result):
            self._enqueue(result)

    def _enqueue(self, item: Any) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.pending.put_nowait(item)
        else:
            self.loop.call_soon_threadsafe(self.pending.put_nowait, item)

    async def consume(self) -> None:
        while (item := await self.pending.get()) is not _DONE:
            await item


_channels: dict[int, _LocalChannel] = {}


@dataclass(frozen=True)
class LocalStub:
    """Calls the callback of an open local `hither` block (picklable: only a token)."""

    token: int

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        channel = _channels.get(self.token)
        if channel is None:
            raise RuntimeError('hither stub called after its `async with hither(...)` block closed')
        channel.deliver(args, kwargs)


@dataclass(frozen=True)
class QueueStub:
    """Puts calls on a Modal queue for the notebook's consumer (runs inside the container)."""

    queue: Any

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.queue.put((args, kwargs))


@asynccontextmanager
async def hither(
    callback: Callable[..., Any], *, backend: str = 'local', drain_timeout: float = 5.0
) -> AsyncIterator[Callable[..., None]]:
    """Yield a picklable stub that forwards calls to `callback` (sync or async) in this process."""
    if not callable(callback):
        raise TypeError(f'hither: callback must be callable, got {type(callback).__name__}')
    if backend == 'local':
        async with _local(callback) as stub:
            yield stub
    elif backend == 'modal':
        async with _modal(callback, drain_timeout) as stub:
            yield stub
    else:
        raise ValueError(f"hither: backend must be 'local' or 'modal', got {backend!r}")


@asynccontextmanager
async def _local(callback: Callable[..., Any]) -> AsyncIterator[LocalStub]:
    token = next(_tokens)
    channel = _channels[token] = _LocalChannel(callback, asyncio.get_running_loop())
    consumer = asyncio.create_task(channel.consume())
    try:
        yield LocalStub(token)
    finally:
        del _channels[token]
        channel.pending.put_nowait(_DONE)
        await consumer


@asynccontextmanager
async def _modal(callback: Callable[..., Any], drain_timeout: float) -> AsyncIterator[QueueStub]:
    import modal

    stopping = asyncio.Event()

    async def consume(q: Any) -> None:
        while True:
            try:
                items = await q.get_many.aio(1000, block=True, timeout=0.5)
            except stdlib_queue.Empty:
                items = []
            for args, kwargs in items:
                result = callback(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            if not items and stopping.is_set():
                return

    async with modal.Queue.ephemeral() as q:
        consumer = asyncio.create_task(consume(q))
        try:
            yield QueueStub(q)
        finally:
            stopping.set()
            try:
                await asyncio.wait_for(consumer, drain_timeout)
            except TimeoutError:
                pass  # wait_for has cancelled the consumer; remaining calls are dropped with the queue
