"""Locate the project's top-level folder independently of the current working directory.

Notebooks run from `notebooks/`, scripts from the root, tests from anywhere: anything that writes
into the repository (figures, runs, wandb) resolves paths against `project_root()` instead of the
working directory. The root is the nearest ancestor of this package holding both `pyproject.toml`
and `large-assets/`; `EX_COLOR_ROOT` overrides it (e.g. for a non-editable install). Without either,
the working directory is used: the only fallback, and a documented one.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT_ENV = 'EX_COLOR_ROOT'
RUNS_DIR_ENV = 'EX_COLOR_RUNS_DIR'
_MARKERS = ('pyproject.toml', 'large-assets')


def find_repo_root(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest folder at or above `start` holding `pyproject.toml` and `large-assets/`, or None.

    `start` defaults to this module's own folder, so the answer does not depend on the working directory.
    """
    here = Path(start).resolve() if start is not None else Path(__file__).resolve().parent
    for folder in (here, *here.parents):
        if (folder / _MARKERS[0]).is_file() and (folder / _MARKERS[1]).is_dir():
            return folder
    return None


def project_root() -> Path:
    """`EX_COLOR_ROOT` if set, else `find_repo_root()`, else the working directory."""
    override = os.environ.get(ROOT_ENV)
    if override:
        return Path(override).resolve()
    return find_repo_root() or Path.cwd().resolve()


def runs_root() -> Path:
    """Where local checkpoint stores live: `$EX_COLOR_RUNS_DIR` (smoke runs' own folder), else `<root>/runs`."""
    override = os.environ.get(RUNS_DIR_ENV, '').strip()
    return Path(override) if override else project_root() / 'runs'


def resolve(path: str | os.PathLike[str]) -> Path:
    """`path` itself if absolute, else relative to `project_root()`."""
    p = Path(path)
    return p if p.is_absolute() else project_root() / p
