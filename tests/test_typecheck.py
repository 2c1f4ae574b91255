"""The type checker `./go test` runs catches what its configuration promises to catch.

`./go test` runs mypy over src/ and tests/ with pyproject's settings. These tests run the same checker
with the same settings over small files written here, so a setting lost from pyproject (an unchecked
body, an ignore that no longer needs to be there) fails a test instead of silently weakening the check.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip('mypy')


def _mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    target = tmp_path / 'sample.py'
    target.write_text(source, encoding='utf-8')
    return subprocess.run(
        [
            sys.executable, '-m', 'mypy',
            '--config-file', str(ROOT / 'pyproject.toml'),
            '--cache-dir', str(tmp_path / 'cache'),
            str(target),
        ],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip


def test_the_body_of_an_unannotated_function_is_checked(tmp_path: Path) -> None:
    result = _mypy(tmp_path, 'def f():\n    n: int = "one"\n    return n\n')
    assert result.returncode == 1, result.stdout
    assert 'sample.py:2' in result.stdout and '[assignment]' in result.stdout


def test_an_ignore_needs_its_error_code_and_a_reason_to_exist(tmp_path: Path) -> None:
    bare = _mypy(tmp_path, 'n: int = "one"  # type: ignore\n')
    assert bare.returncode == 1 and '[ignore-without-code]' in bare.stdout, bare.stdout
    unused = _mypy(tmp_path, 'n: int = 1  # type: ignore[assignment]\n')
    assert unused.returncode == 1 and 'Unused "type: ignore"' in unused.stdout, unused.stdout


def test_clean_code_passes(tmp_path: Path) -> None:
    result = _mypy(tmp_path, 'def f(n: int) -> str:\n    return str(n)\n')
    assert result.returncode == 0, result.stdout
