"""`MemberSpec`: what makes one member of a run differ from the others.

A member is its seed, and optionally its own dopesheet (same length as the run's), data settings
(``make_data(seed, **data)``), regulariser weight scales, and for fine-tuning the weights it starts
from, the entries it keeps frozen and an edit kept in place. `seeds` makes one spec per seed;
`check_specs` refuses a list that is empty, holds something else, or repeats a name.

Deliberately not here: training (`ex_color.training.run`, `ex_color.training.front`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from mini.temporal.dopesheet import Dopesheet

__all__ = ['MakeData', 'MemberSpec', 'check_specs', 'seeds', 'tensors_digest']

MakeData = Callable[..., tuple[Iterable[Any], Iterable[Any] | None]]
"""``make_data(seed, **spec.data) -> (training batches, validation batches or None)``."""


@dataclass(frozen=True)
class MemberSpec:
    """What makes one member of a run differ from the others."""

    seed: int
    """Seeds the member's initial weights and its data."""
    dopesheet: Dopesheet | None = None
    """The member's schedule; None uses the run's. Must have the run's number of steps."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """Keyword arguments for the run's `make_data` (e.g. ``{'label_scale': 0.5}``)."""
    weights: Mapping[str, float] = field(default_factory=dict)
    """Scale of named regularisers' scheduled weights (e.g. ``{'reg-anchor': 2.0}``)."""
    name: str | None = None
    """Label in results and wandb; default ``seed-<seed>`` (plus the data and weight settings)."""
    start: Mapping[str, Tensor] | None = field(default=None, repr=False)
    """Weights to start from (a `CNColorMLP` state dict): fine-tuning. None: fresh weights from the seed."""
    frozen: Mapping[str, Tensor] = field(default_factory=dict, repr=False)
    """Boolean masks by parameter name of entries that must not change (e.g. `surgery.ablation_mask`):
    their gradients are zeroed before every optimiser step, so they stay exactly as they start."""
    edit: nn.Module | None = field(default=None, repr=False)
    """An edit of the member's unit latents kept in every forward pass (an eraser, `model.edits.erased`'s
    edit), re-normalised after; it holds buffers, not parameters, so it is never trained."""

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f'MemberSpec.seed must be an int, got {self.seed!r}')
        if self.edit is not None and any(True for _ in self.edit.parameters()):
            raise ValueError(f'MemberSpec {self.label}: edit has parameters; an edit must hold buffers only')
        if self.dopesheet is not None and not isinstance(self.dopesheet, Dopesheet):
            raise TypeError(
                f'MemberSpec.dopesheet must be a Dopesheet or None, got {type(self.dopesheet).__name__}'
            )
        for key, value in self.weights.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ValueError(f'MemberSpec.weights[{key!r}] must be a number >= 0, got {value!r}')

    @property
    def label(self) -> str:
        if self.name is not None:
            return self.name
        parts = [f'seed-{self.seed}']
        parts += [f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}' for k, v in self.data.items()]
        parts += [f'{k}×{v:g}' for k, v in self.weights.items()]
        if self.dopesheet is not None:
            parts.append(Path(self.dopesheet.source).stem)
        return ' '.join(parts)

    def describe(self) -> dict[str, Any]:
        """The spec as plain values (wandb config, tables)."""
        out: dict[str, Any] = {
            'seed': self.seed,
            'dopesheet': self.dopesheet.source if self.dopesheet is not None else None,
            'data': dict(self.data),
            'weights': dict(self.weights),
        }
        if self.start is not None:
            out['start'] = tensors_digest(self.start)
        if self.frozen:
            out['frozen'] = sorted(self.frozen)
        if self.edit is not None:
            out['edit'] = type(self.edit).__name__
        return out


def tensors_digest(tensors: Mapping[str, Tensor]) -> str:
    """sha256 of named tensors (names, dtypes, shapes and bytes), for keys and configs."""
    h = hashlib.sha256()
    for key in sorted(tensors):
        t = tensors[key].detach().cpu().contiguous()
        h.update(f'{key}:{t.dtype}:{tuple(t.shape)}'.encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()[:16]


def seeds(values: Iterable[int], **shared: Any) -> list[MemberSpec]:
    """One spec per seed, with the same other settings: ``seeds(range(20), data={'label_scale': 2})``."""
    return [MemberSpec(seed, **shared) for seed in values]


def check_specs(specs: Sequence[MemberSpec]) -> list[MemberSpec]:
    if isinstance(specs, MemberSpec) or not isinstance(specs, Sequence):
        raise TypeError(f'members must be a list of MemberSpec, got {type(specs).__name__}')
    out = list(specs)
    if not out:
        raise ValueError('members: the list is empty; a run needs at least one MemberSpec')
    for i, s in enumerate(out):
        if not isinstance(s, MemberSpec):
            raise TypeError(f'members[{i}] must be a MemberSpec, got {type(s).__name__} {s!r}')
    labels = [s.label for s in out]
    dupes = sorted({n for n in labels if labels.count(n) > 1})
    if dupes:
        raise ValueError(f'members: names must be unique; repeated: {dupes} (give each MemberSpec a name=)')
    return out
