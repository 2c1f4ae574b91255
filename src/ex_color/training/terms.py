"""Regularisers applied per member: activations [M, B, D] -> per-sample losses [M, B] -> one term per member.

A regulariser module maps one batch [B, D] to [B] (or a scalar). Two ways to run it on M batches:

* The project's regularisers are written for [..., B, D] inputs (per-row formulas, and `Separate`'s
  pairs within each leading index's batch), so they are called directly on [M, B, D]. Only these
  exact classes take that path; a subclass may override `forward`, so it goes through vmap.
* Anything else runs under `torch.func.vmap`, which is correct for any per-batch module that vmap
  can trace. One that it cannot trace raises here; we never fall back silently.

Label weighting (`weighted_term`, the only implementation): with affinities, α = clamp(Σ label ×
affinity, 0, 1) and the term is Σ α·L / (Σ α + 1e-8). A member whose batch carries none of the labels
gets exactly 0, with zero gradient, and is marked absent, so that its logged window mean skips that
step and its loss is what a one-member run would have computed.

Deliberately not here: schedule weights, logging and finiteness checks (the training module owns them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import torch
from torch import Tensor, nn

from ex_color.loss import (
    Anchor,
    AngularAnchor,
    AntiAnchor,
    AxisAlignedSubspace,
    Planarity,
    Separate,
    Unitarity,
)

__all__ = ['MemberTerm', 'per_member_loss', 'weighted_term']

_EPS = 1e-8
_BROADCASTING: frozenset[type[nn.Module]] = frozenset(
    {Anchor, AngularAnchor, AntiAnchor, AxisAlignedSubspace, Planarity, Separate, Unitarity}
)


def per_member_loss(module: nn.Module, acts: Tensor, *, name: str = '') -> Tensor:
    """Per-sample loss of `module` for each member: acts [M, B, D] -> [M, B] (or [M] for scalar losses)."""
    kind = type(module)
    if kind in _BROADCASTING:
        out = module(acts)
    else:
        try:
            out = torch.func.vmap(module)(acts)
        except RuntimeError as e:
            raise RuntimeError(
                f'Regulariser {name or kind.__name__!r} ({kind.__name__}) could not be applied per member '
                f'with torch.func.vmap: {e}'
            ) from e
    m, b = acts.shape[:2]
    if tuple(out.shape) not in ((m, b), (m,)):
        raise ValueError(
            f'Regulariser {name or kind.__name__!r} returned shape {tuple(out.shape[1:])} per member; '
            f'expected a scalar or [{b}]'
        )
    return out


@dataclass
class MemberTerm:
    """One loss term for every member."""

    value: Tensor
    """The term per member, [M]; exactly 0 where `present` is False."""
    present: Tensor | None
    """Which members' batches carried the term's labels, [M] bool; None means all of them."""


def weighted_term(
    per_sample: Tensor, labels: Mapping[str, Tensor], affinities: Mapping[str, float] | None
) -> MemberTerm | None:
    """Reduce per-sample losses [M, B] (or [M]) to one term per member; None when no label key is present."""
    if affinities is None:
        value = per_sample.mean(dim=-1) if per_sample.ndim == 2 else per_sample
        return MemberTerm(value, None)
    present_labels = [label for label in affinities if label in labels]
    if not present_labels:
        return None
    # present_labels is non-empty, so the sum is a tensor, never the int start value
    alpha = cast(Tensor, sum(labels[label] * affinities[label] for label in present_labels)).clamp(
        0, 1
    )  # [M, B]
    if per_sample.ndim == 1:
        per_sample = per_sample.unsqueeze(-1).expand_as(alpha)
    total_alpha = alpha.sum(dim=-1)  # [M]
    present = total_alpha != 0
    value = (alpha * per_sample).sum(dim=-1) / (total_alpha + _EPS)
    # Absent members are 0 already unless their (unused) losses are inf or NaN; never let those leak.
    value = torch.where(present, value, torch.zeros_like(value))
    return MemberTerm(value, present)
