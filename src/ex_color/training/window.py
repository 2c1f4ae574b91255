"""Per-member metric windows: sum values in place on every step, read means only when logging.

Training metrics are logged as means over a window of steps; a step on which a member skipped a term
(its batch lacked the term's labels, or its weight was 0) does not count for that member. A step's
values arrive together as {name: [M]} plus optional presence masks {name: [M] bool}; they are stacked
into one [K, M] tensor, and while the set of names stays the same (almost every step) the window
costs two tensor additions a step. Sums stay on the tensor side until `flush`, which makes one host
transfer per window instead of one per metric and step.

The optional weight gives Lightning's validation reduction, a batch-size-weighted mean over batches.

Deliberately not here: deciding when to flush, and where the means go (loggers, history).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

__all__ = ['MemberWindow']


class MemberWindow:
    """Running per-member sums and counts of named metrics."""

    def __init__(self, n_members: int) -> None:
        if n_members < 1:
            raise ValueError(f'n_members must be >= 1, got {n_members}')
        self.n_members = n_members
        self._keys: tuple[str, ...] = ()
        self._sum: Tensor | None = None  # [K, M]
        self._count: Tensor | None = None  # [K, M]
        self._folded: dict[str, tuple[Tensor, Tensor]] = {}

    def __bool__(self) -> bool:
        return self._sum is not None or bool(self._folded)

    def add(
        self,
        values: Mapping[str, Tensor],
        present: Mapping[str, Tensor] | None = None,
        weight: float = 1.0,
    ) -> None:
        """Add one step's values {name: [M]} (× weight) for the members in `present[name]` (all if absent)."""
        keys = tuple(values)
        if not keys:
            return
        stacked = torch.stack([v.detach() for v in values.values()])  # [K, M]
        if stacked.shape[1:] != (self.n_members,):
            raise ValueError(
                f'metrics {list(keys)}: expected shape [{self.n_members}] each, got {tuple(stacked.shape[1:])}'
            )
        mask = None
        if present:
            ones = torch.ones(self.n_members, dtype=torch.bool, device=stacked.device)
            keep = torch.stack([present.get(k, ones) for k in keys])
            # Absent members contribute 0 to the sum (their value is 0 already; this guards NaN).
            stacked = torch.where(keep, stacked, stacked.new_zeros(()))
            mask = keep.to(stacked.dtype)
        if weight != 1.0:
            stacked = stacked * weight
            if mask is not None:
                mask = mask * weight
        if keys != self._keys or self._sum is None or self._count is None:
            self._fold()
            self._keys, self._sum = keys, stacked
            self._count = mask if mask is not None else torch.full_like(stacked, weight)
            return
        self._sum = self._sum + stacked
        self._count = self._count + (mask if mask is not None else weight)

    def _fold(self) -> None:
        if self._sum is None or self._count is None:
            return
        for key, total, count in zip(self._keys, self._sum, self._count, strict=True):
            if key in self._folded:
                old_total, old_count = self._folded[key]
                total, count = old_total + total, old_count + count
            self._folded[key] = (total, count)
        self._keys, self._sum, self._count = (), None, None

    def flush(self) -> dict[str, list[float | None]]:
        """Per-member means of every metric in the window (None where a member had no value); resets."""
        self._fold()
        if not self._folded:
            return {}
        keys = list(self._folded)
        totals = torch.stack([self._folded[k][0] for k in keys])
        counts = torch.stack([self._folded[k][1] for k in keys])
        means = (totals / counts.clamp_min(1e-30)).tolist()
        seen = (counts > 0).tolist()
        self._folded = {}
        return {
            key: [m if s else None for m, s in zip(row, ok, strict=True)]
            for key, row, ok in zip(keys, means, seen, strict=True)
        }
