"""The project drives Lightning through its public API only.

Lightning is the seed's API (`TrainingModule` under `L.Trainer`), not the project's loop; where the
two meet, the code uses documented names. This test reads every module under `src/` and fails on:

* a `_`-prefixed attribute (not a dunder) read from anything but ``self``/``cls`` in a module that
  imports Lightning (a private name of a trainer, logger, optimizer wrapper, loop or checkpoint IO);
* any subscript with the key ``'loops'``: Lightning's own loop state inside a checkpoint, which the
  project must never edit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / 'src'


def _imports_lightning(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split('.')[0] == 'lightning' for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or '').split('.')[0] == 'lightning':
            return True
    return False


def violations(source: str, name: str) -> list[str]:
    """Private Lightning names and loop-state edits in one module's source."""
    tree = ast.parse(source)
    found = []
    lightning = _imports_lightning(tree)
    for node in ast.walk(tree):
        if lightning and isinstance(node, ast.Attribute):
            private = node.attr.startswith('_') and not node.attr.startswith('__')
            owner = node.value
            if private and not (isinstance(owner, ast.Name) and owner.id in ('self', 'cls')):
                found.append(f'{name}:{node.lineno}: {ast.unparse(node)}')
        if isinstance(node, ast.Subscript):
            key = node.slice
            if isinstance(key, ast.Constant) and key.value == 'loops':
                found.append(f'{name}:{node.lineno}: {ast.unparse(node)}')
    return found


def test_src_uses_no_private_lightning_name_and_never_edits_its_loop_state():
    found = []
    for path in sorted(SRC.rglob('*.py')):
        found += violations(path.read_text(), str(path.relative_to(SRC)))
    assert not found, 'private Lightning use:\n' + '\n'.join(found)


@pytest.mark.parametrize(
    'source',
    [
        'import lightning as L\ndef f(opt):\n    opt._on_before_step()\n',
        'from lightning.pytorch.loggers import WandbLogger\ndef f(lg):\n    lg._wandb_init.pop("anonymous")\n',
        'def f(checkpoint):\n    checkpoint["loops"]["fit_loop"]["epoch_progress"]["current"] = 0\n',
    ],
    ids=['optimizer-hook', 'logger-internals', 'loop-state'],
)
def test_the_check_catches_what_the_old_engine_did(source):
    assert violations(source, 'example.py')
