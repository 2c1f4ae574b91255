"""Every notebook executes end to end in smoke mode with a real Jupyter kernel and writes its figures.

Smoke mode (``EX_COLOR_SMOKE=1``) shortens training; figures and the executed copy go to a temporary
folder, so the committed notebooks and figures are never touched by the test suite.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from ex_color.experiments.registry import EXPERIMENTS
from utils.nbrun import all_notebooks, picture_files, run_notebook
from utils.paths import project_root

GUARDED = ('runs', 'large-assets', 'wandb', 'notebooks')


def snapshot() -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file under the folders a smoke run must never touch."""
    root = project_root()
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for folder in GUARDED
        for p in (root / folder).rglob('*')
        if p.is_file()
    }


EXPECTED_FIGURES = {f'ex-{e.id}': list(e.figures) for e in EXPERIMENTS if e.figures}
"""Figures each notebook must write (the registry's lists)."""


EXPECTED_OUTPUTS = {f'ex-{e.id}': list(e.outputs) for e in EXPERIMENTS if e.outputs}
"""Files a notebook writes besides its figures (beside the notebook in place; with the figures in smoke)."""


def notebook_id(path: Path) -> str:
    return '-'.join(path.name.split('-')[:2])


NOTEBOOKS = all_notebooks()


def output_text(nb: nbformat.NotebookNode) -> str:
    """Every text a notebook's outputs carry (streams, results, errors)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get('outputs', []):
            parts.append(str(out.get('text', '')))
            parts += [str(v) for k, v in out.get('data', {}).items() if k.startswith('text/')]
            parts += [str(out.get('evalue', '')), '\n'.join(out.get('traceback', []))]
    return '\n'.join(parts)


def private_strings() -> list[str]:
    """What must never reach an output: this machine's home and checkout paths, and any secret."""
    import os

    found = [str(Path.home()), str(project_root())]
    found += [v for k, v in os.environ.items() if k in ('WANDB_API_KEY', 'MODAL_TOKEN_SECRET') and v]
    return found


def test_every_notebook_is_covered():
    assert {notebook_id(p) for p in NOTEBOOKS} >= set(EXPECTED_FIGURES)


def test_notebooks_are_listed_in_experiment_order(tmp_path):
    for name in ('ex-2.10.1-b', 'ex-2.9-a', 'ex-2.10-c', 'ex-10.1-d', 'ex-2.10.2-e'):
        (tmp_path / f'{name}.ipynb').write_text('{}')
    assert [p.stem for p in all_notebooks(tmp_path)] == [
        'ex-2.9-a', 'ex-2.10-c', 'ex-2.10.1-b', 'ex-2.10.2-e', 'ex-10.1-d'
    ]  # fmt: skip


STORY_AND_TABLE = ('ex-2.9', 'ex-2.10')
"""Notebooks that tell a single seed's story and then train a table of seeds with the same recipe."""


@pytest.mark.parametrize('path', NOTEBOOKS, ids=notebook_id)
def test_notebook_runs_in_smoke_mode_and_writes_its_figures(path, tmp_path, monkeypatch):
    # what a user may have exported must not send a smoke run online or to Modal
    monkeypatch.setenv('WANDB_MODE', 'online')
    monkeypatch.setenv('WANDB_API_KEY', 'secret-' + 'x' * 33)  # must never show in an output
    monkeypatch.setenv('EX_COLOR_BACKEND', 'modal')
    before = snapshot()
    executed = run_notebook(path, smoke=True, echo=False, out_dir=tmp_path)
    assert snapshot() == before, 'a smoke run changed runs/, large-assets/, wandb/ or notebooks/'
    nb = nbformat.read(executed, as_version=4)
    errors = [o for c in nb.cells for o in c.get('outputs', []) if o.get('output_type') == 'error']
    assert errors == []
    text = output_text(nb)
    assert not [s for s in private_strings() if s in text], 'an output names a private path or secret'
    written = {p.name for p in (tmp_path / 'figures').glob('*.png')}
    for stem in EXPECTED_FIGURES.get(notebook_id(path), []):
        assert f'{stem}.png' in written, stem
        assert f'{stem}.dark.png' in written, stem
    for name in EXPECTED_OUTPUTS.get(notebook_id(path), []):  # files besides figures, redirected likewise
        assert (tmp_path / 'figures' / name).is_file(), name
    if notebook_id(path) == 'ex-2.10.2':
        from mini.temporal.dopesheet import Dopesheet

        found = Dopesheet.from_csv(tmp_path / 'figures' / 'ex-2.10.2-dopesheet.csv')
        assert len(found) == len(Dopesheet.from_csv(path.parent / 'ex-2.10-dopesheet.csv'))
    if notebook_id(path) in STORY_AND_TABLE:
        # the single-seed story is a member of the seeds table: checked bitwise in the run itself
        assert "is the story's model above: the same weights, bit for bit." in text
    pictures = picture_files(nb, path.parent)
    assert pictures, 'the notebook shows no figures'
    assert all(p.exists() and p.parent == tmp_path / 'figures' for p in pictures)
    check_logs_once(nb)


def stream_lines(nb: nbformat.NotebookNode) -> list[str]:
    return [
        line
        for c in nb.cells
        for o in c.get('outputs', [])
        if o.get('output_type') == 'stream'
        for line in str(o.get('text', '')).splitlines()
    ]


def check_logs_once(nb: nbformat.NotebookNode) -> None:
    """Each fit's log lines once, through our handler, with a readable name; no Lightning chatter (the
    project's loop runs the fits, so "GPU available: False" has nothing to say)."""
    lines = stream_lines(nb)
    counted = [line for line in lines if 'Label frequencies (n=' in line]
    assert counted, 'no fit was logged'
    assert all(' ex_color.training: ' in line for line in counted), counted
    fits = [line for line in lines if ': Training ' in line and ' member' in line]
    assert len(fits) == len(counted), 'a fit logged its start and end a different number of times'
    assert not [line for line in lines if 'GPU available:' in line or 'TPU available:' in line]
    assert not [line for line in lines if re.match(r'^[A-Z] [0-9.]+ [a-z]{2}\.[a-z]{2}', line)], (
        'abbreviated names'
    )


@pytest.mark.parametrize('nbid', ['ex-2.10'])
def test_saved_notebook_keeps_the_live_training_charts_final_frame(nbid):
    from mini.temporal.dopesheet import Dopesheet

    path = next(p for p in NOTEBOOKS if notebook_id(p) == nbid)
    nb = nbformat.read(path, as_version=4)
    steps = len(Dopesheet.from_csv(path.parent / 'ex-2.10-dopesheet.csv'))
    bars = [
        str(o['data']['text/html'])
        for c in nb.cells
        for o in c.get('outputs', [])
        if 'text/html' in o.get('data', {}) and 'Training:' in str(o['data']['text/html'])
    ]
    assert bars, 'no training progress display was saved'
    charted = [b for b in bars if '<svg' in b]
    assert charted, 'the saved progress displays hold no chart'
    assert any(f'step {steps}</text>' in b or f'step {steps - 1}</text>' in b for b in charted), (
        'not the final frame'
    )


@pytest.mark.parametrize('path', NOTEBOOKS, ids=notebook_id)
def test_committed_notebook_is_small_executed_and_its_pictures_exist(path):
    assert path.stat().st_size < 1_000_000
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata['kernelspec']['name'] == 'python3'
    first_code = next(c for c in nb.cells if c.cell_type == 'code')
    assert 'parameters' in first_code.metadata.get('tags', [])
    code_cells = [c for c in nb.cells if c.cell_type == 'code']
    assert all(c.get('execution_count') for c in code_cells), 'commit notebooks executed'
    for cell in code_cells:
        for output in cell.get('outputs', []):
            assert 'image/png' not in output.get('data', {}), 'figures belong in large-assets/, not base64'
    assert all(p.exists() for p in picture_files(nb, path.parent))
    text = output_text(nb)
    assert not [s for s in private_strings() if s in text], 'an output names a private path or secret'
    assert not re.search(r'(/home/|/Users/|/root/|[A-Z]:\\\\Users)', text), 'an output names a home folder'


def test_a_smoke_run_points_every_output_at_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.setenv('WANDB_MODE', 'online')
    monkeypatch.setenv('EX_COLOR_BACKEND', 'modal')
    # a Modal token on the machine, as a user with another project's token would have
    home = tmp_path / 'home'
    home.mkdir()
    (home / '.modal.toml').write_text('[default]\ntoken_id = "ak-fake"\ntoken_secret = "as-fake"\n')
    monkeypatch.setenv('HOME', str(home))
    monkeypatch.delenv('MODAL_CONFIG_PATH', raising=False)
    nb = nbformat.v4.new_notebook()
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    names = [
        'EX_COLOR_SMOKE',
        'EX_COLOR_FIGURES_DIR',
        'EX_COLOR_RUNS_DIR',
        'WANDB_DIR',
        'EX_COLOR_WANDB_DIR',
        'WANDB_MODE',
        'EX_COLOR_BACKEND',
    ]
    nb.cells = [
        nbformat.v4.new_code_cell(f'import os; print({{n: os.environ.get(n) for n in {names!r}}})'),
        nbformat.v4.new_code_cell(
            'from mini.experiment import Experiment, find_modal_credentials\n'
            "print(find_modal_credentials() is not None, Experiment('probe').backend.name)"
        ),
    ]
    source = tmp_path / 'probe.ipynb'
    nbformat.write(nb, source)
    committed = source.read_bytes()
    out = tmp_path / 'out'
    executed = nbformat.read(run_notebook(source, smoke=True, echo=False, out_dir=out), as_version=4)
    seen = eval(executed.cells[0].outputs[0]['text'])  # the dict the kernel printed
    assert seen == {
        'EX_COLOR_SMOKE': '1',
        'EX_COLOR_FIGURES_DIR': str(out / 'figures'),
        'EX_COLOR_RUNS_DIR': str(out / 'runs'),
        'WANDB_DIR': str(out),
        'EX_COLOR_WANDB_DIR': str(out),
        'WANDB_MODE': 'disabled',
        'EX_COLOR_BACKEND': 'local',
    }
    assert executed.cells[1].outputs[0]['text'] == 'True local\n', 'the token was seen, and Modal not used'
    assert source.read_bytes() == committed, 'a smoke run rewrote the notebook it ran'


def probe_notebook(tmp_path: Path, figure: Path, *, fail: bool) -> Path:
    """A notebook that writes `figure` through displayer_mpl, then (with `fail`) raises."""
    nb = nbformat.v4.new_notebook()
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    nb.cells = [
        nbformat.v4.new_code_cell(
            'import matplotlib.pyplot as plt\n'
            'from utils.nb import displayer_mpl\n'
            f'with displayer_mpl({str(figure)!r}) as show:\n'
            '    show(lambda: plt.figure(figsize=(1, 1)))'
        ),
        nbformat.v4.new_code_cell("raise RuntimeError('half-way')" if fail else 'print("done")'),
    ]
    path = tmp_path / 'probe.ipynb'
    nbformat.write(nb, path)
    return path


def test_a_run_that_fails_half_way_leaves_the_notebook_and_its_figures_as_they_were(tmp_path, monkeypatch):
    monkeypatch.delenv('EX_COLOR_FIGURES_DIR')  # an in-place run: figures go where the notebook says
    figure = tmp_path / 'assets' / 'probe.png'
    figure.parent.mkdir()
    figure.write_bytes(b'the committed figure')
    source = probe_notebook(tmp_path, figure, fail=True)
    committed = source.read_bytes()
    with pytest.raises(Exception, match='half-way'):
        run_notebook(source, echo=False)
    assert figure.read_bytes() == b'the committed figure'
    assert not (tmp_path / 'assets' / 'probe.dark.png').exists()
    assert source.read_bytes() == committed
    stage = project_root() / '.nbrun-stage'
    assert not stage.exists() or not any(stage.iterdir()), 'the failed run left staged files behind'


def test_a_run_that_succeeds_moves_its_staged_figures_into_place_and_saves(tmp_path, monkeypatch):
    monkeypatch.delenv('EX_COLOR_FIGURES_DIR')
    figure = tmp_path / 'assets' / 'probe.png'
    source = probe_notebook(tmp_path, figure, fail=False)
    run_notebook(source, echo=False)
    assert figure.read_bytes()[:4] == b'\x89PNG'
    assert (tmp_path / 'assets' / 'probe.dark.png').read_bytes()[:4] == b'\x89PNG'
    saved = nbformat.read(source, as_version=4)
    assert saved.cells[1].outputs[0]['text'] == 'done\n'
    assert set(picture_files(saved, source.parent)) == {figure, figure.with_name('probe.dark.png')}


def _code_tree(source: str) -> ast.Module:
    lines = [
        line for line in source.replace('await ', '').splitlines() if not line.lstrip().startswith(('%', '!'))
    ]
    return ast.parse('\n'.join(lines))


def _imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name.split('.')[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names |= {a.asname or a.name for a in node.names}
    return names


def cells_using_names_imported_elsewhere(nb: nbformat.NotebookNode) -> dict[int, list[str]]:
    """Code cell index -> names it uses that only other cells import (re-running it alone would fail)."""
    trees = [_code_tree(c.source) for c in nb.cells if c.cell_type == 'code']
    imports = [_imported(t) for t in trees]
    found = {}
    for i, tree in enumerate(trees):
        elsewhere = set().union(*(imports[:i] + imports[i + 1 :])) - imports[i]
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        if used & elsewhere:
            found[i] = sorted(used & elsewhere)
    return found


@pytest.mark.parametrize('path', NOTEBOOKS, ids=notebook_id)
def test_every_cell_imports_what_it_uses(path):
    assert cells_using_names_imported_elsewhere(nbformat.read(path, as_version=4)) == {}


def test_the_cell_import_check_catches_a_name_imported_in_another_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('import numpy as np'), nbformat.v4.new_code_cell('x = np.zeros(3)')]
    assert cells_using_names_imported_elsewhere(nb) == {1: ['np']}


@pytest.mark.parametrize('path', NOTEBOOKS, ids=notebook_id)
def test_parameters_cell_holds_only_plain_values(path):
    """papermill injects its values after the `parameters` cell: anything derived there would keep the
    notebook's own values (e.g. a smoke run's shorter training), so derived settings live in the next cell."""
    nb = nbformat.read(path, as_version=4)
    cells = [i for i, c in enumerate(nb.cells) if 'parameters' in c.metadata.get('tags', [])]
    assert len(cells) == 1, 'need exactly one cell tagged parameters'
    tree = ast.parse(nb.cells[cells[0]].source)
    for node in tree.body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, ast.unparse(node)
        assert isinstance(node.targets[0], ast.Name), ast.unparse(node)
        ast.literal_eval(node.value)  # raises on anything but a literal
    names = {
        n.targets[0].id for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)
    }
    assert 'SMOKE' in names
    derived = nb.cells[cells[0] + 1].source
    assert "SMOKE = SMOKE or os.environ.get('EX_COLOR_SMOKE') == '1'" in derived


def test_papermill_parameter_injection_shortens_a_run_like_the_environment_does(tmp_path, monkeypatch):
    papermill = pytest.importorskip('papermill')
    path = next(p for p in NOTEBOOKS if notebook_id(p) == 'ex-2.12')
    # everything a smoke run redirects, except EX_COLOR_SMOKE itself: -p SMOKE True must do its job
    monkeypatch.delenv('EX_COLOR_SMOKE', raising=False)
    monkeypatch.setenv('EX_COLOR_FIGURES_DIR', str(tmp_path / 'figures'))
    monkeypatch.setenv('EX_COLOR_RUNS_DIR', str(tmp_path / 'runs'))
    monkeypatch.setenv('EX_COLOR_WANDB_DIR', str(tmp_path))
    monkeypatch.setenv('WANDB_DIR', str(tmp_path))
    monkeypatch.setenv('WANDB_MODE', 'disabled')
    monkeypatch.setenv('EX_COLOR_BACKEND', 'local')
    monkeypatch.setenv('MPLBACKEND', 'Agg')
    before = snapshot()
    out = tmp_path / 'executed.ipynb'
    papermill.execute_notebook(
        str(path),
        str(out),
        parameters={'SMOKE': True},
        cwd=str(path.parent),
        progress_bar=False,
        kernel_name='python3',
    )
    assert snapshot() == before, 'a smoke run changed runs/, large-assets/, wandb/ or notebooks/'
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if 'injected-parameters' in c.metadata.get('tags', [])]
    assert len(injected) == 1 and 'SMOKE = True' in injected[0].source
    assert '9 models (3 seeds × anchored, unanchored, never learned red)' in output_text(nb)
    assert (tmp_path / 'figures' / 'ex-2.12-relearning.png').is_file()
