"""CNColorMLP: structure, parameter count, unit-norm bottleneck, eval-only clamping."""

import pytest
import torch
from torch import nn

from ex_color.model import CNColorMLP, L2Norm


def test_parameter_count_k5_n2():
    model = CNColorMLP(5, n_nonlinear=2)
    n = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # encoder: 3*16+16 + 16*16+16 + 16*5+5 = 64 + 272 + 85
    # decoder: 5*16+16 + 16*16+16 + 16*3+3 = 96 + 272 + 51
    assert n == 64 + 272 + 85 + 96 + 272 + 51 == 840


def test_submodule_names_and_shapes():
    model = CNColorMLP(5, n_nonlinear=2)
    shapes = {
        name: (m.in_features, m.out_features) for name, m in model.named_modules() if isinstance(m, nn.Linear)
    }
    assert shapes == {
        'encoder.0': (3, 16),
        'encoder.2': (16, 16),
        'encoder.4': (16, 5),
        'decoder.0': (5, 16),
        'decoder.2': (16, 16),
        'decoder.4': (16, 3),
    }
    assert isinstance(model.get_submodule('bottleneck'), L2Norm)
    for name in ('encoder.1', 'encoder.3', 'decoder.1', 'decoder.3'):
        gelu = model.get_submodule(name)
        assert isinstance(gelu, nn.GELU) and gelu.approximate == 'none'


def test_n_nonlinear_1_has_single_hidden_layer():
    model = CNColorMLP(3)
    assert [type(m) for m in model.encoder] == [nn.Linear, nn.GELU, nn.Linear]
    assert [type(m) for m in model.decoder] == [nn.Linear, nn.GELU, nn.Linear]


@pytest.mark.parametrize(
    'kwargs', [{'k_bottleneck': 0}, {'k_bottleneck': 5, 'n_nonlinear': 0}, {'k_bottleneck': 5, 'k_codec': 0}]
)
def test_rejects_non_positive_sizes(kwargs):
    with pytest.raises(ValueError, match=next(k for k, v in kwargs.items() if v == 0)):
        CNColorMLP(**kwargs)


def test_rejects_non_int_sizes():
    with pytest.raises(TypeError, match='n_nonlinear'):
        CNColorMLP(5, n_nonlinear=2.0)  # type: ignore[arg-type]


def test_bottleneck_output_is_unit_norm():
    torch.manual_seed(0)
    model = CNColorMLP(5, n_nonlinear=2)
    latents: dict[str, torch.Tensor] = {}
    handle = model.bottleneck.register_forward_hook(lambda m, i, o: latents.setdefault('z', o))
    try:
        model(torch.rand(256, 3))
    finally:
        handle.remove()
    norms = torch.linalg.vector_norm(latents['z'], dim=-1)
    torch.testing.assert_close(norms, torch.ones(256))


def test_l2norm_zero_row_stays_zero():
    out = L2Norm()(torch.tensor([[0.0, 0.0], [3.0, 4.0]]))
    # (3, 4) / 5 = (0.6, 0.8); the zero row is divided by the 1e-12 floor and stays 0
    torch.testing.assert_close(out, torch.tensor([[0.0, 0.0], [0.6, 0.8]]))


def _model_with_out_of_range_outputs() -> CNColorMLP:
    torch.manual_seed(0)
    model = CNColorMLP(5, n_nonlinear=2)
    with torch.no_grad():
        # A huge negative bias on R and positive on B push those outputs outside [0, 1] for any input
        # (the rest of the decoder output is bounded because the latent is unit length).
        out_layer = model.decoder[4]
        assert isinstance(out_layer, nn.Linear)
        out_layer.bias.copy_(torch.tensor([-50.0, 0.5, 50.0]))
    return model


def test_train_mode_output_is_not_clamped():
    model = _model_with_out_of_range_outputs().train()
    y = model(torch.rand(32, 3))
    assert (y[:, 0] < 0).all() and (y[:, 2] > 1).all()


def test_eval_mode_output_is_clamped():
    model = _model_with_out_of_range_outputs().eval()
    y = model(torch.rand(32, 3))
    assert (y >= 0).all() and (y <= 1).all()
    assert (y[:, 0] == 0).all() and (y[:, 2] == 1).all()
    torch.manual_seed(1)
    fresh = CNColorMLP(4).eval()
    y = fresh(torch.rand(512, 3) * 4 - 2)
    assert y.min() >= 0 and y.max() <= 1
