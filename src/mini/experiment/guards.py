"""Callbacks that run around every remote function call: `before_each` and `after_each`.

Design decisions:
- The callback's signature decides what it receives, judged by its *required* positional
  parameters (so a bound method like `logging_config.apply` counts its real parameters):
  before: 0 -> `cb()`, 1 -> `cb(fn)`;
  after: 0 -> `cb()`, 1 -> `cb(fn)`, 3 -> `cb(exc_type, exc, tb)`, 4 -> `cb(fn, exc_type, exc, tb)`.
  Anything else is a TypeError at registration time, not at the first remote call.
- Before callbacks run in registration order, then the function, then after callbacks in
  registration order. After callbacks always run (try/finally semantics), also when a before callback
  or the function raised; they see that exception and cannot suppress it. Values of `(None, None,
  None)` mean success.
- A callback may be sync or async; an awaitable result is awaited.
- `Guards` holds only the callbacks (no locks, no loop), so it pickles whenever they do: the same
  object travels to a Modal container inside the serialized function.

Deliberately not done: context-manager guards and per-function guards; use one function body that
opens the context manager instead.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

BEFORE_ARITIES = (0, 1)
AFTER_ARITIES = (0, 1, 3, 4)


class Guard(NamedTuple):
    """A registered callback and how to call it."""

    kind: Literal['before', 'after']
    """When it runs relative to the function."""
    callback: Callable[..., Any]
    """The user's callback, unchanged."""
    arity: int
    """Number of positional arguments it is called with."""


def required_positional(cb: Callable[..., Any], argument: str) -> int:
    """Number of positional parameters of `cb` that have no default."""
    if not callable(cb):
        raise TypeError(f'{argument}: expected a callable, got {type(cb).__name__}')
    try:
        params = inspect.signature(cb).parameters.values()
    except (TypeError, ValueError) as e:
        raise TypeError(f'{argument}: cannot inspect the signature of {cb!r}: {e}') from e
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in params if p.kind in positional and p.default is inspect.Parameter.empty)


class Guards:
    """Ordered before/after callbacks; runs a function between them."""

    def __init__(self):
        self._guards: list[Guard] = []

    def __len__(self) -> int:
        return len(self._guards)

    def __iter__(self):
        return iter(self._guards)

    def add(self, kind: Literal['before', 'after'], cb: Callable[..., Any]) -> None:
        allowed = BEFORE_ARITIES if kind == 'before' else AFTER_ARITIES
        arity = required_positional(cb, f'{kind}_each')
        if arity not in allowed:
            raise TypeError(
                f'{kind}_each: callback {getattr(cb, "__qualname__", cb)!r} takes {arity} required positional '
                f'parameters; expected one of {allowed}'
            )
        self._guards.append(Guard(kind, cb, arity))

    async def run(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        """`await fn(*args, **kwargs)` between the before and after callbacks."""
        exc_info: tuple = (None, None, None)
        try:
            for guard in self._guards:
                if guard.kind == 'before':
                    await _call(guard.callback, (fn,)[: guard.arity])
            return await fn(*args, **kwargs)
        except BaseException:
            exc_info = sys.exc_info()
            raise
        finally:
            for guard in self._guards:
                if guard.kind == 'after':
                    await _call(guard.callback, _after_args(guard.arity, fn, exc_info))


def _after_args(arity: int, fn: Callable[..., Any], exc_info: tuple) -> tuple:
    if arity == 0:
        return ()
    if arity == 1:
        return (fn,)
    if arity == 3:
        return exc_info
    return (fn, *exc_info)


async def _call(cb: Callable[..., Any], args: tuple) -> None:
    result = cb(*args)
    if inspect.isawaitable(result):
        await result
