"""The thresholded metrics while a model trains: when does a seed anchor red, and when does it fail?

`MetricsDuringTraining(hd_cube, rgb_cube, every=...)` is a loop callback: after every `every`-th
step, and after the last, it scores every member of the training stack as it stands with
`stack_metrics` (the same numbers `stacked_metrics` gives a finished model: the error at red after
ablation, the collateral, the baseline errors, r) and records them into the members' metric history
as ``during/<metric>``. `during_metrics(run)` reads them back as rows (member, step, metric, value).
When the fit ends, each member's final scores and its pass or fail of every threshold go into that
member's tracking run summary (`run_summary.verdict_summary`, through `tracking.write_summaries`).

Design decisions:
- The metrics are the test set's own (`evaluation.metrics`), on the cubes the caller passes, never a
  cheaper stand-in: a curve that ends where the final table starts.
- Recording is part of the members' results (the run cache keys on `describe`), so a re-run loads
  the curves with the members.
- Scoring runs in eval mode with no gradient and puts the stack back as it found it; it costs about
  a thirtieth of a second per member on one CPU thread, so `every` sets the price.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import torch

from ex_color.data.color_cube import ColorCube
from ex_color.evaluation.ablation import stack_metrics
from ex_color.evaluation.metrics import METRICS
from ex_color.evaluation.run_summary import verdict_summary
from ex_color.model.stacked import StackedColorMLP
from ex_color.training.loop import LoopCallback, TrainLoop
from ex_color.training.results import RunResult
from ex_color.training.tracking import write_summaries

__all__ = ['DURING', 'MetricsDuringTraining', 'during_metrics']

DURING = 'during/'
"""Prefix of the recorded metrics' names in a member's history."""


class MetricsDuringTraining(LoopCallback):
    """Every member's `METRICS` after every `every`-th step and after the last (see the module docstring)."""

    def __init__(self, hd_cube: ColorCube, rgb_cube: ColorCube, *, every: int, dims: Sequence[int] = (0,)):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(
                f'MetricsDuringTraining: every must be a whole number of steps >= 1, got {every!r}'
            )
        if not dims:
            raise ValueError('MetricsDuringTraining: dims names no latent dimension to ablate')
        self.hd_cube, self.rgb_cube = hd_cube, rgb_cube
        self.every = every
        self.dims = tuple(int(d) for d in dims)
        self._last = -1
        self._scored: list[dict[str, float]] = []

    def describe(self) -> Any:
        return {
            'metrics_during_training': list(METRICS),
            'every': self.every,
            'dims': list(self.dims),
            'hd_cube': list(self.hd_cube.shape),
            'rgb_cube': list(self.rgb_cube.shape),
        }

    @torch.no_grad()
    def _record(self, loop: TrainLoop) -> None:
        step = loop.engine.global_step
        if step == self._last:
            return
        net = loop.engine.model
        if not isinstance(net, StackedColorMLP):
            raise TypeError(
                f'MetricsDuringTraining: the module must train a StackedColorMLP, got {type(net).__name__}'
            )
        bad = [d for d in self.dims if not 0 <= d < net.k_bottleneck]
        if bad:
            raise ValueError(
                f'MetricsDuringTraining: dims {bad} are outside the {net.k_bottleneck}-D bottleneck'
            )
        was = net.training
        net.eval()
        try:
            scored = stack_metrics(net, self.hd_cube, self.rgb_cube, self.dims)
        finally:
            net.train(was)
        loop.engine.record_values(step, {f'{DURING}{m}': [s[m] for s in scored] for m in METRICS})
        self._last, self._scored = step, scored

    def on_fit_start(self, loop: TrainLoop) -> None:
        self._last, self._scored = -1, []  # a callback reused for another fit scores that fit afresh

    def on_step_end(self, loop: TrainLoop) -> None:
        if loop.engine.global_step % self.every == 0:
            self._record(loop)

    def on_fit_end(self, loop: TrainLoop) -> None:
        self._record(loop)
        write_summaries(loop.engine.loggers, [verdict_summary(s) for s in self._scored])


def during_metrics(run: RunResult) -> pd.DataFrame:
    """Rows (member, seed, step, metric, value) of what `MetricsDuringTraining` recorded in `run`."""
    frames = []
    for m in run:
        h = m.history[m.history['metric'].str.startswith(DURING)]
        frames.append(
            pd.DataFrame({
                'member': m.name,
                'seed': m.spec.seed,
                'step': h['step'].to_numpy(),
                'metric': h['metric'].str.removeprefix(DURING).to_numpy(),
                'value': h['value'].to_numpy(),
            })
        )  # fmt: skip
    if not frames or all(f.empty for f in frames):
        raise ValueError(
            'during_metrics: the run recorded no metrics during training (no MetricsDuringTraining)'
        )
    return pd.concat(frames, ignore_index=True)
