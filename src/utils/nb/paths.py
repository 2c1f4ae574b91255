"""Where notebook figures are written.

Design decisions:
- Relative figure paths resolve against the *repository root* (`utils.paths.project_root`), not the
  working directory, so a notebook run from `notebooks/` (Jupyter's default) and the same code run from
  the repository root write the same top-level `large-assets/…` file.
- The environment variable `EX_COLOR_FIGURES_DIR` redirects every figure into one folder, keeping the
  file name (smoke runs and tests use it so they never touch tracked assets). A relative value is itself
  resolved against the figure root.

- The environment variable `EX_COLOR_FIGURES_STAGE` (set by `utils.nbrun` for in-place runs) keeps
  every figure's *final* path for links but writes its bytes into that staging folder instead, at
  the same path relative to the project root (`_abs/…` for a path outside it). `commit_staged`
  moves the staged files to their final places once the whole run has succeeded, so a run that
  fails half-way leaves every committed figure as it was.

`write_output` writes any other file a notebook produces (a schedule it found) by the same rules.

Deliberately not done here: figure paths create no files or folders; callers create parent folders
when they write.
"""

from __future__ import annotations

import os
from pathlib import Path

from utils.paths import project_root

FIGURES_DIR_ENV = 'EX_COLOR_FIGURES_DIR'
"""Environment variable that, when set and non-empty, redirects all figures into that folder."""


FIGURES_STAGE_ENV = 'EX_COLOR_FIGURES_STAGE'
"""Environment variable naming a folder where figures are written until `commit_staged` moves them."""


def staged_path(final: Path, stage: str | os.PathLike[str] | None = None) -> Path:
    """Where the bytes of the figure whose final path is `final` go: under `stage` (default: the
    `EX_COLOR_FIGURES_STAGE` folder), or `final` itself when nothing is staged."""
    stage = os.environ.get(FIGURES_STAGE_ENV, '') if stage is None else stage
    if not stage:
        return final
    root = project_root()
    rel = final.relative_to(root) if final.is_relative_to(root) else Path('_abs', *final.parts[1:])
    return Path(stage) / rel


def commit_staged(stage: Path) -> list[Path]:
    """Move every file staged under `stage` to its final path (atomically each); return the finals."""
    from utils.atomic import write_atomic

    root = project_root()
    moved = []
    for staged in sorted(p for p in stage.rglob('*') if p.is_file()):
        rel = staged.relative_to(stage)
        final = Path('/', *rel.parts[1:]) if rel.parts[0] == '_abs' else root / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(staged, final)
        except OSError:  # another file system: copy atomically instead
            write_atomic(final, staged.read_bytes())
            staged.unlink()
        moved.append(final)
    return moved


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


def write_output(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write a file a notebook produces besides its figures (e.g. a schedule CSV), the way figures are
    written: redirected by `EX_COLOR_FIGURES_DIR` (smoke runs), staged under `EX_COLOR_FIGURES_STAGE`
    until the run succeeds (in-place runs), atomically. Returns the path the file will have."""
    from utils.atomic import write_atomic

    final = resolve_figure_path(path)
    write_atomic(staged_path(final), data)
    return final
