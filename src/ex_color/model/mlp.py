"""The colour autoencoder: a tiny MLP whose bottleneck lives on the unit hypersphere.

Design decisions:
- `CNColorMLP` is a plain `nn.Module` ("clamped and normalised"); all training logic lives in the
  training module, so the same object is trained, inspected, cut by `ex_color.model.surgery` and wrapped for
  inference.
- Every place worth hooking is a named submodule: `encoder` and `decoder` are `nn.Sequential`s (so
  their layers are addressed as `encoder.0`, `decoder.4`, ...) and the normalisation is a module of its
  own, `bottleneck`, rather than a call inside `forward`. Regularisers, interventions and captures all
  address layers by these dotted names.
- The output is clamped to [0, 1] in eval mode only: clamping while training would zero the gradient
  for every out-of-range channel, so training sees the raw decoder output.
- GELU is the exact (erf) variant; layers keep PyTorch's default initialisation.

Deliberately not here: no output activation (the legacy sigmoid variant is not reproduced), no
training, loss or device logic.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ['CNColorMLP', 'L2Norm']


def _check_positive_int(value: object, name: str) -> int:
    # bool is an int subclass; CNColorMLP(True) is almost certainly a mistake.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f'CNColorMLP: {name} must be an int, got {type(value).__name__} {value!r}')
    if value < 1:
        raise ValueError(f'CNColorMLP: {name} must be >= 1, got {value}')
    return value


class L2Norm(nn.Module):
    """Project each row onto the unit hypersphere: x / max(‖x‖, eps) over the last axis.

    Has no parameters. The `eps` floor only matters for an all-zero row, which stays all zero.
    """

    def __init__(self, eps: float = 1e-12):
        super().__init__()
        if not eps > 0:
            raise ValueError(f'L2Norm: eps must be > 0, got {eps!r}')
        self.eps = float(eps)

    def forward(self, x: Tensor) -> Tensor:  # [..., D] -> [..., D]
        return x / torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp_min(self.eps)

    def extra_repr(self) -> str:
        return f'eps={self.eps:g}'


def _mlp(n_in: int, n_hidden: int, n_out: int, n_nonlinear: int) -> nn.Sequential:
    """Linear(n_in→n_hidden), GELU, (n_nonlinear−1) × [Linear(n_hidden→n_hidden), GELU], Linear(→n_out)."""
    layers: list[nn.Module] = [nn.Linear(n_in, n_hidden), nn.GELU(approximate='none')]
    for _ in range(n_nonlinear - 1):
        layers += [nn.Linear(n_hidden, n_hidden), nn.GELU(approximate='none')]
    layers.append(nn.Linear(n_hidden, n_out))
    return nn.Sequential(*layers)


class CNColorMLP(nn.Module):
    """Colour autoencoder: RGB [B, 3] → encoder → unit-norm latent [B, k] → decoder → RGB [B, 3].

    Submodules (names are part of the interface):
    - `encoder`: Linear(3→k_codec), GELU, (n_nonlinear−1) × [Linear(k_codec→k_codec), GELU],
      Linear(k_codec→k_bottleneck).
    - `bottleneck`: `L2Norm`; its output is the latent that regularisers see.
    - `decoder`: Linear(k_bottleneck→k_codec), GELU, (n_nonlinear−1) × [Linear, GELU], Linear(k_codec→3).

    For k_bottleneck=5, n_nonlinear=2 the layers are `encoder.0` (3→16), `encoder.2` (16→16),
    `encoder.4` (16→5), `decoder.0` (5→16), `decoder.2` (16→16), `decoder.4` (16→3): 840 parameters.

    Args:
        k_bottleneck: latent width (>= 1).
        k_codec: hidden width of encoder and decoder (>= 1).
        n_nonlinear: number of GELU layers in each of encoder and decoder (>= 1; 0 is an error rather
            than silently acting as 1).
    """

    def __init__(self, k_bottleneck: int, k_codec: int = 16, n_nonlinear: int = 1):
        super().__init__()
        self.k_bottleneck = _check_positive_int(k_bottleneck, 'k_bottleneck')
        self.k_codec = _check_positive_int(k_codec, 'k_codec')
        self.n_nonlinear = _check_positive_int(n_nonlinear, 'n_nonlinear')
        self.encoder = _mlp(3, k_codec, k_bottleneck, n_nonlinear)
        # typed as any module: erasure swaps in a bottleneck that wraps this one
        self.bottleneck: nn.Module = L2Norm()
        self.decoder = _mlp(k_bottleneck, k_codec, 3, n_nonlinear)

    def forward(self, x: Tensor) -> Tensor:  # [B, 3] -> [B, 3]
        y = self.decoder(self.bottleneck(self.encoder(x)))
        if not self.training:
            y = y.clamp(0.0, 1.0)
        return y

    def extra_repr(self) -> str:
        return f'k_bottleneck={self.k_bottleneck}, k_codec={self.k_codec}, n_nonlinear={self.n_nonlinear}'
