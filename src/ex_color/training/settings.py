"""`RunSettings`: how a run is carried out, as one frozen value.

What is trained is the `Recipe` and the members' `MemberSpec`s; everything else about a run lives
here, each setting once, with its default. ``settings.with_(...)`` changes a few. The settings that can change a member's weights or records (steps,
cadences, threads, device) are the ones the run cache keys on (`weight_settings`).

Deliberately not here: where results are shown (notebooks), and Modal's container options (an
`Experiment` decides those).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mini.experiment.backend import BACKENDS

__all__ = ['SMOKE_STEPS', 'TRACKING_MODES', 'RunSettings']

TRACKING_MODES = ('online', 'offline', 'disabled')
SMOKE_STEPS = 60
"""The most steps a smoke run trains."""


def positive_int(owner: str, name: str, value: Any, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{owner}.{name} must be an int >= 1{" or None" if optional else ""}, got {value!r}')


@dataclass(frozen=True)
class RunSettings:
    """How to run: length, cadences, tracking, resources, checkpoints and the run cache."""

    max_steps: int | None = None
    """Stop after this many steps; None trains the whole schedule."""
    val_every_n_epochs: int = 10
    """Validate after every this many epochs (passes over the training data)."""
    log_every_n_steps: int = 16
    """Training metrics are recorded as means over windows of this many steps."""
    tracking: str | None = None
    """wandb mode: 'online', 'offline' or 'disabled'; None resolves it (`wandb_access.wandb_mode`:
    WANDB_MODE, else online with an API key and a reachable server, else offline)."""
    tags: tuple[str, ...] = ()
    """wandb tags of every member's run."""
    job_type: str | None = None
    """wandb job type (e.g. 'sweep', 'fine-tune')."""
    threads: int | None = 1
    """torch threads per process during training (one is fastest for this model); None leaves torch's."""
    device: str = 'cpu'
    """'cpu', 'cuda' (or 'gpu'), 'mps' or 'auto'."""
    workers: int = 1
    """Worker processes that share a run's members (2 uses both cores of a laptop); on Modal, shards."""
    backend: str | None = None
    """Where members train: 'local' (this machine, over `workers` processes) or 'modal' (containers,
    one shard per worker, through `train_on` and an `Experiment` on Modal); None follows the
    Experiment (``set_up(..., backend=)`` or ``EX_COLOR_BACKEND``; local with neither). Not part of
    the cache key: a member trained on Modal is the member trained here."""
    progress: bool = True
    """Show one progress bar for the run."""
    checkpoint_dir: Path | None = None
    """Where each trained member's weights are saved (one `.pt` file per member); None saves none."""
    cache: bool = True
    """Keep finished members in the run cache and load them instead of training them again."""
    cache_dir: Path | None = None
    """The run cache's folder; None: ``<runs>/members`` (`utils.paths.runs_root`, which smoke runs and
    the tests point elsewhere)."""
    force: bool = False
    """Train every member, even those the cache holds (and store the new results)."""
    smoke: bool = False
    """A quick run that checks everything works (CI, a first try): at most `SMOKE_STEPS` steps, and
    the run cache is neither read nor written."""

    def __post_init__(self) -> None:
        positive_int('RunSettings', 'max_steps', self.max_steps, optional=True)
        positive_int('RunSettings', 'val_every_n_epochs', self.val_every_n_epochs)
        positive_int('RunSettings', 'log_every_n_steps', self.log_every_n_steps)
        positive_int('RunSettings', 'threads', self.threads, optional=True)
        positive_int('RunSettings', 'workers', self.workers)
        if self.tracking is not None and self.tracking not in TRACKING_MODES:
            raise ValueError(
                f'RunSettings.tracking must be one of {TRACKING_MODES} or None, got {self.tracking!r}'
            )
        if self.backend is not None and self.backend not in BACKENDS:
            raise ValueError(f'RunSettings.backend must be one of {BACKENDS} or None, got {self.backend!r}')
        if isinstance(self.tags, str):
            raise TypeError('RunSettings.tags must be a sequence of strings, not one string')
        object.__setattr__(self, 'tags', tuple(self.tags))
        for name in ('checkpoint_dir', 'cache_dir'):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))

    def with_(self, **changes: Any) -> RunSettings:
        """Settings that differ from these in the named fields (an unknown field is an error)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(
                f'RunSettings.with_: no field named {unknown[0]!r}; the fields are {sorted(known)}'
            )
        return dataclasses.replace(self, **changes)

    @property
    def steps_limit(self) -> int | None:
        """`max_steps`, capped at `SMOKE_STEPS` in a smoke run."""
        if not self.smoke:
            return self.max_steps
        return SMOKE_STEPS if self.max_steps is None else min(self.max_steps, SMOKE_STEPS)

    @property
    def caching(self) -> bool:
        """Whether the run cache is used (never in a smoke run)."""
        return self.cache and not self.smoke

    def weight_settings(self) -> dict[str, Any]:
        """The settings a member's weights and records depend on (what the run cache keys on)."""
        return {
            'max_steps': self.steps_limit,
            'val_every_n_epochs': self.val_every_n_epochs,
            'log_every_n_steps': self.log_every_n_steps,
            'threads': self.threads,
            'device': self.device,
        }
