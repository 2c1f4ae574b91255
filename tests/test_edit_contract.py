"""One edit contract: ablation, suppression, LEACE and project-out are values of one kind that work on
one model (`erased`) and on a stack (`MemberSpec.edit` → `StackedEdits`), with the same outputs."""

from __future__ import annotations

import pytest
import torch

from ex_color.model import CNColorMLP
from ex_color.model.edits import AblateDims, ProjectOut, erased, fit_leace
from ex_color.model.intervention import BoundedFalloff, Suppression
from ex_color.model.stacked import StackedColorMLP, StackedEdits
from ex_color.model.surgery import ablate


def models(n: int) -> list[CNColorMLP]:
    out = []
    for seed in range(n):
        torch.manual_seed(seed)
        out.append(CNColorMLP(5, n_nonlinear=2).eval())
    return out


def edits() -> dict[str, torch.nn.Module]:
    torch.manual_seed(11)
    z = torch.nn.functional.normalize(torch.randn(400, 5), dim=-1)
    return {
        'ablate': AblateDims(5, [0]),
        'suppress': Suppression(torch.tensor([1.0, 0.0, 0.0, 0.0, 0.0]), BoundedFalloff(0.2, 1.0, 2.0)),
        'leace': fit_leace(z, (z[:, 0] > 0.3).float()),
        'project-out': ProjectOut(torch.tensor([1.0, 0.3, 0.0, 0.0, 0.0])),
    }


def test_ablation_as_an_edit_is_weight_surgery():
    x = torch.rand(256, 3)
    for m in models(3):
        with torch.no_grad():
            assert torch.allclose(
                erased(m, AblateDims(5, [0]))(x), ablate(m, 'bottleneck', [0])(x), atol=1e-6
            )
            assert torch.allclose(
                erased(m, AblateDims(5, [1, 3]))(x), ablate(m, 'bottleneck', [1, 3])(x), atol=1e-6
            )


@pytest.mark.parametrize('order', [0, 1])
def test_every_edit_works_on_one_model_and_on_a_stack_alike(order):
    named = list(edits().items())
    if order:
        named = named[::-1]
    nets = models(len(named) + 1)
    stack = StackedColorMLP(nets).eval()
    stack.bottleneck = StackedEdits(stack.bottleneck, [e for _, e in named] + [None])  # as a run does
    assert sorted(stack.bottleneck.batched.tolist()) == sorted(
        i for i, (name, _) in enumerate(named) if name != 'suppress'
    )  # the affine ones in one product, suppression member by member
    x = torch.rand(128, 3)
    with torch.no_grad():
        out = stack(x.expand(len(nets), -1, -1))
        out = out[0] if isinstance(out, tuple) else out
        for i, (name, e) in enumerate(named):
            assert torch.allclose(out[i], erased(nets[i], e)(x), atol=1e-5), name
        assert torch.allclose(out[-1], nets[-1](x), atol=1e-5)  # no edit: the model itself
    for name, e in named:
        assert not list(e.parameters()), f'{name} holds parameters; an edit holds buffers only'


def test_bad_ablations_are_refused_naming_the_dimension():
    with pytest.raises(ValueError, match=r'dims must be distinct dimensions in \[0, 5\), got \[5\]'):
        AblateDims(5, [5])
    with pytest.raises(ValueError, match='got \\[\\]'):
        AblateDims(5, [])
    with pytest.raises(ValueError, match='k must be'):
        AblateDims(0, [0])
