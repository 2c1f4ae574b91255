"""Suppression: remove a concept direction from activations, gated by how aligned they are with it.

For activations a [B, E] and a unit concept vector v [E]:

    alignment = clamp(a·v, 0, 1)
    gate      = falloff(alignment)          # e.g. BoundedFalloff
    out       = a − gate · (a·v) · v

Only positive projections are ever touched: an activation pointing away from v has alignment 0, and
any falloff that is 0 at 0 leaves it unchanged. With gate 1 the component along v is removed entirely.

Design decisions:
- `concept_vector` must be a finite unit vector (|‖v‖ − 1| ≤ 1e-5); a non-unit vector would make a·v
  a scaled cosine and the removal incomplete, so it is rejected rather than silently normalised.
  It is a buffer (moves with `.to()`), cast to the activations' dtype and device at call time, so an
  integer tuple such as (1, 0, 0, 0, 0) works.
- The result is **not re-normalised** by default, so downstream layers see off-sphere inputs (as in
  the reference). Pass `renormalize=True` to project the output back onto the unit sphere; an
  all-zero output row stays zero.
- `__repr__` works (the reference's raised), because trackers log module reprs as hyper-parameters.

Deliberately not done: no hooks here; attaching the module to a layer is the inference module's job,
configured by `InterventionConfig`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ['Suppression']

_UNIT_TOL = 1e-5


class Suppression(nn.Module):
    """Gated removal of the `concept_vector` component. [B, E] -> [B, E] (see the module docstring)."""

    concept_vector: Tensor

    def __init__(
        self, concept_vector: Tensor | Sequence[float], falloff: nn.Module, renormalize: bool = False
    ):
        super().__init__()
        v = torch.as_tensor(concept_vector).detach().clone()
        if not v.is_floating_point():
            v = v.to(torch.get_default_dtype())
        if v.ndim != 1 or v.numel() == 0 or not bool(torch.isfinite(v).all()):
            raise ValueError(f'Suppression: concept_vector must be a finite, non-empty 1-D vector, got {v}')
        norm = float(torch.linalg.vector_norm(v.double()))
        if abs(norm - 1) > _UNIT_TOL:
            raise ValueError(f'Suppression: concept_vector must have unit length, got norm {norm:.6g}')
        if not isinstance(falloff, nn.Module):
            raise TypeError(f'Suppression: falloff must be an nn.Module, got {type(falloff).__name__}')
        self.register_buffer('concept_vector', v)
        self.falloff = falloff
        self.renormalize = bool(renormalize)

    def gate(self, x: Tensor) -> Tensor:  # [B, E] -> [B]
        """Suppression strength per row: falloff(clamp(a·v, 0, 1))."""
        return self.falloff((x @ self._vector_for(x)).clamp(0, 1))

    def forward(self, x: Tensor) -> Tensor:  # [B, E] -> [B, E]
        v = self._vector_for(x)
        proj = x @ v  # [B]
        gate = self.falloff(proj.clamp(0, 1))
        out = x - (gate * proj).unsqueeze(-1) * v
        if self.renormalize:
            out = out / torch.linalg.vector_norm(out, dim=-1, keepdim=True).clamp_min(1e-12)
        return out

    def _vector_for(self, x: Tensor) -> Tensor:
        if x.ndim < 1 or x.shape[-1] != self.concept_vector.shape[0]:
            raise ValueError(
                f'Suppression: activations of shape {tuple(x.shape)} do not match concept_vector of width '
                f'{self.concept_vector.shape[0]}'
            )
        return self.concept_vector.to(dtype=x.dtype, device=x.device)

    def extra_repr(self) -> str:
        v = ', '.join(f'{c:.3g}' for c in self.concept_vector.tolist())
        return f'concept_vector=({v}), renormalize={self.renormalize}'
