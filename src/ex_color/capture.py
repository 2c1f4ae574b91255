"""Scoped forward hooks: read or rewrite the outputs of named layers.

Layers are addressed by their dotted module path, exactly as ``model.get_submodule`` names them
(``'bottleneck'``, ``'encoder.4'``). Every hook registered here is removed when its ``with`` block
ends, also when the block raises, so re-running a notebook cell can never stack hooks.

Deliberately not here: persistent hooks. Training registers its capture hooks per step (a few
microseconds) rather than once per fit, which is what makes the no-leak guarantee unconditional.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from torch import Tensor, nn


def resolve_layer(model: nn.Module, name: str, *, needed_by: str = '') -> nn.Module:
    """Return the submodule called `name`, or raise a ValueError that lists the valid names."""
    try:
        return model.get_submodule(name)
    except AttributeError:
        available = ', '.join(n for n, _ in model.named_modules() if n)
        who = f'; needed by {needed_by}' if needed_by else ''
        raise ValueError(f'Layer {name!r} not found in model{who}. Available layers: {available}') from None


@contextmanager
def capture(model: nn.Module, layers: Iterable[str]) -> Iterator[dict[str, Tensor]]:
    """Record the latest output of each named layer into the yielded dict (keyed by layer name).

    Outputs are stored as-is (not detached), so losses computed from them carry gradients.
    """
    outputs: dict[str, Tensor] = {}
    handles = []
    try:
        for name in dict.fromkeys(layers):
            module = resolve_layer(model, name)

            def hook(_module: nn.Module, _args: object, output: Tensor, name: str = name) -> None:
                outputs[name] = output

            handles.append(module.register_forward_hook(hook))
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def rewrite(model: nn.Module, edits: Iterable[tuple[str, Callable[[Tensor], Tensor]]]) -> Iterator[None]:
    """Replace each named layer's output by ``fn(output)`` for the duration of the block.

    Several edits of one layer chain in the order given.
    """
    handles = []
    try:
        for name, fn in edits:
            module = resolve_layer(model, name)

            def hook(_module: nn.Module, _args: object, output: Tensor, fn=fn) -> Tensor:
                return fn(output)

            handles.append(module.register_forward_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()
