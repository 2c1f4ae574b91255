"""`MemberResult` and `RunResult`: what a run gives back, member by member, and its weight files.

A member's result holds its final metrics, its metric history, its label counts and its weights
(`.model` rebuilds a standalone `CNColorMLP`, with its edit reattached when it trained with one). A
run's result holds its members in order, with tables over them (`metrics`, `history`) and
`member(seed=...)` to pick one. `save_member_files` writes every member's weights into a folder as one
set, under file names that stay distinct for distinct member names.

Deliberately not here: training (`ex_color.training.run`).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from ex_color.model import CNColorMLP
from ex_color.model.edits import ErasedBottleneck
from ex_color.training.checkpointing import save_members
from ex_color.training.specs import MemberSpec

__all__ = ['MemberResult', 'RunResult', 'member_file_name', 'save_member_files']

log = logging.getLogger(__name__)


@dataclass
class MemberResult:
    """One trained member."""

    spec: MemberSpec
    """What the member was trained with."""
    name: str
    """The member's label (unique within the run)."""
    metrics: dict[str, float]
    """Latest value of every metric (train: last window; validation: last validation)."""
    history: pd.DataFrame = field(repr=False)
    """Every recorded value: rows (step, metric, value)."""
    label_counts: dict[str, int]
    """Samples that carried each active label."""
    state: dict[str, Any] = field(repr=False)
    """The trained weights, a `CNColorMLP` state dict."""
    shape: tuple[int, int]
    """(k_bottleneck, n_nonlinear) of the model."""
    checkpoint: Path | None = None
    """Where the weights were saved, when the run had a `checkpoint_dir`."""
    edit: nn.Module | None = field(default=None, repr=False)
    """The edit the member trained with in place (`MemberSpec.edit`), as the run left it."""

    @property
    def model(self) -> CNColorMLP:
        """A fresh `CNColorMLP` with the trained weights (eval mode)."""

        with torch.random.fork_rng(devices=[]):
            model = CNColorMLP(self.shape[0], n_nonlinear=self.shape[1])
        model.load_state_dict(self.state)
        if self.edit is not None:  # the member trained with its edit in place: it keeps it
            model.bottleneck = ErasedBottleneck(model.bottleneck, copy.deepcopy(self.edit).cpu())
        return model.eval()


@dataclass
class RunResult:
    """Every member of a run, in spec order."""

    members: list[MemberResult]
    """The members."""
    name: str
    """The run's name (wandb group)."""
    seconds: float = 0.0
    """Wall time of the run."""
    offline_runs: dict[str, bytes] = field(default_factory=dict, repr=False)
    """Offline wandb run folders packed by a remote shard, on their way back (`train_members_on`)."""
    checkpoint: dict[str, Any] | None = field(default=None, repr=False)
    """The run's checkpoint when it stopped, when asked for (``keep_checkpoint``)."""
    save_error: str | None = None
    """Why the members' weight files could not be saved (`checkpoint_dir`), when they could not."""
    cached: int = 0
    """How many of the members came from the run cache rather than being trained (`train`)."""

    def __len__(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        # a run of hundreds of members would otherwise print every member's spec
        return (
            f'RunResult({self.name!r}: {len(self.members)} members, {self.seconds:.1f} s, '
            f'{self.cached} from the run cache)'
        )

    def __getitem__(self, i: int) -> MemberResult:
        return self.members[i]

    def __iter__(self):
        return iter(self.members)

    @property
    def metrics(self) -> pd.DataFrame:
        """One row per member (index: member name) with its spec's seed and its final metrics."""
        rows = [{'seed': m.spec.seed, **m.metrics} for m in self.members]
        return pd.DataFrame(rows, index=pd.Index([m.name for m in self.members], name='member'))

    @property
    def history(self) -> pd.DataFrame:
        """Every member's history: rows (member, step, metric, value)."""
        frames = [m.history.assign(member=m.name) for m in self.members]
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return df[['member', 'step', 'metric', 'value']] if len(df) else df

    @property
    def models(self) -> list[CNColorMLP]:
        return [m.model for m in self.members]

    def member(self, *, seed: int | None = None, name: str | None = None) -> MemberResult:
        """The one member with this seed (or this name); an error when none or several match."""
        if (seed is None) == (name is None):
            raise TypeError('RunResult.member: give exactly one of seed= and name=')
        if seed is not None:
            found = [m for m in self.members if m.spec.seed == seed]
            what = f'seed {seed}'
        else:
            found = [m for m in self.members if m.name == name]
            what = f'name {name!r}'
        if len(found) != 1:
            names = ', '.join(m.name for m in found) if found else 'none'
            raise LookupError(
                f'run {self.name!r}: {len(found)} members have {what} ({names}); '
                + ('ask by name=' if found else f'its members are {[m.name for m in self.members][:6]}')
            )
        return found[0]


def member_file_name(label: str) -> str:
    """A file name for a member's weights, distinct for distinct labels: a label that is not already
    a safe name gets a digest of itself, so 'trial 1' and 'trial_1' never share a file."""
    safe = re.sub(r'[^A-Za-z0-9._=-]+', '_', label).strip('_.')
    if safe == label and safe:
        return f'{safe}.pt'
    digest = hashlib.sha256(label.encode()).hexdigest()[:8]
    return f'{safe or "member"}-{digest}.pt'


def save_member_files(run: RunResult, folder: Path) -> None:
    """Save every member's weights into `folder` as one set (`checkpointing.save_members`). When the
    set cannot be written (a full disk, a folder made read-only mid-run), the folder keeps what it had,
    the members keep their results in memory, and the run says why in `save_error`, a logged error and
    a warning."""
    try:
        paths = save_members([(member_file_name(m.name), m.state) for m in run.members], folder)
    except OSError as e:
        run.save_error = str(e)
        log.error('%s', e)
        warnings.warn(
            f'member weights were not saved ({e}); {folder} is as it was, and the results are in memory',
            RuntimeWarning,
            stacklevel=3,
        )
        return
    for member, path in zip(run.members, paths, strict=True):
        member.checkpoint = path
