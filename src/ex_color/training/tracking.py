"""Experiment tracking with Weights & Biases: the runs, their loggers, and their files.

One wandb run per member: `make_logger` for a single model (a `WandbLogger` over a run started
here), `MemberWandbLogger` for a stack (one run per member, grouped). `finished_run` finishes the
active run when a fit ends, also when it raises. Offline runs are written under the repository's
ignored ``wandb/`` folder and can be uploaded later with ``wandb sync wandb/offline-run-*``; a remote
shard's offline runs travel back packed (`pack_runs`, `unpack_runs`).

Deliberately not here: which mode a run takes and whether the server answers
(`ex_color.training.wandb_access`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ex_color.training.wandb_access import tracking_mode
from utils.paths import project_root

log = logging.getLogger(__name__)


def local_wandb_dir() -> Path:
    """The folder whose ``wandb/`` subfolder holds this machine's run files."""
    return Path(os.environ.get('EX_COLOR_WANDB_DIR') or wandb_dir())


def pack_runs(folder: Path) -> dict[str, bytes]:
    """Every run folder under `folder` (``offline-run-*``) as a gzipped tar, by folder name (links,
    which point outside the run, are left out)."""
    import io
    import tarfile

    packed = {}
    for run in sorted(folder.glob('offline-run-*')) if folder.is_dir() else []:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
            # wandb links its debug logs to files outside the run (in the writer's home): skip links
            tar.add(run, arcname=run.name, filter=lambda info: None if info.issym() or info.islnk() else info)
        packed[run.name] = buffer.getvalue()
    return packed


def unpack_runs(packed: Mapping[str, bytes], into: Path) -> list[Path]:
    """Put packed run folders into `into` (a ``wandb/`` folder): each appears whole or not at all."""
    import io
    import shutil
    import tarfile
    import tempfile

    into.mkdir(parents=True, exist_ok=True)
    placed = []
    for name, data in packed.items():
        if '/' in name or name.startswith('.') or not name.startswith('offline-run-'):
            raise ValueError(f'unpack_runs: {name!r} is not a run folder name')
        target = into / name
        staging = Path(tempfile.mkdtemp(dir=into, prefix=f'.{name}.', suffix='.tmp'))
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode='r:gz') as tar:
                if hasattr(tarfile, 'data_filter'):  # Python >= 3.11.4: refuse links and paths that escape
                    tar.extractall(staging, filter='data')
                else:
                    tar.extractall(staging)  # noqa: S202 - our own archives, built by pack_runs
            if target.exists():
                shutil.rmtree(target)
            (staging / name).rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        placed.append(target)
    return placed


def wandb_dir() -> Path:
    """Folder that holds local run files (``<dir>/wandb/...``): the repository root."""
    return project_root()


def make_logger(name: str, project: str, *, mode: str | None = None, save_dir: Path | None = None):
    """A `WandbLogger` over a run started now, in the resolved mode (finish it with `finished_run`)."""
    from lightning.pytorch.loggers import WandbLogger

    resolved = tracking_mode(mode)
    directory = save_dir or local_wandb_dir()
    directory.mkdir(parents=True, exist_ok=True)
    import wandb

    # The run is started here and handed to the logger (its public `experiment` argument): a logger
    # that starts its own run passes wandb a deprecated `anonymous` setting, which it warns about.
    # wandb's console chatter includes run ids and paths that change every run; notebooks committed
    # with their outputs must not churn on each re-run. `fit` reports where the run went instead.
    run = wandb.init(
        name=name,
        project=project or None,
        dir=str(directory),
        mode=resolved,
        settings=wandb.Settings(silent=True),
    )
    return WandbLogger(name=name, project=project or None, save_dir=str(directory), experiment=run)


class MemberLogger:
    """Mixin for loggers that take every member's metrics (e.g. one wandb run per member).

    The training module and `LabelProportionCallback` call `log_members` with one dict per member;
    any other logger gets means over members through `log_metrics`.
    """

    def log_members(self, metrics: Sequence[dict[str, float]], step: int) -> None:
        raise NotImplementedError


@dataclass
class RunInfo:
    """Where a finished wandb run went (both None when tracking was disabled)."""

    run_dir: Path | None = None
    """Local run folder, e.g. ``wandb/offline-run-…``."""
    run_id: str | None = None
    """The run's id."""


@contextmanager
def finished_run() -> Iterator[RunInfo]:
    """Finish the active wandb run when the block ends, also when it raises, so a re-run starts afresh.

    A block that raises (an error, or an interrupt) finishes the run with exit code 1, so wandb
    records it as failed rather than as a clean finish.

    The yielded `RunInfo` is filled in on exit. A successful offline run is reported in one log line
    (no run id: notebooks keep their outputs, and ids would change on every run).
    """
    import wandb

    info = RunInfo()
    ok = False
    try:
        yield info
        ok = True
    finally:
        run = wandb.run
        offline = False
        if run is not None and not isinstance(run, wandb.sdk.lib.RunDisabled):
            info.run_dir = Path(run.dir).parent if getattr(run, 'dir', None) else None
            info.run_id = run.id
            offline = run.settings.mode == 'offline'
        wandb.finish(exit_code=0 if ok else 1)
    if ok and offline and info.run_dir is not None:
        log.info(
            'wandb run saved offline under %s/; upload with: wandb sync --sync-all', info.run_dir.parent.name
        )


class MemberWandbLogger(MemberLogger):
    """One wandb run per member of a multi-member fit, grouped, each with its member's config.

    Runs start on first use, in the resolved mode, and finish when the fit finalises the logger:
    with exit code 0 after a successful fit, 1 after a failed or interrupted one. Metrics that are
    not per member (means over members that callbacks log) are not written: each member's run holds
    that member's own values.
    """

    def __init__(
        self,
        names: Sequence[str],
        *,
        group: str,
        project: str = '',
        configs: Sequence[Mapping[str, Any]] | None = None,
        job_type: str | None = None,
        tags: Sequence[str] = (),
        mode: str | None = None,
        save_dir: Path | None = None,
    ) -> None:
        if configs is not None and len(configs) != len(names):
            raise ValueError(f'configs has {len(configs)} entries for {len(names)} members')
        self.names = list(names)
        self.configs = [dict(c) for c in configs] if configs is not None else [{} for _ in names]
        self.group, self.project, self.job_type, self.tags = group, project, job_type, list(tags)
        self.mode = tracking_mode(mode)
        self._save_dir = save_dir or local_wandb_dir()
        self.runs: list[Any] = []

    @property
    def name(self) -> str:
        return self.group

    def _start(self) -> None:
        if self.runs or self.mode == 'disabled':
            return
        import wandb

        self._save_dir.mkdir(parents=True, exist_ok=True)
        for name, config in zip(self.names, self.configs, strict=True):
            self.runs.append(
                wandb.init(
                    project=self.project or None,
                    name=name,
                    group=self.group,
                    job_type=self.job_type,
                    tags=self.tags or None,
                    config=config,
                    dir=str(self._save_dir),
                    mode=self.mode,
                    reinit='create_new',
                    settings=wandb.Settings(silent=True),
                )
            )

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        self._start()

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        self._start()

    def log_members(self, metrics: Sequence[dict[str, float]], step: int) -> None:
        self._start()
        for run, values in zip(self.runs, metrics, strict=False):
            if values:
                run.log({**values, 'trainer/global_step': step}, step=step)

    def finalize(self, status: str) -> None:
        code = 0 if status == 'success' else 1
        for run in self.runs:
            run.finish(exit_code=code)
        self.runs = []

    @property
    def save_dir(self) -> str:
        return str(self._save_dir)
