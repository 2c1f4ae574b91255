"""`./go lab`: JupyterLab serves the repository, opens in notebooks/, and stops when told to.

The server is started headless through `./go lab` itself (tests/lab_helpers.py) and asked through its
REST API what it serves: the repository (so a notebook's `../large-assets/…` figures are inside what
it serves), notebooks/ as the folder its file browser opens, the figures Ex 2.10 shows, and the
project's kernel. It is stopped (SIGTERM, then a wait) and nothing of its process group may be left.
tests/test_lab_browser.py looks at the same server through a browser.

Skipped where JupyterLab is not installed: the lab extra is not in requirements.lock, so CI (which
installs only the lock) skips this test; `./go lab` installs the extra on first use.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import urllib.error
from pathlib import Path

import pytest

from tests.lab_helpers import EX_2_10, ROOT, figures_shown, group_alive, running_lab

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec('jupyterlab') is None,
    reason='jupyterlab is not installed in this venv (the lab extra is not locked; ./go lab installs it)',
)

PAGE_CONFIG = re.compile(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', re.S)


def test_go_lab_serves_the_repository_from_notebooks_with_the_projects_kernel(tmp_path):
    with running_lab(tmp_path) as lab:
        top = {item['name'] for item in lab.get_json('/api/contents/')['content']}
        assert {'notebooks', 'large-assets', 'pyproject.toml'} <= top, f'not the repository: {sorted(top)}'

        listing = lab.get_json('/api/contents/notebooks')['content']
        served = {item['name'] for item in listing if item['type'] == 'notebook'}
        assert served == {p.name for p in (ROOT / 'notebooks').glob('*.ipynb')}

        # the file browser opens in notebooks/: JupyterLab reads the folder from its page config
        page = lab.get('/lab').decode()
        config = PAGE_CONFIG.search(page)
        assert config is not None, f'no page config in /lab:\n{page[:500]}'
        assert json.loads(config.group(1))['preferredPath'] == 'notebooks'

        kernels = lab.get_json('/api/kernelspecs')
        assert kernels['default'] == 'python3'
        argv0 = kernels['kernelspecs']['python3']['spec']['argv'][0]
        assert Path(argv0).absolute() == Path(sys.executable).absolute()  # the venv's interpreter

        with pytest.raises(urllib.error.HTTPError):  # and the token is required
            lab.get('/api/contents/', token='wrong-token')
    assert not group_alive(lab.process.pid), 'a process started by ./go lab outlived it'


def test_go_lab_serves_every_figure_ex_2_10_shows(tmp_path):
    # A browser resolves `../large-assets/x.png` from notebooks/ to /files/large-assets/x.png; a
    # server rooted at notebooks/ answers 404 there (the broken images `./go lab` used to show).
    figures = figures_shown(EX_2_10)
    assert len(figures) >= 10, f'expected Ex 2.10 to show its figures, found {len(figures)}'
    with running_lab(tmp_path) as lab:
        for figure in figures:
            path = figure.relative_to(ROOT).as_posix()
            try:
                body = lab.get(f'/files/{path}')
            except urllib.error.HTTPError as e:
                raise AssertionError(f'/files/{path}: HTTP {e.code}; Ex 2.10 shows it as a figure') from e
            assert body == figure.read_bytes(), f'/files/{path} is not {figure}'
