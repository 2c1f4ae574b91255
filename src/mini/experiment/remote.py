"""What `@run.thither` records, and the body that Modal runs in the container.

Design decisions:
- A registration is plain data (`ThitherSpec`: name, the user's async function, the options given to
  the decorator). The Modal App is derived from the specs plus the experiment's image and volumes,
  so changing `run.image` after decorating a function is honoured at the next session.
- The Modal function registered for `train` is a small closure taking one `RemoteCall` (args and
  kwargs). One positional parameter makes `.remote` and `.map` uniform: a sweep maps over a list of
  calls whose kwargs differ only in the seed. It is registered with `serialized=True` because
  notebook functions are not importable in the container; Modal cloudpickles the closure (with the
  user's function and the experiment's `Guards`) when the app starts, not at decoration time, so
  guards registered after the decorator still apply.
- `RESERVED_OPTIONS` are set by the experiment and cannot be overridden; every other decorator
  option is checked against `modal.App.function`'s signature at decoration time, so a typo fails in
  the cell that made it rather than when the app starts.

Deliberately not done: sync functions (the decorated function must be `async def`), generators,
classes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

from mini.experiment.guards import Guards

RESERVED_OPTIONS = frozenset({'serialized', 'name'})


class RemoteCall(NamedTuple):
    """The arguments of one call, shipped to the container as a single pickled value."""

    args: tuple
    """Positional arguments."""
    kwargs: dict[str, Any]
    """Keyword arguments."""


@dataclass(frozen=True, eq=False)
class ThitherSpec:
    """One function registered with `@run.thither`."""

    name: str
    """Function name; also the Modal function's name within the app."""
    fn: Callable[..., Any]
    """The user's `async def` function, undecorated."""
    options: Mapping[str, Any]
    """Keyword options given to the decorator, passed on to `modal.App.function`."""

    def __repr__(self) -> str:
        # `env` usually carries credentials: show its names, never its values.
        shown = {
            k: ({n: '***' for n in v} if k == 'env' and isinstance(v, Mapping) else v)
            for k, v in self.options.items()
        }
        return f'ThitherSpec({self.name!r}, options={shown!r})'

    def __post_init__(self):
        if not inspect.iscoroutinefunction(self.fn):
            raise TypeError(f'thither: {self.name!r} must be an `async def` function')
        object.__setattr__(self, 'options', MappingProxyType(dict(self.options)))


def check_options(options: Mapping[str, Any]) -> None:
    """Reject reserved or unknown Modal function options (offline; skipped if modal is absent)."""
    reserved = sorted(RESERVED_OPTIONS & set(options))
    if reserved:
        raise ValueError(f'thither: option(s) {reserved} are set by the Experiment and cannot be given')
    if 'volumes' in options and not isinstance(options['volumes'], Mapping):
        raise TypeError('thither: option volumes must be a mapping of mount path -> modal.Volume')
    if not options:  # nothing to check: spare a local run modal's import (a third of a second)
        return
    try:
        import modal
    except ImportError:
        return
    try:
        accepted = set(inspect.signature(modal.App.function).parameters)
    except (TypeError, ValueError):
        return
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise TypeError(f'thither: unknown Modal function option(s) {unknown}')


def modal_kwargs(spec: ThitherSpec, image: Any, volumes: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for `app.function(...)`: experiment defaults, then the decorator's options."""
    kwargs = dict(spec.options)
    kwargs.setdefault('image', image)
    kwargs['volumes'] = {**volumes, **spec.options.get('volumes', {})}
    kwargs['serialized'] = True
    kwargs['name'] = spec.name
    return kwargs


def remote_body(fn: Callable[..., Any], guards: Guards) -> Callable[[RemoteCall], Any]:
    """The function Modal runs: the user's function between the guards."""

    async def body(call: RemoteCall) -> Any:
        return await guards.run(fn, call.args, call.kwargs)

    body.__name__ = fn.__name__
    body.__qualname__ = fn.__qualname__
    body.__doc__ = fn.__doc__
    return body
