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

    Several edits of one layer chain in the order given. An edit that changes the output's shape
    raises (naming the edit and the layer) rather than feeding the next layer a different width.
    """
    handles = []
    try:
        for name, fn in edits:
            module = resolve_layer(model, name)

            def hook(_module: nn.Module, _args: object, output: Tensor, fn=fn, name=name) -> Tensor:
                out = fn(output)
                if not isinstance(out, Tensor) or out.shape != output.shape:
                    got = f'shape {list(out.shape)}' if isinstance(out, Tensor) else type(out).__name__
                    raise ValueError(
                        f'{_describe(fn)} replaced the output of layer {name!r} (shape '
                        f'{list(output.shape)}) with {got}; an edit must return a tensor of the same shape'
                    )
                return out

            handles.append(module.register_forward_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()


def _describe(fn: Callable[[Tensor], Tensor]) -> str:
    name = type(fn).__name__ if isinstance(fn, nn.Module) else getattr(fn, '__qualname__', repr(fn))
    return f'the edit {name}'
