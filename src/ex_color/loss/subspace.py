"""Axis-aligned subspace penalties: keep activations inside (or out of) chosen feature dimensions.

`AxisAlignedSubspace(dims, invert=False)` returns, per sample, the sum of squares of the *penalised*
components:
- not inverted: every index **not** in `dims` is penalised (activations are pulled into the subspace
  spanned by `dims`);
- inverted: exactly the indices in `dims` are penalised (activations are pushed out of that subspace).
If nothing is penalised (not inverted and `dims` covers every index) the loss is zero.

The penalty is not angular, but on the L2-normalised bottleneck it is: the inverted `(0,)` penalty is
a₀² = cos²(a, e₀) ∈ [0, 1]. Indices are 0-based (`(0,)` is the *first* latent dimension).

Design decisions:
- `dims` are validated on construction (non-empty, non-negative, no duplicates) and stored sorted.
- Unlike the reference, an index beyond the activation width is an `IndexError` at call time rather
  than silently ignored: a typo such as `(5,)` on a 5-D bottleneck would otherwise switch the
  inverted penalty off without a word.
- `Planarity(dims=(0, 1))` is the two-dimensional special case, kept as its own class for readable
  configs and reprs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ex_color.loss._checks import check_activations, check_index_tuple

__all__ = ['AxisAlignedSubspace', 'Planarity']


class AxisAlignedSubspace(nn.Module):
    """Σ a_i² over penalised indices i (see the module docstring). [B, D] -> [B]."""

    def __init__(self, dims: Sequence[int], invert: bool = False):
        super().__init__()
        self.dims = check_index_tuple(dims, owner=type(self).__name__, name='dims')
        self.invert = bool(invert)

    def penalised(self, width: int) -> list[int]:
        """The feature indices penalised for activations of the given width."""
        if self.dims[-1] >= width:
            raise IndexError(
                f'{type(self).__name__}: dims {self.dims} out of range for activations of width {width}'
            )
        if self.invert:
            return list(self.dims)
        keep = set(self.dims)
        return [i for i in range(width) if i not in keep]

    def forward(self, x: Tensor) -> Tensor:  # [B, D] -> [B]
        check_activations(x, owner=type(self).__name__)
        idx = torch.tensor(self.penalised(x.shape[-1]), dtype=torch.long, device=x.device)
        # An empty index gives an empty slice, whose sum is zeros of the right shape (and grad).
        return x.index_select(-1, idx).pow(2).sum(dim=-1)

    def extra_repr(self) -> str:
        return f'dims={self.dims}, invert={self.invert}'


class Planarity(AxisAlignedSubspace):
    """Keep activations in the plane of two dimensions: `AxisAlignedSubspace(dims)` with len(dims) == 2."""

    def __init__(self, dims: Sequence[int] = (0, 1)):
        super().__init__(dims, invert=False)
        if len(self.dims) != 2:
            raise ValueError(f'Planarity: dims must name exactly two dimensions, got {tuple(dims)}')

    def extra_repr(self) -> str:
        return f'dims={self.dims}'
