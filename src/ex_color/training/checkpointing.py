"""Run checkpoints on disk: written atomically, read back only into the run they belong to.

A checkpoint is the dict `TrainLoop.checkpoint()` returns. On disk it is one `torch.save` file, written
to a temporary file beside the target and renamed into place (`utils.atomic`), so a killed run never
leaves a truncated checkpoint and never destroys the previous one. `save_state` does the same for a
member's weights.

**Whose checkpoint.** Every checkpoint carries a `RunFingerprint`: the members' names, a hash of each
member's schedule (every learning rate and weight at every step), the regularisers and the model's
parameter shapes. Resuming compares it with the run's own and refuses, naming the field (and the
member) that differs, so a checkpoint of other seeds or a shorter dopesheet is never continued
under the new run's labels.

**Members.** A stacked run's tensors carry the member axis first, so one checkpoint of a whole run can
be cut into the checkpoints of its shards (`select_members`) and put back together
(`merge_members`): a run split over worker processes resumes each shard from its own members.

Deliberately not here: what a checkpoint holds and when it is taken (`ex_color.training.loop`).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from utils.atomic import write_with

if TYPE_CHECKING:
    from ex_color.training.engine import Engine

__all__ = [
    'RunFingerprint',
    'load_checkpoint',
    'merge_members',
    'resolve_checkpoint',
    'save_checkpoint',
    'save_members',
    'save_state',
    'select_members',
]


@dataclass(frozen=True)
class RunFingerprint:
    """What makes a checkpoint belong to a run."""

    members: tuple[str, ...]
    """Member names, in order."""
    schedules: tuple[str, ...]
    """Per member: sha256 of its learning rates and weights at every step."""
    steps: int
    """Schedule length."""
    regularizers: tuple[str, ...]
    """Regulariser names, in order."""
    model: tuple[tuple[str, tuple[int, ...]], ...]
    """Parameter names and shapes (a stack's include the member axis)."""

    @classmethod
    def of(cls, engine: Engine) -> RunFingerprint:
        s = engine.schedule
        digests = []
        for m in range(s.members):
            h = hashlib.sha256(s.lr[:, m].tobytes())
            for name, w in s.weights.items():
                h.update(name.encode())
                h.update(w[:, m].tobytes())
            digests.append(h.hexdigest()[:16])
        return cls(
            members=tuple(engine.member_names),
            schedules=tuple(digests),
            steps=s.steps,
            regularizers=tuple(r.name for r in engine.regularizers),
            model=tuple((k, tuple(v.shape)) for k, v in engine.model.state_dict().items()),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str) -> RunFingerprint:
        try:
            return cls(
                members=tuple(data['members']),
                schedules=tuple(data['schedules']),
                steps=int(data['steps']),
                regularizers=tuple(data['regularizers']),
                model=tuple((k, tuple(shape)) for k, shape in data['model']),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f'{source}: not a run checkpoint of this project (fingerprint: {e!r})') from None

    def check(self, run: RunFingerprint, *, source: str) -> None:
        """Raise a ValueError naming what differs between this checkpoint's run and `run`."""
        if self.members != run.members:
            raise ValueError(
                f'{source} belongs to another run: its members are {_names(self.members)}, '
                f"this run's {_names(run.members)}"
            )
        if self.steps != run.steps:
            raise ValueError(
                f"{source} belongs to another run: its schedule has {self.steps} steps, this run's {run.steps}"
            )
        for name, mine, theirs in zip(self.members, self.schedules, run.schedules, strict=True):
            if mine != theirs:
                raise ValueError(
                    f'{source} belongs to another run: member {name!r} was trained under another '
                    'schedule (dopesheet values or regulariser weights differ)'
                )
        if self.regularizers != run.regularizers:
            raise ValueError(
                f'{source} belongs to another run: its regularisers are {list(self.regularizers)}, '
                f"this run's {list(run.regularizers)}"
            )
        if self.model != run.model:
            raise ValueError(
                f'{source} belongs to another run: its model parameters are {dict(self.model)}, '
                f"this run's {dict(run.model)}"
            )


def _names(names: Sequence[str]) -> str:
    shown = list(names[:4]) + (['…'] if len(names) > 4 else [])
    return f'{len(names)} ({", ".join(shown)})'


def save_checkpoint(state: Mapping[str, Any], path: str | Path) -> Path:
    """Write a run checkpoint atomically; returns the path."""
    return write_with(Path(path), lambda f: torch.save(dict(state), f))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a run checkpoint, with an error that names the file when it is missing, cut short or not one."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f'checkpoint {p}: no such file')
    try:
        state = torch.load(p, map_location='cpu', weights_only=False)
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError, zipfile.BadZipFile) as e:
        raise ValueError(
            f'checkpoint {p}: cannot be read ({type(e).__name__}: {e}); the file is truncated or not a '
            'checkpoint written by this project'
        ) from None
    if not isinstance(state, dict) or 'fingerprint' not in state:
        raise ValueError(f'checkpoint {p}: not a run checkpoint of this project (no fingerprint)')
    return state


def resolve_checkpoint(
    resume_from: str | Path | Mapping[str, Any] | None,
) -> tuple[dict[str, Any] | None, str]:
    """A checkpoint given as a path (read) or as the dict itself, and how errors should name it."""
    if resume_from is None:
        return None, ''
    if isinstance(resume_from, Mapping):
        return dict(resume_from), 'the checkpoint'
    return load_checkpoint(resume_from), f'checkpoint {resume_from}'


def save_state(state: dict[str, Any], path: str | Path) -> Path:
    """`torch.save(state, path)`, atomically."""
    return write_with(Path(path), lambda f: torch.save(state, f))


def save_members(states: Sequence[tuple[str, Mapping[str, Any]]], folder: str | Path) -> list[Path]:
    """Save `(file name, state dict)`s into `folder` as one set: every file is written into a hidden
    staging folder inside it first and moved into place only once all are written, so a reader never
    sees a mix of this set and an earlier one. On failure nothing in `folder` changes and the
    `OSError` names the file that could not be written."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    try:
        staging = Path(tempfile.mkdtemp(prefix='.saving-', dir=target))
    except OSError as e:
        raise OSError(e.errno, f'member weights: cannot write files in {target} ({e.strerror})') from None
    try:
        for name, state in states:
            path = staging / name
            try:
                with path.open('wb') as f:
                    torch.save(dict(state), f)
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as e:
                raise OSError(
                    e.errno,
                    f'member weights: cannot write {target / name} ({e.strerror}); {target} is as it was',
                ) from None
        out = []
        for name, _ in states:
            os.replace(staging / name, target / name)
            out.append(target / name)
        return out
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _take(value: Any, index: torch.Tensor) -> Any:
    if isinstance(value, torch.Tensor) and value.ndim >= 1:
        return value.index_select(0, index)
    return value


def select_members(state: Mapping[str, Any], names: Sequence[str], *, source: str) -> dict[str, Any]:
    """The checkpoint of the members `names` only (a stacked run's checkpoint, cut along the member axis)."""
    fp = RunFingerprint.from_dict(state['fingerprint'], source=source)
    missing = [n for n in names if n not in fp.members]
    if missing:
        raise ValueError(f'{source} has no member named {missing[0]!r}; its members are {_names(fp.members)}')
    idx = [fp.members.index(n) for n in names]
    index = torch.tensor(idx, dtype=torch.long)
    optimizer = state['optimizer']
    out = dict(state)
    out['fingerprint'] = {
        **state['fingerprint'],
        'members': [fp.members[i] for i in idx],
        'schedules': [fp.schedules[i] for i in idx],
        'model': [(k, [len(idx), *shape[1:]]) for k, shape in fp.model],
    }
    out['model'] = {k: _take(v, index) for k, v in state['model'].items()}
    out['optimizer'] = {
        **optimizer,
        'state': {
            p: {k: (v if k == 'step' else _take(v, index)) for k, v in s.items()}
            for p, s in optimizer['state'].items()
        },
    }
    data = state['data']
    if data is not None:
        out['data'] = {'members': [data['members'][i] for i in idx]}
    out['labels'] = {**state['labels'], 'totals': {k: v[index] for k, v in state['labels']['totals'].items()}}
    where = {m: j for j, m in enumerate(idx)}
    out['history'] = [(where[m], *rest) for m, *rest in state['history'] if m in where]
    return out


def merge_members(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One checkpoint from the checkpoints of a run's shards, in shard order (`select_members`'s inverse)."""
    if len(parts) == 1:
        return dict(parts[0])
    first = parts[0]
    for key in ('step', 'epoch', 'consumed'):
        values = {p[key] for p in parts}
        if len(values) != 1:
            raise ValueError(f'shards stopped at different places ({key}: {sorted(values)}); cannot merge')
    out = dict(first)
    fps = [p['fingerprint'] for p in parts]
    out['fingerprint'] = {
        **fps[0],
        'members': [n for fp in fps for n in fp['members']],
        'schedules': [h for fp in fps for h in fp['schedules']],
        'model': [
            (k, [sum(fp['model'][i][1][0] for fp in fps), *shape[1:]])
            for i, (k, shape) in enumerate(fps[0]['model'])
        ],
    }
    out['model'] = {k: torch.cat([p['model'][k] for p in parts]) for k in first['model']}
    states = [p['optimizer']['state'] for p in parts]
    out['optimizer'] = {
        **first['optimizer'],
        'state': {
            key: {
                k: (v if k == 'step' else torch.cat([s[key][k] for s in states]))
                for k, v in states[0][key].items()
            }
            for key in states[0]
        },
    }
    if first['data'] is not None:
        out['data'] = {'members': [m for p in parts for m in p['data']['members']]}
    out['labels'] = {
        'n_total': first['labels']['n_total'],
        'totals': {
            k: torch.cat([p['labels']['totals'][k] for p in parts]) for k in first['labels']['totals']
        },
    }
    history, offset = [], 0
    for p in parts:
        history += [(m + offset, *rest) for m, *rest in p['history']]
        offset += len(p['fingerprint']['members'])
    out['history'] = history
    out['latest_metrics'] = {}
    out['val_metrics'] = {}
    return out
