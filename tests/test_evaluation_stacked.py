"""`stacked_metrics` scores many models over their stack and gives `ablation_metrics`'s values."""

from __future__ import annotations

import pytest
import torch

from ex_color.evaluation.ablation import METRICS, ablation_metrics, seed_metrics, stacked_metrics
from ex_color.experiments import ex_2_10
from ex_color.experiments.common import evaluation_cubes
from ex_color.training import RunSettings, train
from tests.test_front_door import SHORT


@pytest.fixture(scope='module')
def trained():
    recipe = ex_2_10.RECIPE.with_(dopesheet=SHORT)
    return train(recipe, range(5), RunSettings(tracking='disabled', progress=False, cache=False))


def test_stacked_metrics_equal_one_model_at_a_time(trained, monkeypatch):
    from ex_color.evaluation import ablation

    monkeypatch.setattr(ablation, 'CHUNK', 2)  # several stacks, the last one short
    monkeypatch.setattr(ablation, 'COLOURS', 1000)  # several colour passes, the last one short
    cubes = evaluation_cubes()
    models = [m.model for m in trained]
    stacked = stacked_metrics(models, cubes.hd_hsv, cubes.rgb)
    for model, got in zip(models, stacked, strict=True):
        expected = ablation_metrics(model, cubes.hd_hsv, cubes.rgb)
        assert list(got) == list(METRICS)
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-12), key


def test_seed_metrics_stacks_plain_models_and_scores_others_one_by_one(trained):
    import copy

    from ex_color.model.edits import ErasedBottleneck

    cubes = evaluation_cubes()
    plain = {m.spec.seed: m.model for m in trained}
    table = seed_metrics(plain, cubes.hd_hsv, cubes.rgb)
    assert list(table.index) == list(plain)
    other = copy.deepcopy(plain[0])
    other.bottleneck = ErasedBottleneck(other.bottleneck, torch.nn.Identity())
    mixed = seed_metrics({**plain, 99: other}, cubes.hd_hsv, cubes.rgb)
    assert mixed.loc[0, 'red'] == pytest.approx(table.loc[0, 'red'], rel=1e-6)
    with pytest.raises(TypeError, match=r'models\[0\] is a CNColorMLP with a ErasedBottleneck bottleneck'):
        stacked_metrics([other], cubes.hd_hsv, cubes.rgb)
