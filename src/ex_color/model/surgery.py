"""Surgery: remove latent dimensions from a trained model, by zeroing (`ablate`) or cutting (`prune`).

Both functions work on the dimensions of a named layer's output (usually `bottleneck`). They locate:
- the **producer**: the last `nn.Linear` at or before the end of the named layer, in module
  registration order (`model.named_modules()`); for `bottleneck` that is `encoder.<last>`, for a
  container such as `encoder` it is that container's last Linear, and a Linear layer is its own
  producer;
- the **consumer**: the first `nn.Linear` after the named layer (and after all of its submodules);
  for `bottleneck` that is `decoder.0`.
The producer's `out_features` must equal the consumer's `in_features`; that width k is the latent
width, and `dims` index it.

`ablate` zeroes the producer's weight rows and bias entries for `dims` and the consumer's weight
columns for `dims` (consumer bias untouched); shapes are unchanged. `prune` replaces both layers by
narrower Linears without those rows/columns (same device, dtype and requires_grad).

**On `CNColorMLP` ablate and prune are functionally identical.** Ablation zeroes a component *before*
the `L2Norm` bottleneck, which then re-normalises the remaining components to unit length, and the
decoder ignores the zeroed input — exactly what the pruned, narrower model computes. (Ablation is
therefore not "set the unit latent's component to 0 and keep the rest".) On architectures without
such a normalisation, or with something that mixes dimensions between producer and consumer, the two
differ and neither is checked for.

Design decisions:
- Both functions deep-copy the model and never mutate their input.
- No shape-based fallback: if the producer or consumer cannot be found by position, or their widths
  disagree, the call fails with the layer and modules named, instead of guessing a pair of Linears
  with matching widths somewhere else in the model.
- `dims` are de-duplicated and sorted; any outside [0, k) is an `IndexError`; an empty `dims` returns
  an unchanged copy; pruning every dimension is a `ValueError`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import NamedTuple, TypeVar

import torch
from torch import nn

__all__ = ['LatentLinks', 'ablate', 'ablation_mask', 'find_links', 'prune']

M = TypeVar('M', bound=nn.Module)


class LatentLinks(NamedTuple):
    """The Linear layers on either side of a layer's output, as found by `find_links`."""

    producer_name: str
    """Dotted name of the Linear whose output rows are the layer's dimensions."""
    producer: nn.Linear
    """That Linear."""
    consumer_name: str
    """Dotted name of the first Linear reading the layer's output."""
    consumer: nn.Linear
    """That Linear."""

    @property
    def width(self) -> int:
        """The latent width k shared by producer outputs and consumer inputs."""
        return self.producer.out_features


def find_links(model: nn.Module, layer: str) -> LatentLinks:
    """Locate the producer and consumer Linears of `layer` (see the module docstring)."""
    modules = list(model.named_modules())
    names = [name for name, _ in modules]
    if layer not in names or layer == '':
        available = ', '.join(repr(n) for n in names if n)
        raise KeyError(f'surgery: model has no layer named {layer!r}; available layers: {available}')
    start = names.index(layer)
    # Submodules of the layer follow it contiguously in named_modules' depth-first order.
    end = start
    while end + 1 < len(names) and names[end + 1].startswith(layer + '.'):
        end += 1

    producer = next(
        ((n, m) for n, m in reversed(modules[: end + 1]) if isinstance(m, nn.Linear)),
        None,
    )
    consumer = next(((n, m) for n, m in modules[end + 1 :] if isinstance(m, nn.Linear)), None)
    if producer is None:
        raise ValueError(f'surgery: no nn.Linear at or before layer {layer!r} to produce its dimensions')
    if consumer is None:
        raise ValueError(f'surgery: no nn.Linear after layer {layer!r} to consume its dimensions')
    (p_name, p_mod), (c_name, c_mod) = producer, consumer
    assert isinstance(p_mod, nn.Linear) and isinstance(c_mod, nn.Linear)
    if p_mod.out_features != c_mod.in_features:
        raise ValueError(
            f'surgery: around layer {layer!r}, producer {p_name!r} has out_features={p_mod.out_features} '
            f'but consumer {c_name!r} has in_features={c_mod.in_features}; cannot tell which dimensions '
            'correspond'
        )
    return LatentLinks(p_name, p_mod, c_name, c_mod)


def _check_dims(dims: Iterable[int], width: int, layer: str) -> list[int]:
    out: set[int] = set()
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int):
            raise TypeError(f'surgery: dims must be ints, got {d!r}')
        if not 0 <= d < width:
            raise IndexError(f'surgery: dim {d} out of range for layer {layer!r} of width {width}')
        out.add(d)
    return sorted(out)


def _copy_with_links(model: M, layer: str, dims: Iterable[int]) -> tuple[M, LatentLinks, list[int]]:
    """A deep copy of `model`, the links of its `layer` and the checked `dims` (sorted, unique)."""
    dims = list(dims)
    model = copy.deepcopy(model)
    links = find_links(model, layer)
    return model, links, _check_dims(dims, links.width, layer)


def ablate(model: M, layer: str, dims: Iterable[int]) -> M:
    """A copy of `model` with `dims` of `layer`'s output zeroed at the source and ignored downstream."""
    model, links, idx = _copy_with_links(model, layer, dims)
    if not idx:
        return model
    with torch.no_grad():
        links.producer.weight[idx, :] = 0
        if links.producer.bias is not None:
            links.producer.bias[idx] = 0
        links.consumer.weight[:, idx] = 0
    return model


def ablation_mask(model: nn.Module, layer: str, dims: Iterable[int]) -> dict[str, torch.Tensor]:
    """The entries `ablate` zeroes, as boolean masks by parameter name (e.g. ``encoder.4.weight``):
    what must stay zero for the ablation to stay in place while the rest of the model trains."""
    links = find_links(model, layer)
    idx = _check_dims(list(dims), links.width, layer)
    p, c = links.producer, links.consumer
    masks = {f'{links.producer_name}.weight': torch.zeros_like(p.weight, dtype=torch.bool)}
    masks[f'{links.producer_name}.weight'][idx, :] = True
    if p.bias is not None:
        masks[f'{links.producer_name}.bias'] = torch.zeros_like(p.bias, dtype=torch.bool)
        masks[f'{links.producer_name}.bias'][idx] = True
    masks[f'{links.consumer_name}.weight'] = torch.zeros_like(c.weight, dtype=torch.bool)
    masks[f'{links.consumer_name}.weight'][:, idx] = True
    return masks


def prune(model: M, layer: str, dims: Iterable[int]) -> M:
    """A copy of `model` with `dims` of `layer`'s output removed; the latent width becomes k − len(dims)."""
    model, links, idx = _copy_with_links(model, layer, dims)
    if not idx:
        return model
    keep = [i for i in range(links.width) if i not in set(idx)]
    if not keep:
        raise ValueError(f'surgery: pruning dims {idx} would leave layer {layer!r} with no dimensions')

    p, c = links.producer, links.consumer
    new_p = _linear_like(p, p.in_features, len(keep))
    new_c = _linear_like(c, len(keep), c.out_features)
    with torch.no_grad():
        new_p.weight.copy_(p.weight[keep, :])
        if p.bias is not None:
            new_p.bias.copy_(p.bias[keep])
        new_c.weight.copy_(c.weight[:, keep])
        if c.bias is not None:
            new_c.bias.copy_(c.bias)
    _replace(model, links.producer_name, new_p)
    _replace(model, links.consumer_name, new_c)
    return model


def _linear_like(template: nn.Linear, n_in: int, n_out: int) -> nn.Linear:
    w = template.weight
    new = nn.Linear(n_in, n_out, bias=template.bias is not None, device=w.device, dtype=w.dtype)
    new.train(template.training)
    new.weight.requires_grad_(w.requires_grad)
    if template.bias is not None:
        new.bias.requires_grad_(template.bias.requires_grad)
    return new


def _replace(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition('.')
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)
