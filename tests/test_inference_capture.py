"""`infer` and `evaluate_cube`: what they capture, what they leave behind, and exact results.

These pin the behaviour the speed work in `ex_color.model.inference` and `ex_color.evaluation.cube` must keep:
captured latents are the bottleneck output of the same forward pass (after interventions), no hook
outlives a call (also one that raises), the model's mode and torch's thread count come back as they
were, and evaluate_cube's MSE is bit-identical to the plain expression, subnormals included.
No wall-clock assertions: `benchmarks/inference_speed.py` measures speed.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from ex_color.data.color_cube import ColorCube
from ex_color.data.cyclic import arange_cyclic
from ex_color.evaluation import evaluate_cube
from ex_color.model import CNColorMLP
from ex_color.model.inference import infer
from ex_color.model.intervention import InterventionConfig
from ex_color.runtime import fast_cpu_math


def hooked_modules(model: nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if m._forward_hooks or m._forward_pre_hooks]


class Negate(nn.Module):
    def forward(self, z: Tensor) -> Tensor:
        return -z


class Boom(nn.Module):
    def forward(self, z: Tensor) -> Tensor:
        raise RuntimeError('boom')


class Spy(nn.Module):
    """Identity that records the model's module modes and torch's thread count when it runs."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.watched = [model]  # a list, so the model is not registered as a submodule
        self.modes: list[bool] = []
        self.threads = 0

    def forward(self, z: Tensor) -> Tensor:
        self.modes = [m.training for m in self.watched[0].modules()]
        self.threads = torch.get_num_threads()
        return z


@pytest.fixture
def model() -> CNColorMLP:
    torch.manual_seed(0)
    return CNColorMLP(5, n_nonlinear=2).eval()


@pytest.fixture(scope='module')
def hd() -> ColorCube:
    cube = ColorCube.from_hsv(
        h=arange_cyclic(step_size=1 / 240), s=np.linspace(0, 1, 48), v=np.linspace(0, 1, 48)
    )
    return cube[::2, ::2, ::2]


@pytest.fixture
def keep_threads():
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


def manual(model: CNColorMLP, flat: Tensor, edit=lambda z: z) -> tuple[Tensor, Tensor]:
    """(recon, latents) by hand, under the same settings as `infer`."""
    with torch.inference_mode(), fast_cpu_math():
        z = edit(model.bottleneck(model.encoder(flat)))
        return model.decoder(z).clamp(0.0, 1.0), z


def test_captured_latents_equal_a_manual_encoder_bottleneck_forward(model, hd):
    x = torch.tensor(hd.rgb_grid, dtype=torch.float32)
    out = infer(model, x, layer='bottleneck')
    recon, z = manual(model, x.reshape(-1, 3))
    assert out.recon.shape == x.shape and out.latents.shape == (len(z), 5)
    assert torch.equal(out.latents, z)
    assert torch.equal(out.recon, recon.reshape(x.shape))
    with torch.inference_mode():
        assert torch.equal(out.recon, model(x.reshape(-1, 3)).reshape(x.shape))


def test_no_layer_gives_empty_latents_and_the_same_recon(model, hd):
    x = torch.tensor(hd.rgb_grid[:4], dtype=torch.float32)
    out = infer(model, x, layer=None)
    assert out.latents.shape == (x[..., 0].numel(), 0)
    assert torch.equal(out.recon, infer(model, x).recon)


def test_interventions_are_applied_and_latents_are_captured_after_them(model, hd):
    x = torch.tensor(hd.rgb_grid[:8], dtype=torch.float32)
    out = infer(model, x, interventions=[InterventionConfig(Negate(), ['bottleneck'])])
    recon, z = manual(model, x.reshape(-1, 3), edit=lambda z: -z)
    assert torch.equal(out.latents, z)
    assert torch.equal(out.recon, recon.reshape(x.shape))
    assert not torch.equal(out.recon, infer(model, x).recon)
    assert hooked_modules(model) == []


class Widen(nn.Module):
    def forward(self, z: Tensor) -> Tensor:
        return torch.cat([z, z[:, :1]], dim=1)


class Narrow(nn.Module):
    def forward(self, z: Tensor) -> Tensor:
        return z[:, :-1]


class ToList(nn.Module):
    def forward(self, z: Tensor) -> list:
        return z.tolist()


@pytest.mark.parametrize(
    ('edit', 'got'), [(Widen(), 'shape [6, 6]'), (Narrow(), 'shape [6, 4]'), (ToList(), 'with list')]
)
def test_an_intervention_that_changes_the_layer_width_is_refused_naming_it_and_the_layer(model, edit, got):
    # Without the check a narrower bottleneck fails deep inside the decoder's matmul, and an output
    # a later layer happens to broadcast would pass silently; either way the edit is at fault.
    x = torch.rand(6, 3)
    with pytest.raises(ValueError, match=r"output of layer 'bottleneck' \(shape \[6, 5\]\)") as err:
        infer(model, x, interventions=[InterventionConfig(edit, ['bottleneck'])])
    assert type(edit).__name__ in str(err.value)
    assert got in str(err.value)
    assert hooked_modules(model) == []


@pytest.mark.parametrize('start_training', [False, True])
@pytest.mark.parametrize('layer', ['bottleneck', None])
def test_hooks_removed_and_mode_restored_after_success_and_after_an_intervention_that_raises(
    model, start_training, layer
):
    model.train(start_training)
    x = torch.rand(10, 3)
    spy = Spy(model)
    infer(model, x, interventions=[InterventionConfig(spy, ['encoder'])], layer=layer)
    assert spy.modes and not any(spy.modes)  # the forward pass ran with every module in eval mode
    assert hooked_modules(model) == []
    assert all(m.training == start_training for m in model.modules())

    with pytest.raises(RuntimeError, match='boom'):
        infer(model, x, interventions=[InterventionConfig(Boom(), ['bottleneck'])], layer=layer)
    assert hooked_modules(model) == []
    assert all(m.training == start_training for m in model.modules())

    # A bad layer name after a good one: the hook already registered is removed too.
    good, bad = InterventionConfig(Negate(), ['encoder']), InterventionConfig(Negate(), ['bottlenek'])
    with pytest.raises(ValueError, match='bottlenek'):
        infer(model, x, interventions=[good, bad], layer=layer)
    assert hooked_modules(model) == []
    assert all(m.training == start_training for m in model.modules())


def test_an_eval_model_with_a_submodule_left_training_runs_and_ends_all_in_eval(model):
    model.decoder[1].train()
    spy = Spy(model)
    infer(model, torch.rand(4, 3), interventions=[InterventionConfig(spy, ['encoder'])])
    assert not any(spy.modes)
    assert not any(m.training for m in model.modules())


def test_infer_and_evaluate_cube_run_on_one_thread_and_restore_the_callers_count(model, keep_threads):
    cube = ColorCube.from_rgb(r=np.linspace(0, 1, 4), g=np.linspace(0, 1, 4), b=np.linspace(0, 1, 4))
    torch.set_num_threads(2)
    spy = Spy(model)
    infer(model, torch.rand(4, 3), interventions=[InterventionConfig(spy, ['encoder'])])
    assert spy.threads == 1 and torch.get_num_threads() == 2
    spy.threads = 0
    evaluate_cube(model, cube, interventions=[InterventionConfig(spy, ['encoder'])])
    assert spy.threads == 1 and torch.get_num_threads() == 2


def test_evaluate_cube_matches_infer_and_the_plain_mse_expression_exactly(model, hd, keep_threads):
    torch.set_num_threads(2)  # the notebooks' default on a 2-core machine
    out = evaluate_cube(model, hd)
    x = torch.tensor(hd.rgb_grid, dtype=torch.float32)
    ref = infer(model, x)
    assert np.array_equal(out['recon'], ref.recon.numpy())
    assert np.array_equal(out['latents'], ref.latents.numpy().reshape(*hd.shape, 5))
    assert np.array_equal(out['MSE'], ((ref.recon - x) ** 2).mean(dim=-1).numpy())
    assert out['MSE'].dtype == np.float32 and out['MSE'].shape == hd.shape


class Nudge(nn.Module):
    """No parameters: returns the input plus 1e-20, so black's squared error (1e-40) is subnormal."""

    def __init__(self) -> None:
        super().__init__()
        self.bottleneck = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.bottleneck(x) + 1e-20


def test_evaluate_cube_keeps_subnormal_errors(keep_threads):
    cube = ColorCube.from_rgb(r=np.linspace(0, 1, 3), g=np.linspace(0, 1, 3), b=np.linspace(0, 1, 3))
    out = evaluate_cube(Nudge(), cube)
    x = torch.tensor(cube.rgb_grid, dtype=torch.float32)
    expected = ((x + 1e-20 - x) ** 2).mean(dim=-1).numpy()
    assert np.array_equal(out['MSE'], expected)
    assert 0 < out['MSE'][0, 0, 0] < np.finfo(np.float32).tiny  # black: subnormal, not flushed to 0


def test_fast_cpu_math_flushes_subnormals_only_when_asked():
    if not torch.set_flush_denormal(False):
        pytest.skip('this CPU cannot flush denormals')
    tiny = torch.tensor([1e-38])  # normal; divided by 1000 it is subnormal
    assert (tiny / 1000).item() > 0
    with fast_cpu_math():
        assert (tiny / 1000).item() == 0
    with fast_cpu_math(flush_denormal=False):
        assert (tiny / 1000).item() > 0
    assert (tiny / 1000).item() > 0
