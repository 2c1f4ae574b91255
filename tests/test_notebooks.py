"""Every notebook executes end to end in smoke mode with a real Jupyter kernel and writes its figures.

Smoke mode (``EX_COLOR_SMOKE=1``) shortens training; figures and the executed copy go to a temporary
folder, so the committed notebooks and figures are never touched by the test suite.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from utils.nbrun import all_notebooks, picture_files, run_notebook

EXPECTED_FIGURES = {
    'ex-2.10': [
        'ex-2.10-dopesheet',
        'ex-2.10-pred-colors-no-intervention-no-subspace',
        'ex-2.10-loss-colors-no-intervention-no-subspace',
        'ex-2.10-latents-no-intervention-no-subspace',
        'ex-2.10-pred-colors-ablated-no-intervention-no-subspace',
        'ex-2.10-loss-colors-ablated-no-intervention-no-subspace',
        'ex-2.10-latents-ablated-no-intervention-no-subspace',
        'ex-2.10-loss-colors-ablated-unitarity',
    ],
    'ex-2.9': [
        'ex-2.9-dopesheet',
        'ex-2.9-pred-colors-no-intervention',
        'ex-2.9-loss-colors-no-intervention',
        'ex-2.9-latents-no-intervention',
        'ex-2.9-pred-colors-ablated-no-intervention',
        'ex-2.9-loss-colors-ablated-no-intervention',
        'ex-2.9-latents-ablated-no-intervention',
    ],
}


def notebook_id(path: Path) -> str:
    return '-'.join(path.name.split('-')[:2])


NOTEBOOKS = all_notebooks()


def test_every_notebook_is_covered():
    assert {notebook_id(p) for p in NOTEBOOKS} >= set(EXPECTED_FIGURES)


@pytest.mark.parametrize('path', NOTEBOOKS, ids=notebook_id)
def test_notebook_runs_in_smoke_mode_and_writes_its_figures(path, tmp_path):
    executed = run_notebook(path, smoke=True, echo=False, out_dir=tmp_path)
    nb = nbformat.read(executed, as_version=4)
    errors = [o for c in nb.cells for o in c.get('outputs', []) if o.get('output_type') == 'error']
    assert errors == []
    written = {p.name for p in (tmp_path / 'figures').glob('*.png')}
    for stem in EXPECTED_FIGURES.get(notebook_id(path), []):
        assert f'{stem}.png' in written, stem
        assert f'{stem}.dark.png' in written, stem
    pictures = picture_files(nb, path.parent)
    assert pictures, 'the notebook shows no figures'
    assert all(p.exists() and p.parent == tmp_path / 'figures' for p in pictures)


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
