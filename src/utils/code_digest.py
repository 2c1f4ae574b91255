"""A digest of Python source that changes with its code and not with its prose.

`code_digest(root, patterns)` hashes every ``.py`` file the patterns name (relative to `root`: a file,
a folder taken whole, or a glob), each as its syntax tree without comments, docstrings or layout. Caches
key on it, so editing code invalidates what that code computed, and editing a docstring does not.

A pattern that names nothing is an error: a cache keyed on a file that moved would silently stop
noticing that file's changes.

Parsing and dumping sixty modules' syntax trees takes about half a second, which a notebook re-run
that loads everything from its caches would spend on every run; with `memo` (a JSON file), each
file's code hash is kept by the sha256 of its bytes (and the Python version, whose syntax trees
differ), so an unchanged file is read and hashed, not parsed.
"""

from __future__ import annotations

import ast
import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from utils.atomic import write_atomic

__all__ = ['CODE_MEMO', 'code_digest', 'code_of']

CODE_MEMO = 'code-digests.json'
"""The memo's usual name, in the folder of the caches that key on the digest."""


def code_of(path: Path) -> str:
    """A module's code without its comments, docstrings or layout."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        body = getattr(node, 'body', None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


def code_digest(root: Path, patterns: Iterable[str], memo: Path | None = None) -> str:
    """sha256 over the code (`code_of`) and relative path of every ``.py`` file `patterns` name;
    `memo`: a JSON file that keeps each file's code hash by its bytes' hash."""
    files: set[Path] = set()
    for pattern in patterns:
        found = root / pattern
        if '*' in pattern:
            matched = {p for p in root.glob(pattern) if p.suffix == '.py'}
        elif found.is_dir():
            matched = set(found.rglob('*.py'))
        else:
            matched = {found} if found.is_file() else set()
        if not matched:
            raise FileNotFoundError(f'code_digest: {pattern!r} names no Python file under {root}')
        files |= matched
    known = _read_memo(memo) if memo is not None else {}
    added = False
    h = hashlib.sha256()
    for path in sorted(files):
        raw = f'{sys.version_info[0]}.{sys.version_info[1]}:' + hashlib.sha256(path.read_bytes()).hexdigest()
        if raw not in known:
            known[raw] = hashlib.sha256(code_of(path).encode()).hexdigest()
            added = True
        h.update(str(path.relative_to(root)).encode())
        h.update(known[raw].encode())
    if memo is not None and added:
        write_atomic(memo, json.dumps(known, sort_keys=True).encode())
    return h.hexdigest()


def _read_memo(memo: Path) -> dict[str, str]:
    try:
        known = json.loads(memo.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as e:
        raise ValueError(
            f'code digest memo {memo} is damaged ({e}); delete it to hash the code afresh'
        ) from None
    if not isinstance(known, dict) or not all(isinstance(v, str) for v in known.values()):
        raise ValueError(f'code digest memo {memo} is damaged (not a mapping of hashes); delete it')
    return known
