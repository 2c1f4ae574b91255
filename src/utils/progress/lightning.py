"""`LightningProgress`: one progress bar for a whole Lightning fit.

Lightning's own bars show one bar per epoch (93 of them for Ex 2.10) and switch to Rich when
`rich` is installed; this one shows the whole fit as a single bar (step, rate, ETA and the latest
metrics), drawn as HTML in Jupyter, as one redrawn line in a terminal and as a plain line every
few seconds in a log (`utils.progress.display.default_sink`). It is a `ProgressBar`
subclass, so passing it in `callbacks` replaces Lightning's default bar.

Per batch it costs one clock read; drawing happens at most every `interval` seconds. Metrics shown
are Lightning's `callback_metrics` merged over the module's `latest_metrics`, when it has one.
"""

from __future__ import annotations

import math
from typing import Any

import lightning as L
from lightning.pytorch.callbacks.progress.progress_bar import ProgressBar

from utils.progress.display import Progress, Sink


def latest_metrics(trainer: L.Trainer, pl_module: L.LightningModule, limit: int = 8) -> dict[str, float]:
    """The numbers a progress bar shows: `callback_metrics` over the module's `latest_metrics`, at most `limit`."""
    # Modules that log outside `self.log` (to save time) can expose `latest_metrics` instead.
    merged = {**getattr(pl_module, 'latest_metrics', {}), **trainer.callback_metrics}
    out: dict[str, float] = {}
    for key, value in merged.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        out[key] = number
        if len(out) >= limit:
            break
    return out


class LightningProgress(ProgressBar):
    """Single-bar progress for fit and predict; `interval` is the minimum time between redraws (s)."""

    def __init__(self, interval: float = 0.3, sink: Sink | None = None) -> None:
        super().__init__()
        if interval < 0:
            raise ValueError(f'interval must be >= 0, got {interval}')
        self.interval = interval
        self._sink = sink
        self._enabled = True
        self._bar: Progress | None = None

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def _open(self, description: str, total: float | int) -> None:
        if not self._enabled:
            return
        total_int = int(total) if isinstance(total, int) or math.isfinite(total) else None
        self._bar = Progress(description, total_int or None, interval=self.interval, sink=self._sink)

    def _close(self, trainer: L.Trainer) -> None:
        if self._bar is not None:
            self._bar.close(latest_metrics(trainer, trainer.lightning_module))
            self._bar = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._open(self.train_description, trainer.estimated_stepping_batches)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        if self._bar is not None:
            self._bar.update(trainer.global_step, lambda: latest_metrics(trainer, pl_module))

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._close(trainer)

    def on_predict_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._open(self.predict_description, sum(trainer.num_predict_batches))
        self._predicted = 0

    def on_predict_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        if self._bar is not None:
            self._predicted += 1
            self._bar.update(self._predicted)

    def on_predict_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._close(trainer)

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        self._close(trainer)
