"""`LabelCounts`: how often each label actually took part in training, per member.

Labels are drawn stochastically, and a label only matters while a regulariser that uses it has a
non-zero weight, so the number to watch is the samples that carried a label *while it was active*.
Every training sample counts toward the denominator, whether or not any label was active then. The
pseudo-label ``_any`` counts samples that carried at least one active label.

Batches are one model's ([B, 3], {label: [B]}) or a stack's ([M, B, 3], {label: [M, B]}); the labels
active at a step come as a collection of names (every member alike) or as {label: [M] bool}.

Counting is deferred: `add` keeps references to the step's label tensors and `end_epoch` counts the
whole epoch in a few tensor operations, so a training step pays nothing for the accounting.

Deliberately not here: logging (the loop and `LabelProportionCallback` decide where counts go).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import torch
from torch import Tensor

__all__ = ['ANY', 'LabelCounts']

ANY = '_any'


def _is_labelled(batch: Any) -> bool:
    return isinstance(batch, (tuple, list)) and len(batch) == 2 and isinstance(batch[1], dict)


class LabelCounts:
    """Per-member counts of active labels: per epoch (`end_epoch`) and over a fit (`counts`)."""

    def __init__(self, n_members: int = 1) -> None:
        self.n_members = n_members
        self.totals: dict[str, Tensor] = {}  # {label: [M] int64}
        self.n_total = 0  # samples per member
        self._pending: list[tuple[dict[str, Tensor], Collection[str] | Mapping[str, Tensor]]] = []
        self._epoch_n = 0

    def add(self, batch: Any, active: Collection[str] | Mapping[str, Tensor]) -> None:
        """One trained batch and the labels that were active for it."""
        if not _is_labelled(batch):
            raise ValueError("Batch isn't labelled: label counting needs batches of (data, {label: values})")
        data, labels = batch
        self._epoch_n += data.shape[-2] if data.ndim == 3 else len(data)
        if active:
            self._pending.append((labels, active))

    def _fold(self) -> dict[str, Tensor]:
        """Count the pending batches; {label: [M]} for this epoch, added to the totals."""
        if not self._pending:
            return {}
        names = sorted({n for labels, active in self._pending for n in active if n in labels})
        carried: dict[str, Tensor] = {}
        for name in names:
            parts = []
            for labels, active in self._pending:
                if name not in labels or name not in active:
                    continue
                values = labels[name]
                hit = values > 0
                if hit.ndim == 1:
                    hit = hit.unsqueeze(0)  # one model: [1, B]
                if isinstance(active, Mapping):
                    # a label counts only for the members it is active for
                    hit = hit & active[name].to(hit.device).reshape(-1, 1)
                parts.append(hit)
            carried[name] = torch.cat(parts, dim=-1)  # [M, S_name]
        epoch = {name: c.sum(-1) for name, c in carried.items()}
        if names:
            if len(names) == 1:
                epoch[ANY] = epoch[names[0]]
            else:
                epoch[ANY] = self._any(names)
        self._pending = []
        for name, count in epoch.items():
            count = count.cpu()
            self.totals[name] = self.totals[name] + count if name in self.totals else count
        return epoch

    def _any(self, names: list[str]) -> Tensor:
        # samples carrying at least one active label, batch by batch (labels differ in which steps they
        # are active, so the per-label concatenations need not line up)
        total = None
        for labels, active in self._pending:
            hits = []
            for name in names:
                if name in labels and name in active:
                    hit = labels[name] > 0
                    hit = hit.unsqueeze(0) if hit.ndim == 1 else hit
                    if isinstance(active, Mapping):
                        hit = hit & active[name].to(hit.device).reshape(-1, 1)
                    hits.append(hit)
            if hits:
                count = torch.stack(hits).any(0).sum(-1)
                total = count if total is None else total + count
        assert total is not None
        return total

    def end_epoch(self) -> dict[str, float]:
        """Close the epoch: add its counts to the totals; return its proportions (means over members)."""
        n = self._epoch_n
        epoch = self._fold()
        self.n_total += n
        self._epoch_n = 0
        if not n:
            return {}
        return {k: float(v.to(torch.float64).mean()) / n for k, v in sorted(epoch.items())}

    @property
    def counts(self) -> dict[str, int]:
        """Samples that carried each label while it was active, over the fit so far (all members)."""
        return {k: int(v.sum()) for k, v in sorted(self.totals.items())}

    def member_counts(self) -> list[dict[str, int]]:
        """Each member's counts."""
        out: list[dict[str, int]] = [{} for _ in range(self.n_members)]
        for k, v in sorted(self.totals.items()):
            values = v.reshape(-1).tolist()
            if len(values) == 1 and self.n_members > 1:
                values = values * self.n_members
            for m, value in enumerate(values):
                out[m][k] = int(value)
        return out

    @property
    def proportions(self) -> dict[str, float]:
        """Mean fraction of samples per member that carried each label."""
        if not self.n_total:
            return {}
        return {k: float(v.to(torch.float64).mean()) / self.n_total for k, v in sorted(self.totals.items())}

    def summary(self, prefix: str, counts: Mapping[str, int] | None = None) -> dict[str, float]:
        """``<prefix>/n_total``, ``<prefix>/n/<label>`` and ``<prefix>/p/<label>`` for `counts`
        (default: the totals over members, with proportions as means over members)."""
        out: dict[str, float] = {f'{prefix}/n_total': float(self.n_total)}
        if counts is None:
            out |= {f'{prefix}/n/{k}': float(v) for k, v in self.counts.items()}
            out |= {f'{prefix}/p/{k}': v for k, v in self.proportions.items()}
            return out
        out |= {f'{prefix}/n/{k}': float(v) for k, v in counts.items()}
        if self.n_total:
            out |= {f'{prefix}/p/{k}': v / self.n_total for k, v in counts.items()}
        return out

    def describe(self) -> str:
        """One line: each label's count and proportion."""
        counts, props = self.counts, self.proportions
        parts = ', '.join(f'{k}: {counts[k]} ({100 * props[k]:.3f}%)' for k in counts) or 'none active'
        return f'Label frequencies (n={self.n_total}): {parts}'

    def state_dict(self) -> dict[str, Any]:
        """Totals including the current epoch so far (a checkpoint may be taken mid-epoch)."""
        # Counting the epoch so far moves its counts into the totals; its sample count stays open
        # until `end_epoch`, and is added to the stored total here.
        self._fold()
        return {
            'totals': {k: v.clone() for k, v in self.totals.items()},
            'n_total': self.n_total + self._epoch_n,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.totals = {k: torch.as_tensor(v).reshape(-1) for k, v in state['totals'].items()}
        self.n_total = int(state['n_total'])
        self._pending, self._epoch_n = [], 0
