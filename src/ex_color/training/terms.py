"""Regularisers applied per member: activations [M, B, D] -> per-sample losses [M, B] -> one term per member.

A regulariser module maps one batch [B, D] to [B] (or a scalar). Three ways to run it on M batches:

* **Separate** gets a stacked twin, `separate_stacked`: the same formula, operation for operation, on
  [M, B, D], so every pairwise term stays inside one member's batch. The twin exists for speed only:
  `Separate`'s exact-duplicate mask reduces a [M, B, B, D] boolean tensor with `.all(-1)`, which took
  8 ms per 60-member Ex 2.10 step; comparing bit patterns two channels at a time gives the same mask
  in 1 ms. Its backward reuses the forward power instead of computing it again (2.3 ms).
  `tests/test_training_terms.py` checks that values and gradients match `Separate` itself, member
  by member.
* The project's other regularisers are written for [..., B, D] inputs (pure per-row formulas), so
  they are called directly on [M, B, D]. Only these exact classes take that path; a subclass may
  override `forward`, so it goes through vmap.
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
from ex_color.loss.separate import power_of

__all__ = ['MemberTerm', 'per_member_loss', 'separate_stacked', 'weighted_term']

_EPS = 1e-8
_BROADCASTING: frozenset[type[nn.Module]] = frozenset(
    {Anchor, AngularAnchor, AntiAnchor, AxisAlignedSubspace, Planarity, Unitarity}
)


def _exact_duplicates(x: Tensor) -> Tensor:
    """Boolean [M, B, B]: rows i and j of a member are the same row or exactly equal rows.

    Each row's bit pattern gets a 64-bit fingerprint, so the B×B comparison is one integer `==`
    instead of one per channel; the few candidate pairs off the diagonal are then checked channel by
    channel, so a fingerprint collision can never mask a pair. Adding 0.0 first turns -0.0 into
    +0.0, so bit equality is float equality except for NaN rows, which `Separate` drops anyway (their
    cosines are NaN, never above the floor).
    """
    bits = (x + 0.0).view(torch.int32).to(torch.int64)  # [M, B, D]
    d = bits.shape[-1]
    # Odd multipliers below 2**24: with channels below 2**32 the sum of D <= 128 products cannot overflow.
    mult = (torch.arange(1, d + 1, device=x.device, dtype=torch.int64) * 2654435761 % (1 << 24)) | 1
    fingerprint = (bits * mult).sum(-1)  # [M, B]
    same = fingerprint[..., :, None] == fingerprint[..., None, :]
    eye = torch.eye(x.shape[-2], dtype=torch.bool, device=x.device)
    m, i, j = (same & ~eye).nonzero(as_tuple=True)
    if len(m):
        same[m, i, j] = (bits[m, i] == bits[m, j]).all(-1)
    return same | eye


class _KeptPower(torch.autograd.Function):
    """sim ** p where `keep` holds, exactly 0 elsewhere; backward p · sim ** (p - 1), saved from the forward.

    The forward computes sim ** (p - 1) (`power_of`: repeated squaring for whole powers), zeroes it
    outside `keep` and multiplies by sim once more, so the backward needs one product and no division
    (a dropped entry's base may be 0 or NaN; its gradient is exactly 0 all the same). Values are those of
    `Separate` up to float rounding; `tests/test_training_terms.py` compares values and gradients.
    """

    @staticmethod
    def forward(ctx, sim: Tensor, keep: Tensor, power: float) -> Tensor:
        below = power_of(sim, power - 1) if power != 1 else torch.ones_like(sim)
        # `where`, not `masked_fill` (4x slower here) nor a product with the mask (NaN rows stay NaN).
        below = torch.where(keep, below, below.new_zeros(()))
        ctx.save_for_backward(below)
        ctx.power = power
        return below * sim

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        (below,) = ctx.saved_tensors
        return grad * below * ctx.power, None, None


def separate_stacked(module: Separate, x: Tensor) -> Tensor:  # [M, B, D] -> [M, B]
    """`Separate` applied to each member's batch independently."""
    if x.ndim != 3:
        raise ValueError(f'separate_stacked: activations must be [M, B, D], got shape {tuple(x.shape)}')
    if module.channels is not None:
        if module.channels[-1] >= x.shape[-1]:
            raise IndexError(
                f'Separate: channels {module.channels} out of range for activations of width {x.shape[-1]}'
            )
        x = x[..., list(module.channels)]
    u = x / (torch.linalg.vector_norm(x, dim=-1, keepdim=True) + _EPS)
    sim = u @ u.transpose(-1, -2)  # [M, B, B]
    if module.shift:
        sim = (sim + 1) / 2
    floor = torch.finfo(sim.dtype).tiny ** (1 / module.power)
    # Shifted cosines are >= 0 (up to rounding, which the floor absorbs): no abs needed.
    near = sim.detach() > floor if module.shift else sim.detach().abs() > floor
    keep = near & ~_exact_duplicates(x.detach())
    return _KeptPower.apply(sim, keep, module.power).sum(dim=-1)


def per_member_loss(module: nn.Module, acts: Tensor, *, name: str = '') -> Tensor:
    """Per-sample loss of `module` for each member: acts [M, B, D] -> [M, B] (or [M] for scalar losses)."""
    kind = type(module)
    if kind is Separate:
        out = separate_stacked(module, acts)  # type: ignore[arg-type]
    elif kind in _BROADCASTING:
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
    alpha = sum(labels[label] * affinities[label] for label in present_labels).clamp(0, 1)  # [M, B]
    if per_sample.ndim == 1:
        per_sample = per_sample.unsqueeze(-1).expand_as(alpha)
    total_alpha = alpha.sum(dim=-1)  # [M]
    present = total_alpha != 0
    value = (alpha * per_sample).sum(dim=-1) / (total_alpha + _EPS)
    # Absent members are 0 already unless their (unused) losses are inf or NaN; never let those leak.
    value = torch.where(present, value, torch.zeros_like(value))
    return MemberTerm(value, present)
