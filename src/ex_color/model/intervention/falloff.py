"""Falloff functions: map an alignment in [0, 1] to a suppression strength (gate) in [0, b].

`BoundedFalloff(a, b, power, eps=1e-8)`:

    gate(x) = b · ((x − a) / (1 − a))^power   where x > a
    gate(x) = 0                               where x ≤ a

so alignments at or below the threshold `a` (a cosine) are untouched, and the gate rises to `b` at
x = 1. `power` shapes the rise: 1 is linear, larger is gentler near the threshold, and 0 is a hard
step (b for every x > a).

Design decisions:
- Arguments are validated on construction: a, b ∈ [0, 1], power ≥ 0, all finite; eps ∈ [0, 1).
- When a ≥ 1 − eps no alignment can exceed the threshold in a meaningful way, so the gate is all
  zeros: **no suppression**. (The reference returned the raw alignment here, i.e. strong suppression
  for exactly the setting that should disable it.)
- The gate is computed on a safe base where x ≤ a, so its gradient is 0 there, never NaN (0^power
  with power < 1 would otherwise have an infinite derivative).

Deliberately not done: no clamping of x to [0, 1] (the caller, e.g. `Suppression`, does that).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ['BoundedFalloff']


def _number(value: object, name: str, lo: float, hi: float | None, hi_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f'BoundedFalloff: {name} must be a finite number, got {value!r}')
    v = float(value)
    too_high = hi is not None and (v >= hi if hi_open else v > hi)
    if v < lo or too_high:
        upper = '∞' if hi is None else f'{hi:g}'
        bracket = ')' if hi_open or hi is None else ']'
        raise ValueError(f'BoundedFalloff: {name} must be in [{lo:g}, {upper}{bracket}, got {value!r}')
    return v


class BoundedFalloff(nn.Module):
    """Thresholded power falloff (see the module docstring). Maps [...] -> [...] elementwise."""

    def __init__(self, a: float, b: float, power: float, eps: float = 1e-8):
        super().__init__()
        self.a = _number(a, 'a', 0.0, 1.0)
        self.b = _number(b, 'b', 0.0, 1.0)
        self.power = _number(power, 'power', 0.0, None)
        self.eps = _number(eps, 'eps', 0.0, 1.0, hi_open=True)

    @property
    def disabled(self) -> bool:
        """True when the threshold is so close to 1 that nothing is suppressed."""
        return self.a >= 1 - self.eps

    def forward(self, x: Tensor) -> Tensor:  # [...] -> [...]
        if self.disabled:
            return torch.zeros_like(x)
        above = x > self.a
        t = torch.where(above, (x - self.a) / (1 - self.a), torch.ones_like(x))
        return torch.where(above, self.b * t.pow(self.power), torch.zeros_like(x))

    def extra_repr(self) -> str:
        return f'a={self.a:.4g}, b={self.b:.4g}, power={self.power:g}'
