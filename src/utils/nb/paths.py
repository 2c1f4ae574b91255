"""Where notebook figures are written.

Design decisions:
- Relative figure paths resolve against the *repository root* (`utils.paths.project_root`), not the
  working directory, so a notebook run from `notebooks/` (Jupyter's default) and the same code run from
  the repository root write the same top-level `large-assets/…` file.
- The environment variable `EX_COLOR_FIGURES_DIR` redirects every figure into one folder, keeping the
  file name (smoke runs and tests use it so they never touch tracked assets). A relative value is itself
  resolved against the figure root.

Deliberately not done here: no files or folders are created; callers create parent folders when they
write.
"""

from __future__ import annotations

import os
from pathlib import Path

from utils.paths import project_root

FIGURES_DIR_ENV = 'EX_COLOR_FIGURES_DIR'
"""Environment variable that, when set and non-empty, redirects all figures into that folder."""


def figure_root() -> Path:
    """Folder that relative figure paths are resolved against (see `utils.paths.project_root`)."""
    return project_root()


def resolve_figure_path(path: str | os.PathLike[str]) -> Path:
    """Absolute path a figure named `path` is written to, honouring `EX_COLOR_FIGURES_DIR`."""
    given = Path(path)
    override = os.environ.get(FIGURES_DIR_ENV, '')
    if override:
        folder = Path(override)
        if not folder.is_absolute():
            folder = figure_root() / folder
        return (folder / given.name).resolve()
    if given.is_absolute():
        return given
    return (figure_root() / given).resolve()


def url_for(path: Path) -> str:
    """A URL for `path` relative to the working directory (where a notebook's HTML is rendered from)."""
    try:
        rel = os.path.relpath(path, Path.cwd())
    except ValueError:
        # Different drives on Windows: no relative path exists, so use an absolute file URI.
        return path.as_uri()
    return Path(rel).as_posix()
