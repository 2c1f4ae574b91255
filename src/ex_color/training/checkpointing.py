"""Checkpoint files written atomically: a killed run never leaves a truncated `.pt`.

Lightning's `TorchCheckpointIO` serialises a checkpoint into memory and then writes it straight over
the target file, so a process killed during the write leaves a truncated checkpoint behind (and has
already destroyed the previous one). `AtomicCheckpointIO` writes to a temporary file beside the
target and renames it into place (`utils.atomic`); `fit` uses it by default. `save_state` does the
same for a member's weights.

Deliberately not here: remote file systems (fsspec URLs), which Lightning's own IO handles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from utils.atomic import write_with

__all__ = ['AtomicCheckpointIO', 'save_state']


class AtomicCheckpointIO(TorchCheckpointIO):
    """`TorchCheckpointIO` whose saves are temp file + rename."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(
                f'AtomicCheckpointIO.save_checkpoint: storage_options are not supported, got {storage_options!r}'
            )
        if '://' in str(path):
            super().save_checkpoint(checkpoint, path)
            return
        write_with(Path(path), lambda f: torch.save(checkpoint, f))


def save_state(state: dict[str, Any], path: str | Path) -> Path:
    """`torch.save(state, path)`, atomically."""
    return write_with(Path(path), lambda f: torch.save(state, f))
