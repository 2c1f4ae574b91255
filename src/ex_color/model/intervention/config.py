"""`InterventionConfig`: which module to apply to the output of which layers at inference time.

The config is data only; the inference module attaches `apply` as a forward hook on each named
layer and removes the hooks afterwards. Layer names are dotted submodule paths as
`model.get_submodule` names them (e.g. 'bottleneck'). Every field is validated in `__post_init__`
and errors name the field.

Deliberately not done: checking the names against a model (the config exists before the model is
loaded; the inference module checks when it attaches).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

__all__ = ['InterventionConfig']


@dataclass
class InterventionConfig:
    """An intervention and where to apply it."""

    apply: nn.Module
    """Module mapping a layer's output [B, D] to a replacement of the same shape (e.g. `Suppression`)."""

    layer_affinities: list[str]
    """Dotted submodule names whose output is replaced. At least one; no duplicates."""

    def __post_init__(self) -> None:
        if not isinstance(self.apply, nn.Module):
            raise TypeError(
                f'InterventionConfig.apply: expected an nn.Module, got {type(self.apply).__name__}'
            )
        layers = self.layer_affinities
        if isinstance(layers, str) or not isinstance(layers, list | tuple):
            raise TypeError(
                f'InterventionConfig.layer_affinities: expected a list of layer names, got {layers!r}'
            )
        if not layers:
            raise ValueError('InterventionConfig.layer_affinities: must name at least one layer')
        for layer in layers:
            if not isinstance(layer, str) or not layer or layer != layer.strip():
                raise ValueError(f'InterventionConfig.layer_affinities: invalid layer name {layer!r}')
        if len(set(layers)) != len(layers):
            raise ValueError(f'InterventionConfig.layer_affinities: duplicate layer names in {list(layers)}')
