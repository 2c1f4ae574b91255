"""Ex 2.12: does deleted red come back? Anchored-and-ablated against erased-after-training, then fine-tuned.

The experiment's declaration. Three ways to delete red, for each seed:

* ``ablated``: Ex 2.10's model (anchored on e₀), latent dimension 0 ablated (`surgery.ablate`);
* ``leace``: a model trained on the same data and schedule with the anchoring terms' weights at zero
  (`UNANCHORED`: no anchor, no anti-subspace; Separate kept, as it shapes every latent space of the
  series), red erased from its bottleneck by LEACE fitted on its latents of the training colours and
  their red labels (`ex_color.model.edits.fit_leace`);
* ``mean-diff``: the same unanchored model with the one direction of largest red/non-red mean
  difference projected out (`ex_color.model.edits.mean_difference`).

A control that never learned red: the unanchored model trained on the training colours without red
(`make_data(seed, without_red=True)`: every colour that carries the label with at least
`NEVER_RED_CUTOFF` of its peak rate is left out). Fine-tuned like the deleted models, it shows how
fast red is learned from nothing: a deletion that comes back faster left something of red behind.

All three kinds of model train in one run of the engine (`members`). `deletions` makes the three
deleted models of one seed with what must stay in place while they are fine-tuned
(`FINETUNE_DOPESHEET`, on the training colours without labels: `finetune_data`).

The experiment is this folder: this module declares it; `recovery` measures how fast each
deletion comes back under fine-tuning; `report` writes the notebook's prose and tables from the
results; `figures` shows the relearning curves (`plot` draws them). Erasers live in the model room
(`ex_color.model.edits`) and fine-tuning in the engine, which any experiment may use.

Design decisions:
- The erasers are fitted on the training colours with their soft red labels (the probability that
  a colour carries the label, `ex_2_10.make_data`'s): the expectation of what any draw of labels
  estimates, and more label information than the anchored model ever saw.
- Fine-tuning data are seeded apart from the training data (`FINETUNE_SEED_OFFSET`), so they are not
  a replay of the training draws.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from ex_color.data.cube_dataset import redness
from ex_color.evaluation.cube import named_color_table
from ex_color.experiments import ex_2_10
from ex_color.model import CNColorMLP
from ex_color.model.edits import erased, fit_leace, latents, mean_difference
from ex_color.model.surgery import ablate, ablation_mask
from ex_color.training.batches import FixedBatches, RandomBatches
from ex_color.training.specs import MemberSpec

NBID = '2.12'
FINETUNE_DOPESHEET = 'ex-2.12-dopesheet-finetune.csv'
"""Fine-tuning schedule (its learning rate), in the notebooks folder."""
UNANCHORED = {'reg-anchor': 0.0, 'reg-anti-subspace': 0.0}
"""Regulariser weight scales of the unanchored model: Ex 2.10's schedule without its anchoring terms."""
CASES = ('ablated', 'leace', 'mean-diff')
CONTROL = 'never-red'
"""The model that never learned red (fine-tuned beside the deletions, not a deletion itself)."""
SHORT = {'ablated': '(a)', 'leace': '(b)', 'mean-diff': '(c)', CONTROL: '(d)'}
CASE_LABELS = {
    'ablated': '(a) anchored, dim 0 ablated',
    'leace': '(b) unanchored, LEACE',
    'mean-diff': '(c) unanchored, mean difference',
    CONTROL: '(d) never learned red (control)',
}
NEVER_RED_CUTOFF = 0.01
"""The control leaves out every training colour whose red-label probability is at least this share of
the peak rate (redness⁸ ≥ 0.01: 85 of the 1000 training colours, red and its near neighbours)."""
FAR = ('green', 'cyan', 'blue')
"""The far colours whose worst error is the collateral kept an eye on while fine-tuning."""
FINETUNE_SEED_OFFSET = 10_000


def members(seeds: range | list[int]) -> list[MemberSpec]:
    """Ex 2.10 (``anchored``), the unanchored model and the never-red control for every seed, for one
    run of the engine (whose recipe's `make_data` is this module's)."""
    out = [MemberSpec(s, name=f'anchored seed-{s}') for s in seeds]
    out += [MemberSpec(s, weights=UNANCHORED, name=f'unanchored seed-{s}') for s in seeds]
    return out + [
        MemberSpec(s, weights=UNANCHORED, data={'without_red': True}, name=f'{CONTROL} seed-{s}')
        for s in seeds
    ]


def make_data(seed: int, *, without_red: bool = False) -> tuple[RandomBatches, FixedBatches]:
    """Ex 2.10's data (`ex_2_10.make_data`); `without_red`: its training colours less those that carry
    the red label with at least `NEVER_RED_CUTOFF` of the peak rate, no colour labelled red, still
    1000 draws per epoch (so the schedule's steps are the same)."""
    train, val = ex_2_10.make_data(seed)
    if not without_red:
        return train, val
    keep = torch.as_tensor(redness(train.colors.double().numpy()) ** 8 < NEVER_RED_CUTOFF)
    colours = train.colors[keep]
    # a 'red' label that never draws: members stacked in one run share their label names
    return (
        RandomBatches(
            colours,
            {'red': torch.zeros(len(colours))},
            batch_size=train.batch_size,
            num_samples=len(train.colors),
            seed=seed,
        ),
        FixedBatches(val.colors, {'red': torch.zeros(len(val.colors))}, batch_size=val.batch_size),
    )


def red_labels(seed: int = 0) -> tuple[Tensor, Tensor]:
    """The training colours [N, 3] and their soft red labels [N], as Ex 2.10's data declares them."""
    train, _ = ex_2_10.make_data(seed)
    return train.colors, train.soft_labels['red']


def finetune_data(seed: int) -> tuple[RandomBatches, FixedBatches]:
    """Training: the training colours, 1000 draws per epoch in batches of 64, without labels.
    Validation: Ex 2.10's, without labels."""
    train, val = ex_2_10.make_data(seed)
    return (
        RandomBatches(train.colors, {}, batch_size=64, seed=seed + FINETUNE_SEED_OFFSET),
        FixedBatches(val.colors, {}, batch_size=val.batch_size),
    )


def tracked_colours() -> dict[str, tuple[float, float, float]]:
    """Red and the far colours, as RGB, tracked during fine-tuning."""
    table = named_color_table()
    rgb = dict(zip(table['name'], table['rgb'], strict=True))
    colours = {}
    for name in ('red', *FAR):
        r, g, b = rgb[name]
        colours[name] = (float(r), float(g), float(b))
    return colours


class Deletion(NamedTuple):
    """One deleted model and what must stay as it is while it is fine-tuned."""

    model: nn.Module
    frozen: dict[str, Tensor]
    """Masks of entries that stay fixed (the ablation's zeros); empty for erasers."""
    edit: nn.Module | None
    """The eraser in the bottleneck, for erased models."""


def deletions(anchored: CNColorMLP, unanchored: CNColorMLP) -> dict[str, Deletion]:
    """The three deleted models of one seed (see the module docstring), by case."""
    colours, labels = red_labels()
    z = latents(unanchored, colours)
    leace, direction = fit_leace(z, labels), mean_difference(z, labels)
    return {
        'ablated': Deletion(
            ablate(anchored, 'bottleneck', [0]), ablation_mask(anchored, 'bottleneck', [0]), None
        ),
        'leace': Deletion(erased(unanchored, leace), {}, leace),
        'mean-diff': Deletion(erased(unanchored, direction), {}, direction),
    }


def drawn_red(n_draws: int, seed: int) -> Tensor:
    """Binary red labels [n_draws × N] for `n_draws` passes over the training colours (in the order of
    ``colours.repeat(n_draws, 1)``), drawn at the full rate (probability redness⁸, the training label
    without its 8 % scale): a probe's data."""
    _, soft = red_labels()
    g = torch.Generator().manual_seed(seed)
    return (torch.rand((n_draws, len(soft)), generator=g) < soft / ex_2_10.RED_RATE).reshape(-1)
