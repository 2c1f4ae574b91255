"""The steps every ablation notebook shares, one call each, so no notebook pastes another's code.

* `set_up(nbid, experiment_name, project, image=...)`: logging (the notebook's, the library's;
  matplotlib's aspect warnings silenced) and an `Experiment` that runs locally unless Modal is asked
  for, with `image` as its container recipe should it be (notebooks pass the project's pinned one from
  `infra`). Returns the notebook's logger and the experiment.
* `show_evaluation(model, cubes, nbid=..., tags=...)`: the three figures of a model on the test cubes
  (colour slices, error curves, latents), as every notebook shows them before and after ablation.
* `NotebookTrainer`: "train under this schedule" — `.one(...)` for the story's seed, `.seeds(n, ...)`
  for n seeds as one run of the engine, `.members(specs, ...)` for members that differ otherwise;
  `evaluate_over_seeds(runs, cubes, ...)` then shows every
  member's metrics, the figure and the table.

Deliberately not here: anything a notebook varies (its regularisers, data, schedule, prose).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from torch import nn

from ex_color.evaluation import evaluate_cube
from ex_color.evaluation.ablation import distribution_table, seed_metrics
from ex_color.experiments.common import TestCubes, train_model
from ex_color.experiments.figures import show_latents, show_loss, show_reconstruction, show_seed_metrics
from ex_color.loss import RegularizerConfig
from ex_color.training.module import LIGHTNING_LOGGERS
from ex_color.training.run import MakeData, MemberSpec, RunResult, seeds, train_members
from ex_color.training.tracking import with_credentials
from mini.experiment import Experiment
from mini.temporal.dopesheet import Dopesheet
from utils.logging import SimpleLoggingConfig

__all__ = ['NotebookTrainer', 'evaluate_over_seeds', 'set_up', 'show_evaluation', 'timing_markdown']

log = logging.getLogger(__name__)


def set_up(
    nbid: str, experiment_name: str, project: str, *, image: object = None
) -> tuple[logging.Logger, Experiment]:
    """Configure logging and build the notebook's `Experiment`; returns (logger, experiment)."""
    config = (
        SimpleLoggingConfig()
        .info('notebook', 'utils', 'mini', 'ex_color')
        .error('matplotlib.axes')
        .adopt(*LIGHTNING_LOGGERS)  # Lightning's own console handlers would print every message again
    )
    config.apply()
    run = Experiment(experiment_name, project=project)  # local unless EX_COLOR_BACKEND=modal
    run.image = image
    run.before_each(config.apply)  # the same logging inside a remote container
    return logging.getLogger(f'notebook.{nbid}'), run


def show_evaluation(
    model: nn.Module, cubes: TestCubes, *, nbid: str, tags: Sequence[str]
) -> tuple[float, float]:
    """Colour slices, error curves and latents of `model`; returns the hd cube's (max, median) MSE."""
    show_reconstruction(evaluate_cube(model, cubes.hsv), nbid=nbid, tags=tags)
    worst = show_loss(evaluate_cube(model, cubes.hd_hsv), nbid=nbid, tags=tags)
    show_latents(evaluate_cube(model, cubes.rgb), nbid=nbid, tags=tags)
    return worst


@dataclass(frozen=True)
class NotebookTrainer:
    """What a notebook trains with, so "train under this schedule" is one call, for one seed or many."""

    run_name: str
    project: str
    make_data: MakeData
    k_bottleneck: int
    n_nonlinear: int
    max_steps: int | None = None
    """Stop early (smoke runs); None trains the whole schedule."""

    def one(
        self, dopesheet: Dopesheet, regularizers: Sequence[RegularizerConfig], *, seed: int
    ) -> tuple[nn.Module, pd.DataFrame]:
        """One model (the notebook's story), and its metric history."""
        log.info(f'Training with: {[r.name for r in regularizers]}')
        result = train_model(
            dopesheet=dopesheet,
            regularizers=regularizers,
            make_data=self.make_data,
            k_bottleneck=self.k_bottleneck,
            n_nonlinear=self.n_nonlinear,
            seed=seed,
            run_name=self.run_name,
            project=self.project,
            max_steps=self.max_steps,
        )
        return result.module.model, result.module.history(0)

    def on(
        self, run: Experiment, **modal_options: Any
    ) -> Callable[..., Awaitable[tuple[nn.Module, pd.DataFrame]]]:
        """`one`, registered on `run`: ``await train(dopesheet, regularizers, seed=...)`` trains here, or on
        Modal when the experiment runs there (this machine's wandb credentials go along)."""

        async def train(
            dopesheet: Dopesheet, regularizers: Sequence[RegularizerConfig], *, seed: int
        ) -> tuple[nn.Module, pd.DataFrame]:
            return self.one(dopesheet, regularizers, seed=seed)

        return run.thither(**with_credentials(modal_options))(train)

    def seeds(
        self,
        n: int,
        dopesheet: Dopesheet,
        regularizers: Sequence[RegularizerConfig],
        label: str,
        workers: int = 2,
    ) -> RunResult:
        """Seeds 0 … n − 1 of one configuration, trained side by side as one run of the engine."""
        return self.members(seeds(range(n)), dopesheet, regularizers, label, workers=workers)

    def members(
        self,
        specs: Sequence[MemberSpec],
        dopesheet: Dopesheet,
        regularizers: Sequence[RegularizerConfig],
        label: str,
        *,
        workers: int = 2,
        wandb_mode: str | None = None,
        progress: bool = True,
    ) -> RunResult:
        """Members that differ (seed, schedule, data), trained side by side as one run of the engine;
        `dopesheet` is the schedule of members that name none."""
        return train_members(
            specs,
            dopesheet=dopesheet,
            regularizers=regularizers,
            make_data=self.make_data,
            k_bottleneck=self.k_bottleneck,
            n_nonlinear=self.n_nonlinear,
            run_name=f'{self.run_name} ({label})',
            project=self.project,
            max_steps=self.max_steps,
            workers=workers,
            wandb_mode=wandb_mode,
            progress=progress,
        )


def timing_markdown(n_seeds: int, seconds_seeds: float, seconds_one: float, seed: int) -> str:
    """How the over-seeds run's wall time compares with the single model's, measured in the same run."""
    return (
        f'{n_seeds} seeds trained in {seconds_seeds:.0f} s: {seconds_seeds / seconds_one:.1f}× '
        f'the {seconds_one:.0f} s of the seed-{seed} training cell.'
    )


def evaluate_over_seeds(
    runs: Mapping[str, RunResult], cubes: TestCubes, *, nbid: str, highlight: int = 0
) -> dict[str, pd.DataFrame]:
    """Every member's ablation metrics per configuration; shows the per-seed figure and the first
    configuration's median [IQR] / pass-rate table. Returns the metrics, by configuration."""
    from IPython.display import Markdown, display

    by_seed = {
        name: seed_metrics({m.spec.seed: m.model for m in result}, cubes.hd_hsv, cubes.rgb)
        for name, result in runs.items()
    }
    show_seed_metrics(by_seed, nbid=nbid, highlight=highlight)
    display(Markdown(distribution_table(by_seed[next(iter(by_seed))], highlight=highlight).to_markdown()))
    return by_seed
