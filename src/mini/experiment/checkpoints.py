"""Where trained weights go: a local `runs/<slug>/` folder or a Modal Volume, behind one API.

Design decisions:
- A `CheckpointStore` is plain data (a folder path, and optionally the name and mount path of a
  Modal Volume), so it pickles into a remote function as an argument and means the same thing
  there. The folder is the path *as seen by the process that saves*: locally the runs folder,
  remotely the Volume's mount path.
- `save` writes `<root>/<key>.pt` atomically (temp file + rename), so a crashed run never leaves a
  half-written checkpoint under the final name. Inside a Modal container it then commits the Volume
  so other containers and the notebook can see the file.
- `load` reads the local file when it exists; otherwise, for a Volume-backed store used from the
  notebook, it reads the file through the Volume API. Checkpoints are state dicts loaded with
  `weights_only=True` onto the CPU: no arbitrary code runs when loading.
- Keys are restricted to `[A-Za-z0-9._-]` (no folders, no `..`), so a key can never escape the root.
- The local runs folder is `runs/<experiment slug>/` under the project root, found by walking up
  from the working directory to the nearest `pyproject.toml` (notebooks run inside the repo; `runs/`
  is git-ignored). `EX_COLOR_RUNS_DIR` replaces that folder (smoke runs point it at their own
  temporary folder, so a 60-step smoke run never overwrites a real sweep's weights). Pass `root=`
  explicitly anywhere else.

Deliberately not done: versioning, retention, listing Volume contents, non-state-dict payloads.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from utils.atomic import write_with

_KEY = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')


def slugify(name: str) -> str:
    """Lower-case, runs of other characters become `-`: `'Ex 2.10: Ablate'` -> `'ex-2-10-ablate'`."""
    slug = re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')
    if not slug:
        raise ValueError(f'slugify: {name!r} has no letters or digits to build a folder name from')
    return slug


def in_modal_container() -> bool:
    """True inside a Modal container (the client sets this variable there)."""
    return os.environ.get('MODAL_IS_REMOTE') == '1'


@dataclass(frozen=True)
class CheckpointStore:
    """Save and load state dicts by key, locally or on a Modal Volume."""

    root: str
    """Folder holding `<key>.pt` files, as seen by the process that saves them."""
    volume: str | None = None
    """Name of the Modal Volume behind `root`, or None for a purely local folder."""
    mount: str | None = None
    """Where the Volume is mounted in containers (`root` lies inside it); required with `volume`."""

    def __post_init__(self):
        if not isinstance(self.root, str) or not self.root:
            raise ValueError(f'CheckpointStore.root: expected a non-empty path string, got {self.root!r}')
        if (self.volume is None) != (self.mount is None):
            raise ValueError('CheckpointStore.volume and CheckpointStore.mount must be given together')
        if self.mount is not None:
            root, mount = PurePosixPath(self.root), PurePosixPath(self.mount)
            if not mount.is_absolute() or not root.is_relative_to(mount):
                raise ValueError(
                    f'CheckpointStore.root {self.root!r} must lie inside the absolute mount {self.mount!r}'
                )

    @classmethod
    def local(cls, root: str | Path) -> CheckpointStore:
        """A store in a local folder (created on first save)."""
        return cls(root=str(Path(root)))

    @classmethod
    def on_volume(cls, volume: str, mount: str = '/checkpoints', subdir: str = '') -> CheckpointStore:
        """A store on the Modal Volume `volume`, mounted at `mount` in containers."""
        root = PurePosixPath(mount) / subdir if subdir else PurePosixPath(mount)
        return cls(root=str(root), volume=volume, mount=mount)

    def path(self, key: str) -> Path:
        """Local path of the checkpoint for `key`."""
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f'CheckpointStore key {key!r}: use letters, digits, ".", "_" and "-" only')
        return Path(self.root) / f'{key}.pt'

    def save(self, key: str, state_dict: dict[str, Any]) -> Path:
        """Write `state_dict` under `key`; returns the file path."""
        import torch

        if not isinstance(state_dict, dict):
            raise TypeError(
                f'CheckpointStore.save: state_dict must be a dict, got {type(state_dict).__name__}'
            )
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_with(target, lambda f: torch.save(state_dict, f))
        if self.volume is not None and in_modal_container():
            import modal

            modal.Volume.from_name(self.volume).commit()
        return target

    def load(self, key: str) -> dict[str, Any]:
        """The state dict saved under `key` (tensors on the CPU)."""
        import torch

        target = self.path(key)
        if target.is_file():
            return torch.load(target, map_location='cpu', weights_only=True)
        if self.volume is not None and not in_modal_container():
            data = self._read_from_volume(target)
            return torch.load(io.BytesIO(data), map_location='cpu', weights_only=True)
        raise FileNotFoundError(f'CheckpointStore: no checkpoint for key {key!r} at {target}')

    def exists(self, key: str) -> bool:
        """Whether a local file exists for `key` (Volume contents are not listed from outside)."""
        return self.path(key).is_file()

    def _read_from_volume(self, target: Path) -> bytes:
        import modal

        assert self.mount is not None
        inside = PurePosixPath(target.as_posix()).relative_to(self.mount)
        volume = modal.Volume.from_name(self.volume)
        return b''.join(volume.read_file(inside.as_posix()))
