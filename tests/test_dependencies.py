"""Every package the code imports is declared in pyproject.toml.

Imports are read with `ast` from the library (src/, infra/), the notebooks' code cells, and the
tests and benchmarks (which may also use the dev extra). Standard-library and project modules are
skipped; every other top-level module must belong to a declared distribution.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from packaging.requirements import Requirement

from utils.paths import project_root

ROOT = project_root()
OWN = {'ex_color', 'mini', 'utils', 'infra', 'tests', 'benchmarks'}


def pyproject() -> dict:
    return tomllib.loads((ROOT / 'pyproject.toml').read_text())


def declared(*extras: str) -> set[str]:
    project = pyproject()['project']
    reqs = list(project['dependencies'])
    for extra in extras:
        reqs += project['optional-dependencies'][extra]
    return {_norm(Requirement(r).name) for r in reqs}


def _norm(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def imported(sources: list[tuple[str, str]]) -> dict[str, str]:
    """Top-level module -> first place it is imported."""
    found: dict[str, str] = {}
    for where, code in sources:
        for node in ast.walk(ast.parse(code, where)):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split('.')[0], f'{where}:{node.lineno}')
    return found


def python_files(*folders: str) -> list[tuple[str, str]]:
    return [
        (str(p.relative_to(ROOT)), p.read_text()) for f in folders for p in sorted((ROOT / f).rglob('*.py'))
    ]


def notebook_cells() -> list[tuple[str, str]]:
    out = []
    for path in sorted((ROOT / 'notebooks').glob('*.ipynb')):
        for i, cell in enumerate(json.loads(path.read_text())['cells']):
            if cell['cell_type'] == 'code':
                code = ''.join(cell['source'])
                code = '\n'.join(
                    line for line in code.splitlines() if not line.lstrip().startswith(('%', '!'))
                )
                out.append((f'{path.name} cell {i}', code))
    return out


def undeclared(sources: list[tuple[str, str]], allowed: set[str]) -> dict[str, str]:
    dists = packages_distributions()
    missing = {}
    for module, where in imported(sources).items():
        if module in sys.stdlib_module_names or module in OWN or module == '__future__':
            continue
        owners = {_norm(d) for d in dists.get(module, [])}
        if not owners & allowed:
            missing[module] = f'{where} (distribution {sorted(owners) or "unknown"})'
    return missing


def test_the_library_and_notebooks_import_only_declared_packages():
    allowed = declared('modal')
    assert undeclared(python_files('src', 'infra') + notebook_cells(), allowed) == {}


def test_tests_and_benchmarks_import_only_declared_packages():
    allowed = declared('modal', 'dev')
    assert undeclared(python_files('tests', 'benchmarks'), allowed) == {}


def test_a_missing_declaration_would_be_caught():
    # the check itself: an import of a package that is installed but not declared is reported
    assert 'numpy' in undeclared([('probe.py', 'import numpy')], declared('modal') - {'numpy'})
