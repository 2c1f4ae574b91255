"""Inference helpers and surgery on a trained model: ablate ≡ prune, the ablated axis is exactly zero."""

from __future__ import annotations

from typing import cast

import lightning as L
import pytest
import torch

from ex_color.evaluation import evaluate_cube
from ex_color.experiments.common import evaluation_cubes
from ex_color.model.capture import capture
from ex_color.model.inference_module import InferenceModule, infer
from ex_color.model.intervention import BoundedFalloff, InterventionConfig, Suppression
from ex_color.model.surgery import ablate, prune
from ex_color.training import fit
from tests.training_helpers import all_forward_hooks, data, module


@pytest.fixture(scope='module')
def trained():
    m = module(0)
    train, val = data(0)
    return fit(m, train, val, run_name='t', max_steps=40, wandb_mode='disabled', progress=False).module.model


@pytest.fixture(scope='module')
def hd():
    return torch.tensor(evaluation_cubes().hd_hsv.rgb_grid, dtype=torch.float32)


def test_ablate_and_prune_agree_on_the_hd_cube_and_leave_the_original_alone(trained, hd):
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    ablated, pruned = ablate(trained, 'bottleneck', [0]), prune(trained, 'bottleneck', [0])
    ya, yp = infer(ablated, hd).recon, infer(pruned, hd).recon
    assert hd.shape[:3] == (150, 24, 24)  # the test set's loss cube
    assert torch.allclose(ya, yp, atol=1e-6)
    assert not torch.allclose(ya, infer(trained, hd).recon, atol=1e-3)
    after = trained.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_ablated_pre_norm_latent_dim_is_exactly_zero_for_every_input(trained, hd):
    ablated = ablate(trained, 'bottleneck', [0])
    with torch.no_grad(), capture(ablated, ['encoder']) as acts:
        ablated(hd.reshape(-1, 3))
    assert torch.count_nonzero(acts['encoder'][:, 0]) == 0
    assert torch.count_nonzero(acts['encoder'][:, 1:]) > 0


def test_infer_matches_inference_module_and_captures_post_intervention(trained, hd):
    x = hd[:5].reshape(-1, 3)
    suppress = InterventionConfig(
        Suppression(torch.tensor([1.0, 0, 0, 0, 0]), BoundedFalloff(0.0, 1.0, 0.0)), ['bottleneck']
    )
    direct = infer(trained, x, interventions=[suppress])
    module_ = InferenceModule(trained, [suppress], capture_layers=['bottleneck'])
    trainer = L.Trainer(
        logger=False, enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False
    )
    batches = trainer.predict(module_, torch.utils.data.DataLoader(x, batch_size=64))
    y = torch.cat(cast(list[torch.Tensor], batches))  # one dataloader: one list of output batches
    latents = module_.read_captured('bottleneck')
    assert torch.allclose(y, direct.recon, atol=1e-6)
    assert torch.allclose(latents, direct.latents, atol=1e-6)
    # Post-intervention: the suppressed direction has no positive component left.
    assert (latents[:, 0] <= 1e-6).all()
    assert module_.read_captured('bottleneck').numel() == 0  # reading clears the buffer
    assert all_forward_hooks(trained) == []
    with pytest.raises(KeyError, match='decoder'):
        module_.read_captured('decoder')


def test_predict_that_raises_leaves_no_hooks(trained):
    module_ = InferenceModule(trained, [], capture_layers=['bottleneck'])
    trainer = L.Trainer(
        logger=False, enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False
    )
    # 4 channels: the model fails. A Tensor is a map-style dataset; DataLoader's annotation wants a `Dataset`.
    rows = cast(torch.utils.data.Dataset[torch.Tensor], torch.rand(10, 4))
    bad = torch.utils.data.DataLoader(rows, batch_size=5)
    with pytest.raises(RuntimeError):
        trainer.predict(module_, bad)
    assert all_forward_hooks(trained) == []


def test_evaluate_cube_adds_recon_plain_mse_grid_and_latents(trained):
    cube = evaluation_cubes().hsv
    out = evaluate_cube(trained, cube)
    assert out['recon'].shape == (*cube.shape, 3)
    assert out['MSE'].shape == cube.shape
    assert out['latents'].shape == (*cube.shape, 5)
    expected = ((out['recon'] - cube.rgb_grid) ** 2).mean(-1)
    assert abs(out['MSE'] - expected).max() < 1e-6
    assert abs(abs((out['latents'] ** 2).sum(-1)) - 1).max() < 1e-5  # latents are on the unit sphere


def test_unknown_layer_in_inference_is_an_error(trained):
    with pytest.raises(ValueError, match="'bottlenek'"):
        InferenceModule(trained, [], capture_layers=['bottlenek'])
