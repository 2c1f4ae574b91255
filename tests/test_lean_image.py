"""The remote training image: CPU torch in a layer of its own, and only what a container imports.

A container that trains a shard never imports the notebook side (kernel, runner, site, the search's
study): the image leaves those packages out, and a shard trained with them blocked proves it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from infra.requirements import NOTEBOOK_ONLY, freeze, image_requirements, project_packages
from mini.experiment import PythonImage
from mini.experiment.image import CPU_TORCH_INDEX


def names(pins):
    return {canonicalize_name(p.partition('==')[0]) for p in pins}


def test_the_image_drops_the_notebook_side_but_keeps_what_others_share():
    full, lean = names(freeze(all=True)), names(image_requirements())
    assert lean < full
    for name in ('nbconvert', 'nbclient', 'ipykernel', 'optuna', 'sqlalchemy', 'tabulate'):
        assert name in full and name not in lean, name
    for name in ('torch', 'lightning', 'wandb', 'numpy', 'pandas', 'concept-erasure', 'jinja2'):
        assert name in lean, name  # jinja2: dropped as a root, kept because torch needs it
    assert len(full) - len(lean) >= 20  # the notebook side pulls in a few dozen packages


def test_torch_gets_a_layer_of_its_own_from_the_cpu_index():
    pins = image_requirements()
    image = PythonImage(pins, project_packages(), torch_index=CPU_TORCH_INDEX)
    (first, index), (rest, rest_index) = image.layers()
    assert len(first) == 1 and first[0].startswith('torch==') and index == CPU_TORCH_INDEX
    assert rest_index is None and set(rest) == set(pins) - set(first)
    bumped = [p if not p.startswith('numpy==') else 'numpy==0.0.1' for p in pins]
    assert PythonImage(bumped, torch_index=CPU_TORCH_INDEX).layers()[0] == (first, index)  # torch layer kept
    with pytest.raises(ValueError, match='https:// URL'):
        PythonImage(pins, torch_index='download.pytorch.org/whl/cpu')
    with pytest.raises(ValueError, match='pin no torch'):
        PythonImage(['numpy==2.0.0'], torch_index=CPU_TORCH_INDEX)
    modal = pytest.importorskip('modal')
    assert isinstance(image.build(), modal.Image)


BLOCKED = {
    'ipython': 'IPython',
    'ipykernel': 'ipykernel',
    'nbclient': 'nbclient',
    'nbformat': 'nbformat',
    'nbconvert': 'nbconvert',
    'tabulate': 'tabulate',
    'optuna': 'optuna',
    'sqlalchemy': 'sqlalchemy',
}


def test_a_shard_trains_with_the_notebook_side_absent(tmp_path):
    """A copy of this venv's site-packages without the notebook side (links to every other entry),
    used alone (python -S): the packages are absent, as in the image, not merely refused."""
    import site

    from utils.paths import project_root

    assert set(BLOCKED) == NOTEBOOK_ONLY - {'jinja2'}  # jinja2 stays in the image through torch
    packages = next(Path(p) for p in site.getsitepackages() if Path(p, 'torch').exists())
    view = tmp_path / 'site-packages'
    view.mkdir()
    gone = {m.lower() for m in BLOCKED.values()}
    for entry in packages.iterdir():
        top = entry.name.split('-')[0].split('.')[0].lower()
        if top not in gone:
            (view / entry.name).symlink_to(entry)
    script = textwrap.dedent("""
        import asyncio, importlib.util, sys
        from mini.temporal.dopesheet import Dopesheet
        from ex_color.experiments import ex_2_10
        from ex_color.training.remote import _train_shard
        from ex_color.training.specs import MemberSpec

        recipe = ex_2_10.RECIPE.with_(dopesheet=Dopesheet.from_csv('notebooks/ex-2.10-dopesheet.csv'))
        settings = dict(
            regularizers=list(recipe.regularizers), make_data=recipe.make_data, dopesheet=recipe.dopesheet,
            k_bottleneck=recipe.k_bottleneck, n_nonlinear=recipe.n_nonlinear, run_name='lean', project='tests',
            wandb_mode='disabled', max_steps=5, progress=False,
        )
        result = asyncio.run(_train_shard(settings, members=(0, [MemberSpec(1), MemberSpec(2)])))
        print('trained', len(result.members), 'nbformat absent:', importlib.util.find_spec('nbformat') is None)
    """)
    root = project_root()
    env = {'PYTHONPATH': f'{view}:{root / "src"}:{root}', 'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path)}
    out = subprocess.run(
        [sys.executable, '-S', '-c', script], cwd=root, capture_output=True, text=True, timeout=300, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'trained 2 nbformat absent: True' in out.stdout
