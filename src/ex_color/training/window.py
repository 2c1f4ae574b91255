"""Per-member metric windows: keep each step's values, reduce them only when logging.

Training metrics are logged as means over a window of steps; a step on which a member skipped a term
(its batch lacked the term's labels, or its weight was 0) does not count for that member. A step's
values arrive together as {name: [M]} (0-d for a single model) plus optional presence masks
{name: [M] bool}. `add` only keeps references, so a training step pays no tensor operation for its
logging; `flush` stacks each metric's values over the window, reduces them and makes one host
transfer per window.

The optional weight gives Lightning's validation reduction, a batch-size-weighted mean over batches.

Deliberately not here: deciding when to flush, and where the means go (loggers, history).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

__all__ = ['MemberWindow']


class MemberWindow:
    """Per-member means of named metrics over a window of steps."""

    def __init__(self, n_members: int) -> None:
        if n_members < 1:
            raise ValueError(f'n_members must be >= 1, got {n_members}')
        self.n_members = n_members
        self._steps: list[tuple[Mapping[str, Tensor], Mapping[str, Tensor] | None, float]] = []

    def __bool__(self) -> bool:
        return bool(self._steps)

    def add(
        self,
        values: Mapping[str, Tensor],
        present: Mapping[str, Tensor] | None = None,
        weight: float = 1.0,
    ) -> None:
        """Add one step's values {name: [M]} (× weight) for the members in `present[name]` (all if absent)."""
        if values:
            self._steps.append((values, present or None, weight))

    def flush(self) -> dict[str, list[float | None]]:
        """Per-member means of every metric in the window (None where a member had no value); resets."""
        steps, self._steps = self._steps, []
        if not steps:
            return {}
        keys = list(dict.fromkeys(k for values, _, _ in steps for k in values))
        totals, counts = [], []
        for key in keys:
            rows = [(v[key], p, w) for v, p, w in steps if key in v]
            # [M, n]: each member's values in a row of their own, so a member's sum is reduced the
            # same way whatever the other members are (a one-member run logs the same means)
            stacked = torch.stack([value.detach().reshape(-1) for value, _, _ in rows], dim=1)
            if stacked.shape[0] != self.n_members:
                raise ValueError(
                    f'metric {key!r}: expected {self.n_members} value(s) per step, got {stacked.shape[0]}'
                )
            weights = [w for _, _, w in rows]
            masks = [p.get(key) if p is not None else None for _, p, _ in rows]
            w = stacked.new_tensor(weights)  # [n]
            if any(m is not None for m in masks):
                ones = torch.ones(self.n_members, dtype=torch.bool, device=stacked.device)
                keep = torch.stack([ones if m is None else m.reshape(-1) for m in masks], dim=1)  # [M, n]
                # Absent members contribute 0 to the sum (their value is 0 already; this guards NaN).
                stacked = torch.where(keep, stacked, stacked.new_zeros(()))
                weight = keep.to(stacked.dtype) * w
            else:
                weight = w.expand_as(stacked)
            weighted = any(x != 1.0 for x in weights)
            totals.append((stacked * w if weighted else stacked).sum(-1))
            counts.append(weight.sum(-1))
        means = (torch.stack(totals) / torch.stack(counts).clamp_min(1e-30)).tolist()
        seen = (torch.stack(counts) > 0).tolist()
        return {
            key: [m if s else None for m, s in zip(row, ok, strict=True)]
            for key, row, ok in zip(keys, means, seen, strict=True)
        }
