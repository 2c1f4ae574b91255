"""`LabelProportionCallback`: how often each label actually took part in training.

Labels are drawn stochastically, and a label only matters while a regulariser that uses it has a
non-zero weight, so the fraction of samples that carried an *active* label is the number to watch.
Per batch the callback sums the active labels (tensor ops, no host sync); per epoch it logs that
epoch's proportions as ``<prefix>/epoch/<label>``; at the end of the fit it logs counts
(``<prefix>/n/<label>``, ``<prefix>/n_total``) and proportions (``<prefix>/p/<label>``) and writes one
log line. Every training sample counts toward the denominator, whether or not any label was active
then. The pseudo-label ``_any`` counts samples that carried at least one active label.

Runs of many members (batches [M, B, 3] with labels [M, B]) are counted per member: active labels
then come as {label: [M] bool}, `member_counts` gives each member's counts, and the logged values
are means over members. The counts are part of the callback's checkpoint state, so a resumed fit
reports the counts of the whole fit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any

import lightning as L
import torch
from torch import Tensor

log = logging.getLogger(__name__)

ANY = '_any'


def _summary(prefix: str, counts: dict[str, int], n_total: int) -> dict[str, float]:
    out: dict[str, float] = {f'{prefix}/n_total': float(n_total)}
    out |= {f'{prefix}/n/{k}': float(v) for k, v in counts.items()}
    if n_total:
        out |= {f'{prefix}/p/{k}': v / n_total for k, v in counts.items()}
    return out


class LabelProportionCallback(L.Callback):
    """Count active labels per epoch and over the fit; log proportions and one summary line."""

    def __init__(
        self,
        prefix: str = 'labels',
        *,
        get_active_labels: Callable[[], Collection[str] | Mapping[str, Tensor]],
    ) -> None:
        super().__init__()
        if not prefix or '/' in prefix:
            raise ValueError(f"prefix must be a non-empty name without '/', got {prefix!r}")
        self.prefix = prefix
        self.get_active_labels = get_active_labels
        self.totals: dict[str, Tensor] = {}
        self.n_total = 0
        self._epoch: dict[str, Tensor] = {}
        self._epoch_n = 0
        self._restored = False

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # A resumed fit continues the counts it restored; any other fit starts clean.
        if not self._restored:
            self.totals, self.n_total = {}, 0
        self._restored = False

    def state_dict(self) -> dict[str, Any]:
        return {
            'totals': {k: v.detach().cpu() for k, v in self._folded_totals().items()},
            'n_total': self.n_total + self._epoch_n,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.totals = {k: torch.as_tensor(v) for k, v in state_dict['totals'].items()}
        self.n_total = int(state_dict['n_total'])
        self._restored = True

    def _folded_totals(self) -> dict[str, Tensor]:
        """Totals including the current epoch's counts (a checkpoint may be taken mid-epoch)."""
        out = {k: torch.as_tensor(v) for k, v in self.totals.items()}
        for name, count in self._epoch.items():
            out[name] = out[name] + count if name in out else torch.as_tensor(count)
        return out

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch, self._epoch_n = {}, 0

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        # A group of batches (one epoch run inside one Lightning batch) records the labels that
        # were active at each of its steps; a plain batch uses the labels active now.
        items = getattr(batch, 'batches', None)
        if items is not None:
            for item, active in zip(items, getattr(batch, 'active', ()), strict=False):
                self._count(item, active)
        else:
            self._count(batch, self.get_active_labels())

    def _count(self, batch: Any, active_labels: Collection[str] | Mapping[str, Tensor]) -> None:
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2 and isinstance(batch[1], dict)):
            raise ValueError(
                "Batch isn't labelled: LabelProportionCallback needs batches of (data, {label: values})"
            )
        data, labels = batch
        # Samples per member: [B, 3] for one model, [M, B, 3] for a stack.
        self._epoch_n += data.shape[-2] if data.ndim == 3 else len(data)
        # Sorted: active labels arrive as a set, and log order must not depend on hash seeds.
        active = sorted(name for name in active_labels if name in labels)
        if not active:
            return
        carried = [labels[name] > 0 for name in active]
        if isinstance(active_labels, Mapping):
            # Per member: a label counts only for the members it is active for.
            carried = [
                c & active_labels[name].to(c.device).unsqueeze(-1)
                for name, c in zip(active, carried, strict=True)
            ]
        counts = {name: c.sum(-1) for name, c in zip(active, carried, strict=True)}
        # With one active label, "any label" is that label: skip the stack.
        counts[ANY] = counts[active[0]] if len(active) == 1 else torch.stack(carried).any(0).sum(-1)
        for name, count in counts.items():
            slot = self._epoch.get(name)
            self._epoch[name] = count if slot is None else slot + count

    def _fold_epoch(self) -> dict[str, float]:
        """Add this epoch's counts to the totals; return the epoch's proportions."""
        n = self._epoch_n
        self.n_total += n
        for name, count in self._epoch.items():
            self.totals[name] = self.totals.get(name, 0) + count
        props = (
            {k: float(torch.as_tensor(v, dtype=torch.float64).mean()) / n for k, v in self._epoch.items()}
            if n
            else {}
        )
        self._epoch, self._epoch_n = {}, 0
        return props

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        props = self._fold_epoch()
        if props:
            pl_module.log_dict(
                {f'{self.prefix}/epoch/{k}': v for k, v in props.items()}, on_step=False, on_epoch=True
            )

    @property
    def counts(self) -> dict[str, int]:
        """Samples that carried each label while it was active, over the fit so far (all members)."""
        return {k: int(torch.as_tensor(v).sum()) for k, v in sorted(self.totals.items())}

    def member_counts(self, n_members: int = 1) -> list[dict[str, int]]:
        """Each member's counts (a one-model fit has one member)."""
        out: list[dict[str, int]] = [{} for _ in range(n_members)]
        for k, v in sorted(self.totals.items()):
            values = torch.as_tensor(v).reshape(-1).tolist()
            if len(values) == 1 and n_members > 1:
                values = values * n_members
            for m, value in enumerate(values):
                out[m][k] = int(value)
        return out

    @property
    def proportions(self) -> dict[str, float]:
        """Mean fraction of samples per member that carried each label."""
        if not self.n_total:
            return {}
        return {
            k: float(torch.as_tensor(v, dtype=torch.float64).mean()) / self.n_total
            for k, v in sorted(self.totals.items())
        }

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # A fit that stops mid-epoch (max_steps) never reaches on_train_epoch_end for its last epoch.
        self._fold_epoch()
        counts, props = self.counts, self.proportions
        summary: dict[str, float] = {f'{self.prefix}/n_total': float(self.n_total)}
        summary |= {f'{self.prefix}/n/{k}': float(v) for k, v in counts.items()}
        summary |= {f'{self.prefix}/p/{k}': v for k, v in props.items()}
        # Imported here: ex_color.training imports this module.
        from ex_color.training.tracking import MemberLogger

        members = self.member_counts(getattr(pl_module, 'n_members', 1))
        for logger in trainer.loggers:
            if isinstance(logger, MemberLogger):
                logger.log_members(
                    [_summary(self.prefix, c, self.n_total) for c in members], trainer.global_step
                )
            else:
                logger.log_metrics(summary, step=trainer.global_step)
        parts = ', '.join(f'{k}: {counts[k]} ({100 * props[k]:.3f}%)' for k in counts) or 'none active'
        log.info('Label frequencies (n=%d): %s', self.n_total, parts)
