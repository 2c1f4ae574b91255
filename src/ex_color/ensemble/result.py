"""`EnsembleResult`: what an ensemble fit produced, with each member available as a standalone model.

Members are addressed by position (``i`` in ``0 .. len(seeds) - 1``, in the order the seeds were
given); `index(seed)` translates a seed to its position. Extracted models are fresh `CNColorMLP`s
with copies of the trained parameters, in eval mode, so they can be evaluated, ablated or pruned
without touching the ensemble or each other.

Deliberately not here: re-training or resuming an ensemble (members share one optimiser; a
checkpoint of one member is a plain model state dict, not a training state).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from ex_color.ensemble.stacked import StackedColorMLP
from ex_color.model import CNColorMLP

__all__ = ['EnsembleResult']


@dataclass
class EnsembleResult:
    """Trained members, their final metrics and their logged history."""

    seeds: list[int]
    """Seed of each member, in member order."""
    stacked: StackedColorMLP
    """The trained ensemble (eval mode)."""
    metrics: pd.DataFrame
    """One row per seed (index ``seed``): the latest logged value of every metric. Train metrics are the
    last window means; validation metrics come from the final validation, run on the final weights."""
    history: pd.DataFrame
    """One row per seed and logged step (columns ``seed``, ``step``, then metrics; NaN where a metric was
    not logged). ``step`` is the 0-based index of the last training batch before the values were
    taken, as Lightning's ``trainer/global_step`` in wandb."""
    run_dir: Path | None = None
    """Local wandb run folder, when tracking was on."""
    run_id: str | None = None
    """wandb run id, when tracking was on."""

    def __len__(self) -> int:
        return len(self.seeds)

    def index(self, seed: int) -> int:
        """Position of the member trained with `seed`."""
        try:
            return self.seeds.index(seed)
        except ValueError:
            raise KeyError(f'no member was trained with seed {seed}; seeds: {self.seeds}') from None

    def member(self, i: int) -> CNColorMLP:
        """Member i as a standalone `CNColorMLP` (eval mode)."""
        return self.stacked.member(i).eval()

    @property
    def models(self) -> list[CNColorMLP]:
        """Every member as a standalone `CNColorMLP`, in seed order (fresh copies on each access)."""
        return [self.member(i) for i in range(len(self.seeds))]

    def save_member(self, i: int, path: str | Path) -> Path:
        """Write member i's state dict (loadable by `CNColorMLP.load_state_dict`) to `path`."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(self.stacked.member_state(i), path)
        return path
