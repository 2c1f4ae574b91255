"""Separate: batch-wise angular repulsion between activations.

For activations [B, D] (restricted to `channels` if given), rows are normalised to unit length
(u / (‖u‖ + 1e-8)) and the B×B cosine matrix C is formed. With `shift`, entries map to (C + 1) / 2 ∈
[0, 1]; entries are then raised to `power`, and the per-sample loss is the sum over the row.
With a high power (Ex 2.10 uses 100) this is a short-range repulsion: only near-coincident pairs
contribute (shifted cos 0.99 → 0.995^100 ≈ 0.606; cos 0.9 → 0.95^100 ≈ 0.006).

Design decisions:
- **Explicit pair mask.** A row never repels itself, nor an *exact duplicate* of itself (identical
  rows, which sampling colours with replacement makes common: such pairs cannot be separated, so
  penalising them only adds a constant). Masked pairs contribute exactly 0. The reference instead
  zeroed every cosine that was numerically ≈ 1, which (a) also dropped the repulsion between distinct
  but nearly coincident rows — exactly the pairs the term exists for — and (b) after the shift left
  0.5^power per masked pair. Duplicates are detected on the selected channels (the space being
  separated), by exact equality; distinct rows that merely point the same way still repel.
- **Sum, not mean, over the row.** The Ex 2.10 dopesheet weights (`reg-separate`) were tuned against
  the reference's row sums at batch size 64, and at power 100 the reference's 0.5^100 ≈ 8e-31 leak
  per masked pair is negligible, so summing keeps our magnitudes equal to the reference's wherever no
  distinct pair is ≈ 1. The price is that the term scales with batch size; change the weight, not
  this module, when changing the batch size.
- **No subnormals.** x^100 underflows into subnormal floats for x below ≈ 0.42 (float32), which is
  slow on CPUs and contributes nothing measurable. Entries whose power would be below the dtype's
  smallest normal number are set to exactly 0 instead (an absolute change below 1.2e-38 per pair),
  and their gradients are exactly 0 rather than NaN.
- **Integer powers by repeated squaring** (`power_of`): x^100 is six squarings and two products,
  about a tenth of the cost of `pow` with a float exponent on CPU, and within a few ulp of it.
  Non-integer powers use `pow`.
- **Leading dimensions are separate batches.** [..., B, D] -> [..., B]: the training engine passes
  a stack of members [M, B, D] and every pair stays inside one member's batch.
- **Fast exact-duplicate mask** (`pair_mask`): comparing [..., B, B, D] rows channel by channel took
  8 ms per 60-member Ex 2.10 step; each row's bit pattern gets a 64-bit fingerprint instead, so the
  B×B comparison is one integer `==`, and only the few candidate pairs are then checked channel by
  channel (a fingerprint collision can never mask a pair): 1 ms.
- **The backward reuses the forward's power** (`_KeptPower`): the forward computes sim^(p-1) once,
  keeps it, and multiplies by sim; the gradient p·sim^(p-1) is then one product (2.3 ms saved per
  60-member step).
- Fully vectorised: no Python loops over the batch. Being data-dependent (the duplicate check), it
  cannot run under `torch.func.vmap`; it does not need to.

Deliberately not done: no batch reduction, and no notion of labels (every row repels every other).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ex_color.loss._checks import check_activations, check_index_tuple

__all__ = ['Separate', 'pair_mask', 'power_of']

_EPS = 1e-8


def power_of(base: Tensor, power: float) -> Tensor:
    """base ** power; by repeated squaring when `power` is a whole number from 1 to 1024."""
    n = int(power)
    if n != power or not 1 <= n <= 1024:
        return base.pow(power)
    out: Tensor | None = None
    square = base
    while True:
        if n & 1:
            out = square if out is None else out * square
        n >>= 1
        if not n:
            break
        square = square * square
    assert out is not None
    return out


def pair_mask(x: Tensor) -> Tensor:
    """Boolean [..., B, B]: True where rows i and j of one batch are the same row or exactly equal rows.

    Adding 0.0 first turns -0.0 into +0.0, so bit equality is float equality, except for NaN rows,
    which are never equal to another row here (their cosines are NaN and dropped anyway); the
    diagonal is masked regardless.
    """
    x = x.detach()
    if x.dtype == torch.float64:
        bits = (x + 0.0).view(torch.int64)
        # Two 32-bit halves, so that the fingerprint's products cannot overflow.
        bits = torch.cat([bits & 0xFFFFFFFF, (bits >> 32) & 0xFFFFFFFF], dim=-1)
    elif x.dtype in (torch.float32, torch.float16, torch.bfloat16):
        bits = (x.float() + 0.0).view(torch.int32).to(torch.int64) & 0xFFFFFFFF
    else:
        raise TypeError(f'pair_mask: activations must be floating point, got {x.dtype}')
    d = bits.shape[-1]
    # Odd multipliers below 2**24: products of 32-bit channels stay below 2**56, so sums of up to 128
    # channels cannot overflow int64; wider rows wrap around, which only makes collisions likelier.
    mult = (torch.arange(1, d + 1, device=x.device, dtype=torch.int64) * 2654435761 % (1 << 24)) | 1
    fingerprint = (bits * mult).sum(-1)  # [..., B]
    same = fingerprint.unsqueeze(-1) == fingerprint.unsqueeze(-2)
    eye = torch.eye(x.shape[-2], dtype=torch.bool, device=x.device)
    candidates = (same & ~eye).nonzero()  # [K, ndim]: leading indices, then i, j
    if len(candidates):
        lead = tuple(candidates[:, :-2].T)
        i, j = candidates[:, -2], candidates[:, -1]
        same[(*lead, i, j)] = (bits[(*lead, i)] == bits[(*lead, j)]).all(-1)
    return same | eye


class _KeptPower(torch.autograd.Function):
    """sim ** p where `keep` holds, exactly 0 elsewhere; backward p · sim ** (p - 1), saved from the forward.

    The forward computes sim ** (p - 1) (`power_of`), zeroes it outside `keep` and multiplies by sim
    once more, so the backward needs one product and no division (a dropped entry's base may be 0 or
    NaN; its gradient is exactly 0 all the same).
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


class Separate(nn.Module):
    """Angular repulsion within a batch. [..., B, D] -> [..., B] (see the module docstring).

    Args:
        channels: feature indices to compare (None = all). Validated like `AxisAlignedSubspace.dims`.
        power: exponent (> 0, finite). Without `shift`, cosines can be negative, so `power` must then
            be an integer.
        shift: map cosines from [-1, 1] to [0, 1] before the power.
    """

    def __init__(self, channels: Sequence[int] | None = None, power: float = 1.0, shift: bool = True):
        super().__init__()
        owner = type(self).__name__
        self.channels = (
            None if channels is None else check_index_tuple(channels, owner=owner, name='channels')
        )
        if isinstance(power, bool) or not isinstance(power, int | float):
            raise TypeError(f'{owner}: power must be a number, got {power!r}')
        if not (math.isfinite(power) and power > 0):
            raise ValueError(f'{owner}: power must be finite and > 0, got {power!r}')
        if not shift and float(power) != int(power):
            raise ValueError(
                f'{owner}: power must be an integer when shift=False (negative cosines), got {power!r}'
            )
        self.power = float(power)
        self.shift = bool(shift)

    def forward(self, x: Tensor) -> Tensor:  # [..., B, D] -> [..., B]
        owner = type(self).__name__
        check_activations(x, owner=owner)
        if self.channels is not None:
            if self.channels[-1] >= x.shape[-1]:
                raise IndexError(
                    f'{owner}: channels {self.channels} out of range for activations of width {x.shape[-1]}'
                )
            x = x[..., list(self.channels)]
        u = x / (torch.linalg.vector_norm(x, dim=-1, keepdim=True) + _EPS)
        sim = u @ u.transpose(-1, -2)  # [..., B, B]
        if self.shift:
            sim = (sim + 1) / 2
        # Entries whose power would underflow (or are masked) are exactly 0, with zero gradient.
        floor = torch.finfo(sim.dtype).tiny ** (1 / self.power)
        keep = (sim.detach().abs() > floor) & ~pair_mask(x)
        return _KeptPower.apply(sim, keep, self.power).sum(dim=-1)

    def extra_repr(self) -> str:
        return f'channels={self.channels}, power={self.power:g}, shift={self.shift}'
