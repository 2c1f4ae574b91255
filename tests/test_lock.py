"""requirements.lock agrees with pyproject.toml, and a venv set up from it holds exactly its versions.

The agreement tests read only files and run everywhere. The venv tests need the running interpreter's
environment to have been set up from the lock (`./go setup`, which records the mode in the venv's
stamp); a venv set up with the newest versions (`EX_COLOR_UNLOCKED=1`) is skipped, with the reason.
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from infra.lock import (
    LOCKED_EXTRAS,
    UNLOCKED_EXTRAS,
    current_platform,
    lock_text,
    project_requirements,
    read_lock,
)
from infra.requirements import freeze, public_version
from utils.paths import project_root

ROOT = project_root()
PYPROJECT = ROOT / 'pyproject.toml'
LOCK = ROOT / 'requirements.lock'


def not_locked_reason() -> str | None:
    """Why this interpreter's venv cannot be compared with the lock, or None when it can."""
    stamp = Path(sys.prefix) / '.setup-stamp'
    if not stamp.is_file():
        return f'{sys.prefix} was not set up by ./go setup (no .setup-stamp)'
    mode = stamp.read_text().partition('\n')[0]
    if not mode.startswith('mode: locked'):
        return f'{sys.prefix} was not set up from the lock (its stamp says {mode[:60]!r})'
    lock_platform = read_lock(LOCK).platform
    if lock_platform != current_platform():
        return f'the lock is for {lock_platform}, this is {current_platform()}'
    return None


needs_locked_venv = pytest.mark.skipif(not_locked_reason() is not None, reason=str(not_locked_reason()))


def test_every_pyproject_requirement_is_pinned_within_its_specifier():
    pins = read_lock(LOCK).pins
    problems = []
    for requirer, requirements in project_requirements(PYPROJECT).items():
        for req in requirements:
            if req.marker is not None and not req.marker.evaluate({'extra': ''}):
                continue
            pinned = pins.get(canonicalize_name(req.name))
            if pinned is None:
                problems.append(f'{requirer}: {req} is not in the lock')
            elif not req.specifier.contains(Version(pinned), prereleases=True):
                problems.append(f'{requirer}: {req} but the lock pins {pinned}')
    assert not problems, (
        'pyproject.toml and requirements.lock disagree; install, then ./go lock:\n' + '\n'.join(problems)
    )


def test_every_extra_is_either_locked_or_deliberately_not():
    extras = set(tomllib.loads(PYPROJECT.read_text())['project']['optional-dependencies'])
    assert extras == set(LOCKED_EXTRAS) | set(UNLOCKED_EXTRAS)
    assert not set(LOCKED_EXTRAS) & set(UNLOCKED_EXTRAS)
    lock = read_lock(LOCK)
    assert lock.extras == LOCKED_EXTRAS
    # the lab extra stays out, so CI (which installs only the lock) never installs JupyterLab
    assert 'lab' in UNLOCKED_EXTRAS
    assert 'jupyterlab' not in lock.pins


def test_pins_are_public_versions_and_torch_is_pinned():
    pins = read_lock(LOCK).pins
    # no local labels: torch==2.13.0 matches the CPU build ./go setup installs first and PyPI's build
    assert {name: v for name, v in pins.items() if '+' in v} == {}
    assert 'torch' in pins
    assert 'ex-color' not in pins  # the project is installed editable, on top of the lock


@needs_locked_venv
def test_installed_versions_match_the_lock():
    pins = read_lock(LOCK).pins
    installed = {name: public_version(version(name)) for name in pins}
    assert {n: (installed[n], v) for n, v in pins.items() if installed[n] != v} == {}


@needs_locked_venv
def test_the_lock_rewritten_from_this_venv_is_unchanged():
    # catches a package upgraded by hand in the venv, or a pin the walk no longer reaches
    assert lock_text(PYPROJECT) == LOCK.read_text(), 'the venv differs from requirements.lock: ./go lock'


@needs_locked_venv
def test_modal_image_pins_are_the_locks_runtime_part():
    pins = read_lock(LOCK).pins
    image = {canonicalize_name(p.partition('==')[0]): p.partition('==')[2] for p in freeze(all=True)}
    assert {n: (v, pins.get(n)) for n, v in image.items() if pins.get(n) != v} == {}
    assert 'pytest' in pins and 'pytest' not in image  # dev tools are locked, never shipped


def test_read_lock_parses_pins_comments_and_header(tmp_path):
    lock = tmp_path / 'requirements.lock'
    lock.write_text(
        '# extras: dev, modal\n# platform: cpython 3.11 linux x86_64\n'
        'PyYAML==6.0.4  # via wandb\n\ntorch==2.13.0  # via ex-color\n'
    )
    assert read_lock(lock) == (
        {'pyyaml': '6.0.4', 'torch': '2.13.0'},
        ('dev', 'modal'),
        'cpython 3.11 linux x86_64',
    )
    lock.write_text('numpy>=2\n')
    with pytest.raises(ValueError, match='exact pin'):
        read_lock(lock)


def test_an_extra_in_neither_list_is_an_error(tmp_path):
    pyproject = tmp_path / 'pyproject.toml'
    pyproject.write_text(
        '[project]\nname = "demo"\ndependencies = ["numpy>=1"]\n'
        '[project.optional-dependencies]\ndev = []\nmodal = []\nlab = []\ndocs = ["sphinx"]\n'
    )
    with pytest.raises(ValueError, match=r"\['docs'\]"):
        project_requirements(pyproject)
    pyproject.write_text('[project]\nname = "demo"\ndependencies = ["numpy>=1"]\n')
    with pytest.raises(ValueError, match='lacks'):
        project_requirements(pyproject)


def test_lock_text_refuses_an_installed_version_outside_pyprojects_specifier(tmp_path):
    pyproject = tmp_path / 'pyproject.toml'
    numpy = Version(version('numpy'))
    pyproject.write_text(
        f'[project]\nname = "demo"\ndependencies = ["numpy>{numpy.major + 1}"]\n'
        '[project.optional-dependencies]\ndev = []\nmodal = []\n'
    )
    with pytest.raises(ValueError, match=f'{Requirement(f"numpy>{numpy.major + 1}")}'):
        lock_text(pyproject)
