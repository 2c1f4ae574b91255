"""The member axis: what the training module trains, seen as M models side by side.

The training module is written once, for a stack of M members: a forward pass maps colours
[M, B, 3] to reconstructions [M, B, 3] and the captured layers to [M, B, D]. Two stacks exist:

* `StackedColorMLP` (``ex_color.model.stacked``): M `CNColorMLP`s as stacked parameters, for runs
  of many members;
* `SingleMember`: one model of any architecture, trained in place with its own parameters, with no
  member axis at all ([B, 3] -> [B, 3], layers [B, D]; the engine's terms then reduce to 0-d values),
  so that its step is exactly a plain loop's. This is what ``TrainingModule(model, ...)`` trains, so
  the caller's `model` object is the trained model.

Deliberately not here: any training logic (see `ex_color.training.module`).
"""

from __future__ import annotations

from collections.abc import Collection

from torch import Tensor, nn

from ex_color.model import CNColorMLP
from ex_color.model.capture import capture, resolve_layer
from ex_color.model.stacked import StackedColorMLP

__all__ = ['MemberStack', 'SingleMember', 'as_stack']


_SECTIONS = frozenset({'encoder', 'bottleneck', 'decoder'})


class SingleMember:
    """One model, without a member axis: [B, 3] -> ([B, 3], {layer: [B, D]}).

    Not an `nn.Module`: the model itself is the training module's child, so its parameters appear
    once in state dicts and checkpoints, under ``model.``.
    """

    n_members = 1
    stacked = False

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def __call__(self, x: Tensor, layers: Collection[str] = ()) -> tuple[Tensor, dict[str, Tensor]]:
        model = self.model
        if type(model) is CNColorMLP and _SECTIONS.issuperset(layers):
            # CNColorMLP.forward's own steps, keeping the sections' outputs: what hooks on them would
            # capture, without registering and removing hooks at every step.
            h = model.encoder(x)
            z = model.bottleneck(h)
            y = model.decoder(z)
            acts = {'encoder': h, 'bottleneck': z, 'decoder': y}
            if not model.training:
                y = y.clamp(0.0, 1.0)
            return y, {name: acts[name] for name in layers}
        # Hooks live for one forward pass only (see ex_color.model.capture).
        with capture(model, layers) as captured:
            y = model(x)
        return y, dict(captured)

    def check_layers(self, names: Collection[str], *, needed_by: str = '') -> None:
        for name in names:
            resolve_layer(self.model, name, needed_by=needed_by)

    def member(self, i: int) -> nn.Module:
        if i not in (0, -1):
            raise IndexError(f'member index {i} out of range for 1 member')
        return self.model


class _Stacked:
    """`StackedColorMLP` with the same call signature as `SingleMember`."""

    stacked = True

    def __init__(self, net: StackedColorMLP) -> None:
        self.net = net
        self.n_members = net.n_members

    def __call__(self, x: Tensor, layers: Collection[str] = ()) -> tuple[Tensor, dict[str, Tensor]]:
        return self.net(x, capture=layers)

    def check_layers(self, names: Collection[str], *, needed_by: str = '') -> None:
        self.net.check_layers(names, needed_by=needed_by)

    def member(self, i: int) -> nn.Module:
        return self.net.member(i)


MemberStack = SingleMember | _Stacked


def as_stack(model: nn.Module) -> MemberStack:
    """The member view of `model`: a `StackedColorMLP` is M members, anything else is one."""
    return _Stacked(model) if isinstance(model, StackedColorMLP) else SingleMember(model)
