"""`./go setup`: installs from the lock, re-runs when pyproject or the lock change, never reuses a half-built venv.

`go` runs in a temporary copy of the project's setup inputs (go, pyproject.toml, requirements.lock),
with PYTHON= naming a fake interpreter whose `-m venv` makes a venv whose python only records each
call. So the tests see exactly which installs a setup asks for, in what order, in well under a
second, and without a network. `FAIL_ON` makes the fake venv's python fail a matching call.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.go_fakes import lock_torch_pin, logged_calls, project_with_fake_python, run_go
from utils.paths import project_root

ROOT = project_root()
BASH = shutil.which('bash') or '/bin/bash'

VENV_PYTHON = """
echo "$*" >>"$(dirname "$0")/../calls.log"
if [ -n "$FAIL_ON" ]; then
  case "$*" in *"$FAIL_ON"*) exit 1 ;; esac
fi
exit 0
"""
"""What the fake interpreter's venvs run as ``bin/python``: it logs each call."""


@pytest.fixture
def project(tmp_path) -> Path:
    return project_with_fake_python(tmp_path, VENV_PYTHON)


def go_setup(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_go(project, 'setup', *args, drop_env=('EX_COLOR_',), **{'FAIL_ON': '', **env})


def calls(project: Path) -> list[str]:
    return logged_calls(project / '.venv')


torch_pin = lock_torch_pin


def test_a_fresh_setup_installs_torch_then_the_lock_then_the_project(project):
    out = go_setup(project)
    assert out.returncode == 0, out.stderr
    log = calls(project)
    torch = log.index(f'-m pip install -q {torch_pin(project)}')
    locked = log.index('-m pip install -q -r requirements.lock')
    editable = log.index('-m pip install -q --no-deps -e .')
    assert torch < locked < editable < log.index('-m pip check')
    assert (project / '.venv/.setup-stamp').read_text().startswith('mode: locked')


def test_a_finished_setup_is_not_repeated(project):
    assert go_setup(project).returncode == 0
    before = calls(project)
    out = go_setup(project)
    assert out.returncode == 0 and 'setting up' not in out.stderr
    assert calls(project) == before


@pytest.mark.parametrize('changed', ['pyproject.toml', 'requirements.lock'])
def test_a_changed_input_updates_the_venv_in_place(project, changed):
    assert go_setup(project).returncode == 0
    (project / '.venv/kept').touch()
    with (project / changed).open('a') as f:
        f.write('\n# changed\n')
    out = go_setup(project)
    assert out.returncode == 0, out.stderr
    assert 'setting up' in out.stderr and 'incomplete' not in out.stderr
    assert (project / '.venv/kept').exists()  # updated, not rebuilt
    assert calls(project).count('-m pip install -q -r requirements.lock') == 2


def test_an_interrupted_setup_is_rebuilt_not_reused(project):
    out = go_setup(project, FAIL_ON='-r requirements.lock')
    assert out.returncode != 0
    assert not (project / '.venv/.setup-stamp').exists()
    (project / '.venv/leftover').touch()
    out = go_setup(project)
    assert out.returncode == 0, out.stderr
    assert 'incomplete' in out.stderr
    assert not (project / '.venv/leftover').exists()
    assert (project / '.venv/.setup-stamp').exists()


def test_a_failed_update_marks_the_venv_incomplete(project):
    assert go_setup(project).returncode == 0
    with (project / 'requirements.lock').open('a') as f:
        f.write('\n# changed\n')
    assert go_setup(project, FAIL_ON='--no-deps -e .').returncode != 0
    assert not (project / '.venv/.setup-stamp').exists()
    assert 'incomplete' in go_setup(project).stderr


def test_latest_installs_the_newest_versions_and_records_it(project):
    out = go_setup(project, '--latest')
    assert out.returncode == 0, out.stderr
    log = calls(project)
    assert not any('-r requirements.lock' in c for c in log)
    newest = [c for c in log if '--upgrade-strategy eager' in c]
    assert len(newest) == 1 and newest[0].endswith('-e .[dev,modal]') and ' -c ' in newest[0]
    assert (project / '.venv/.setup-stamp').read_text().startswith('mode: unlocked')
    # a plain setup afterwards returns the venv to the lock
    assert go_setup(project).returncode == 0
    assert '-m pip install -q -r requirements.lock' in calls(project)


def test_a_missing_lock_is_explained(project):
    (project / 'requirements.lock').unlink()
    out = go_setup(project)
    assert out.returncode != 0
    assert 'requirements.lock is missing' in out.stderr and './go lock' in out.stderr
    assert not (project / '.venv').exists()
