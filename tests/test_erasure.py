"""Erasing red after training: LEACE leaves a linear probe at chance, the mean-difference projection
removes its direction, and an erased model keeps its edit in the bottleneck."""

from __future__ import annotations

import pytest
import torch

from ex_color.evaluation.probe import probe_balanced_accuracy
from ex_color.experiments import ex_2_10, ex_2_12
from ex_color.model import CNColorMLP
from ex_color.model.edits import (
    ErasedBottleneck,
    LeaceEdit,
    ProjectOut,
    erased,
    fit_leace,
    latents,
    mean_difference,
)
from ex_color.training import train_members
from tests.training_helpers import notebook_dopesheet

DRAWS = 20


@pytest.fixture(scope='module')
def unanchored() -> CNColorMLP:
    """Ex 2.12's unanchored model (Ex 2.10 without its anchoring terms), trained briefly."""
    run = train_members(
        [m for m in ex_2_12.members([0]) if (m.name or "").startswith("unanchored")], dopesheet=notebook_dopesheet(ex_2_10.DOPESHEET),
        regularizers=ex_2_10.regularizers(), make_data=ex_2_10.make_data, k_bottleneck=ex_2_10.K,
        n_nonlinear=ex_2_10.N, run_name='test', wandb_mode='disabled', progress=False, max_steps=400,
    )  # fmt: skip
    assert run[0].name == 'unanchored seed-0'
    return run[0].model


def test_leace_leaves_a_logistic_probe_for_red_at_chance(unanchored):
    colours, soft = ex_2_12.red_labels()
    z = latents(unanchored, colours)
    drawn = ex_2_12.drawn_red(DRAWS, seed=1)
    before = probe_balanced_accuracy(z.repeat(DRAWS, 1), drawn)
    edit = fit_leace(z, soft)
    after = probe_balanced_accuracy(edit(z).repeat(DRAWS, 1), drawn)
    assert before > 0.75, 'red should be linearly readable before erasure, or the test proves nothing'
    assert abs(after - 0.5) <= 0.05


def test_leace_edit_is_the_packages_eraser(unanchored):
    from concept_erasure import LeaceEraser

    colours, soft = ex_2_12.red_labels()
    z = latents(unanchored, colours)
    edit = fit_leace(z, soft)
    assert isinstance(edit, LeaceEdit) and isinstance(edit.eraser(), LeaceEraser)
    assert list(dict(edit.named_parameters())) == []  # nothing for fine-tuning to train
    # it moves the latents (rare labels must not make it the identity) and erases one direction only
    moved = edit(z) - z
    assert moved.abs().max() > 1e-3
    assert torch.linalg.matrix_rank(moved - moved.mean(0), atol=1e-5) == 1


def test_mean_difference_removes_its_direction_and_equalises_the_class_means_along_it(unanchored):
    colours, soft = ex_2_12.red_labels()
    z = latents(unanchored, colours)
    edit = mean_difference(z, soft)
    d = edit.direction
    assert torch.isclose(d.norm(), torch.tensor(1.0))
    out = edit(z)
    assert (out @ d).abs().max() < 1e-6
    red = (soft[:, None] * z).sum(0) / soft.sum()
    rest = ((1 - soft)[:, None] * z).sum(0) / (1 - soft).sum()
    assert torch.allclose(d, (red - rest) / (red - rest).norm())


def test_erased_model_applies_its_edit_renormalised_and_leaves_the_original(unanchored):
    colours, soft = ex_2_12.red_labels()
    edit = mean_difference(latents(unanchored, colours), soft)
    before = {k: v.clone() for k, v in unanchored.state_dict().items()}
    model = erased(unanchored, edit)
    assert isinstance(model.bottleneck, ErasedBottleneck)
    assert all(torch.equal(v, unanchored.state_dict()[k]) for k, v in before.items())
    z = latents(model, colours)
    assert torch.allclose(z.norm(dim=-1), torch.ones(len(z)), atol=1e-5)
    expected = edit(latents(unanchored, colours))
    assert torch.allclose(z, expected / expected.norm(dim=-1, keepdim=True), atol=1e-6)
    with pytest.raises(ValueError, match='already erased'):
        erased(model, edit)


@pytest.mark.parametrize(
    ('labels', 'match'),
    [
        (torch.zeros(10), 'some latents and not all'),
        (torch.full((10,), 2.0), r'probabilities in \[0, 1\]'),
        (torch.zeros(9), '10 latents but 9 labels'),
    ],
)
def test_bad_labels_are_refused_with_the_reason(labels, match):
    with pytest.raises(ValueError, match=match):
        fit_leace(torch.randn(10, 5), labels)
    with pytest.raises(ValueError, match=match):
        mean_difference(torch.randn(10, 5), labels)


def test_project_out_refuses_a_zero_direction():
    with pytest.raises(ValueError, match='non-zero'):
        ProjectOut(torch.zeros(5))
