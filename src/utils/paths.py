"""Locate the project's top-level folder independently of the current working directory.

Notebooks run from `notebooks/`, scripts from the root, tests from anywhere: anything that writes
into the repository (figures, runs, wandb) resolves paths against `project_root()` instead.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

MARKERS = ('pyproject.toml', 'large-assets')


@cache
def project_root() -> Path:
    """The nearest ancestor of this package that holds both `pyproject.toml` and `large-assets/`.

    Set `EX_COLOR_ROOT` to override (e.g. for an installed, non-editable copy). Falls back to the
    current directory when no such ancestor exists.
    """
    override = os.environ.get('EX_COLOR_ROOT')
    if override:
        return Path(override).resolve()
    for parent in Path(__file__).resolve().parents:
        if all((parent / m).exists() for m in MARKERS):
            return parent
    return Path.cwd().resolve()


def resolve(path: str | os.PathLike[str]) -> Path:
    """`path` itself if absolute, else relative to `project_root()`."""
    p = Path(path)
    return p if p.is_absolute() else project_root() / p
