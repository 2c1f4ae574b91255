"""Per-member metric windows: sum values in place on every step, read means only when logging.

`TrainingModule` sums each metric over the steps of a logging window and logs the mean; a step on
which a term was skipped does not count. `MemberWindow` does the same for M members at once: a
value is a tensor [M] plus an optional presence mask [M], so a member whose batch lacked a term's
labels keeps its own count. Sums stay on the tensor side until `flush`, which makes one host
transfer per window instead of one per metric and step.

The optional weight gives Lightning's validation reduction, a batch-size-weighted mean over batches.

Deliberately not here: deciding when to flush, and where the means go (wandb, history).
"""

from __future__ import annotations

from torch import Tensor

__all__ = ['MemberWindow']


class MemberWindow:
    """Running per-member sums and counts of named metrics."""

    def __init__(self, n_members: int) -> None:
        if n_members < 1:
            raise ValueError(f'n_members must be >= 1, got {n_members}')
        self.n_members = n_members
        self._sums: dict[str, Tensor] = {}
        self._counts: dict[str, Tensor] = {}

    def __bool__(self) -> bool:
        return bool(self._sums)

    def add(self, key: str, value: Tensor, present: Tensor | None = None, weight: float = 1.0) -> None:
        """Add value [M] (× weight) for the members in `present` (all when None)."""
        if value.shape != (self.n_members,):
            raise ValueError(f'metric {key!r}: expected shape [{self.n_members}], got {tuple(value.shape)}')
        value = value.detach()
        if weight != 1.0:
            value = value * weight
        mask = value.new_ones(value.shape) if present is None else present.to(value.dtype)
        if present is not None:
            # Absent members contribute 0 to the sum (their value is 0 already; this guards NaN).
            value = value.where(present, value.new_zeros(()))
        if key in self._sums:
            self._sums[key] += value
            self._counts[key] += mask * weight if weight != 1.0 else mask
        else:
            self._sums[key] = value.clone()
            self._counts[key] = mask * weight if weight != 1.0 else mask.clone()

    def flush(self) -> dict[str, list[float | None]]:
        """Per-member means of every metric in the window (None where a member had no value); resets."""
        out: dict[str, list[float | None]] = {}
        for key, total in self._sums.items():
            count = self._counts[key]
            means = (total / count.clamp_min(1e-30)).tolist()
            out[key] = [mean if n > 0 else None for mean, n in zip(means, count.tolist(), strict=True)]
        self._sums, self._counts = {}, {}
        return out
