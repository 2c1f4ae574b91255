"""Anchors: pull activations towards (or push them away from) a fixed point or direction.

All three map activations [B, D] to a per-sample loss [B]; the anchor is a buffer, so it moves with
`.to()` and is saved in state dicts, and it is cast to the activations' dtype at call time.

- `Anchor(p)`: squared Euclidean distance ‖a − p‖². Not angular; only meaningful where the
  activation norm is free.
- `AngularAnchor(p)`: 1 − cos(a, p) ∈ [0, 2] — 0 when aligned, 2 when opposite. Both vectors are
  normalised as u / (‖u‖ + 1e-8), so an all-zero activation row gives loss 1 rather than NaN.
- `AntiAnchor(p, hemi=True)`: repulsion. With `hemi`, max(cos, 0): only the hemisphere facing `p` is
  penalised. Without, (cos + 1) / 2 ∈ [0, 1] over the whole sphere.

Deliberately not done: no reduction over the batch (the training module weights and averages), and
no label selection (that is `RegularizerConfig.label_affinities`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ex_color.loss._checks import as_vector, check_activations

__all__ = ['Anchor', 'AngularAnchor', 'AntiAnchor', 'cosine_to']

_EPS = 1e-8


def cosine_to(a: Tensor, p: Tensor) -> Tensor:
    """cos(a, p) per row: [..., D] × [D] -> [...], each normalised as u / (‖u‖ + 1e-8)."""
    a_hat = a / (torch.linalg.vector_norm(a, dim=-1, keepdim=True) + _EPS)
    p_hat = p / (torch.linalg.vector_norm(p) + _EPS)
    return a_hat @ p_hat


class _AnchorBase(nn.Module):
    anchor: Tensor

    def __init__(self, p: Tensor | Sequence[float], *, angular: bool):
        super().__init__()
        owner = type(self).__name__
        self.register_buffer('anchor', as_vector(p, owner=owner, name='p', nonzero=angular))

    def _anchor_for(self, x: Tensor) -> Tensor:
        check_activations(x, owner=type(self).__name__, width=self.anchor.shape[0])
        return self.anchor.to(dtype=x.dtype, device=x.device)

    def extra_repr(self) -> str:
        return f'p={[round(v, 4) for v in self.anchor.tolist()]}'


class Anchor(_AnchorBase):
    """‖a − p‖² per sample: pulls activations onto the point `p`."""

    def __init__(self, p: Tensor | Sequence[float]):
        super().__init__(p, angular=False)

    def forward(self, x: Tensor) -> Tensor:  # [B, D] -> [B]
        p = self._anchor_for(x)
        return (x - p).pow(2).sum(dim=-1)


class AngularAnchor(_AnchorBase):
    """1 − cos(a, p) per sample: pulls activations towards the direction of `p` (0 aligned, 2 opposite)."""

    def __init__(self, p: Tensor | Sequence[float]):
        super().__init__(p, angular=True)

    def forward(self, x: Tensor) -> Tensor:  # [B, D] -> [B]
        return 1 - cosine_to(x, self._anchor_for(x))


class AntiAnchor(_AnchorBase):
    """Pushes activations away from the direction of `p`.

    hemi=True: max(cos(a, p), 0) — no penalty once an activation is 90° or more from `p`.
    hemi=False: (cos(a, p) + 1) / 2 — penalty falls off all the way to the antipode.
    """

    def __init__(self, p: Tensor | Sequence[float], hemi: bool = True):
        super().__init__(p, angular=True)
        self.hemi = bool(hemi)

    def forward(self, x: Tensor) -> Tensor:  # [B, D] -> [B]
        cos = cosine_to(x, self._anchor_for(x))
        return cos.clamp_min(0) if self.hemi else (cos + 1) / 2

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, hemi={self.hemi}'
