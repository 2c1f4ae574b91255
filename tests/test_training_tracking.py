"""Tracking: wandb offline runs land on disk with our metric names; the mode resolves as documented."""

from __future__ import annotations

import http.server
import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import wandb

from ex_color.training import fit, wandb_mode
from ex_color.training.wandb_access import tracking_mode
from tests.training_helpers import data, module


def read_when_flushed(path, marker: bytes, patience: float = 20.0) -> bytes:
    # wandb's service process may still be writing the log when finish() returns; wait for the
    # record logged last rather than reading a half-written file.
    deadline = time.monotonic() + patience
    while True:
        payload = path.read_bytes()
        if marker in payload or time.monotonic() > deadline:
            return payload
        time.sleep(0.1)


def test_offline_run_writes_files_with_logged_metric_names(tmp_path, monkeypatch):
    monkeypatch.setenv('EX_COLOR_WANDB_DIR', str(tmp_path))
    monkeypatch.delenv('WANDB_MODE', raising=False)
    monkeypatch.setenv('WANDB_SILENT', 'true')
    m = module(0)
    train, val = data(0)
    result = fit(
        m,
        train,
        val,
        run_name='tracking-test',
        project='ex-color-tests',
        max_steps=40,
        wandb_mode='offline',
        progress=False,
        log_every_n_steps=4,
        val_every_n_epochs=2,
    )
    assert wandb.run is None
    runs = list((tmp_path / 'wandb').glob('offline-run-*'))
    assert len(runs) == 1
    assert result.run_dir == runs[0]
    # Offline runs keep history in the run's binary log (protobuf records); metric keys are stored
    # verbatim in it, so finding each name shows it was logged to this run.
    log_files = list(runs[0].glob('run-*.wandb'))
    assert len(log_files) == 1
    payload = read_when_flushed(log_files[0], b'labels/n_total')
    for key in (
        'train_loss',
        'train_recon',
        'train_reg-separate',
        'train_reg-anti-subspace',
        'val_loss',
        'val_recon',
        'val_reg-anchor',
        'labels/n_total',
        'labels/epoch/red',
    ):
        assert key.encode() in payload, key
    assert b'not-a-logged-metric' not in payload


def test_mode_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv('HOME', str(tmp_path))  # no ~/.netrc
    monkeypatch.delenv('WANDB_API_KEY', raising=False)
    monkeypatch.delenv('WANDB_MODE', raising=False)
    assert wandb_mode() == 'offline'
    monkeypatch.setenv('WANDB_API_KEY', 'x' * 40)
    assert wandb_mode() == 'online'
    monkeypatch.setenv('WANDB_MODE', 'disabled')
    assert wandb_mode() == 'disabled'
    assert wandb_mode('offline') == 'offline'
    monkeypatch.setenv('WANDB_MODE', 'ofline')
    with pytest.raises(ValueError, match='WANDB_MODE'):
        wandb_mode()


@pytest.fixture
def fresh_probe(monkeypatch, tmp_path):
    """No cached probe results, no ~/.netrc, and a server URL that refuses connections at once."""
    from ex_color.training import wandb_access as tracking

    monkeypatch.setattr(tracking, '_probed', {})
    monkeypatch.setattr(tracking, '_warned', set())
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.delenv('NETRC', raising=False)
    monkeypatch.delenv('WANDB_MODE', raising=False)
    with socket.socket() as s:  # a port nothing listens on: bound, then released
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    url = f'http://127.0.0.1:{port}'
    monkeypatch.setenv('WANDB_BASE_URL', url)
    return url


def test_a_key_without_a_reachable_server_records_offline_with_one_warning(
    fresh_probe, monkeypatch, tmp_path, caplog
):
    monkeypatch.setenv('WANDB_API_KEY', 'x' * 40)
    monkeypatch.setenv('EX_COLOR_WANDB_DIR', str(tmp_path))
    assert wandb_mode() == 'online'  # what the key alone says
    m = module(0)
    train, val = data(0)
    with caplog.at_level(logging.WARNING, logger='ex_color.training.tracking'):
        result = fit(m, train, val, run_name='no-network', max_steps=8, progress=False)
        assert tracking_mode() == 'offline'  # a second run: cached, no second warning
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert fresh_probe in warnings[0] and 'wandb sync' in warnings[0]
    assert result.run_dir is not None and result.run_dir.name.startswith('offline-run-')
    assert result.run_dir.parent == tmp_path / 'wandb'


def test_explicit_online_without_a_reachable_server_fails_at_once_with_a_hint(fresh_probe, monkeypatch):
    monkeypatch.setenv('WANDB_MODE', 'online')
    with pytest.raises(ConnectionError, match=r'WANDB_MODE=online.*127\.0\.0\.1.*WANDB_MODE=offline'):
        tracking_mode()
    with pytest.raises(ConnectionError, match=r'mode argument=online'):
        tracking_mode('online')


def test_a_server_that_never_answers_counts_as_unreachable_after_the_timeout(fresh_probe, monkeypatch):
    # A name lookup that hangs (no DNS answer) ignores socket timeouts; the probe must not wait on it.
    from ex_color.training import wandb_access as tracking

    release = threading.Event()

    def hang(*args, **kwargs):
        release.wait(60)
        return socket.socket()  # what a late answer gives the probe thread: a socket it closes

    monkeypatch.setattr(tracking.socket, 'create_connection', hang)
    try:
        assert tracking.unreachable('https://wandb.example', timeout=0.2) == 'no answer within 0.2 s'
    finally:
        release.set()


class _Answering(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, format, *args) -> None:
        pass


@contextmanager
def http_server(tls: Path | None = None) -> Iterator[str]:
    """A local HTTP server that answers every request (over TLS with the PEM key and certificate
    `tls`); yields its URL."""
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Answering)
    scheme = 'http'
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = 'https'
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f'{scheme}://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_server(scheme: str = 'http') -> Iterator[str]:
    """A local server that accepts every connection and never sends a byte; yields its URL."""
    held: list[socket.socket] = []
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', 0))
        listener.listen()
        listener.settimeout(0.1)

        def accept() -> None:
            while not stop.is_set():
                try:
                    held.append(listener.accept()[0])
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            yield f'{scheme}://127.0.0.1:{listener.getsockname()[1]}'
        finally:
            stop.set()
            thread.join()
            for conn in held:
                conn.close()


def test_a_reachable_server_keeps_online(fresh_probe, monkeypatch):
    with http_server() as url:
        monkeypatch.setenv('WANDB_BASE_URL', url)
        monkeypatch.setenv('WANDB_API_KEY', 'x' * 40)
        assert tracking_mode() == 'online'


@pytest.mark.parametrize('scheme', ['http', 'https'])
def test_a_server_that_accepts_but_never_answers_records_offline_within_seconds_with_one_warning(
    fresh_probe, monkeypatch, caplog, scheme
):
    from ex_color.training.wandb_access import PROBE_TIMEOUT_S

    monkeypatch.setenv('WANDB_API_KEY', 'x' * 40)
    with silent_server(scheme) as url, caplog.at_level(logging.WARNING, logger='ex_color.training.tracking'):
        monkeypatch.setenv('WANDB_BASE_URL', url)
        start = time.monotonic()
        assert tracking_mode() == 'offline'
        assert tracking_mode() == 'offline'  # a second run: cached, no second warning
        assert time.monotonic() - start < PROBE_TIMEOUT_S + 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    handshake = 'did not complete a TLS handshake' if scheme == 'https' else 'sent no HTTP answer'
    assert url in warnings[0] and f'accepted a connection but {handshake}' in warnings[0]


def test_an_https_server_that_answers_keeps_online_whatever_its_certificate(
    fresh_probe, monkeypatch, tmp_path
):
    # the probe asks whether the server answers; whether wandb trusts its certificate is wandb's call
    openssl = shutil.which('openssl')
    if openssl is None:
        pytest.skip('openssl is needed to make a self-signed certificate')
    pem = tmp_path / 'server.pem'
    subprocess.run(
        [openssl, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
         '-keyout', str(pem), '-out', str(tmp_path / 'cert.pem')],
        check=True, capture_output=True,
    )  # fmt: skip
    pem.write_text(pem.read_text() + (tmp_path / 'cert.pem').read_text())
    with http_server(tls=pem) as url:
        monkeypatch.setenv('WANDB_BASE_URL', url)
        monkeypatch.setenv('WANDB_API_KEY', 'x' * 40)
        assert tracking_mode() == 'online'
