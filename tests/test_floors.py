"""infra.floors: pyproject's floors are read, pinned and compared with what is installed.

The pyproject files here are written by each test; the expected floors, pins and verdicts are written
out by hand from them. The last tests read the project's own pyproject.toml and test list.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.version import Version

from infra.floors import HELD, OLDEST_TESTS, compare, floors, main, pins
from infra.lock import LOCKED_EXTRAS
from utils.paths import project_root

ROOT = project_root()

PYPROJECT = """
[project]
name = "demo"
dependencies = [
    "torch>=2.6",
    "wandb>=0.19.10",
    "Pillow>=10",
    "colorama>=0.4; sys_platform == 'nonexistent'",
]
[project.optional-dependencies]
dev = ["pytest>=8,<10"]
modal = ["modal>=1.6"]
lab = ["jupyterlab"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / 'pyproject.toml'
    path.write_text(text)
    return path


def test_floors_are_the_lower_bounds_of_the_dependencies_and_locked_extras(tmp_path):
    found = floors(write(tmp_path, PYPROJECT))
    # colorama's marker is false here, and lab is not a locked extra (its jupyterlab has no floor)
    assert [(f.name, f.floor, f.group) for f in found] == [
        ('torch', Version('2.6'), 'dependencies'),
        ('wandb', Version('0.19.10'), 'dependencies'),
        ('pillow', Version('10'), 'dependencies'),
        ('pytest', Version('8'), 'optional-dependencies.dev'),
        ('modal', Version('1.6'), 'optional-dependencies.modal'),
    ]


def test_a_requirement_without_a_floor_is_an_error_naming_it(tmp_path):
    path = write(tmp_path, PYPROJECT.replace('"Pillow>=10"', '"Pillow"'))
    with pytest.raises(ValueError, match=r"pyproject\.toml: dependencies requirement 'Pillow' needs"):
        floors(path)


def test_an_exact_pin_is_not_a_floor(tmp_path):
    path = write(tmp_path, PYPROJECT.replace('"pytest>=8,<10"', '"pytest==8.0.0"'))
    with pytest.raises(ValueError, match=r"optional-dependencies\.dev requirement 'pytest==8\.0\.0'"):
        floors(path)


def test_a_missing_extra_is_an_error_naming_it(tmp_path):
    path = write(tmp_path, PYPROJECT.replace('modal = ["modal>=1.6"]\n', ''))
    with pytest.raises(ValueError, match="has no extra 'modal'"):
        floors(path)


def test_pins_fix_every_floor_but_the_held_torch(tmp_path):
    assert pins(floors(write(tmp_path, PYPROJECT))) == [
        'wandb==0.19.10',
        'pillow==10',
        'pytest==8',
        'modal==1.6',
    ]


def test_verdicts_compare_versions_not_strings(tmp_path):
    found = floors(write(tmp_path, PYPROJECT))
    installed = {
        'torch': '2.13.0+cpu',  # held: any version the requirement allows
        'wandb': '0.19.9',  # below 0.19.10 (a string comparison would call it above)
        'pillow': '10.0.0',  # 10.0.0 == 10 under PEP 440
        'pytest': '8.0.1',
    }  # modal is missing
    verdicts = {r.floor.name: r.verdict for r in compare(found, installed)}
    assert verdicts == {
        'torch': 'held',
        'wandb': 'below floor',
        'pillow': 'at floor',
        'pytest': 'above floor',
        'modal': 'missing',
    }
    assert [r.floor.name for r in compare(found, installed) if r.ok] == ['torch', 'pillow']


def test_a_held_torch_below_its_floor_is_not_ok(tmp_path):
    found = [f for f in floors(write(tmp_path, PYPROJECT)) if f.name in HELD]
    (row,) = compare(found, {'torch': '2.5.1'})
    assert row.verdict == 'below floor' and not row.ok


def test_check_exits_nonzero_naming_each_dependency_off_its_floor(tmp_path, capsys):
    # this venv holds the lock's versions, far above these made-up floors
    path = write(
        tmp_path,
        '[project]\nname = "demo"\ndependencies = ["packaging>=20.0"]\n'
        '[project.optional-dependencies]\ndev = []\nmodal = []\n',
    )
    assert main(['check', str(path)]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines()[1].split()[:2] == ['packaging', '20.0']
    assert 'packaging' in out.err and '(floor 20.0)' in out.err


def test_the_projects_floors_are_all_declared_and_pinned():
    pyproject = ROOT / 'pyproject.toml'
    project = tomllib.loads(pyproject.read_text())['project']
    found = floors(pyproject)  # raises if any locked requirement lacks a floor
    expected = len(project['dependencies']) + sum(
        len(project['optional-dependencies'][e]) for e in LOCKED_EXTRAS
    )
    assert len(found) == expected
    assert [f.name for f in found if f.name in HELD] == ['torch']
    assert len(pins(found)) == expected - 1


def test_the_oldest_tests_exist_once_each():
    assert len(set(OLDEST_TESTS)) == len(OLDEST_TESTS)
    for path in OLDEST_TESTS:
        assert path.startswith('tests/test_') and (ROOT / path).is_file(), path
