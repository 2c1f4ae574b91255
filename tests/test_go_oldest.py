"""`./go test --oldest`: its own venv, torch held out of the resolver, every floor pinned, then the subset.

`go` runs in a temporary copy of its setup inputs (go, pyproject.toml, requirements.lock), with PYTHON=
naming a fake interpreter whose `-m venv` makes a venv whose python (and the uv it "installs") only
record each call and answer the few questions `go` asks (the floors' pins, the test list, torch's
version). So the tests see which installs the recipe asks for, in what order, with what constraints,
in well under a second and without a network. The real run, on real wheels, is `./go test --oldest`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.go_fakes import lock_torch_pin, logged_calls, project_with_fake_python, run_go
from utils.paths import project_root

ROOT = project_root()
BASH = shutil.which('bash') or '/bin/bash'

VENV_PYTHON = """
bin="$(dirname "$0")"
echo "python $*" >>"$bin/../calls.log"
case "$*" in
  "-m pip install -q uv packaging")
    printf '#!/bin/sh\\necho "uv $*" >>"$(dirname "$0")/../calls.log"\\n' >"$bin/uv"
    chmod +x "$bin/uv" ;;
  "-m infra.floors pins pyproject.toml") echo wandb==0.19.10 ;;
  "-m infra.floors tests") echo tests/test_a.py; echo tests/test_b.py ;;
  "-m infra.floors check pyproject.toml") exit "${CHECK_RC:-0}" ;;
  -c*) echo torch==2.13.0+cpu ;;
  "-m pytest"*)
    echo "env WANDB_MODE=$WANDB_MODE WANDB_DIR=$WANDB_DIR" >>"$bin/../calls.log"
    exit "${PYTEST_RC:-0}" ;;
esac
exit 0
"""
"""What the fake interpreter's venvs run as ``bin/python``: it logs each call."""


@pytest.fixture
def project(tmp_path) -> Path:
    return project_with_fake_python(tmp_path, VENV_PYTHON)


def go_oldest(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_go(project, 'test', '--oldest', *args, drop_env=('EX_COLOR_', 'WANDB_'), **env)


def calls(project: Path) -> list[str]:
    return logged_calls(project / '.venv-oldest')


lock_torch = lock_torch_pin


def test_torch_comes_first_without_its_dependencies_then_uv_installs_the_pinned_floors(project):
    out = go_oldest(project)
    assert out.returncode == 0, out.stderr
    log = calls(project)
    torch = log.index(f'python -m pip install -q --no-deps {lock_torch(project)}')
    tools = log.index('python -m pip install -q uv packaging')
    pinned = log.index('python -m infra.floors pins pyproject.toml')
    resolve = log.index(
        'uv pip install -q --python .venv-oldest/bin/python --resolution lowest-direct '
        '-c .venv-oldest/floors.txt -e .[dev,modal]'
    )
    assert torch < tools < pinned < resolve < log.index('python -m infra.floors check pyproject.toml')
    # the resolver is told the floors and the torch already installed, so it neither moves nor fetches it
    assert (project / '.venv-oldest/floors.txt').read_text() == 'wandb==0.19.10\ntorch==2.13.0+cpu\n'
    # torch is never installed with its dependencies, and .venv is never touched
    assert not [c for c in log if 'pip install' in c and 'torch' in c and '--no-deps' not in c]
    assert not (project / '.venv').exists()


def test_the_listed_tests_run_offline_with_wandb_in_a_scratch_folder_that_is_removed(project):
    out = go_oldest(project, '-x')
    assert out.returncode == 0, out.stderr
    log = calls(project)
    assert 'python -m pytest -p no:cacheprovider tests/test_a.py tests/test_b.py -x' in log
    (env,) = [c for c in log if c.startswith('env ')]
    match = re.fullmatch(r'env WANDB_MODE=offline WANDB_DIR=(\S+)/wandb', env)
    assert match, env
    assert not Path(match[1]).exists()


def test_a_finished_setup_is_reused_and_a_changed_pyproject_rebuilds_from_nothing(project):
    assert go_oldest(project).returncode == 0
    again = go_oldest(project)
    assert again.returncode == 0 and 'setting up' not in again.stderr
    assert sum('--no-deps' in c for c in calls(project)) == 1
    (project / '.venv-oldest/leftover').touch()
    with (project / 'pyproject.toml').open('a') as f:
        f.write('\n# changed\n')
    rebuilt = go_oldest(project)
    assert rebuilt.returncode == 0 and 'setting up' in rebuilt.stderr
    assert not (project / '.venv-oldest/leftover').exists()
    assert sum('--no-deps' in c for c in calls(project)) == 1  # a fresh venv, a fresh log


def test_a_floor_off_its_version_fails_the_run_after_the_tests_still_ran(project):
    out = go_oldest(project, CHECK_RC='1')
    assert out.returncode == 1
    assert any(c.startswith('python -m pytest') for c in calls(project))


def test_a_failing_test_fails_the_run(project):
    assert go_oldest(project, PYTEST_RC='1').returncode == 1


def test_the_torch_spec_override_is_installed_instead_of_the_lock_pin(project):
    out = go_oldest(project, EX_COLOR_TORCH_SPEC='torch==2.99.0')
    assert out.returncode == 0, out.stderr
    assert 'python -m pip install -q --no-deps torch==2.99.0' in calls(project)
