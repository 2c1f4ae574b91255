"""Shared fixtures: tests never touch the network, the user's wandb account or the committed figures."""

from __future__ import annotations

import os

import pytest

# Whatever the user exported, the suite never logs online and never sends work to Modal (a test
# that needs another value sets it with monkeypatch); checkpoints never land in the real runs/.
os.environ['WANDB_MODE'] = 'disabled'
os.environ['EX_COLOR_BACKEND'] = 'local'
os.environ.setdefault('MPLBACKEND', 'Agg')
os.environ.setdefault('WANDB_SILENT', 'true')


@pytest.fixture(autouse=True)
def _runs_to_tmp(tmp_path_factory, monkeypatch):
    """Any checkpoint store a test opens by default lives in a temporary folder, never in runs/."""
    monkeypatch.setenv('EX_COLOR_RUNS_DIR', str(tmp_path_factory.mktemp('runs')))


@pytest.fixture(autouse=True)
def _wandb_to_tmp(tmp_path_factory, monkeypatch):
    """A test that runs wandb offline writes its run files to a temporary folder, never into wandb/."""
    monkeypatch.setenv('EX_COLOR_WANDB_DIR', str(tmp_path_factory.mktemp('wandb')))


@pytest.fixture(autouse=True)
def _figures_to_tmp(tmp_path_factory, monkeypatch):
    """Any figure a test renders goes to a temporary folder, never into large-assets/."""
    if 'EX_COLOR_FIGURES_DIR' not in os.environ:
        monkeypatch.setenv('EX_COLOR_FIGURES_DIR', str(tmp_path_factory.mktemp('figures')))
