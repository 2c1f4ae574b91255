"""`ScoreCache`: the ablation metrics of models already scored, kept on disk, so re-running a notebook
scores nothing it has scored before.

A model's metrics are a function of its weights, the test cubes, the ablated dimensions, the code that
scores it and the machine. An entry is keyed by all of those:

* **the weights** (`tensors_digest` of the state dict): two models with the same weights share
  an entry, whichever run, notebook or cache they came from;
* **the cubes and dimensions** (every colour's bytes, so a changed test set is never served old
  scores);
* **the scoring code** (`SCORING_SOURCES`, as syntax trees without prose: `utils.code_digest`), torch's
  version, the CPU's capability and the torch thread count (a matrix product may round differently
  with another split).

Entries are JSON (floats round-trip exactly through their `repr`). Each scoring call that scored
new models writes them as one pack, atomically (one file, so scoring 200 new models costs one
``fsync``, not 200), under ``<folder>/<context[:2]>/<context>/``, where the context is the key of
everything but the weights; a damaged pack is an error that names its file. The folder
defaults to ``<runs>/scores`` (`utils.paths.runs_root`), which smoke runs and the tests point at
temporary folders.

Deliberately not here: what the metrics are (`ex_color.evaluation.ablation`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from torch import nn

from ex_color.data.color_cube import ColorCube
from ex_color.training.cache import code_and_machine_digest
from ex_color.training.specs import tensors_digest
from utils.atomic import write_with
from utils.paths import runs_root

__all__ = ['SCORING_SOURCES', 'ScoreCache', 'scoring_digest']

SCORING_SOURCES = (
    'ex_color/evaluation',
    'ex_color/model',  # the model room: the model, its stacked form, capture, edits and surgery
    'ex_color/data',
    'ex_color/runtime.py',
)
"""The code a score depends on, relative to ``src/``."""


@functools.cache
def scoring_digest() -> str:
    """The digest of the scoring code (`SCORING_SOURCES`) and the machine."""
    return code_and_machine_digest(SCORING_SOURCES)


class ScoreCache:
    """Metrics by model, for one scoring context (cubes, dimensions, threads)."""

    def __init__(
        self,
        hd_cube: ColorCube,
        rgb_cube: ColorCube,
        dims: Sequence[int],
        threads: int,
        folder: Path | None = None,
    ) -> None:
        self.folder = folder if folder is not None else runs_root() / 'scores'
        h = hashlib.sha256(scoring_digest().encode())
        h.update(f'dims={list(dims)} threads={threads}'.encode())
        for cube in (hd_cube, rgb_cube):
            grid = cube.rgb_grid
            h.update(f'{grid.dtype}:{grid.shape}'.encode())
            h.update(grid.tobytes())
        self.context = h.hexdigest()
        self._entries: dict[str, dict[str, float]] | None = None

    def key(self, model: nn.Module) -> str:
        return tensors_digest(model.state_dict())

    @property
    def pack_folder(self) -> Path:
        return self.folder / self.context[:2] / self.context

    def entries(self) -> dict[str, dict[str, float]]:
        """Every metric set stored for this context, by model key (read once, then kept)."""
        if self._entries is None:
            self._entries = {}
            for path in sorted(self.pack_folder.glob('*.json')) if self.pack_folder.is_dir() else []:
                self._entries.update(_read_pack(path))
        return self._entries

    def get(self, key: str) -> dict[str, float] | None:
        return self.entries().get(key)

    def put(self, metrics: Mapping[str, Mapping[str, float]]) -> None:
        """Store the metrics of several models (by key) as one pack, atomically."""
        if not metrics:
            return
        pack = {k: {name: float(v) for name, v in m.items()} for k, m in metrics.items()}
        data = json.dumps(pack, sort_keys=True).encode()
        write_with(
            self.pack_folder / f'{hashlib.sha256(data).hexdigest()[:32]}.json', lambda f: f.write(data)
        )
        self.entries().update(pack)


def _read_pack(path: Path) -> dict[str, dict[str, float]]:
    try:
        pack = json.loads(path.read_text())
        if not isinstance(pack, dict) or not all(
            isinstance(m, dict) and all(isinstance(v, float) for v in m.values()) for m in pack.values()
        ):
            raise ValueError('not a mapping of model keys to metrics')
    except ValueError as e:
        raise ValueError(
            f'score cache file {path} is damaged ({e}); delete it to score its models again'
        ) from None
    return pack
