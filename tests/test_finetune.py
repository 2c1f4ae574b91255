"""Fine-tuning deleted models: the deletion stays in place, the eraser runs in every forward pass,
members are independent, and the tracked errors start from the model that went in."""

from __future__ import annotations

import pytest
import torch

from ex_color.evaluation.cube import named_color_errors
from ex_color.experiments import ex_2_12
from ex_color.model import CNColorMLP
from ex_color.model.edits import ErasedBottleneck, ProjectOut, erased
from ex_color.model.surgery import ablate, ablation_mask
from ex_color.seed import set_deterministic_mode
from ex_color.training import MemberSpec
from ex_color.training.finetune import FineTuneMember, fine_tune
from mini.temporal.dopesheet import Dopesheet

STEPS = 40


def sheet() -> Dopesheet:
    return Dopesheet.from_text('STEP,PHASE,ACTION,lr\n0,Fine-tune,,0.01\n40,,,0.01\n', source='ft.csv')


def model(seed: int) -> CNColorMLP:
    set_deterministic_mode(seed, verbose=False)
    return CNColorMLP(5, n_nonlinear=2)


def run(members, **kw):
    return fine_tune(
        members, dopesheet=sheet(), make_data=ex_2_12.finetune_data, run_name='test', wandb_mode='disabled',
        progress=False, max_steps=STEPS, colours=ex_2_12.tracked_colours(), **kw,
    )  # fmt: skip


def ablated_entries(m: torch.nn.Module, masks: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    params = dict(m.named_parameters())
    return {k: params[k].detach()[mask] for k, mask in masks.items()}


def enc0(m: torch.nn.Module) -> torch.Tensor:
    """The first encoder layer's weight (its column 0 multiplies the red input)."""
    return m.get_parameter('encoder.0.weight')


def test_ablated_weights_stay_exactly_zero_while_the_rest_trains():
    original = model(0)
    cut = ablate(original, 'bottleneck', [0])
    masks = ablation_mask(original, 'bottleneck', [0])
    assert set(masks) == {'encoder.4.weight', 'encoder.4.bias', 'decoder.0.weight'}
    assert all(bool((v == 0).all()) for v in ablated_entries(cut, masks).values())
    frozen, loose = run([FineTuneMember(cut, 'frozen', 0, masks), FineTuneMember(cut, 'loose', 0)]).models
    for name, values in ablated_entries(frozen, masks).items():
        assert bool((values == 0).all()), f'{name} moved off zero'
    assert not torch.equal(enc0(frozen), enc0(cut))  # the rest did train
    # An ablation is a fixed point of plain fine-tuning: the zero row and the zero column hold each
    # other's gradients at zero, so even the unmasked copy keeps them. The masks make it a guarantee.
    assert all(bool((v == 0).all()) for v in ablated_entries(loose, masks).values())


def test_frozen_entries_that_do_get_gradients_stay_exactly_as_they_were():
    m = model(5)
    mask = torch.zeros_like(enc0(m), dtype=torch.bool)
    mask[:, 0] = True  # the red input's weights: they get gradients on every step
    held, free = run(
        [FineTuneMember(m, 'held', 0, {'encoder.0.weight': mask}), FineTuneMember(m, 'free', 0)]
    ).models
    assert torch.equal(enc0(held)[mask], enc0(m)[mask])
    assert not torch.equal(enc0(held)[~mask], enc0(m)[~mask])
    assert not torch.equal(enc0(free)[mask], enc0(m)[mask])


class CountingProjectOut(ProjectOut):
    """ProjectOut that counts its forward passes in training and in eval mode."""

    def __init__(self, direction):
        super().__init__(direction)
        self.calls = {'train': 0, 'eval': 0}

    def forward(self, x):
        self.calls['train' if self.training else 'eval'] += 1
        return super().forward(x)


def test_the_eraser_is_applied_in_every_forward_pass_and_comes_back_with_the_model():
    direction = torch.tensor([1.0, 0.5, 0.0, 0.0, 0.0])
    edit = CountingProjectOut(direction)
    member = FineTuneMember(erased(model(1), edit), 'erased', 1)
    plain = FineTuneMember(model(2), 'plain', 2)
    result = run([plain, member])
    # the stack holds a deep copy of the edit; find it through the returned model
    tuned = result.models[1]
    assert isinstance(tuned.bottleneck, ErasedBottleneck)
    assert isinstance(tuned.bottleneck.edit, CountingProjectOut)
    counted = tuned.bottleneck.edit.calls
    assert counted['train'] == STEPS  # one training forward per step, none skipped
    assert counted['eval'] >= STEPS + 1  # the tracked errors, every step and at step 0
    # the returned model computes decoder(norm(edit(norm(encoder(x)))))
    x = torch.rand(16, 3)
    with torch.no_grad():
        z = tuned.bottleneck.norm(tuned.encoder(x))
        z = ProjectOut(direction)(z)
        expected = tuned.decoder(z / z.norm(dim=-1, keepdim=True)).clamp(0, 1)
        assert torch.allclose(tuned(x), expected, atol=1e-6)
        assert (tuned.bottleneck(tuned.encoder(x)) @ (direction / direction.norm())).abs().max() < 1e-6


def test_members_are_independent_and_tracking_starts_from_the_model_that_went_in():
    a, b = model(3), ablate(model(4), 'bottleneck', [0])
    masks = ablation_mask(b, 'bottleneck', [0])
    both = run([FineTuneMember(a, 'a', 3), FineTuneMember(b, 'b', 4, masks)])
    alone = run([FineTuneMember(b, 'b', 4, masks)])
    for (k, v), w in zip(
        both.models[1].state_dict().items(), alone.models[0].state_dict().values(), strict=True
    ):
        assert torch.allclose(v, w, atol=1e-6), k
    errors = both.colour_errors
    start = errors[(errors['member'] == 'b') & (errors['step'] == 0)].set_index('colour')['mse']
    assert start['red'] == pytest.approx(float(named_color_errors(b)['red']), rel=1e-5)
    assert sorted(errors['step'].unique()) == list(range(STEPS + 1))


def test_bad_frozen_masks_are_refused_naming_the_parameter():
    m = model(0)
    with pytest.raises(KeyError, match='encoder.9.weight'):
        FineTuneMember(m, 'x', frozen={'encoder.9.weight': torch.zeros(1, dtype=torch.bool)})
    with pytest.raises(ValueError, match=r"frozen\['encoder.4.bias'\]"):
        FineTuneMember(m, 'x', frozen={'encoder.4.bias': torch.zeros(4, dtype=torch.bool)})
    with pytest.raises(ValueError, match='unique'):
        run([FineTuneMember(m, 'x'), FineTuneMember(m, 'x')])


def test_a_stack_applies_affine_edits_in_one_product_with_the_same_map_as_each_edit_alone():
    from ex_color.model.edits import fit_leace
    from ex_color.model.stacked import StackedEdits

    torch.manual_seed(0)
    z_fit = torch.nn.functional.normalize(torch.randn(300, 5), dim=-1)
    labels = (z_fit[:, 0] > 0.3).float()
    leace = fit_leace(z_fit, labels)
    project = ProjectOut(torch.tensor([1.0, 0.5, 0.0, 0.0, 0.0]))
    counting = CountingProjectOut(
        torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0])
    )  # its own forward: member by member
    norm = model(0).bottleneck
    edits = [leace, None, project, counting, leace]
    stack = StackedEdits(norm, edits)
    assert stack.batched.tolist() == [0, 2, 4] and stack.one_by_one == [3]
    h = torch.randn(5, 32, 5, requires_grad=True)
    out = stack(h)
    z = norm(h)
    for m, e in enumerate(edits):
        expected = z[m] if e is None else norm(e(z[m]))
        assert torch.allclose(out[m], expected, atol=1e-6), m
    assert torch.equal(out[1], z[1])  # a member without an edit is left exactly as normalised
    out.sum().backward()  # gradients flow through the batched and the member-by-member edits
    assert h.grad is not None and torch.isfinite(h.grad).all()


def test_two_processes_fine_tune_each_member_as_one_does(tmp_path, monkeypatch):
    from ex_color.model.edits import fit_leace

    monkeypatch.setenv('EX_COLOR_RUNS_DIR', str(tmp_path))  # no run cache shared between the two runs
    torch.manual_seed(5)
    z = torch.nn.functional.normalize(torch.randn(200, 5), dim=-1)
    leace = fit_leace(z, (z[:, 0] > 0.3).float())
    cut = ablate(model(6), 'bottleneck', [0])
    members = [
        FineTuneMember(erased(model(5), leace), 'leace', 5),
        FineTuneMember(cut, 'ablated', 6, ablation_mask(cut, 'bottleneck', [0])),
        FineTuneMember(erased(model(7), ProjectOut(torch.ones(5))), 'project', 7),
    ]
    one, two = run(members), run(members, workers=2)
    for a, b in zip(one.models, two.models, strict=True):
        for (k, v), w in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            assert torch.allclose(v, w, atol=1e-6), k
    assert one.colour_errors['mse'].to_numpy() == pytest.approx(two.colour_errors['mse'].to_numpy(), abs=1e-6)


def test_while_training_the_tracker_records_where_reds_latent_points_relative_to_the_anchor():
    from ex_color.experiments import ex_2_10
    from ex_color.model.edits import latents
    from ex_color.training import RunSettings, train
    from ex_color.training.finetune import ANGLE_METRIC, ColourErrors, colour_errors

    short = Dopesheet.from_text(
        'STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace\n0,Train,,0.01,0.01,0.1,0.25\n59,,,0.005,,,\n',
        source='short.csv',
    )
    tracker = ColourErrors({'red': (1.0, 0.0, 0.0), 'cyan': (0.0, 1.0, 1.0)}, axis=ex_2_10.RED, every=20)
    settings = RunSettings(tracking='disabled', progress=False, cache=False)
    run = train(
        ex_2_10.RECIPE.with_(dopesheet=short), [MemberSpec(1), MemberSpec(2)], settings, callbacks=[tracker]
    )
    angles = colour_errors(run, ANGLE_METRIC)
    steps = sorted(angles['step'].unique())
    assert steps == [0, 20, 40, 60]  # step 0, then after every 20th of the 60 steps
    anchor = torch.tensor(ex_2_10.RED)
    for member in run:
        # the last record is the model that came back: its own unit latents give the same angles
        z = latents(member.model, torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]))
        expected = torch.rad2deg(torch.arccos((z @ anchor).clamp(-1, 1)))
        last = angles[(angles['member'] == member.name) & (angles['step'] == 60)].set_index('colour')[
            'degrees'
        ]
        assert [last['red'], last['cyan']] == pytest.approx(expected.tolist(), abs=1e-3)
    with pytest.raises(ValueError, match='every must be a whole number'):
        ColourErrors({'red': (1.0, 0.0, 0.0)}, every=0)
    with pytest.raises(ValueError, match='axis must be a finite, non-zero vector'):
        ColourErrors({'red': (1.0, 0.0, 0.0)}, axis=[0.0] * 5)
