"""Tracking: wandb offline runs land on disk with our metric names; the mode resolves as documented."""

from __future__ import annotations

import time

import pytest
import wandb

from ex_color.training import fit, wandb_mode
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
