"""Regularisers applied per member: activations [M, B, D] -> per-sample losses [M, B] -> one term per member.

A single model has no member axis: [B, D] -> [B] -> a 0-d term (``stacked=False``). Its step is then
exactly the arithmetic, and the autograd graph, of a plain training loop over that model.

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


def per_member_loss(module: nn.Module, acts: Tensor, *, name: str = '', stacked: bool = True) -> Tensor:
    """Per-sample loss of `module` for each member: acts [M, B, D] -> [M, B] (or [M] for scalar losses);
    with ``stacked=False``, one model's acts [B, D] -> [B] (or a scalar)."""
    kind = type(module)
    if not stacked:
        out = module(acts)
        b = acts.shape[0]
        if tuple(out.shape) not in ((b,), ()):
            raise ValueError(
                f'Regulariser {name or kind.__name__!r} returned shape {tuple(out.shape)}; '
                f'expected a scalar or [{b}]'
            )
        return out
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
    """The term per member, [M] (0-d for a single model); exactly 0 where `present` is False."""
    present: Tensor | None
    """Which members' batches carried the term's labels, [M] bool (0-d); None means all of them."""


def weighted_term(
    per_sample: Tensor,
    labels: Mapping[str, Tensor],
    affinities: Mapping[str, float] | None,
    *,
    stacked: bool = True,
) -> MemberTerm | None:
    """Reduce per-sample losses [M, B] (or [M]) to one term per member; None when no label key is
    present. With ``stacked=False``: one model's [B] (or a scalar) to a 0-d term."""
    per_member = per_sample.ndim == (2 if stacked else 1)  # not already one value per member
    if affinities is None:
        value = per_sample.mean(dim=-1) if per_member else per_sample
        return MemberTerm(value, None)
    present_labels = [label for label in affinities if label in labels]
    if not present_labels:
        return None
    alpha = _alpha(labels, affinities, present_labels)  # [M, B] ([B] for one model)
    if not per_member:
        per_sample = per_sample.unsqueeze(-1).expand_as(alpha)
    total_alpha = alpha.sum(dim=-1)  # [M] (0-d)
    if not stacked:
        # One model: a batch without the labels skips the term (one host sync, as a plain loop's
        # check would); the term then needs no guard against its unused losses.
        if not total_alpha.item():
            return None
        return MemberTerm((alpha * per_sample).sum(dim=-1) / (total_alpha + _EPS), None)
    present = total_alpha != 0
    value = (alpha * per_sample).sum(dim=-1) / (total_alpha + _EPS)
    # Absent members are 0 already unless their (unused) losses are inf or NaN; never let those leak.
    value = torch.where(present, value, torch.zeros_like(value))
    return MemberTerm(value, present)


def _alpha(labels: Mapping[str, Tensor], affinities: Mapping[str, float], present: list[str]) -> Tensor:
    """clamp(Σ label × affinity, 0, 1); one label with an affinity of exactly 1 skips the (exact) product."""
    if len(present) == 1 and affinities[present[0]] == 1.0:
        return labels[present[0]].clamp(0, 1)
    # present is non-empty, so the sum is a tensor, never the int start value
    return cast(Tensor, sum(labels[label] * affinities[label] for label in present)).clamp(0, 1)
