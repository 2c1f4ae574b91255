"""`train_members`: one run of the engine over a list of members that differ.

A run is a list of `MemberSpec`s. Each member has its own seed and may have its own dopesheet (same
step count; any values, the learning rate included), its own data (``make_data(seed, **spec.data)``,
e.g. a label-rate scale) and its own regulariser weight scales; a member may also start from given
weights, keep entries frozen or an edit in place (fine-tuning). All members are trained side by side
over a `StackedColorMLP` by the project's loop (`fit`, `ex_color.training.loop`); member m of a mixed
run equals the one-member run of member m's spec (the tests compare them at every logged window,
and a stack of one and a stack of many give the same bits).

Member m is built exactly as the single-model notebooks build a model: ``set_deterministic_mode(seed)``,
then ``CNColorMLP(k_bottleneck, n_nonlinear=n_nonlinear)`` (loaded with ``spec.start`` when given),
then its data, in that order.

Most callers want the front door instead (`ex_color.training.front.train`: recipes, run settings and
the run cache); this is the engine run it makes.

With ``workers > 1`` the members are split into contiguous shards trained in worker processes (both
cores of a laptop; see `ex_color.training.shards`), and merged back in member order; results are
identical to one process. On a Modal backend the same shards go to containers
(`train_members_on`).

Deliberately not here: evaluation of the trained members (see `ex_color.evaluation`).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
import time
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn

from ex_color.erasure import ErasedBottleneck
from ex_color.loss import RegularizerConfig
from ex_color.model import CNColorMLP
from ex_color.seed import set_deterministic_mode
from ex_color.training.checkpointing import save_members
from ex_color.training.fit import fit, positive_int, resolve_device
from ex_color.training.loop import LoopCallback
from ex_color.training.module import TrainingModule
from ex_color.training.schedule import Schedule
from ex_color.training.shards import train_sharded
from ex_color.training.stacked import StackedColorMLP, StackedEdits, check_frozen, freeze_entries
from ex_color.training.stacked_batches import StackedBatches
from ex_color.training.tracking import MemberWandbLogger
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline
from utils.atomic import check_writable

__all__ = ['MakeData', 'MemberResult', 'MemberSpec', 'RunResult', 'check_specs', 'seeds', 'train_members']

log = logging.getLogger(__name__)

MakeData = Callable[..., tuple[Iterable[Any], Iterable[Any] | None]]
"""``make_data(seed, **spec.data) -> (training batches, validation batches or None)``."""


@dataclass(frozen=True)
class MemberSpec:
    """What makes one member of a run differ from the others."""

    seed: int
    """Seeds the member's initial weights and its data."""
    dopesheet: Dopesheet | None = None
    """The member's schedule; None uses the run's. Must have the run's number of steps."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """Keyword arguments for the run's `make_data` (e.g. ``{'label_scale': 0.5}``)."""
    weights: Mapping[str, float] = field(default_factory=dict)
    """Scale of named regularisers' scheduled weights (e.g. ``{'reg-anchor': 2.0}``)."""
    name: str | None = None
    """Label in results and wandb; default ``seed-<seed>`` (plus the data and weight settings)."""
    start: Mapping[str, Tensor] | None = field(default=None, repr=False)
    """Weights to start from (a `CNColorMLP` state dict): fine-tuning. None: fresh weights from the seed."""
    frozen: Mapping[str, Tensor] = field(default_factory=dict, repr=False)
    """Boolean masks by parameter name of entries that must not change (e.g. `surgery.ablation_mask`):
    their gradients are zeroed before every optimiser step, so they stay exactly as they start."""
    edit: nn.Module | None = field(default=None, repr=False)
    """An edit of the member's unit latents kept in every forward pass (an eraser, `erasure.erased`'s
    edit), re-normalised after; it holds buffers, not parameters, so it is never trained."""

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f'MemberSpec.seed must be an int, got {self.seed!r}')
        if self.edit is not None and any(True for _ in self.edit.parameters()):
            raise ValueError(f'MemberSpec {self.label}: edit has parameters; an edit must hold buffers only')
        if self.dopesheet is not None and not isinstance(self.dopesheet, Dopesheet):
            raise TypeError(
                f'MemberSpec.dopesheet must be a Dopesheet or None, got {type(self.dopesheet).__name__}'
            )
        for key, value in self.weights.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ValueError(f'MemberSpec.weights[{key!r}] must be a number >= 0, got {value!r}')

    @property
    def label(self) -> str:
        if self.name is not None:
            return self.name
        parts = [f'seed-{self.seed}']
        parts += [f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}' for k, v in self.data.items()]
        parts += [f'{k}×{v:g}' for k, v in self.weights.items()]
        if self.dopesheet is not None:
            parts.append(Path(self.dopesheet.source).stem)
        return ' '.join(parts)

    def describe(self) -> dict[str, Any]:
        """The spec as plain values (wandb config, tables)."""
        out: dict[str, Any] = {
            'seed': self.seed,
            'dopesheet': self.dopesheet.source if self.dopesheet is not None else None,
            'data': dict(self.data),
            'weights': dict(self.weights),
        }
        if self.start is not None:
            out['start'] = tensors_digest(self.start)
        if self.frozen:
            out['frozen'] = sorted(self.frozen)
        if self.edit is not None:
            out['edit'] = type(self.edit).__name__
        return out


def tensors_digest(tensors: Mapping[str, Tensor]) -> str:
    """sha256 of named tensors (names, dtypes, shapes and bytes), for keys and configs."""
    h = hashlib.sha256()
    for key in sorted(tensors):
        t = tensors[key].detach().cpu().contiguous()
        h.update(f'{key}:{t.dtype}:{tuple(t.shape)}'.encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()[:16]


def seeds(values: Iterable[int], **shared: Any) -> list[MemberSpec]:
    """One spec per seed, with the same other settings: ``seeds(range(20), data={'label_scale': 2})``."""
    return [MemberSpec(seed, **shared) for seed in values]


@dataclass
class MemberResult:
    """One trained member."""

    spec: MemberSpec
    """What the member was trained with."""
    name: str
    """The member's label (unique within the run)."""
    metrics: dict[str, float]
    """Latest value of every metric (train: last window; validation: last validation)."""
    history: pd.DataFrame
    """Every recorded value: rows (step, metric, value)."""
    label_counts: dict[str, int]
    """Samples that carried each active label."""
    state: dict[str, Any]
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


def check_specs(specs: Sequence[MemberSpec]) -> list[MemberSpec]:
    if isinstance(specs, MemberSpec) or not isinstance(specs, Sequence):
        raise TypeError(f'members must be a list of MemberSpec, got {type(specs).__name__}')
    out = list(specs)
    if not out:
        raise ValueError('members: the list is empty; a run needs at least one MemberSpec')
    for i, s in enumerate(out):
        if not isinstance(s, MemberSpec):
            raise TypeError(f'members[{i}] must be a MemberSpec, got {type(s).__name__} {s!r}')
    labels = [s.label for s in out]
    dupes = sorted({n for n in labels if labels.count(n) > 1})
    if dupes:
        raise ValueError(f'members: names must be unique; repeated: {dupes} (give each MemberSpec a name=)')
    return out


def _file_name(label: str) -> str:
    """A file name for a member's weights, distinct for distinct labels: a label that is not already
    a safe name gets a digest of itself, so 'trial 1' and 'trial_1' never share a file."""
    safe = re.sub(r'[^A-Za-z0-9._=-]+', '_', label).strip('_.')
    if safe == label and safe:
        return f'{safe}.pt'
    digest = hashlib.sha256(label.encode()).hexdigest()[:8]
    return f'{safe or "member"}-{digest}.pt'


def train_members(
    members: Sequence[MemberSpec],
    *,
    dopesheet: Dopesheet,
    regularizers: Sequence[RegularizerConfig],
    make_data: MakeData,
    k_bottleneck: int,
    n_nonlinear: int,
    run_name: str,
    project: str = '',
    max_steps: int | None = None,
    val_every_n_epochs: int = 10,
    log_every_n_steps: int = 16,
    wandb_mode: str | None = None,
    job_type: str | None = None,
    tags: Sequence[str] = (),
    progress: bool = True,
    threads: int | None = 1,
    device: str = 'cpu',
    workers: int = 1,
    checkpoint_dir: str | Path | None = None,
    unscheduled: Collection[str] = (),
    ignore_columns: Collection[str] = (),
    callbacks: Sequence[LoopCallback] = (),
    save_checkpoint_to: str | Path | None = None,
    resume_from: str | Path | dict[str, Any] | None = None,
    keep_checkpoint: bool = False,
    wandb_dir: str | Path | None = None,
) -> RunResult:
    """Train every member in one run of the engine (see the module docstring).

    `save_checkpoint_to` writes the run's checkpoint when it stops (at `max_steps` or the end);
    `resume_from` continues from one (a path or the dict), refused unless it is this run's;
    `keep_checkpoint` returns it in the result (shards send theirs to the parent that way).
    `wandb_dir` is where wandb run folders go (default: `tracking.local_wandb_dir`).
    """
    specs = check_specs(members)
    positive_int('workers', workers)
    resolve_device(device)
    if checkpoint_dir is not None:
        check_writable(Path(checkpoint_dir), 'checkpoint_dir')
    if save_checkpoint_to is not None:
        check_writable(Path(save_checkpoint_to).parent, 'save_checkpoint_to')
    if workers > 1 and len(specs) > 1:
        settings = {
            k: v for k, v in locals().items() if k not in ('members', 'specs', 'workers', 'checkpoint_dir')
        }
        start = time.perf_counter()
        members, checkpoint = train_sharded(
            specs, workers=min(workers, len(specs)), settings=settings, train=train_members
        )
        run = RunResult(members, run_name, time.perf_counter() - start, checkpoint=checkpoint)
        if checkpoint_dir is not None:  # one set, once every shard is back
            save_member_files(run, Path(checkpoint_dir))
        return run
    start = time.perf_counter()
    names = [s.label for s in specs]
    schedules = []
    timelines: dict[int, Timeline] = {}  # members that share a sheet share its realisation
    for s, name in zip(specs, names, strict=True):
        sheet = s.dopesheet if s.dopesheet is not None else dopesheet
        if id(sheet) not in timelines:
            timelines[id(sheet)] = Timeline(sheet)
        schedules.append(
            Schedule.build(
                sheet,
                regularizers,
                unscheduled=unscheduled,
                ignore_columns=ignore_columns,
                weight_scale=s.weights,
                member=name,
                timeline=timelines[id(sheet)],
            )
        )
    schedule = Schedule.stack(schedules)
    models, train_sets, val_sets = [], [], []
    for s, name in zip(specs, names, strict=True):
        set_deterministic_mode(s.seed, verbose=False)
        model = CNColorMLP(k_bottleneck, n_nonlinear=n_nonlinear)
        if s.start is not None:
            try:
                model.load_state_dict(dict(s.start))
            except RuntimeError as e:
                raise ValueError(
                    f'member {name}: start weights do not fit CNColorMLP({k_bottleneck}, n_nonlinear={n_nonlinear}): {e}'
                ) from None
        check_frozen(model, s.frozen, name)
        models.append(model)
        try:
            train_data, val_data = make_data(s.seed, **dict(s.data))
        except TypeError as e:
            raise TypeError(
                f'member {name}: make_data(seed, **data) failed for data={dict(s.data)}: {e}'
            ) from e
        train_sets.append(train_data)
        val_sets.append(val_data)
    n_val = sum(v is not None for v in val_sets)
    if n_val not in (0, len(specs)):
        raise ValueError(
            f'make_data returned validation data for {n_val} of {len(specs)} members; need all or none'
        )
    net = StackedColorMLP(models)
    if any(s.edit is not None for s in specs):
        net.bottleneck = StackedEdits(net.bottleneck, [copy.deepcopy(s.edit) for s in specs])
    if any(s.frozen for s in specs):
        freeze_entries(net, [s.frozen for s in specs])
    module = TrainingModule(net, schedule, nn.MSELoss(), regularizers, member_names=names)
    train_batches = StackedBatches(train_sets, role='training')
    val_batches = StackedBatches([v for v in val_sets if v is not None], role='validation') if n_val else None
    logger = MemberWandbLogger(
        [f'{run_name} · {name}' for name in names],
        group=run_name,
        project=project,
        configs=[
            {**s.describe(), 'member': name, 'k_bottleneck': k_bottleneck, 'n_nonlinear': n_nonlinear}
            for s, name in zip(specs, names, strict=True)
        ],
        job_type=job_type,
        tags=tags,
        mode=wandb_mode,
        save_dir=Path(wandb_dir) if wandb_dir is not None else None,
    )
    fitted = fit(
        module,
        train_batches,
        val_batches,
        run_name=run_name,
        project=project,
        max_steps=max_steps,
        val_every_n_epochs=val_every_n_epochs,
        log_every_n_steps=log_every_n_steps,
        logger=logger,
        progress=progress,
        callbacks=callbacks,
        threads=threads,
        device=device,
        save_checkpoint_to=save_checkpoint_to,
        keep_checkpoint=keep_checkpoint,
        resume_from=resume_from,
    )
    net.cpu()
    engine = module.engine
    histories, finals = engine.member_histories(), engine.member_final_metrics()
    edits = net.bottleneck.member_edits() if isinstance(net.bottleneck, StackedEdits) else [None] * len(specs)
    results = [
        MemberResult(
            spec=s,
            name=name,
            metrics=finals[i],
            history=histories[i],
            label_counts=fitted.member_label_counts[i],
            state=net.member_state(i),
            shape=(k_bottleneck, n_nonlinear),
            edit=edits[i],
        )
        for i, (s, name) in enumerate(zip(specs, names, strict=True))
    ]
    run = RunResult(results, run_name, time.perf_counter() - start, checkpoint=fitted.checkpoint)
    if checkpoint_dir is not None:
        save_member_files(run, Path(checkpoint_dir))
    return run


def save_member_files(run: RunResult, folder: Path) -> None:
    """Save every member's weights into `folder` as one set (`checkpointing.save_members`). When the
    set cannot be written (a full disk, a folder made read-only mid-run), the folder keeps what it had,
    the members keep their results in memory, and the run says why in `save_error`, a logged error and
    a warning."""
    try:
        paths = save_members([(_file_name(m.name), m.state) for m in run.members], folder)
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
