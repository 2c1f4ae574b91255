"""Surgery: ablate and prune on CNColorMLP (copies only, ablate ≡ prune, exact zeros, errors)."""

import pytest
import torch
from torch import nn

from ex_color.model import CNColorMLP
from ex_color.model.surgery import ablate, find_links, prune


@pytest.fixture
def model() -> CNColorMLP:
    torch.manual_seed(0)
    return CNColorMLP(5, n_nonlinear=2).eval()


@pytest.fixture
def colours() -> torch.Tensor:
    torch.manual_seed(1)
    return torch.rand(500, 3)


def state(m: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in m.state_dict().items()}


def test_links_of_bottleneck_and_containers(model):
    links = find_links(model, 'bottleneck')
    assert (links.producer_name, links.consumer_name, links.width) == ('encoder.4', 'decoder.0', 5)
    # A container's output is produced by its last Linear; a Linear is its own producer.
    assert find_links(model, 'encoder')[::2] == ('encoder.4', 'decoder.0')
    assert find_links(model, 'encoder.4')[::2] == ('encoder.4', 'decoder.0')
    assert find_links(model, 'decoder.1')[::2] == ('decoder.0', 'decoder.2')


def test_ablate_equals_prune(model, colours):
    ablated = ablate(model, 'bottleneck', [0])
    pruned = prune(model, 'bottleneck', [0])
    assert pruned.encoder[4].out_features == 4 and pruned.decoder[0].in_features == 4
    torch.testing.assert_close(ablated(colours), pruned(colours), atol=1e-6, rtol=0)
    # ...and differs from the intact model, so the check is not vacuous.
    assert (ablated(colours) - model(colours)).abs().max() > 1e-4


def test_ablated_pre_norm_dim_is_exactly_zero(model, colours):
    ablated = ablate(model, 'bottleneck', [0, 3])
    pre = ablated.encoder(colours)
    assert (pre[:, [0, 3]] == 0).all()
    latent = ablated.bottleneck(pre)
    # The remaining components are re-normalised to unit length.
    torch.testing.assert_close(torch.linalg.vector_norm(latent, dim=-1), torch.ones(len(colours)))
    assert ablated.decoder[0].weight[:, [0, 3]].eq(0).all()
    torch.testing.assert_close(ablated.decoder[0].bias, model.decoder[0].bias)


@pytest.mark.parametrize('surgery', [ablate, prune])
def test_input_model_is_unchanged(model, surgery):
    before = state(model)
    result = surgery(model, 'bottleneck', [1, 0, 1])
    assert result is not model
    after = model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_prune_keeps_remaining_weights(model):
    pruned = prune(model, 'bottleneck', [3, 1])
    keep = [0, 2, 4]
    assert torch.equal(pruned.encoder[4].weight, model.encoder[4].weight[keep])
    assert torch.equal(pruned.encoder[4].bias, model.encoder[4].bias[keep])
    assert torch.equal(pruned.decoder[0].weight, model.decoder[0].weight[:, keep])
    assert torch.equal(pruned.decoder[0].bias, model.decoder[0].bias)


@pytest.mark.parametrize('surgery', [ablate, prune])
def test_empty_dims_returns_unchanged_copy(model, colours, surgery):
    result = surgery(model, 'bottleneck', [])
    assert result is not model
    torch.testing.assert_close(result(colours), model(colours), atol=0, rtol=0)


@pytest.mark.parametrize('surgery', [ablate, prune])
@pytest.mark.parametrize('dims', [[5], [-1], [0, 7]])
def test_out_of_range_dims(model, surgery, dims):
    with pytest.raises(IndexError, match='width 5'):
        surgery(model, 'bottleneck', dims)


def test_prune_everything_is_an_error(model):
    with pytest.raises(ValueError, match='no dimensions'):
        prune(model, 'bottleneck', range(5))


@pytest.mark.parametrize('surgery', [ablate, prune])
def test_unknown_layer_lists_available_names(model, surgery):
    with pytest.raises(KeyError, match=r"no layer named 'botleneck'.*'bottleneck'"):
        surgery(model, 'botleneck', [0])


def test_width_mismatch_and_missing_consumer():
    odd = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(5, 2))
    with pytest.raises(ValueError, match='out_features=4 .* in_features=5'):
        ablate(odd, '1', [0])
    with pytest.raises(ValueError, match='no nn.Linear after'):
        ablate(CNColorMLP(3), 'decoder', [0])
