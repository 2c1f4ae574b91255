"""Atomic file writes: a reader, or a crash, never sees a half-written file.

Bytes go to a temporary file in the destination folder (same file system), which is flushed to disk
and then `os.replace`d over the target. A writer killed before the rename leaves only a temporary
file named ``.<name>.<random>.tmp``; the next write to the same target removes such leftovers.

A folder (`replacing_dir`) is built in a temporary sibling folder and then swapped in with two renames:
the old folder moves aside, the new one takes its name, and only then is the old one deleted. A reader
sees the complete old tree or the complete new one, except for the instant between the renames, when
the path does not exist (a true exchange needs Linux's `renameat2`, which the standard library lacks).

Deliberately not here: locking. Two processes writing the same file both succeed; the last rename wins.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ['check_writable', 'replacing_dir', 'write_atomic', 'write_with']


def _clean_leftovers(path: Path) -> None:
    for stale in path.parent.glob(f'.{path.name}.*.tmp'):
        stale.unlink(missing_ok=True)


def check_writable(folder: str | os.PathLike[str], what: str = 'folder') -> Path:
    """Make sure files can be created in `folder` (creating it), before any work that would write there.

    Raises a `PermissionError` or `OSError` naming `what` and the folder; leaves nothing behind.
    """
    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=target, prefix='.write-probe.', suffix='.tmp')
    except OSError as e:
        raise type(e)(e.errno, f'{what}: cannot write files in {target} ({e.strerror})') from None
    os.close(fd)
    os.unlink(probe)
    return target


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


@contextmanager
def replacing_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary folder beside `path`; when the block succeeds, it replaces `path`.

    If the block raises, the temporary folder is deleted and `path` is left as it was. Leftovers of an
    interrupted earlier call (``.<name>.<random>.tmp`` and ``.old`` folders beside `path`) are removed.

    Raises:
        NotADirectoryError: if `path` exists and is not a folder.
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f'{target} exists and is not a folder')
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in [*target.parent.glob(f'.{target.name}.*.tmp'), *target.parent.glob(f'.{target.name}.*.old')]:
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f'.{target.name}.', suffix='.tmp'))
    old = staging.with_suffix('.old')
    try:
        # mkdtemp makes an owner-only folder; the result is meant to be readable like any other
        os.chmod(staging, 0o755)
        yield staging
        if target.exists():
            os.rename(target, old)
        try:
            os.rename(staging, target)
        except BaseException:
            if old.exists():
                os.rename(old, target)
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
