"""No result is typed into a notebook's prose: the numbers in markdown cells are settings, not outcomes.

A result typed into a markdown cell goes stale the next time the notebook runs (Ex 2.10.1's conclusion
once quoted medians two runs old). Results belong in code cells that word them from the run. This test
reads every markdown cell and accepts a decimal number (``0.36``, ``3e-06``, ``8 %``) only if it is one
of the experiment's *settings*: a numeric literal in the notebook's own code cells, in its dopesheets,
in the experiment modules and folders (``src/ex_color/experiments``) or in the statistics'
conventions (`evaluation.claims`: the confidence level, the family-wise alpha). A computed result is not a literal
anywhere, so it fails here unless it happens to equal one.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from utils.paths import project_root

ROOT = project_root()
NOTEBOOKS = sorted((ROOT / 'notebooks').glob('ex-*.ipynb'))

# A decimal, a number in scientific notation, or a percentage; not part of a word or a longer number.
NUMBER = re.compile(r'(?<![\w.])(\d+\.\d+|\d+(?:\.\d+)?e[-+]?\d+|\d+(?:\.\d+)?\s?%)(?![\w.])')
# What is not prose: code spans, math, experiment ids ("Ex 2.10", "ex-2.10.1") and link targets.
NOT_PROSE = re.compile(
    r'`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|\b[Ee]x(?:periment)?\.?\s+\d+(?:\.\d+)+|\bex-\d+(?:\.\d+)+|\]\([^)]*\)',
    re.DOTALL,
)


def _value(token: str) -> float:
    token = token.replace(' ', '')
    return float(token[:-1]) / 100 if token.endswith('%') else float(token)


def _literals(source: str) -> set[float]:
    """Every int or float literal in Python `source` (strings included: settings are also worded in messages)."""
    found: set[float] = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a notebook cell with magics; fall back to the text
        return {float(t) for t in re.findall(r'\d+(?:\.\d+)?(?:e[-+]?\d+)?', source)}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        ):
            found.add(float(node.value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found |= {float(t) for t in re.findall(r'\d+\.\d+|\d+(?:\.\d+)?e[-+]?\d+', node.value)}
    return found


def _settings(notebook: Path, cells: list[dict]) -> set[float]:
    values: set[float] = set()
    for cell in cells:
        if cell['cell_type'] == 'code':
            values |= _literals(''.join(cell['source']))
    nbid = notebook.name.split('-')[1]
    for sheet in notebook.parent.glob(f'ex-{nbid}*.csv'):
        values |= {float(t) for t in re.findall(r'-?\d+(?:\.\d+)?(?:e[-+]?\d+)?', sheet.read_text())}
    # the experiments' modules and folders, and the statistics' conventions (confidence, alpha)
    modules = [
        *(ROOT / 'src' / 'ex_color' / 'experiments').rglob('*.py'),
        ROOT / 'src/ex_color/evaluation/claims.py',
    ]
    for module in sorted(modules):
        values |= _literals(module.read_text(encoding='utf-8'))
    return values


def typed_numbers(notebook: Path) -> list[str]:
    """'cell N: token' for each number in a markdown cell of `notebook` that is not a setting."""
    cells = json.loads(notebook.read_text(encoding='utf-8'))['cells']
    settings = _settings(notebook, cells)
    found = []
    for i, cell in enumerate(cells):
        if cell['cell_type'] != 'markdown':
            continue
        prose = NOT_PROSE.sub(' ', ''.join(cell['source']))
        for token in NUMBER.findall(prose):
            if not any(abs(_value(token) - s) <= 1e-12 * max(1.0, abs(s)) for s in settings):
                found.append(f'cell {i}: {token}')
    return found


@pytest.mark.parametrize('notebook', NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_cells_quote_settings_not_results(notebook: Path) -> None:
    assert typed_numbers(notebook) == [], (
        f'{notebook.name}: numbers in markdown that are no setting of the experiment; word results from '
        'the run in a code cell instead'
    )


def test_a_typed_result_is_caught_and_a_setting_is_not(tmp_path: Path) -> None:
    notebook = tmp_path / 'ex-9.1-demo.ipynb'
    notebook.write_text(
        json.dumps(
            {
                'cells': [
                    {'cell_type': 'code', 'source': ['LR = 0.01\n', "print('rate 0.08')\n"], 'outputs': []},
                    {
                        'cell_type': 'markdown',
                        'source': ['We train at 0.01 with 8 % labels (Ex 2.10, `0.5`).'],
                    },
                    {'cell_type': 'markdown', 'source': ['The median score rose to 0.86 (from 71 %).']},
                ],
            }
        )
    )
    assert typed_numbers(notebook) == ['cell 2: 0.86', 'cell 2: 71 %']


def test_a_rerun_that_trained_no_seed_claims_no_speed_ratio():
    from ex_color.experiments.notebook import timing_markdown

    all_cached = timing_markdown(20, 0.2, 0.1, 0, cached=20)
    assert '×' not in all_cached and 'no training time' in all_cached
    some = timing_markdown(20, 9.0, 8.0, 0, cached=1)
    assert '1.1×' in some and '1 of them from the run cache' in some
