"""infra.requirements: pins from installed metadata, and the project's own packages."""

import subprocess
import sys
from importlib.metadata import version

import pytest

from infra.requirements import freeze, project_packages, public_version


def pins_by_name(pins: list[str]) -> dict[str, str]:
    return {p.partition('==')[0].lower().replace('_', '-'): p.partition('==')[2] for p in pins}


def test_freeze_all_pins_runtime_dependencies_at_installed_versions():
    pins = freeze(all=True)
    by_name = pins_by_name(pins)
    for name in ['torch', 'lightning', 'numpy', 'pandas', 'matplotlib', 'wandb']:
        assert by_name[name] == public_version(version(name)), name
    for dev_tool in ['pytest', 'hypothesis', 'ruff', 'pytest-timeout', 'modal', 'ex-color']:
        assert dev_tool not in by_name, dev_tool
    assert pins == sorted(pins, key=str.lower)
    assert len(pins) == len(by_name)  # no duplicates


def test_freeze_all_includes_transitive_dependencies():
    by_name = pins_by_name(freeze(all=True))
    # lightning -> lightning-utilities, torch -> sympy -> mpmath (two levels below the project).
    for name in ['lightning-utilities', 'sympy', 'mpmath']:
        assert name in by_name, name


def test_freeze_named_packages_only():
    pins = freeze('torch', 'numpy')
    assert pins == [f'numpy=={version("numpy")}', f'torch=={public_version(version("torch"))}']


def test_torch_local_tag_is_stripped():
    assert public_version('2.13.0+cpu') == '2.13.0'
    assert public_version('2.4.1') == '2.4.1'
    assert public_version('1.0.0.post2+cu121') == '1.0.0.post2'
    assert '+' not in pins_by_name(freeze('torch'))['torch']


def test_freeze_argument_errors():
    with pytest.raises(ValueError, match='not both'):
        freeze('torch', all=True)
    with pytest.raises(ValueError, match='all=True'):
        freeze()
    with pytest.raises(ValueError, match='no-such-package-xyz'):
        freeze('no-such-package-xyz')


def test_project_packages_from_another_working_directory(tmp_path):
    assert project_packages() == ['ex_color', 'infra', 'mini', 'utils']
    code = 'from infra.requirements import project_packages; print(",".join(project_packages()))'
    out = subprocess.run(
        [sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == 'ex_color,infra,mini,utils'
