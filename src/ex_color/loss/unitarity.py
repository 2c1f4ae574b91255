"""Unitarity: pull activation norms towards 1.

`Unitarity()` maps activations [B, D] to (‖a‖ − 1)² per sample. It is useful on layers *before* a
normalisation (e.g. `encoder`), where the norm is free: keeping pre-norm vectors near the unit sphere
stops the encoder from relying on the normalisation to hide very small or very large outputs, which
would make the latent direction sensitive to tiny changes. On the `bottleneck` itself it is
identically ~0 and therefore pointless.

Deliberately not done: no batch reduction and no target norm other than 1.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ex_color.loss._checks import check_activations

__all__ = ['Unitarity']


class Unitarity(nn.Module):
    """(‖a‖ − 1)² per sample. [B, D] -> [B]."""

    def forward(self, x: Tensor) -> Tensor:  # [B, D] -> [B]
        check_activations(x, owner=type(self).__name__)
        return (torch.linalg.vector_norm(x, dim=-1) - 1).pow(2)
