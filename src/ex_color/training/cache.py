"""`MemberCache`: finished members kept on disk, so an unchanged member is never trained twice.

A member's weights are a function of: the recipe (`Recipe.describe`), the member's spec, the settings
that reach the weights or the records (`RunSettings.weight_settings`), and the code and machine that
train it. The key is a sha256 over all of those:

* **the library's code**: every ``.py`` file of the packages that train (`ex_color.training`,
  `ex_color.loss`, `ex_color.data`, the model and its helpers, the experiments' declarations
  ``ex_color/experiments/ex_*/__init__.py``, and `mini.temporal`), as its syntax tree without comments or
  docstrings; editing the training loop's code retrains every member, editing its prose or a
  figure retrains none;
* **torch's version and the CPU's capability** (AVX2 and AVX512 round differently, and training is
  chaotic in float rounding), so a cache copied to another machine trains afresh.

A member's result is independent of the other members it was trained with (a stack of one and a stack
of 200 give the same bits; the tests check it), so a run loads the members the cache holds and trains
only the rest, as one run.

Entries are written atomically (`utils.atomic`) under ``<folder>/<key[:2]>/<key>.pt``; a damaged
entry is an error that names its file. The folder defaults to ``<runs>/members``
(`utils.paths.runs_root`), which smoke runs and the tests point at temporary folders.

Deliberately not here: deciding which members to train (`ex_color.training.front`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from ex_color.training.recipe import Recipe
from ex_color.training.results import MemberResult
from ex_color.training.specs import MemberSpec, tensors_digest
from utils.atomic import write_with
from utils.code_digest import CODE_MEMO, code_digest
from utils.paths import runs_root

__all__ = ['MemberCache', 'code_and_machine_digest', 'library_digest', 'member_key', 'member_keys']

_TRAINING_SOURCES = (
    'ex_color/training',
    'ex_color/loss',
    'ex_color/data',
    'ex_color/model',  # the model room: the model, its stacked form, capture, edits and surgery
    'ex_color/seed.py',
    'ex_color/runtime.py',
    'ex_color/experiments/ex_*/__init__.py',  # each experiment's declaration: its data and regularisers
    'mini/temporal',
)


def code_and_machine_digest(patterns: Sequence[str]) -> str:
    """sha256 of the code `patterns` name under ``src/`` (`utils.code_digest`, memoised in the runs
    folder), torch's version and this CPU's capability: what a cache of computed results keys on."""
    src = Path(__file__).resolve().parents[2]
    h = hashlib.sha256(code_digest(src, patterns, memo=runs_root() / CODE_MEMO).encode())
    h.update(torch.__version__.encode())
    h.update(str(torch.backends.cpu.get_cpu_capability()).encode())
    return h.hexdigest()


@functools.cache
def library_digest() -> str:
    """The digest of the source that trains a member (see the module docstring) and the machine."""
    return code_and_machine_digest(_TRAINING_SOURCES)


def _plain(value: Any) -> Any:
    """JSON-ready values (dopesheets as their tables, paths as strings)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, 'to_dict'):
        return _plain(value.to_dict())
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return repr(value)


def member_keys(recipe: Recipe, specs: Sequence[MemberSpec], settings: Mapping[str, Any]) -> list[str]:
    """The cache key of each of `specs` trained under `recipe` with `settings`
    (`RunSettings.weight_settings`); the recipe, settings and code are described once for them all."""
    described = recipe.describe()
    described.pop('name')  # the name labels runs; it does not reach the weights
    shared = {'recipe': described, 'settings': dict(settings), 'library': library_digest()}
    base = hashlib.sha256(json.dumps(_plain(shared), sort_keys=True).encode())
    keys = []
    for spec in specs:
        member = {
            'seed': spec.seed,
            'dopesheet': spec.dopesheet.to_dict() if spec.dopesheet is not None else None,
            'data': dict(spec.data),
            'weights': dict(spec.weights),
            'start': tensors_digest(spec.start) if spec.start is not None else None,
            'frozen': tensors_digest(spec.frozen) if spec.frozen else None,
            'edit': _describe_edit(spec.edit),
        }
        h = base.copy()
        h.update(json.dumps(_plain(member), sort_keys=True).encode())
        keys.append(h.hexdigest())
    return keys


def member_key(recipe: Recipe, spec: MemberSpec, settings: Mapping[str, Any]) -> str:
    """The cache key of `spec` trained under `recipe` with `settings` (`member_keys` for one)."""
    return member_keys(recipe, [spec], settings)[0]


def _describe_edit(edit: Any) -> str | None:
    if edit is None:
        return None
    state = {k: v for k, v in edit.state_dict().items()}
    return f'{type(edit).__module__}.{type(edit).__qualname__}({edit.extra_repr()}) {tensors_digest(state)}'


class MemberCache:
    """Finished members by key, in a folder."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else runs_root() / 'members'

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f'{key}.pt'

    def get(self, key: str) -> MemberResult | None:
        """The stored member, or None when there is none."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with path.open('rb') as f:
                found = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError) as e:
            raise ValueError(
                f'run cache entry {path} cannot be read ({type(e).__name__}: {e}); delete it, or train '
                'with RunSettings(force=True) to replace it'
            ) from None
        if not isinstance(found, MemberResult):
            raise ValueError(f'run cache entry {path} holds a {type(found).__name__}, not a trained member')
        return found

    def put(self, key: str, member: MemberResult) -> Path:
        """Store `member` under `key`, atomically."""
        return write_with(self.path(key), lambda f: pickle.dump(member, f, protocol=pickle.HIGHEST_PROTOCOL))
