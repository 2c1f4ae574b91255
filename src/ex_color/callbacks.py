"""`LabelProportionCallback`: how often each label actually took part in a Lightning fit.

Labels are drawn stochastically, and a label only matters while a regulariser that uses it has a
non-zero weight, so the fraction of samples that carried an *active* label is the number to watch.
The counting is `ex_color.training.labels.LabelCounts` (the project's loop counts with it too); this
callback feeds it from Lightning's hooks. Per epoch it logs that epoch's proportions as
``<prefix>/epoch/<label>``; at the end of the fit it logs counts (``<prefix>/n/<label>``,
``<prefix>/n_total``) and proportions (``<prefix>/p/<label>``) and writes one log line. Every training
sample counts toward the denominator. The pseudo-label ``_any`` counts samples that carried at least
one active label.

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
from torch import Tensor

from ex_color.training.labels import ANY, LabelCounts
from ex_color.training.tracking import MemberLogger

log = logging.getLogger(__name__)

__all__ = ['ANY', 'LabelProportionCallback']


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
        self._counts = LabelCounts()
        self._restored = False

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # A resumed fit continues the counts it restored; any other fit starts clean.
        n_members = getattr(pl_module, 'n_members', 1)
        if not self._restored:
            self._counts = LabelCounts(n_members)
        self._counts.n_members = n_members
        self._restored = False

    def state_dict(self) -> dict[str, Any]:
        return self._counts.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._counts.load_state_dict(state_dict)
        self._restored = True

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self._counts.add(batch, self.get_active_labels())

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        props = self._counts.end_epoch()
        if props:
            pl_module.log_dict(
                {f'{self.prefix}/epoch/{k}': v for k, v in props.items()}, on_step=False, on_epoch=True
            )

    @property
    def totals(self) -> dict[str, Tensor]:
        return self._counts.totals

    @property
    def n_total(self) -> int:
        return self._counts.n_total

    @property
    def counts(self) -> dict[str, int]:
        """Samples that carried each label while it was active, over the fit so far (all members)."""
        return self._counts.counts

    def member_counts(self, n_members: int = 1) -> list[dict[str, int]]:
        """Each member's counts (a one-model fit has one member)."""
        self._counts.n_members = n_members
        return self._counts.member_counts()

    @property
    def proportions(self) -> dict[str, float]:
        """Mean fraction of samples per member that carried each label."""
        return self._counts.proportions

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # A fit that stops mid-epoch (max_steps) never reaches on_train_epoch_end for its last epoch.
        self._counts.end_epoch()
        members = self.member_counts(getattr(pl_module, 'n_members', 1))
        for logger in trainer.loggers:
            if isinstance(logger, MemberLogger):
                logger.log_members(
                    [self._counts.summary(self.prefix, c) for c in members], trainer.global_step
                )
            else:
                logger.log_metrics(self._counts.summary(self.prefix), step=trainer.global_step)
        log.info('%s', self._counts.describe())
