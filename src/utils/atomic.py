"""Atomic file writes: a reader, or a crash, never sees a half-written file.

Bytes go to a temporary file in the destination folder (same file system), which is flushed to disk
and then `os.replace`d over the target. A writer killed before the rename leaves only a temporary
file named ``.<name>.<random>.tmp``; the next write to the same target removes such leftovers.

Deliberately not here: locking. Two processes writing the same file both succeed; the last rename wins.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ['write_atomic', 'write_with']


def _clean_leftovers(path: Path) -> None:
    for stale in path.parent.glob(f'.{path.name}.*.tmp'):
        stale.unlink(missing_ok=True)


def write_with(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Call `write(f)` on a temporary binary file, then move it over `path` atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(target)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f'.{target.name}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates owner-only files; outputs are meant to be readable like any other file.
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` atomically, creating parent folders; skip if the file already has `data`."""
    target = Path(path)
    if target.is_file() and target.read_bytes() == data:
        return target
    return write_with(target, lambda f: f.write(data))
