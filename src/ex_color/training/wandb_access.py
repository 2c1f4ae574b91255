"""Where wandb runs go: the tracking mode, this machine's credentials, and whether the server answers.

Mode, in order of precedence: the `mode` argument, the `WANDB_MODE` environment variable, then
``online`` when an API key is configured (``WANDB_API_KEY`` or a ``wandb login`` entry in
``~/.netrc``) and ``offline`` otherwise. Tests and CI use ``disabled``.

Before an online run starts, the server is probed (one connection and one ``HEAD /`` request, at
most `PROBE_TIMEOUT_S` in all): wandb itself would wait 90 s per run before failing. A server that
accepts the connection but never answers (a stuck proxy, a firewall that swallows packets after the
handshake) counts as unreachable, as one that refuses it does. For ``https`` the probe completes a
TLS handshake without checking the certificate: it asks whether the server answers, and whether
the certificate is trusted stays wandb's question. When the key was found on the machine and the
server cannot be reached, the run is recorded offline with one warning; when online was asked for
explicitly (argument or ``WANDB_MODE``), the fit fails at once with a hint instead.

Deliberately not here: the runs themselves (`ex_color.training.tracking`).
"""

from __future__ import annotations

import logging
import netrc
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

__all__ = [
    'MODES',
    'PROBE_TIMEOUT_S',
    'Mode',
    'credentials',
    'has_api_key',
    'server_url',
    'tracking_mode',
    'unreachable',
    'wandb_mode',
    'with_credentials',
]

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
