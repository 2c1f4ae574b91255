"""`./go which-python`: the interpreter `./go setup` builds .venv with, found on a PATH of stub interpreters.

Each stub is a shell script that answers the version probe the way an interpreter of that version
would (or fails, like a pyenv shim for a version that is not selected). PATH holds only the stubs and
the few tools `go` itself runs, so no real Python on the machine can be found by accident.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from utils.paths import project_root

GO = project_root() / 'go'
BASH = shutil.which('bash') or '/bin/bash'
TOOLS = ('dirname', 'awk', 'cat', 'cmp', 'grep', 'sed', 'rm', 'flock')


@pytest.fixture
def path(tmp_path) -> Path:
    """A folder for stub interpreters; `run` puts it first on a PATH with only go's own tools after."""
    tools = tmp_path / 'tools'
    tools.mkdir()
    for tool in TOOLS:
        if found := shutil.which(tool):
            (tools / tool).symlink_to(found)
    stubs = tmp_path / 'stubs'
    stubs.mkdir()
    return stubs


def stub(folder: Path, name: str, body: str) -> Path:
    exe = folder / name
    exe.write_text(f'#!/bin/sh\n{body}\n')
    exe.chmod(0o755)
    return exe


def which_python(stubs: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {'PATH': f'{stubs}:{stubs.parent / "tools"}', 'HOME': str(stubs.parent), **env}
    return subprocess.run(
        [BASH, str(GO), 'which-python'], env=full_env, capture_output=True, text=True, timeout=30
    )


def test_takes_the_first_candidate_that_runs_and_is_recent_enough(path):
    stub(path, 'python3.12', 'echo "pyenv: python3.12: command not found" >&2; exit 127')
    stub(path, 'python3.11', 'echo 3.11.4')
    stub(path, 'python3', 'echo 3.13.1')
    out = which_python(path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f'{path / "python3.11"} (3.11.4)'


def test_prefers_the_newest_name(path):
    for name, ver in [('python3.13', '3.13.0'), ('python3.12', '3.12.1'), ('python3', '3.11.7')]:
        stub(path, name, f'echo {ver}')
    assert which_python(path).stdout.strip() == f'{path / "python3.13"} (3.13.0)'


def test_a_name_is_checked_by_its_version_not_trusted(path):
    # python3 is often older than the project supports; python3.11 here lacks the venv module
    stub(path, 'python3.11', 'echo 3.11.2; exit 1')
    stub(path, 'python3', 'echo 3.9.18')
    out = which_python(path)
    assert out.returncode != 0 and out.stdout == ''
    assert 'python3.13: not found' in out.stderr
    assert 'python3.12: not found' in out.stderr
    assert 'python3.11: Python 3.11.2 without the venv module' in out.stderr
    assert 'python3: Python 3.9.18, older than 3.11' in out.stderr
    assert 'PYTHON=' in out.stderr


def test_none_found_says_what_was_tried_and_how_to_choose(path):
    out = which_python(path)
    assert out.returncode != 0
    assert out.stderr.splitlines() == [
        'go: no usable Python >= 3.11. Tried:',
        '  python3.13: not found',
        '  python3.12: not found',
        '  python3.11: not found',
        '  python3: not found',
        'Install Python 3.11 or newer, or name one with PYTHON=, e.g. PYTHON=/usr/bin/python3.12 ./go setup',
    ]


def test_python_overrides_the_search(path):
    stub(path, 'python3.13', 'echo 3.13.0')
    custom = stub(path, 'my-python', 'echo 3.12.5')
    out = which_python(path, PYTHON=str(custom))
    assert out.stdout.strip() == f'{custom} (3.12.5)'
    # by name on PATH, too
    assert which_python(path, PYTHON='my-python').stdout.strip() == f'{custom} (3.12.5)'


def test_an_unusable_python_override_is_an_error_not_a_fallback(path):
    stub(path, 'python3.13', 'echo 3.13.0')
    old = stub(path, 'old-python', 'echo 3.10.12')
    out = which_python(path, PYTHON=str(old))
    assert out.returncode != 0
    assert 'PYTHON is set, so only it was tried' in out.stderr
    assert f'{old}: Python 3.10.12, older than 3.11' in out.stderr
    assert 'python3.13' not in out.stderr.split('Tried:')[1].split('Install')[0]


def test_the_real_finder_agrees_with_this_interpreter_family():
    # on this machine, without stubs: whatever it picks is >= 3.11
    out = subprocess.run(
        [BASH, str(GO), 'which-python'],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, 'PYTHON': ''},
    )
    assert out.returncode == 0, out.stderr
    ver = out.stdout.rsplit('(', 1)[1].rstrip(')\n')
    assert tuple(int(p) for p in ver.split('.')[:2]) >= (3, 11)
