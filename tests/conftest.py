"""Shared fixtures: tests never touch the network, the user's wandb account or the committed figures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from utils.paths import project_root

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


@pytest.fixture
def offline(tmp_path, monkeypatch) -> Iterator[Path]:
    """For a test that reads runs back (`tests.wandb_runs`): wandb writes only under `tmp_path`: run folders, cache, config, data and artifacts."""
    monkeypatch.setenv('EX_COLOR_WANDB_DIR', str(tmp_path))
    for name in ('WANDB_DIR', 'WANDB_CACHE_DIR', 'WANDB_CONFIG_DIR', 'WANDB_DATA_DIR', 'WANDB_ARTIFACT_DIR'):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv('WANDB_SILENT', 'true')
    repo_runs = project_root() / 'wandb'
    before = sorted(p.name for p in repo_runs.iterdir()) if repo_runs.is_dir() else []
    yield tmp_path
    after = sorted(p.name for p in repo_runs.iterdir()) if repo_runs.is_dir() else []
    assert after == before, "the test wrote into the repository's wandb/"
