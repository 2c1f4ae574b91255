"""The steps every ablation notebook shares, one call each, so no notebook pastes another's code.

* `set_up(nbid, experiment_name, project, image=...)`: logging (the notebook's, the library's;
  matplotlib's aspect warnings silenced) and an `Experiment` that runs locally unless Modal is asked
  for, with `image` as its container recipe should it be (notebooks pass the project's pinned one from
  `infra`); the notebook's tracking session (`notebook_record.begin`). Returns the notebook's logger
  and the experiment.
* `show_evaluation(model, cubes, nbid=..., tags=...)`: the three figures of a model on the test cubes
  (colour slices, error curves, latents), as every notebook shows them before and after ablation.
* `NotebookTrainer(settings, run)`: "train this recipe" through the front door, here or on Modal as
  `run` says — ``await .one(recipe, seed=...)`` for the story's seed, ``await .seeds(n, recipe, label)``
  for n seeds as one run of the engine, ``await .members(specs, ...)`` for members that differ
  otherwise (the story is then checked to be the table's member, bit for bit);
  `evaluate_over_seeds(runs, cubes, ...)` shows every member's metrics, the figure and the table.

Deliberately not here: anything a notebook varies (its regularisers, data, schedule, prose).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
from torch import nn

from ex_color.evaluation import evaluate_cube
from ex_color.evaluation.ablation import distribution_table, seed_metrics
from ex_color.experiments.common import TestCubes
from ex_color.experiments.figures import show_latents, show_loss, show_reconstruction, show_seed_metrics
from ex_color.experiments.notebook_record import begin
from ex_color.training.cache import member_key, member_keys
from ex_color.training.front import train, train_on
from ex_color.training.loop import LoopCallback
from ex_color.training.recipe import Recipe
from ex_color.training.remote import shard_trainer
from ex_color.training.results import MemberResult, RunResult
from ex_color.training.settings import RunSettings
from ex_color.training.specs import MemberSpec, seeds
from mini.experiment import Experiment
from utils.logging import SimpleLoggingConfig
from utils.logging.lightning import quiet_lightning

__all__ = [
    'NotebookTrainer',
    'evaluate_over_seeds',
    'set_up',
    'show_evaluation',
    'timing_markdown',
    'trained_markdown',
]

log = logging.getLogger(__name__)


def set_up(
    nbid: str, experiment_name: str, project: str, *, image: object = None
) -> tuple[logging.Logger, Experiment]:
    """Configure logging and build the notebook's `Experiment`; returns (logger, experiment)."""
    # Lightning's messages once, through our handler (its own would print each again), without its
    # "GPU available" status lines; the same config travels to worker processes and containers
    config = quiet_lightning(
        SimpleLoggingConfig().info('notebook', 'utils', 'mini', 'ex_color').error('matplotlib.axes')
    )
    config.apply()
    begin(nbid, experiment_name, project)  # the notebook's own tracking run is recorded under these
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
    """ "Train this recipe", for one seed (the story) or many (the tables), through the front door.

    Every run goes through `ex_color.training.train` (or `train_on` the notebook's `Experiment`, so on
    Modal the members go to containers as shards): finished members come from the run cache on a
    re-run, and the story's model *is* seed `seed` of a table of the same recipe: `members` checks the
    weights bitwise and says so under the table (an error if they ever differ).
    """

    settings: RunSettings = field(default_factory=lambda: RunSettings(workers=2))
    """How every run of the notebook is carried out (steps, workers, smoke, cache)."""
    run: Experiment | None = None
    """Where runs go: this experiment's backend (Modal when it runs there); None trains here."""
    modal_options: Mapping[str, Any] = field(
        default_factory=lambda: {'cpu': 1, 'timeout': 3600, 'max_containers': 20}
    )
    """Modal function options of the shards (one shard per container)."""
    stories: dict[str, MemberResult] = field(default_factory=dict, compare=False, repr=False)
    """The story models trained so far, by run-cache key (what `members` compares its members with)."""
    _shards: Any = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.run is not None:
            # registered now, before any session starts (Modal builds its app from the registrations)
            object.__setattr__(self, '_shards', shard_trainer(self.run, **self.modal_options))

    async def _train(
        self,
        recipe: Recipe,
        specs: Sequence[MemberSpec | int],
        settings: RunSettings,
        label: str,
        callbacks: Sequence[LoopCallback] = (),
    ) -> RunResult:
        if self.run is None:
            return train(recipe, specs, settings, label=label, callbacks=callbacks)
        return await train_on(
            self.run, self._shards, recipe, specs, settings, label=label, callbacks=callbacks
        )

    async def one(self, recipe: Recipe, *, seed: int) -> MemberResult:
        """One member of `recipe`: the notebook's story (its `.model`, `.history`)."""
        log.info(f'Training with: {[r.name for r in recipe.regularizers]}')
        result = await self._train(recipe, [seed], self.settings.with_(workers=1), f'seed {seed}')
        story = result.member(seed=seed)
        self.stories[member_key(recipe, story.spec, self.settings.weight_settings())] = story
        return story

    async def seeds(self, n: int, recipe: Recipe, label: str) -> RunResult:
        """Seeds 0 … n − 1 of `recipe`, trained side by side as one run of the engine."""
        return await self.members(seeds(range(n)), recipe, label)

    async def members(
        self,
        specs: Sequence[MemberSpec],
        recipe: Recipe,
        label: str,
        *,
        settings: RunSettings | None = None,
        callbacks: Sequence[LoopCallback] = (),
    ) -> RunResult:
        """Members that differ (seed, schedule, data), trained side by side as one run of the engine;
        `callbacks` record into their results while they train (e.g. `ColourErrors`; local runs only)."""
        result = await self._train(recipe, specs, settings or self.settings, label, callbacks)
        self._same_as_stories(recipe, result)
        return result

    def _same_as_stories(self, recipe: Recipe, result: RunResult) -> None:
        from IPython.display import Markdown, display

        if not self.stories:
            return
        keys = member_keys(recipe, [m.spec for m in result], self.settings.weight_settings())
        for member, key in zip(result, keys, strict=True):
            story = self.stories.get(key)
            if story is None:
                continue
            same = story.state.keys() == member.state.keys() and all(
                torch.equal(story.state[k], member.state[k]) for k in story.state
            )
            if not same:
                raise RuntimeError(
                    f'{member.name} of {result.name!r} does not have the weights of the story trained '
                    'with the same recipe and seed; the engine should give both the same bits'
                )
            display(
                Markdown(
                    f"Seed {member.spec.seed} in this run is the story's model above: the same weights, "
                    'bit for bit.'
                )
            )


def timing_markdown(
    n_seeds: int, seconds_seeds: float, seconds_one: float, seed: int, cached: int = 0
) -> str:
    """How the over-seeds run's wall time compares with the single model's, measured in the same run;
    `cached`: how many of the seeds came from the run cache (the story's seed among them). A re-run
    that trained no seed says so instead of comparing two load times."""
    if cached >= n_seeds:
        return (
            f'All {n_seeds} seeds came from the run cache ({seconds_seeds:.1f} s; trained by an earlier run, '
            'nothing changed since): this run measured no training time.'
        )
    loaded = f' ({cached} of them from the run cache, not trained again)' if cached else ''
    return (
        f'{n_seeds} seeds in {seconds_seeds:.0f} s{loaded}: {seconds_seeds / seconds_one:.1f}× '
        f'the {seconds_one:.0f} s of the seed-{seed} training cell.'
    )


def trained_markdown(result: RunResult, seconds: float) -> str:
    """How a run's members came to be, for prose after "200 members": trained (in `seconds`), loaded
    from the run cache, or both; a re-run that trained nothing does not claim a training time."""
    if result.cached == len(result):
        return f'were loaded from the run cache in {seconds:.1f} s (trained by an earlier run, nothing changed since)'
    loaded = f' ({result.cached} of them loaded from the run cache)' if result.cached else ''
    return f'trained as one run in **{seconds:.0f} s**{loaded}'


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
