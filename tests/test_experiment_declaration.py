"""Ex 2.10 is declared once (`ex_color.experiments.ex_2_10`); the notebook, the CLI and the sweep train it."""

from __future__ import annotations

import ast
import json
from dataclasses import replace

from ex_color.experiments import ex_2_10
from ex_color.experiments.ex_2_10 import __main__ as ex_2_10_cli
from tests.training_helpers import NOTEBOOKS


def code_of(name: str) -> str:
    cells = json.loads((NOTEBOOKS / name).read_text())['cells']
    return '\n'.join(''.join(c['source']) for c in cells if c['cell_type'] == 'code').replace('await ', '')


def calls_and_defs(code: str) -> tuple[set[str], set[str]]:
    tree = ast.parse(code)
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = {ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    defs = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    return calls | names, defs


def test_an_edit_of_the_declaration_changes_what_the_cli_trains(monkeypatch):
    declared = ex_2_10.regularizers
    calls: list[str] = []

    def edited(prefix: str = 'reg-'):
        regs = declared(prefix)
        anchor = replace(regs[1], label_affinities={'red': 2.0})  # an edit: a new affinity
        anchor.compute_loss_term.register_forward_hook(lambda *_: calls.append('anchor'))
        return [regs[0], anchor, regs[2]]

    monkeypatch.setattr(ex_2_10, 'regularizers', edited)
    assert (
        ex_2_10_cli.main(['--seed', '0', '--max-steps', '3', '--no-progress', '--wandb-mode', 'disabled'])
        == 0
    )
    assert calls, 'the edited declaration was not what the CLI trained'


def test_the_notebook_and_the_sweep_train_the_declaration_not_a_copy_of_it():
    for name in ('ex-2.10-delete-only-red-5d-no-subspace.ipynb', 'ex-2.10.1-sweep.ipynb'):
        used, defined = calls_and_defs(code_of(name))
        assert 'ex_2_10.RECIPE.with_' in used, name  # the declared recipe, derived, never unpacked
        assert 'RegularizerConfig' not in used and 'Recipe' not in used, f'{name} builds its own recipe'
        assert not defined & {'prep_data', 'make_data', 'regularizers'}, f'{name} defines its own {defined}'
    used, _ = calls_and_defs(code_of('ex-2.10-delete-only-red-5d-no-subspace.ipynb'))
    assert {'ex_2_10.unitarity', 'ex_2_10.DOPESHEET', 'ex_2_10.DOPESHEET_UNITARITY'} <= used
