"""The registry is the one list of experiments: every notebook is in it, every entry's notebook,
folder and title are real, and every experiment folder belongs to an entry."""

from __future__ import annotations

import importlib
import re

import nbformat
import pytest

from ex_color.experiments.registry import EXPERIMENTS, experiment
from utils.paths import project_root

ROOT = project_root()


def test_every_notebook_is_registered_and_every_entry_has_its_notebook():
    on_disk = {p.name for p in (ROOT / 'notebooks').glob('ex-*.ipynb')}
    assert {e.notebook for e in EXPERIMENTS} == on_disk
    for e in EXPERIMENTS:
        assert e.notebook.startswith(f'ex-{e.id}-'), e


@pytest.mark.parametrize('entry', EXPERIMENTS, ids=[e.id for e in EXPERIMENTS])
def test_an_entrys_title_is_its_notebooks_name_and_its_package_imports(entry):
    nb = nbformat.read(ROOT / 'notebooks' / entry.notebook, as_version=4)
    names = [m.group(1) for c in nb.cells if (m := re.search(r"^nbname = '(.*)'", c.source, re.M))]
    assert names == [entry.title]
    ids = [m.group(1) for c in nb.cells if (m := re.search(r"^nbid = '(.*)'", c.source, re.M))]
    assert ids == [entry.id]
    if entry.package is not None:
        importlib.import_module(entry.package)


def test_every_experiment_folder_belongs_to_an_entry():
    folders = {
        f'ex_color.experiments.{p.name}'
        for p in (ROOT / 'src' / 'ex_color' / 'experiments').iterdir()
        if p.is_dir() and p.name.startswith('ex_') and (p / '__init__.py').exists()
    }
    assert folders <= {e.package for e in EXPERIMENTS}


def test_an_unknown_id_names_the_ones_there_are():
    assert experiment('ex-2.10.1').notebook == 'ex-2.10.1-sweep.ipynb'
    with pytest.raises(KeyError, match=r"no experiment '2\.99'; the registry has 2\.9, 2\.10"):
        experiment('2.99')
