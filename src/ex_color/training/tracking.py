"""Experiment tracking with Weights & Biases through Lightning's `WandbLogger`.

Mode, in order of precedence: the `mode` argument, the `WANDB_MODE` environment variable, then
``online`` when an API key is configured (``WANDB_API_KEY`` or a ``wandb login`` entry in
``~/.netrc``) and ``offline`` otherwise. Offline runs are written under the repository's ignored
``wandb/`` folder and can be uploaded later with ``wandb sync wandb/offline-run-*``. Tests and CI
use ``disabled``.

Before an online run starts, the server is probed (one connection and one ``HEAD /`` request, at
most `PROBE_TIMEOUT_S` in all): wandb itself would wait 90 s per run before failing. A server that
accepts the connection but never answers (a stuck proxy, a firewall that swallows packets after the
handshake) counts as unreachable, as one that refuses it does. For ``https`` the probe completes a
TLS handshake without checking the certificate: it asks whether the server answers, and whether
the certificate is trusted stays wandb's question. When the key was found on the machine and the
server cannot be reached, the run is recorded offline with one warning; when online was asked for
explicitly (argument or ``WANDB_MODE``), the fit fails at once with a hint instead.
"""

from __future__ import annotations

import logging
import netrc
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from lightning.pytorch.loggers import Logger

from utils.paths import project_root

log = logging.getLogger(__name__)

Mode = Literal['online', 'offline', 'disabled']
MODES: tuple[Mode, ...] = ('online', 'offline', 'disabled')
_ALIASES: dict[str, Mode] = {'run': 'online', 'dryrun': 'offline'}


PROBE_TIMEOUT_S = 5.0
"""Longest wait for the wandb server to accept a connection and answer a request before a run goes
offline (or fails)."""

_PROBE_TTL_S = 300.0
_probed: dict[str, tuple[float, str | None]] = {}  # url -> (when, problem or None)
_warned: set[str] = set()


def server_url() -> str:
    """The wandb server runs are sent to: ``WANDB_BASE_URL``, else wandb's default."""
    url = os.environ.get('WANDB_BASE_URL')
    if url:
        return url
    import wandb

    return str(wandb.Settings().base_url)


def has_api_key() -> bool:
    """An API key in ``WANDB_API_KEY`` or a ``wandb login`` entry in ``~/.netrc`` (or ``$NETRC``)."""
    return 'WANDB_API_KEY' in credentials()


def credentials() -> dict[str, str]:
    """What a remote process needs to log online as this user: the API key (environment or
    ``~/.netrc``) and a custom server URL, if any. Secret: never log or display the result."""
    out: dict[str, str] = {}
    key = os.environ.get('WANDB_API_KEY')
    url = os.environ.get('WANDB_BASE_URL')
    if not key:
        try:
            rc = netrc.netrc(os.environ.get('NETRC') or None)
        except (FileNotFoundError, netrc.NetrcParseError, OSError):
            rc = None
        if rc is not None:
            for host in dict.fromkeys([urlsplit(server_url()).hostname or '', 'api.wandb.ai']):
                entry = rc.authenticators(host) if host else None
                if entry is not None and entry[2]:
                    key = entry[2]
                    break
    if key:
        out['WANDB_API_KEY'] = key
    if url:
        out['WANDB_BASE_URL'] = url
    return out


def with_credentials(modal_options: dict[str, Any]) -> dict[str, Any]:
    """`modal_options` with this machine's `credentials` added to ``env`` (values given there win)."""
    env = {**credentials(), **dict(modal_options.get('env') or {})}
    return {**modal_options, 'env': env} if env else {k: v for k, v in modal_options.items() if k != 'env'}


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


def _mode_and_source(mode: str | None) -> tuple[Mode, str]:
    source = 'mode argument'
    if mode is None:
        mode, source = os.environ.get('WANDB_MODE') or None, 'WANDB_MODE'
    if mode is None:
        return ('online' if has_api_key() else 'offline'), 'api key'
    mode = _ALIASES.get(mode, mode)
    if mode not in MODES:
        raise ValueError(f'{source} must be one of {MODES}, got {mode!r}')
    return mode, source


def wandb_mode(mode: str | None = None) -> Mode:
    """Resolve the tracking mode; an unknown value is an error naming where it came from."""
    return _mode_and_source(mode)[0]


def unreachable(url: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Why `url`'s server cannot be reached (name lookup, connection, TLS handshake for ``https``
    and the first bytes of an HTTP answer, all within `timeout`), or None.

    Any HTTP status counts as an answer. Results are kept for a few minutes, so a sweep of many runs
    probes once.
    """
    now = time.monotonic()
    cached = _probed.get(url)
    if cached is not None and now - cached[0] < _PROBE_TTL_S:
        return cached[1]
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return f'{url!r} names no host'
    port = parts.port or (80 if parts.scheme == 'http' else 443)
    deadline = now + timeout
    waiting = {
        'connect': f'no answer within {timeout:g} s',
        'tls': f'accepted a connection but did not complete a TLS handshake within {timeout:g} s',
        'http': f'accepted a connection but sent no HTTP answer within {timeout:g} s',
    }
    stage = ['connect']
    outcome: list[str | None] = []

    def left() -> float:
        return max(deadline - time.monotonic(), 0.001)

    def ask() -> None:  # in a thread: name lookup ignores socket timeouts
        try:
            with socket.create_connection((host, port), timeout=left()) as raw:
                if parts.scheme == 'https':
                    stage[0] = 'tls'
                    raw.settimeout(left())
                    with _PROBE_TLS.wrap_socket(raw, server_hostname=host) as tls:
                        outcome.append(_http_answer(tls, host, left, stage))
                else:
                    outcome.append(_http_answer(raw, host, left, stage))
        except TimeoutError:
            outcome.append(waiting[stage[0]])
        except OSError as err:  # refused, unreachable, reset, a failed TLS handshake (ssl.SSLError)
            outcome.append(f'{type(err).__name__}: {err}')

    probe = threading.Thread(target=ask, name='wandb-probe', daemon=True)
    probe.start()
    probe.join(timeout)
    problem = outcome[0] if outcome else waiting[stage[0]]
    _probed[url] = (now, problem)
    return problem


def _probe_context() -> ssl.SSLContext:
    # The probe sends no credentials; it only asks whether the server answers (see the module doc).
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_PROBE_TLS = _probe_context()


def _http_answer(conn: socket.socket, host: str, left: Callable[[], float], stage: list[str]) -> str | None:
    """Send ``HEAD /`` on `conn` and read the start of the answer: None when it is HTTP, else why not."""
    stage[0] = 'http'
    conn.settimeout(left())
    conn.sendall(f'HEAD / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n'.encode('ascii'))
    head = b''
    while len(head) < 5:
        conn.settimeout(left())
        chunk = conn.recv(5 - len(head))
        if not chunk:
            break
        head += chunk
    if head.startswith(b'HTTP/'):
        return None
    if not head:
        return 'accepted a connection but closed it without an HTTP answer'
    return f'answered {head!r}, which is not HTTP'


def tracking_mode(mode: str | None = None) -> Mode:
    """`wandb_mode`, then for online runs a reachability probe of the server (see the module doc)."""
    resolved, source = _mode_and_source(mode)
    if resolved != 'online':
        return resolved
    url = server_url()
    problem = unreachable(url)
    if problem is None:
        return 'online'
    if source != 'api key':
        raise ConnectionError(
            f'{source}=online, but the wandb server {url} cannot be reached ({problem}); '
            'set WANDB_MODE=offline to record runs locally and upload them later with wandb sync'
        )
    if url not in _warned:
        _warned.add(url)
        log.warning(
            'wandb: an API key is set but %s cannot be reached (%s); recording runs offline '
            '(upload later with: wandb sync --sync-all)',
            url,
            problem,
        )
    return 'offline'


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


class MemberWandbLogger(Logger, MemberLogger):
    """One wandb run per member of a multi-member fit, grouped, each with its member's config.

    Runs start on first use, in the resolved mode, and finish when Lightning finalises the logger:
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
        super().__init__()
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

    @property
    def version(self) -> str:
        return '0'

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
    def run_dirs(self) -> list[Path]:
        return [Path(run.dir).parent for run in self.runs if getattr(run, 'dir', None)]

    @property
    def save_dir(self) -> str:
        return str(self._save_dir)
