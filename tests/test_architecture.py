"""The house keeps its shape: imports run one way, nothing imports itself round a loop, and no module
reaches for another's private names.

The import graph is read from the source under `src/` (every import statement, also those inside
functions, which a run-time check would miss), with ``from package import name`` resolved to the
module `name` when there is one. Three rules:

* **Layers.** experiments > vis | search > evaluation > training > model | data | loss > mini > utils:
  a module imports only from its own layer or those below. The model room (`ex_color.model`), the
  seed's paths that re-export from it (`ex_color.surgery`, `ex_color.inference`), `runtime` and `seed`
  sit in the model layer; `callbacks` (the seed's Lightning callback) in training's.
* **No cycles**, through packages' ``__init__`` modules included.
* **No private names across modules**: ``from a import _name`` only within `a` itself.

Each rule is also run on a small made-up tree that breaks it, so the checks can fail.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / 'src'
ROOTS = ('ex_color', 'mini', 'utils')
LAYERS: dict[str, int] = {
    'ex_color.experiments': 7,
    'ex_color.vis': 6,
    'ex_color.search': 6,
    'ex_color.evaluation': 5,
    'ex_color.training': 4,
    'ex_color.callbacks': 4,
    'ex_color': 3,  # the model room at the top of the package, data and loss
    'mini': 2,
    'utils': 1,
}
"""Layer of a module: its longest prefix here (higher imports lower, never the other way)."""


def modules(root: Path) -> dict[str, Path]:
    out = {}
    for path in root.rglob('*.py'):
        parts = path.relative_to(root).with_suffix('').parts
        if parts[0] not in ROOTS:
            continue
        name = '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)
        out[name] = path
    return out


def imports(name: str, path: Path, known: Iterable[str]) -> list[tuple[str, str, int]]:
    """(module imported, name imported or '', line) for every project import in the module, at any depth."""
    known = set(known)
    package = name if path.name == '__init__.py' else name.rpartition('.')[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, '', node.lineno) for a in node.names if a.name.split('.')[0] in ROOTS]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                base = '.'.join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base.split('.')[0] not in ROOTS:
                continue
            for alias in node.names:
                sub = f'{base}.{alias.name}'
                found.append((sub, '', node.lineno) if sub in known else (base, alias.name, node.lineno))
    return found


def layer(name: str) -> int:
    best = max((p for p in LAYERS if name == p or name.startswith(p + '.')), key=len)
    return LAYERS[best]


def layer_violations(mods: dict[str, Path]) -> list[str]:
    bad = []
    for name, path in mods.items():
        for target, _, line in imports(name, path, mods):
            if target in mods and layer(target) > layer(name):
                bad.append(f'{name}:{line} imports {target} (layer {layer(target)} above {layer(name)})')
    return bad


def cycles(mods: dict[str, Path]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    graph = {
        n: sorted({t for t, _, _ in imports(n, p, mods) if t in mods and t != n}) for n, p in mods.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return groups


def private_imports(mods: dict[str, Path]) -> list[str]:
    bad = []
    for name, path in mods.items():
        for target, imported, line in imports(name, path, mods):
            private = imported.startswith('_') and not imported.startswith('__')
            if private and target != name:
                bad.append(f'{name}:{line} imports {imported} from {target}')
    return bad


def test_imports_follow_the_layer_order():
    assert layer_violations(modules(SRC)) == []


def test_there_is_no_import_cycle_not_even_through_function_level_imports():
    assert cycles(modules(SRC)) == []


def test_no_module_imports_another_modules_private_name():
    assert private_imports(modules(SRC)) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return modules(tmp_path)


@pytest.mark.parametrize(
    ('files', 'check', 'expected'),
    [
        (
            {'ex_color/__init__.py': '', 'ex_color/training/__init__.py': '',
             'ex_color/training/run.py': 'def f():\n    from ex_color.experiments import report\n',
             'ex_color/experiments/__init__.py': '', 'ex_color/experiments/report.py': ''},
            layer_violations, ['ex_color.training.run:2 imports ex_color.experiments.report (layer 7 above 4)'],
        ),
        (
            {'utils/__init__.py': '', 'utils/a.py': 'import mini.b\n', 'mini/__init__.py': '', 'mini/b.py': ''},
            layer_violations, ['utils.a:1 imports mini.b (layer 2 above 1)'],
        ),
        (
            {'ex_color/__init__.py': '', 'ex_color/training/__init__.py': '',
             'ex_color/training/run.py': 'from ex_color.training.shards import go\n',
             'ex_color/training/shards.py': 'def go():\n    from ex_color.training.run import x\n'},
            cycles, [['ex_color.training.run', 'ex_color.training.shards']],
        ),
        (
            {'ex_color/__init__.py': '', 'ex_color/vis/__init__.py': '',
             'ex_color/vis/a.py': 'from ex_color.evaluation.correlation import _check_power\n',
             'ex_color/evaluation/__init__.py': '', 'ex_color/evaluation/correlation.py': ''},
            private_imports, ['ex_color.vis.a:1 imports _check_power from ex_color.evaluation.correlation'],
        ),
    ],
    ids=['upward-in-a-function', 'utils-imports-mini', 'hidden-cycle', 'private-name'],
)  # fmt: skip
def test_each_check_catches_what_it_is_for(tmp_path, files, check, expected):
    assert check(_tree(tmp_path, files)) == expected
