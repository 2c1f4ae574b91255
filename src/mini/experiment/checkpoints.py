"""Where trained weights go: a local `runs/<slug>/` folder or a Modal Volume, behind one API.

Design decisions:
- A `CheckpointStore` is plain data (a local folder, and optionally the name, mount path and folder
  of a Modal Volume), so it pickles into a remote function as an argument and means the same thing
  there. Each process writes where it can: a Modal container (``MODAL_IS_REMOTE=1``) into the
  Volume's mount (`remote_root`), committing the Volume after each save so the notebook and other
  containers see the file; any other process (the notebook on the laptop) into the local `root`.
- `save` writes the file atomically (temp file + rename), so a crashed run never leaves a
  half-written checkpoint under the final name.
- `load` reads the file the process would have written; outside a container, a key that is not in
  the local folder is read from the Volume (a checkpoint a container saved). Checkpoints are state
  dicts loaded with `weights_only=True` onto the CPU: no arbitrary code runs when loading. A file
  torch cannot read (cut short by a copy, a full disk or another writer, or not a checkpoint at all)
  is a `CheckpointError` naming it, not torch's bare ``OSError: [Errno 22]`` or miniz message.
- The Volume is reached only through `open_volume(name)` (``read_file``, ``commit``), so a folder can
  stand in for it (the tests use one).
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
import pickle
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from utils.atomic import write_with

_KEY = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read as a state dict (truncated, corrupt, or not one)."""


def _load(source: Path | bytes, name: str) -> dict[str, Any]:
    """torch's weights-only load of `source` (a file, or the bytes of one) onto the CPU; a file it
    cannot read is a `CheckpointError` that names it (`name`)."""
    import torch

    try:
        return torch.load(
            io.BytesIO(source) if isinstance(source, bytes) else source, map_location='cpu', weights_only=True
        )
    except (PermissionError, IsADirectoryError):
        raise  # these name the file themselves, and are not about its contents
    except (EOFError, RuntimeError, OSError, ValueError, pickle.UnpicklingError) as e:
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
        # torch's own messages run to a paragraph; their first sentence says what failed
        detail = str(e).strip().splitlines()[0].split('. ')[0] if str(e).strip() else 'no more data'
        raise CheckpointError(
            f'{name}: not a readable checkpoint ({size} bytes): truncated or corrupt, or not a state dict '
            f'saved by CheckpointStore ({type(e).__name__}: {detail})'
        ) from e


def slugify(name: str) -> str:
    """Lower-case, runs of other characters become `-`: `'Ex 2.10: Ablate'` -> `'ex-2-10-ablate'`."""
    slug = re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')
    if not slug:
        raise ValueError(f'slugify: {name!r} has no letters or digits to build a folder name from')
    return slug


def in_modal_container() -> bool:
    """True inside a Modal container (the client sets this variable there)."""
    return os.environ.get('MODAL_IS_REMOTE') == '1'


def open_volume(name: str) -> Any:
    """The Modal Volume called `name` (lazy: nothing is contacted until it is used)."""
    import modal

    return modal.Volume.from_name(name)


@dataclass(frozen=True)
class CheckpointStore:
    """Save and load state dicts by key, locally or on a Modal Volume."""

    root: str
    """Local folder holding `<key>.pt` files: where every process outside a container writes."""
    volume: str | None = None
    """Name of the Modal Volume containers write to, or None for a purely local store."""
    mount: str | None = None
    """Where the Volume is mounted in containers; required with `volume`."""
    subdir: str = ''
    """Folder inside the Volume that holds this store's files."""

    def __post_init__(self):
        if not isinstance(self.root, str) or not self.root:
            raise ValueError(f'CheckpointStore.root: expected a non-empty path string, got {self.root!r}')
        if (self.volume is None) != (self.mount is None):
            raise ValueError('CheckpointStore.volume and CheckpointStore.mount must be given together')
        if self.mount is not None and not PurePosixPath(self.mount).is_absolute():
            raise ValueError(f'CheckpointStore.mount must be an absolute path, got {self.mount!r}')
        sub = PurePosixPath(self.subdir)
        if sub.is_absolute() or '..' in sub.parts:
            raise ValueError(
                f'CheckpointStore.subdir must be a relative folder inside the volume, got {self.subdir!r}'
            )

    @classmethod
    def local(cls, root: str | Path) -> CheckpointStore:
        """A store in a local folder (created on first save)."""
        return cls(root=str(Path(root)))

    @classmethod
    def on_volume(
        cls, volume: str, *, root: str | Path, mount: str = '/checkpoints', subdir: str = ''
    ) -> CheckpointStore:
        """A store that containers keep on the Modal Volume `volume` (mounted at `mount`) and the
        notebook in the local folder `root`, reading the Volume for keys it does not have."""
        return cls(root=str(Path(root)), volume=volume, mount=mount, subdir=subdir)

    @property
    def remote_root(self) -> PurePosixPath | None:
        """The store's folder inside a container (None for a local store)."""
        if self.mount is None:
            return None
        return PurePosixPath(self.mount) / self.subdir if self.subdir else PurePosixPath(self.mount)

    def path(self, key: str) -> Path:
        """Path of the checkpoint for `key` as this process writes it."""
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f'CheckpointStore key {key!r}: use letters, digits, ".", "_" and "-" only')
        remote = self.remote_root
        folder = Path(remote) if remote is not None and in_modal_container() else Path(self.root)
        return folder / f'{key}.pt'

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
            open_volume(self.volume).commit()
        return target

    def load(self, key: str) -> dict[str, Any]:
        """The state dict saved under `key` (tensors on the CPU).

        Raises:
            FileNotFoundError: if there is no checkpoint for `key`.
            CheckpointError: if its file cannot be read (truncated or corrupt).
        """
        target = self.path(key)
        if target.is_file():
            return _load(target, str(target))
        if self.volume is not None and not in_modal_container():
            inside = f'{self.subdir}/{key}.pt' if self.subdir else f'{key}.pt'
            try:
                data = b''.join(open_volume(self.volume).read_file(inside))
            except FileNotFoundError as e:
                raise FileNotFoundError(
                    f'CheckpointStore: no checkpoint for key {key!r} at {target} nor on volume '
                    f'{self.volume!r} at {inside}'
                ) from e
            return _load(data, f'{inside} on volume {self.volume!r}')
        raise FileNotFoundError(f'CheckpointStore: no checkpoint for key {key!r} at {target}')

    def exists(self, key: str) -> bool:
        """Whether this process's file for `key` exists (Volume contents are not listed from outside)."""
        return self.path(key).is_file()
