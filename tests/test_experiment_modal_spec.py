"""The Modal app an Experiment registers, inspected offline (no account, no network)."""

import asyncio
import os

import pytest

from infra.requirements import freeze, project_packages
from mini.experiment import BACKEND_ENV, Experiment, PythonImage

modal = pytest.importorskip('modal')


@pytest.fixture(autouse=True)
def no_modal_credentials(monkeypatch, tmp_path):
    for var in list(os.environ):
        if var.startswith('MODAL_'):
            monkeypatch.delenv(var)
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    config = tmp_path / 'modal.toml'
    config.write_text('')
    monkeypatch.setenv('MODAL_CONFIG_PATH', str(config))


@pytest.fixture
def run():
    run = Experiment('Ex 9.9: Spec check', project='tests', backend='local')
    run.image = PythonImage(freeze(all=True), project_packages())
    run.volumes['/data'] = modal.Volume.from_name('ex-spec-check', create_if_missing=True)
    return run


def test_registered_function_carries_image_volumes_and_options(run):
    @run.thither(env={'WANDB_API_KEY': 'k', 'UNSET': None}, cpu=1, timeout=3600, max_containers=20)
    async def train(seed: int) -> int:
        return seed

    fn = run.modal_function(train)
    assert isinstance(fn, modal.Function)
    info = asyncio.run(fn.info.aio())
    # Nothing was sent to Modal: neither the image nor the volume has a server-side id yet.
    assert info.image_info.image_id is None
    assert info.cpu == 1
    assert info.timeout == 3600
    assert set(info.volumes) == {'/data'}
    assert info.volumes['/data'].name == 'ex-spec-check'
    assert info.volumes['/data'].volume_id is None
    # env becomes one secret of environment variables; None values are dropped by Modal.
    assert info.secrets == ['Secret.from_dict([WANDB_API_KEY, UNSET])']

    options = run.modal_options(train)
    assert options['serialized'] is True
    assert options['name'] == 'train'
    assert options['max_containers'] == 20
    assert options['image'] is run.image
    assert isinstance(run.image, modal.Image)
    assert options['volumes'] == run.volumes


def test_image_recipe_pins_torch_without_local_tag_and_adds_project_sources(run):
    import torch

    recipe = run.image_recipe
    public = torch.__version__.split('+')[0]
    assert recipe.pin('torch') == f'torch=={public}'
    assert '+' not in recipe.pin('torch')
    assert set(recipe.local_packages) == {'ex_color', 'infra', 'mini', 'utils'}
    assert recipe.pin('pytest') is None


def test_function_options_override_experiment_defaults(run):
    other = modal.Volume.from_name('other', create_if_missing=True)
    extra = modal.Volume.from_name('extra', create_if_missing=True)
    image = modal.Image.debian_slim()

    @run.thither(image=image, volumes={'/data': other, '/extra': extra})
    async def evaluate() -> None:
        pass

    options = run.modal_options(evaluate)
    assert options['image'] is image
    assert options['volumes'] == {'/data': other, '/extra': extra}
    info = asyncio.run(run.modal_function(evaluate).info.aio())
    assert info.volumes['/data'].name == 'other'


def test_app_is_rebuilt_only_when_configuration_changes(run):
    @run.thither
    async def step() -> None:
        pass

    first = run.app
    assert run.app is first
    assert first.name == 'Ex 9.9: Spec check - tests'
    run.image = modal.Image.debian_slim()
    assert run.app is not first
    assert run.modal_options(step)['image'] is run.image


def test_redefining_a_function_replaces_its_registration(run):
    def cell(value: int):
        @run.thither
        async def step() -> int:
            return value

        return step

    cell(1)
    step = cell(2)  # the same notebook cell, run again

    assert asyncio.run(step()) == 2
    assert run.modal_function('step') is run.modal_function(step)


def test_python_image_validates_its_fields():
    with pytest.raises(ValueError, match='requirements'):
        PythonImage(['torch>=2'])
    with pytest.raises(TypeError, match='requirements'):
        PythonImage('torch==2.0')
    with pytest.raises(ValueError, match='local_packages'):
        PythonImage([], ['src/mini'])
    with pytest.raises(ValueError, match='python_version'):
        PythonImage([], python_version='3')
