"""Shared fixtures: tests never touch the network, the user's wandb account or the committed figures."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault('WANDB_MODE', 'disabled')
os.environ.setdefault('MPLBACKEND', 'Agg')
os.environ.setdefault('WANDB_SILENT', 'true')


@pytest.fixture(autouse=True)
def _figures_to_tmp(tmp_path_factory, monkeypatch):
    """Any figure a test renders goes to a temporary folder, never into large-assets/."""
    if 'EX_COLOR_FIGURES_DIR' not in os.environ:
        monkeypatch.setenv('EX_COLOR_FIGURES_DIR', str(tmp_path_factory.mktemp('figures')))
