"""Experiment tracking with Weights & Biases: the runs, their loggers, and their files.

One wandb run per member: `make_logger` for a single model (a `WandbLogger` over a run started
here), `MemberWandbLogger` for a stack (one run per member, grouped). Each run is started with its
member's name, group and config (`ex_color.training.run_record.member_record` says what they hold).
`finished_run` finishes the active run when a fit ends, also when it raises. Offline runs are written
under the repository's ignored ``wandb/`` folder and can be uploaded later with
``wandb sync wandb/offline-run-*``; a remote shard's offline runs travel back packed (`pack_runs`,
`unpack_runs`).

**Summaries.** What is known only when a fit ends (a callback's final scores, pass or fail) goes
into each member's run summary through `write_summaries(loop.engine.loggers, per_member)`, called
by any loop callback from `on_fit_end`, while the runs are still open. Training never imports
evaluation: the callback (in whatever layer) computes the values; this module only writes them.
A logger that keeps no run summaries (a plain ``log_metrics`` logger) is passed over.

Deliberately not here: which mode a run takes and whether the server answers
(`ex_color.training.wandb_access`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
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


def make_logger(
    name: str,
    project: str,
    *,
    mode: str | None = None,
    save_dir: Path | None = None,
    config: Mapping[str, Any] | None = None,
    group: str | None = None,
):
    """A `WandbLogger` over a run started now, in the resolved mode, with `config` and in `group`
    (finish it with `finished_run`)."""
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
        group=group or None,
        config=dict(config) if config is not None else None,
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

    def summarize_members(self, summaries: Sequence[Mapping[str, Any]]) -> None:
        """Final values of every member (one mapping each, in member order) for its run's summary.
        A member logger that keeps no summaries takes them and writes nothing (this default)."""


def write_summaries(loggers: Iterable[Any], summaries: Sequence[Mapping[str, Any]]) -> None:
    """Put each member's final values (`summaries`, in member order) into the summary of its run, in
    every logger of `loggers` (an engine's) that keeps runs: a `MemberLogger`, or the `WandbLogger` of
    a one-model fit (`make_logger`). Call it from a loop callback's ``on_fit_end``: the runs finish
    when the fit does. Other loggers are passed over (see the module docstring)."""
    if isinstance(summaries, Mapping) or not isinstance(summaries, Sequence):
        raise TypeError(
            f'write_summaries: summaries must be a sequence of mappings, one per member, got {type(summaries).__name__}'
        )
    for i, values in enumerate(summaries):
        if not isinstance(values, Mapping):
            raise TypeError(f'write_summaries: summaries[{i}] must be a mapping, got {type(values).__name__}')
        bad = [k for k in values if not isinstance(k, str) or not k]
        if bad:
            raise ValueError(f'write_summaries: summaries[{i}] has keys that are not names: {bad!r}')
    for logger in loggers:
        if isinstance(logger, MemberLogger):
            logger.summarize_members(summaries)
            continue
        run = _wandb_run(logger)
        if run is None:
            continue
        if len(summaries) != 1:
            raise ValueError(
                f"write_summaries: {len(summaries)} summaries for a one-model fit's run ({type(logger).__name__})"
            )
        run.summary.update(dict(summaries[0]))


def _wandb_run(logger: Any) -> Any:
    """The run of a Lightning `WandbLogger` (what `make_logger` returns), else None."""
    # No WandbLogger exists unless Lightning's loggers were imported; a plain logger costs no import.
    lightning_loggers = sys.modules.get('lightning.pytorch.loggers')
    if lightning_loggers is None or not isinstance(logger, lightning_loggers.WandbLogger):
        return None
    return logger.experiment


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
        # a disabled run (a `NoopRun` in wandb 0.31, `RunDisabled` in older ones) has a made-up folder and id
        disabled = (
            isinstance(run, wandb.sdk.lib.RunDisabled)
            or getattr(getattr(run, 'settings', None), 'mode', None) == 'disabled'
        )
        if run is not None and not disabled:
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
    that member's own values. `summarize_members` writes final values into each run's summary.
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
        self._finished = False

    @property
    def name(self) -> str:
        return self.group

    def _start(self) -> None:
        if self.runs:
            return
        self._finished = False  # a logger reused for another fit starts new runs
        if self.mode == 'disabled':
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

    def summarize_members(self, summaries: Sequence[Mapping[str, Any]]) -> None:
        if len(summaries) != len(self.names):
            raise ValueError(
                f'MemberWandbLogger ({self.group}): {len(summaries)} summaries for {len(self.names)} members'
            )
        if self._finished:
            raise RuntimeError(
                f'MemberWandbLogger ({self.group}): the runs have finished; write summaries from a '
                "callback's on_fit_end, before the fit finalises its logger"
            )
        self._start()
        for run, values in zip(self.runs, summaries, strict=False):
            run.summary.update(dict(values))

    def finalize(self, status: str) -> None:
        code = 0 if status == 'success' else 1
        for run in self.runs:
            run.finish(exit_code=code)
        self.runs = []
        self._finished = True

    @property
    def save_dir(self) -> str:
        return str(self._save_dir)
