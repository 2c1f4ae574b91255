"""`train(recipe, members, settings)`: one story with the table, the run cache, and refused inputs.

The recipe is Ex 2.10's own with a short schedule (60 steps: four epochs, the anchor live from step 5),
so each test trains in seconds. The cache lives in a temporary folder (conftest points the runs
folder there; these tests also pass their own).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ex_color.experiments import ex_2_10
from ex_color.training import MemberSpec, Recipe, RunSettings, train
from ex_color.training.front import cached_path
from mini.temporal.dopesheet import Dopesheet

SHEET = """STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace
0,Train,,0.01,0.01,0,0.25
+5,,,0.01,,0.1,
59,,,0.005,0.02,0.2,0.05
"""
SHORT = Dopesheet.from_text(SHEET, source='short.csv')
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def recipe() -> Recipe:
    return ex_2_10.RECIPE.with_(dopesheet=SHORT)


@pytest.fixture
def settings(tmp_path) -> RunSettings:
    return RunSettings(tracking='disabled', progress=False, cache_dir=tmp_path / 'cache')


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _loaded(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if 'from the run cache' in r.getMessage()]


def test_the_single_seed_story_is_the_same_model_as_that_seed_in_the_table(recipe, settings):
    # Without the cache: trained alone and trained among others, seed 0 has the same weights.
    uncached = settings.with_(cache=False)
    story = train(recipe, [0], uncached).member(seed=0)
    table = train(recipe, range(3), uncached.with_(workers=2))
    assert _same(story.state, table.member(seed=0).state)
    assert not _same(story.state, table.member(seed=1).state)
    assert story.label_counts == table.member(seed=0).label_counts


def test_a_rerun_loads_every_member_and_trains_none(recipe, settings, caplog):
    caplog.set_level(logging.INFO, logger='ex_color.training')
    first = train(recipe, range(3), settings)
    assert _loaded(caplog) == []
    again = train(recipe, range(3), settings)
    (line,) = _loaded(caplog)
    assert 'Loaded 3 of 3 members' in line and line.endswith('training 0')
    for a, b in zip(first, again, strict=True):
        assert a.name == b.name and _same(a.state, b.state)
        assert a.history.equals(b.history) and a.label_counts == b.label_counts


def test_a_changed_member_is_the_only_one_trained_again(recipe, settings, caplog):
    caplog.set_level(logging.INFO, logger='ex_color.training')
    train(recipe, range(3), settings)
    changed = [MemberSpec(0), MemberSpec(1), MemberSpec(2, data={'label_scale': 2.0})]
    result = train(recipe, changed, settings)
    (line,) = _loaded(caplog)
    assert 'Loaded 2 of 3 members' in line and line.endswith('training 1')
    fresh = train(recipe, [changed[2]], settings.with_(cache=False)).member(seed=2)
    assert _same(result.member(seed=2).state, fresh.state)


def test_force_trains_again_and_other_settings_are_other_entries(recipe, settings, caplog):
    caplog.set_level(logging.INFO, logger='ex_color.training')
    train(recipe, [0], settings)
    train(recipe, [0], settings.with_(force=True))
    train(recipe, [0], settings.with_(max_steps=30))  # fewer steps: other weights, another entry
    assert _loaded(caplog) == []
    assert cached_path(recipe, 0, settings) != cached_path(recipe, 0, settings.with_(max_steps=30))
    assert cached_path(recipe, 0, settings) == cached_path(
        recipe, 0, settings.with_(workers=2, progress=True)
    )


def test_smoke_runs_and_cache_off_never_touch_the_cache(recipe, settings):
    train(recipe, [0], settings.with_(smoke=True))
    train(recipe, [0], settings.with_(cache=False))
    assert not settings.cache_dir.exists()


def test_a_damaged_cache_entry_is_an_error_that_names_its_file(recipe, settings):
    train(recipe, [0], settings)
    entry = cached_path(recipe, 0, settings)
    entry.write_bytes(entry.read_bytes()[:100])
    with pytest.raises(ValueError, match=rf'{entry.name}.*cannot be read.*force=True'):
        train(recipe, [0], settings)


def test_editing_the_training_loop_changes_every_members_key(tmp_path, recipe):
    # In a copy of the source tree: the key of the same member under the same recipe changes when
    # the loop's code does, and does not when only its prose or a figure module's code does.
    copy = tmp_path / 'src'
    shutil.copytree(ROOT / 'src', copy, ignore=shutil.ignore_patterns('__pycache__'))
    script = (
        'from ex_color.experiments import ex_2_10\n'
        'from ex_color.training import MemberSpec\n'
        'from ex_color.training.cache import member_key\n'
        'from mini.temporal.dopesheet import Dopesheet\n'
        f'sheet = Dopesheet.from_text({SHEET!r}, source="short.csv")\n'
        'print(member_key(ex_2_10.RECIPE.with_(dopesheet=sheet), MemberSpec(0), {}))\n'
    )

    def key() -> str:
        env = os.environ | {'PYTHONPATH': str(copy)}
        out = subprocess.run(
            [sys.executable, '-c', script], env=env, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()

    before = key()
    with (copy / 'ex_color/vis/boxplot.py').open('a') as f:
        f.write('\nFIGURE_CHANGED = 1\n')
    with (copy / 'ex_color/training/loop.py').open('a') as f:
        f.write('\n# only a comment and a docstring change: no code\n')
    loop = (copy / 'ex_color/training/loop.py').read_text()
    (copy / 'ex_color/training/loop.py').write_text(loop.replace('the project', 'this project', 1))
    assert key() == before
    with (copy / 'ex_color/training/loop.py').open('a') as f:
        f.write('\nLOOP_CHANGED = 1\n')
    assert key() != before


@pytest.mark.parametrize(
    ('members', 'message'),
    [
        ([], r'members: the list is empty'),
        ([MemberSpec(0, dopesheet=Dopesheet.from_text(SHEET.replace('59,', '79,'), source='long.csv'))],
         r'member seed-0 long: its dopesheet \(long.csv\) has 80 steps, the recipe.s \(short.csv\) 60'),
        ([MemberSpec(0, data={'label_scael': 2.0})],
         r"member seed-0 label_scael=2: data setting 'label_scael' is not an argument of make_data.*label_scale"),
        ([MemberSpec(0, weights={'reg-ancor': 2.0})],
         r"member seed-0 reg-ancor×2: weights names 'reg-ancor', which is not a regulariser"),
        ([0, 'one'], r"members\[1\] must be a MemberSpec or an int seed, got str 'one'"),
        ([0, 0], r"names must be unique; repeated: \['seed-0'\]"),
    ],
    ids=['empty', 'dopesheet-length', 'unknown-data', 'unknown-weight', 'not-a-member', 'duplicate'],
)  # fmt: skip
def test_bad_members_are_refused_naming_member_and_field(recipe, settings, members, message):
    with pytest.raises((ValueError, TypeError), match=message):
        train(recipe, members, settings)
    assert not settings.cache_dir.exists()  # refused before anything trained


def test_recipes_and_settings_refuse_unknown_fields_and_a_missing_dopesheet(recipe):
    with pytest.raises(TypeError, match=r"Recipe.with_: no field named 'regularisers'"):
        recipe.with_(regularisers=())
    with pytest.raises(TypeError, match=r"RunSettings.with_: no field named 'steps'"):
        RunSettings().with_(steps=10)
    with pytest.raises(ValueError, match=r'RunSettings.workers must be an int >= 1, got 0'):
        RunSettings(workers=0)
    with pytest.raises(
        ValueError, match=r"recipe 'Ex 2.10.*has no dopesheet \(its file: ex-2.10-dopesheet.csv\)"
    ):
        train(ex_2_10.RECIPE, [0], RunSettings(cache=False))


def test_asking_for_a_member_that_is_not_there_names_what_is(recipe, settings):
    result = train(recipe, [0, 1], settings)
    assert result.member(name='seed-1').spec.seed == 1
    with pytest.raises(LookupError, match=r'0 members have seed 7.*seed-0'):
        result.member(seed=7)


def test_train_on_an_experiment_uses_the_cache_and_gives_trains_weights(recipe, settings, caplog):
    # The same door on an Experiment's backend (here local, through the sharded route Modal takes).
    import asyncio

    from ex_color.training.front import train_on
    from ex_color.training.remote import shard_trainer
    from mini.experiment import Experiment

    caplog.set_level(logging.INFO, logger='ex_color.training')
    run = Experiment('front-door-test', backend='local')
    shards = shard_trainer(run, cpu=1)
    remote = asyncio.run(train_on(run, shards, recipe, range(3), settings))
    here = train(recipe, range(3), settings.with_(cache=False))
    for a, b in zip(remote, here, strict=True):
        assert _same(a.state, b.state), a.name
    again = asyncio.run(train_on(run, shards, recipe, range(3), settings))
    assert again.cached == 3 and 'Loaded 3 of 3 members' in _loaded(caplog)[0]


def test_the_settings_backend_chooses_where_members_train_or_says_why_it_cannot(recipe, settings):
    import asyncio

    from ex_color.training.front import train_on
    from mini.experiment import Experiment

    with pytest.raises(ValueError, match=r"RunSettings.backend must be one of \('local', 'modal'\)"):
        RunSettings(backend='cloud')
    with pytest.raises(
        ValueError, match=r'train\(\) trains on this machine; a Modal run goes through an Experiment'
    ):
        train(recipe, [0], settings.with_(backend='modal'))

    async def no_shards(*args, **kwargs):
        raise AssertionError('a shard was sent to Modal')

    here = Experiment('backend-test', backend='local')
    with pytest.raises(
        ValueError, match=r"backend='modal'\), but the Experiment runs locally \(requested by"
    ):
        asyncio.run(train_on(here, no_shards, recipe, [0], settings.with_(backend='modal')))

    # An Experiment bound for Modal, told to train here: no shard is sent (none could start here).

    there = Experiment('backend-test', backend='modal')
    local = asyncio.run(
        train_on(there, no_shards, recipe, [0, 1], settings.with_(backend='local', cache=False))
    )
    plain = train(recipe, [0, 1], settings.with_(cache=False))
    for a, b in zip(local, plain, strict=True):
        assert _same(a.state, b.state), a.name
    assert settings.with_(backend='modal').weight_settings() == settings.weight_settings()


def test_fine_tuning_is_the_same_call_and_its_curves_come_back_from_the_cache(recipe, settings):
    from ex_color.experiments import ex_2_12
    from ex_color.model.surgery import ablate, ablation_mask
    from ex_color.training.finetune import ColourErrors, colour_errors

    trained = train(recipe, [0], settings).member(seed=0).model
    cut, masks = ablate(trained, 'bottleneck', [0]), ablation_mask(trained, 'bottleneck', [0])
    sheet = Dopesheet.from_text('STEP,PHASE,ACTION,lr\n0,Fine-tune,,0.01\n20,,,0.01\n', source='ft.csv')
    tune = Recipe('fine-tune test', (), ex_2_12.finetune_data, 5, 2, dopesheet=sheet)
    spec = MemberSpec(0, name='cut', start=cut.state_dict(), frozen=masks)

    first = train(tune, [spec], settings, callbacks=[ColourErrors({'red': (1.0, 0.0, 0.0)})])
    tuned = first.member(name='cut').model
    params = dict(tuned.named_parameters())
    assert all(bool((params[k][m] == 0).all()) for k, m in masks.items())  # the deletion held
    assert not torch.equal(params['encoder.0.weight'], dict(cut.named_parameters())['encoder.0.weight'])
    curve = colour_errors(first)
    assert list(curve['step']) == list(range(len(sheet) + 1)) and set(curve['colour']) == {'red'}  # 0: before

    again = train(tune, [spec], settings, callbacks=[ColourErrors({'red': (1.0, 0.0, 0.0)})])
    assert again.cached == 1 and colour_errors(again).equals(curve)
    more = train(
        tune, [spec], settings, callbacks=[ColourErrors({'red': (1.0, 0.0, 0.0), 'blue': (0.0, 0.0, 1.0)})]
    )
    assert more.cached == 0, 'a callback that records other values is another cache entry'
    other = MemberSpec(0, name='cut', start=trained.state_dict(), frozen=masks)
    assert train(tune, [other], settings, callbacks=[ColourErrors({'red': (1.0, 0.0, 0.0)})]).cached == 0
