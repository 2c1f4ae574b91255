"""`RegularizerConfig`: which regulariser applies to which layer, samples and phases.

Design decisions:
- The config is data; it never computes anything. The training module reads it.
- `name` doubles as the dopesheet column that weights the term and as a child-module name in the
  training module, so it is restricted to `[A-Za-z0-9_-]+` and checked here, where the mistake is
  made, instead of crashing module registration later (the reference accepted dotted names).
- `phase` accepts a string or a collection of strings; `.phases` is always the normalised frozenset,
  with `.train` / `.validate` as readable shorthands.
- Every field is validated in `__post_init__` and each error names the field.

Deliberately not done: matching names against a dopesheet (the training module checks names in
both directions) and deciding how label-weighted terms are reduced.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from torch import nn

__all__ = ['PHASES', 'RegularizerConfig']

PHASES = frozenset({'train', 'validate'})
"""Phases a regulariser can be active in."""

_NAME = re.compile(r'^[A-Za-z0-9_-]+$')


def _normalise_phases(phase: object) -> frozenset[str]:
    items: Iterable[object]
    if isinstance(phase, str):
        items = (phase,)
    elif isinstance(phase, tuple | list | set | frozenset):
        items = phase
    else:
        raise TypeError(
            f'RegularizerConfig.phase: expected a str or tuple of str, got {type(phase).__name__}'
        )
    out: set[str] = set()
    for p in items:
        if not isinstance(p, str) or p not in PHASES:
            raise ValueError(
                f'RegularizerConfig.phase: unknown phase {p!r}; expected one of {sorted(PHASES)}'
            )
        out.add(p)
    if not out:
        raise ValueError('RegularizerConfig.phase: must name at least one phase')
    return frozenset(out)


@dataclass
class RegularizerConfig:
    """How one regularisation term is applied during training."""

    name: str
    """Identifier of the term, and the dopesheet column that weights it (exact match). Letters, digits,
    '_' and '-' only (e.g. 'reg-anchor')."""

    compute_loss_term: nn.Module
    """The regulariser: maps a layer's activations [B, D] to a per-sample loss [B] (or a scalar)."""

    label_affinities: dict[str, float] | None
    """Per-label weights selecting which samples the term applies to, e.g. {'red': 1.0}. None means the
    term applies to every sample."""

    layer_affinities: list[str]
    """Dotted submodule names (as `model.get_submodule` names them, e.g. 'bottleneck', 'decoder.0')
    whose *output* is regularised. At least one."""

    phase: str | tuple[str, ...] = 'train'
    """'train' (added to the training loss), 'validate' (computed and logged, never added, during
    validation), or both as a tuple."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(
                f'RegularizerConfig.name: {self.name!r} is not a valid name; use letters, digits, '
                "'_' and '-' only (no dots, colons, commas or whitespace)"
            )
        if not isinstance(self.compute_loss_term, nn.Module):
            raise TypeError(
                f'RegularizerConfig.compute_loss_term ({self.name}): expected an nn.Module, '
                f'got {type(self.compute_loss_term).__name__}'
            )
        self._check_label_affinities()
        self._check_layer_affinities()
        self._phases = _normalise_phases(self.phase)

    def _check_label_affinities(self) -> None:
        aff = self.label_affinities
        if aff is None:
            return
        where = f'RegularizerConfig.label_affinities ({self.name})'
        if not isinstance(aff, dict):
            raise TypeError(f'{where}: expected a dict[str, float] or None, got {type(aff).__name__}')
        if not aff:
            raise ValueError(f'{where}: empty dict selects no samples; use None to apply to every sample')
        for label, weight in aff.items():
            if not isinstance(label, str) or not label:
                raise ValueError(f'{where}: labels must be non-empty strings, got {label!r}')
            if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
                raise ValueError(f'{where}: weight for {label!r} must be a finite number, got {weight!r}')
            if weight < 0:
                raise ValueError(
                    f'{where}: weight for {label!r} is {weight!r}; affinities are >= 0 (a negative one '
                    'would silently cancel the term)'
                )

    def _check_layer_affinities(self) -> None:
        layers = self.layer_affinities
        where = f'RegularizerConfig.layer_affinities ({self.name})'
        if isinstance(layers, str) or not isinstance(layers, list | tuple):
            raise TypeError(f'{where}: expected a list of layer names, got {layers!r}')
        if not layers:
            raise ValueError(f'{where}: must name at least one layer')
        for layer in layers:
            if not isinstance(layer, str) or not layer or layer != layer.strip():
                raise ValueError(f'{where}: invalid layer name {layer!r}')
        if len(set(layers)) != len(layers):
            raise ValueError(f'{where}: duplicate layer names in {list(layers)}')

    @property
    def phases(self) -> frozenset[str]:
        """The phases this term is active in: a non-empty subset of {'train', 'validate'}."""
        return self._phases

    @property
    def train(self) -> bool:
        """Whether the term is added to the training loss."""
        return 'train' in self._phases

    @property
    def validate(self) -> bool:
        """Whether the term is computed and logged during validation."""
        return 'validate' in self._phases
