"""`./go bench`: without a name it lists every benchmark with what it times; an unknown name is an error.

`go` runs in a temporary copy of itself and benchmarks/, with PYTHON= naming this interpreter. Listing
needs no set-up venv, so neither call may build one: the copy has no .venv before, and must have none
after (a setup here would take minutes and install packages). The expected lines are read from each
benchmark's docstring with `ast` in the test, not taken from `go`'s output.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from utils.paths import project_root

ROOT = project_root()
BASH = shutil.which('bash') or '/bin/bash'
BENCHMARKS = sorted((ROOT / 'benchmarks').glob('*.py'))


@pytest.fixture
def project(tmp_path) -> Path:
    shutil.copy2(ROOT / 'go', tmp_path / 'go')
    shutil.copytree(
        ROOT / 'benchmarks', tmp_path / 'benchmarks', ignore=shutil.ignore_patterns('__pycache__')
    )
    return tmp_path


def go_bench(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith('EX_COLOR_')}
    return subprocess.run(
        [BASH, str(project / 'go'), 'bench', *args],
        env={**clean, 'PYTHON': sys.executable},
        capture_output=True,
        text=True,
        timeout=60,
    )


def first_doc_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc, f'{path} has no module docstring'
    return doc.splitlines()[0]


def listed(text: str) -> dict[str, str]:
    """Benchmark name -> description, from the indented `  name  description` lines of a listing."""
    rows = [line.strip().split(maxsplit=1) for line in text.splitlines() if line.startswith('  ')]
    return {row[0]: row[1] if len(row) > 1 else '' for row in rows}


def test_there_are_benchmarks_to_list():
    assert len(BENCHMARKS) >= 2


def test_without_a_name_every_benchmark_is_listed_with_its_docstring_and_nothing_is_set_up(project):
    out = go_bench(project)
    assert out.returncode == 0, out.stderr
    assert listed(out.stdout) == {p.stem: first_doc_line(p) for p in BENCHMARKS}
    assert './go bench NAME' in out.stdout
    assert not (project / '.venv').exists()


def test_an_unknown_name_is_an_error_that_names_it_and_lists_the_real_ones(project):
    out = go_bench(project, 'no_such_bench', '--repeats', '1')
    assert out.returncode != 0
    assert out.stdout == ''
    assert "no benchmark 'no_such_bench' (benchmarks/no_such_bench.py)" in out.stderr
    assert set(listed(out.stderr)) == {p.stem for p in BENCHMARKS}
    assert not (project / '.venv').exists()


def test_a_name_that_is_a_path_is_refused_not_run(project):
    # benchmarks/../go.py would name a file outside benchmarks/; it must not be run even if it exists
    (project / 'go.py').write_text('raise SystemExit("ran")\n')
    out = go_bench(project, '../go')
    assert out.returncode != 0
    assert "no benchmark '../go'" in out.stderr
    assert 'ran' not in out.stderr.splitlines()


def test_a_benchmark_without_a_docstring_is_listed_as_such(project):
    (project / 'benchmarks' / 'bare.py').write_text('print(1)\n')
    out = go_bench(project)
    assert out.returncode == 0, out.stderr
    assert listed(out.stdout)['bare'] == '(no docstring)'
