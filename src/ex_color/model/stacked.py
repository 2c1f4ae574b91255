"""`StackedColorMLP`: M `CNColorMLP`s of one shape as stacked parameters, run with batched matmuls.

Every `nn.Linear` of the template becomes a weight [M, out, in] and a bias [M, out]; a forward pass maps
colours [M, B, 3] to reconstructions [M, B, 3] with one `torch.baddbmm` per layer, so member m only
ever sees its own parameters and its own batch.

Design decisions:

* **Batched matmul rather than `torch.func.vmap` + `functional_call`.** Both give the same numbers;
  on this 840-parameter model and one CPU thread a full Ex 2.10 training step (forward, three
  regularisers, backward) for 60 members took 15 ms with `baddbmm` and 25 ms with vmap (measured
  with ``benchmarks/sweep_speed.py --kernels``), and the explicit layers make layer capture a dict
  write instead of hooks.
* **Layer names are the template's.** `forward(x, capture=[...])` returns the outputs of the named
  layers (``'encoder.4'``, ``'bottleneck'``, ``'decoder'``, ...) exactly as `model.get_submodule`
  names them, each stacked to [M, B, D]. A name the template does not have is a `ValueError` that
  lists the valid names.
* **Eval mode clamps the output to [0, 1]**, as `CNColorMLP` does; training mode does not.
* **Members come back as standalone models.** `member(i)` builds a fresh `CNColorMLP` with a copy of
  member i's parameters, inside `torch.random.fork_rng` so that extracting a member never disturbs
  the global RNG (a `CNColorMLP` initialises its layers randomly before we overwrite them).

Deliberately not here: training logic, regularisers, and architectures other than `CNColorMLP`
(the layer walk only knows `Linear`, exact `GELU` and the `bottleneck` normalisation).
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from typing import cast

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ex_color.model import CNColorMLP, L2Norm

__all__ = ['StackedColorMLP']

_SECTIONS = ('encoder', 'decoder')


def _layer_kinds(section: nn.Module, where: str) -> list[str]:
    kinds = []
    for i, layer in enumerate(section.children()):
        if type(layer) is nn.Linear:
            kinds.append('linear')
        elif type(layer) is nn.GELU and layer.approximate == 'none':
            kinds.append('gelu')
        else:
            raise TypeError(
                f'StackedColorMLP: unsupported layer {where}.{i} ({layer!r}); expected Linear or GELU'
            )
    return kinds


class StackedColorMLP(nn.Module):
    """M colour autoencoders with identical shapes, trained side by side. [M, B, 3] -> [M, B, 3]."""

    def __init__(self, models: Sequence[CNColorMLP]):
        super().__init__()
        if not models:
            raise ValueError('StackedColorMLP: models must not be empty')
        for i, m in enumerate(models):
            if not isinstance(m, CNColorMLP):
                raise TypeError(f'StackedColorMLP: models[{i}] is a {type(m).__name__}, expected CNColorMLP')
        template = models[0]
        shape = (template.k_bottleneck, template.k_codec, template.n_nonlinear)
        for i, m in enumerate(models):
            if (m.k_bottleneck, m.k_codec, m.n_nonlinear) != shape:
                raise ValueError(
                    f'StackedColorMLP: models[{i}] has shape (k_bottleneck, k_codec, n_nonlinear) = '
                    f'{(m.k_bottleneck, m.k_codec, m.n_nonlinear)}, but models[0] has {shape}'
                )
        self.k_bottleneck, self.k_codec, self.n_nonlinear = shape
        self.n_members = len(models)
        if not isinstance(template.bottleneck, L2Norm):
            raise TypeError(
                f'StackedColorMLP: models[0].bottleneck is a {type(template.bottleneck).__name__}, '
                'expected L2Norm (an erased model cannot be stacked)'
            )
        # typed as any module: fine-tuning swaps in a bottleneck that wraps this one
        self.bottleneck: nn.Module = L2Norm(template.bottleneck.eps)
        self._kinds = {s: _layer_kinds(template.get_submodule(s), s) for s in _SECTIONS}
        # Parameter names mirror the template's dotted names with '_' for '.', e.g. encoder_0_weight.
        self._linear_names = [
            f'{s}.{i}' for s in _SECTIONS for i, k in enumerate(self._kinds[s]) if k == 'linear'
        ]
        for name in self._linear_names:
            # every member has the template's architecture, whose layer here is a Linear (see _kinds)
            layers = [cast(nn.Linear, m.get_submodule(name)) for m in models]
            w = torch.stack([layer.weight.detach() for layer in layers]).clone()  # [M, out, in]
            b = torch.stack([layer.bias.detach() for layer in layers]).clone()  # [M, out]
            self.register_parameter(self.param_name(name, 'weight'), nn.Parameter(w))
            self.register_parameter(self.param_name(name, 'bias'), nn.Parameter(b))
        self.layer_names = [
            'encoder',
            *(f'encoder.{i}' for i in range(len(self._kinds['encoder']))),
            'bottleneck',
            'decoder',
            *(f'decoder.{i}' for i in range(len(self._kinds['decoder']))),
        ]
        """Names that `forward(capture=...)` accepts, in execution order."""

    @staticmethod
    def param_name(layer: str, kind: str) -> str:
        """The stacked parameter that holds every member's `<layer>.<kind>`, e.g. encoder.0 weight -> encoder_0_weight."""
        return f'{layer.replace(".", "_")}_{kind}'

    def check_layers(self, names: Collection[str], *, needed_by: str = '') -> None:
        """Raise a ValueError naming any layer this model cannot capture."""
        unknown = [n for n in names if n not in self.layer_names]
        if unknown:
            who = f'; needed by {needed_by}' if needed_by else ''
            raise ValueError(
                f'Layers {unknown} not found in model{who}. Available layers: {", ".join(self.layer_names)}'
            )

    def _section(self, section: str, h: Tensor, capture: Collection[str], out: dict[str, Tensor]) -> Tensor:
        for i, kind in enumerate(self._kinds[section]):
            if kind == 'linear':
                w = getattr(self, self.param_name(f'{section}.{i}', 'weight'))
                b = getattr(self, self.param_name(f'{section}.{i}', 'bias'))
                h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))  # [M, B, out]
            else:
                h = F.gelu(h)
            if f'{section}.{i}' in capture:
                out[f'{section}.{i}'] = h
        if section in capture:
            out[section] = h
        return h

    def forward(self, x: Tensor, capture: Collection[str] = ()) -> tuple[Tensor, dict[str, Tensor]]:
        """Reconstruct x [M, B, 3]; also return the outputs of the `capture` layers, each [M, B, D]."""
        if x.ndim != 3 or x.shape[0] != self.n_members or x.shape[2] != 3:
            raise ValueError(
                f'StackedColorMLP: x must have shape [{self.n_members}, B, 3], got {tuple(x.shape)}'
            )
        if capture:
            self.check_layers(capture)
        acts: dict[str, Tensor] = {}
        z = self.bottleneck(self._section('encoder', x, capture, acts))
        if 'bottleneck' in capture:
            acts['bottleneck'] = z
        y = self._section('decoder', z, capture, acts)
        if not self.training:
            y = y.clamp(0.0, 1.0)
        return y, acts

    def encode(self, x: Tensor) -> Tensor:
        """The encoder's output before normalisation: [M, B, 3] -> [M, B, k] (what ablation zeroes)."""
        return self._section('encoder', x, (), {})

    def decode(self, h: Tensor) -> Tensor:
        """Normalise pre-bottleneck codes `h` [M, B, k] and decode them (clamped to [0, 1] in eval mode)."""
        y = self._section('decoder', self.bottleneck(h), (), {})
        return y.clamp(0.0, 1.0) if not self.training else y

    def member_state(self, i: int) -> dict[str, Tensor]:
        """Member i's parameters as a `CNColorMLP` state dict (detached copies)."""
        if not -self.n_members <= i < self.n_members:
            raise IndexError(f'member index {i} out of range for {self.n_members} members')
        state = {}
        for name in self._linear_names:
            for kind in ('weight', 'bias'):
                state[f'{name}.{kind}'] = getattr(self, self.param_name(name, kind))[i].detach().clone()
        return state

    def member(self, i: int) -> CNColorMLP:
        """A standalone `CNColorMLP` holding member i's current parameters (in the same train/eval mode)."""
        state = self.member_state(i)
        with torch.random.fork_rng(devices=[]):
            model = CNColorMLP(self.k_bottleneck, k_codec=self.k_codec, n_nonlinear=self.n_nonlinear)
        model.load_state_dict(state)
        return model.train(self.training)

    def extra_repr(self) -> str:
        return (
            f'n_members={self.n_members}, k_bottleneck={self.k_bottleneck}, k_codec={self.k_codec}, '
            f'n_nonlinear={self.n_nonlinear}'
        )


def _declares_affine(edit: nn.Module) -> bool:
    """Whether `edit`'s ``affine()`` describes its ``forward``: both defined by the same class (a
    subclass that overrides ``forward`` alone is called as it is, member by member)."""

    def owner(name: str) -> type | None:
        return next((c for c in type(edit).__mro__ if name in vars(c)), None)

    return owner('affine') is not None and owner('affine') is owner('forward')


class StackedEdits(nn.Module):
    """A stack's bottleneck with a per-member edit: member m's unit latents go through ``edits[m]``
    (then are re-normalised); members without one are left as the normalisation made them.

    An edit whose class declares ``affine() -> (M [k, k], shift [k])`` beside its ``forward``
    (``edit(x) = x − x @ M + shift``: `edits.LeaceEdit`, `edits.ProjectOut`) is applied with every
    other such member's in one batched product; any other module is called member by member. Both compute the edit's map; the
    batched form may round differently in the last bit (a test holds them within 1e-6)."""

    batched: Tensor
    singles: Tensor
    maps: Tensor | None
    shifts: Tensor | None

    def __init__(self, norm: nn.Module, edits: Sequence[nn.Module | None]):
        super().__init__()
        self.norm = norm
        self.edits = nn.ModuleList([e if e is not None else nn.Identity() for e in edits])
        self.edited = [e is not None for e in edits]
        batched = [m for m, e in enumerate(edits) if e is not None and _declares_affine(e)]
        self.one_by_one = [m for m, on in enumerate(self.edited) if on and m not in set(batched)]
        maps = [edits[m].affine() for m in batched]  # type: ignore[union-attr, operator]
        self.register_buffer('batched', torch.tensor(batched, dtype=torch.long))
        self.register_buffer('singles', torch.tensor(self.one_by_one, dtype=torch.long))
        self.register_buffer('maps', torch.stack([a for a, _ in maps]).detach().clone() if maps else None)
        self.register_buffer('shifts', torch.stack([b for _, b in maps]).detach().clone() if maps else None)

    def member_edits(self) -> list[nn.Module | None]:
        """Each member's edit as it is now (copies, on the CPU), None for members without one."""
        return [copy.deepcopy(e).cpu() if on else None for e, on in zip(self.edits, self.edited, strict=True)]

    def forward(self, h: Tensor) -> Tensor:  # [M, B, k]
        z = self.norm(h)
        out = z
        if self.maps is not None and self.shifts is not None:
            za = z.index_select(0, self.batched)  # [A, B, k]
            edited = za - torch.bmm(za, self.maps) + self.shifts[:, None, :]
            out = out.index_copy(0, self.batched, self.norm(edited))
        if self.one_by_one:
            rest = torch.stack([self.norm(self.edits[m](z[m])) for m in self.one_by_one])
            out = out.index_copy(0, self.singles, rest)
        return out


def check_frozen(model: nn.Module, frozen: Mapping[str, Tensor], member: str) -> None:
    """Every mask of `frozen` names a parameter of `model` and has its shape, as a bool tensor."""
    params = dict(model.named_parameters())
    for key, mask in frozen.items():
        if key not in params:
            raise KeyError(f'member {member}: frozen names no parameter {key!r}; have {sorted(params)}')
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.shape != params[key].shape:
            got = f'{mask.dtype} {tuple(mask.shape)}' if isinstance(mask, Tensor) else type(mask).__name__
            raise ValueError(
                f'member {member}: frozen[{key!r}] must be a bool mask of shape {tuple(params[key].shape)}, got {got}'
            )


def freeze_entries(net: StackedColorMLP, frozen: Sequence[Mapping[str, Tensor]]) -> None:
    """Zero the gradient of every frozen entry of every member, before any optimiser sees it."""
    for key in sorted({k for masks in frozen for k in masks}):
        layer, kind = key.rsplit('.', 1)
        param = getattr(net, net.param_name(layer, kind))
        masks = [m.get(key, torch.zeros(param.shape[1:], dtype=torch.bool)) for m in frozen]
        keep = (~torch.stack(masks)).to(param.dtype)

        def hook(grad: Tensor, keep: Tensor = keep) -> Tensor:
            return grad * keep.to(grad.device)

        param.register_hook(hook)
