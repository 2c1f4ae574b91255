"""Ex 2.10: delete only red, 5-D latent, no "desaturated" label.

This module is the experiment's one declaration: the model shape (`K`, `N`), the regularisers, the
data, and the names of the schedule files that sit beside the notebook (`DOPESHEET`,
`DOPESHEET_UNITARITY`). The Ex 2.10 notebook, its command line, the Ex 2.10.1 sweep and the tests all
train what this module declares; the library never opens the schedule files itself (callers pass a
`Dopesheet`).

The data's red label is one function of the colour (`red_rate`); `make_labelled_data` builds the same
data under another one, for experiments that vary only the labels (Ex 2.11).

Trains `CNColorMLP(5, n_nonlinear=2)` under the dopesheet with three regularisers on the bottleneck
(Separate, an angular Anchor pulling red-labelled colours to e₀, and an anti-subspace term pushing
everything off e₀), then ablates latent dimension 0.

This folder is the experiment's home: its command line is `__main__`
(``python -m ex_color.experiments.ex_2_10 --seed 0``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from ex_color.data.color_cube import ColorCube
from ex_color.data.cube_dataset import CubeDataset, redness
from ex_color.experiments.common import train_model
from ex_color.loss import AngularAnchor, AxisAlignedSubspace, RegularizerConfig, Separate, Unitarity
from ex_color.training import FitResult, FixedBatches, RandomBatches, Recipe
from ex_color.training.specs import MemberSpec, seeds
from mini.temporal.dopesheet import Dopesheet

NBID = '2.10'
EXPERIMENT = f'Ex {NBID}: Ablate red (only), 5D, fewer labels'
PROJECT = 'ex-color'
K, N = 5, 2
RED = (1.0, 0.0, 0.0, 0.0, 0.0)
DOPESHEET = 'ex-2.10-dopesheet.csv'
"""The schedule's file name, in the notebooks folder."""
DOPESHEET_UNITARITY = 'ex-2.10-dopesheet-unitarity.csv'
"""The schedule with a `reg-unit` column, for the run with `unitarity()` added."""

log = logging.getLogger(__name__)


def regularizers(prefix: str = 'reg-') -> list[RegularizerConfig]:
    """The three regularisers; `prefix` matches the dopesheet's column names (Ex 2.10.1's sheet has none)."""
    return [
        RegularizerConfig(
            name=f'{prefix}separate',
            compute_loss_term=Separate(power=100.0, shift=True),
            label_affinities=None,
            layer_affinities=['bottleneck'],
        ),
        RegularizerConfig(
            name=f'{prefix}anchor',
            compute_loss_term=AngularAnchor(torch.tensor(RED)),
            label_affinities={'red': 1.0},
            layer_affinities=['bottleneck'],
            phase=('train', 'validate'),
        ),
        RegularizerConfig(
            name=f'{prefix}anti-subspace',
            compute_loss_term=AxisAlignedSubspace((0,), invert=True),
            label_affinities=None,
            layer_affinities=['bottleneck'],
        ),
    ]


def unitarity(prefix: str = 'reg-') -> RegularizerConfig:
    """The unitarity term the comparison run adds: (‖z‖ − 1)² on the encoder's output, before normalisation."""
    return RegularizerConfig(
        name=f'{prefix}unit',
        compute_loss_term=Unitarity(),
        label_affinities=None,
        layer_affinities=['encoder'],
    )


RED_RATE = 0.08
"""Peak probability that a colour carries the red label (at pure red)."""

RedProbability = Callable[[NDArray[np.float64]], NDArray[np.float64]]
"""``f(rgb [..., 3]) -> [...]``: the probability that a training colour carries the red label."""


def red_rate(rgb: NDArray[np.float64], label_scale: float = 1.0) -> NDArray[np.float64]:
    """The soft red label of Ex 2.10's training colours: redness⁸ × 0.08 × `label_scale`."""
    return redness(rgb) ** 8 * (RED_RATE * label_scale)


def make_labelled_data(seed: int, red_probability: RedProbability) -> tuple[RandomBatches, FixedBatches]:
    """Ex 2.10's data with the training colours' red label drawn with probability `red_probability(rgb)`
    (Ex 2.11 varies it); validation is labelled exactly, as in `make_data`."""
    cube = ColorCube.from_rgb(r=np.linspace(0, 1, 10), g=np.linspace(0, 1, 10), b=np.linspace(0, 1, 10))
    cube = cube.assign(red=red_probability(cube['color']))
    train = CubeDataset(cube)
    val_cube = ColorCube.from_rgb(r=np.linspace(0, 1, 4), g=np.linspace(0, 1, 4), b=np.linspace(0, 1, 4))
    val_cube = val_cube.assign(red=(redness(val_cube['color']) == 1).astype(np.float64))
    val = CubeDataset(val_cube)
    return (
        RandomBatches(train.colors, train.labels, batch_size=64, seed=seed),
        FixedBatches(val.colors, val.labels, batch_size=64),
    )


def make_data(seed: int, label_scale: float = 1.0) -> tuple[RandomBatches, FixedBatches]:
    """Training: 10³ RGB cube, soft label red = redness⁸ × 0.08 × `label_scale`, 1000 draws with
    replacement per epoch. Validation: 4³ RGB cube, red exactly where redness is 1, one batch of 64."""
    if not 0 <= label_scale * RED_RATE <= 1:
        raise ValueError(
            f'label_scale must keep the red rate in [0, 1] (0 <= label_scale <= 12.5), got {label_scale}'
        )
    return make_labelled_data(seed, partial(red_rate, label_scale=label_scale))


def train(seed: int = 0, *, dopesheet: Dopesheet, **kwargs) -> FitResult:
    """One model of this experiment, trained under `dopesheet` (e.g. ``Dopesheet.from_csv(path)``)."""
    return train_model(
        dopesheet=dopesheet,
        regularizers=regularizers(),
        make_data=make_data,
        k_bottleneck=K,
        n_nonlinear=N,
        seed=seed,
        run_name=EXPERIMENT,
        project=PROJECT,
        **kwargs,
    )


RECIPE = Recipe(
    name=EXPERIMENT,
    regularizers=tuple(regularizers()),
    make_data=make_data,
    k_bottleneck=K,
    n_nonlinear=N,
    dopesheet_file=DOPESHEET,
    project=PROJECT,
)
"""What Ex 2.10 trains; its dopesheet is loaded by the caller: ``RECIPE.with_(dopesheet=Dopesheet.from_csv(...))``."""


TRANSITION = ('reg-anchor', 'reg-anti-subspace')
"""The terms whose hand-over (anti-subspace first, anchor later) the schedule is built around."""


def without_transition(dopesheet: Dopesheet, props: tuple[str, ...] = TRANSITION) -> Dopesheet:
    """The control schedule: `dopesheet` with each of `props` held at its mean over every step (the
    same total weight, no hand-over); the learning rate and every other term are unchanged."""
    from mini.temporal.timeline import Timeline

    missing = [p for p in props if p not in dopesheet.props]
    if missing:
        raise KeyError(f'without_transition: {dopesheet.source} has no column {missing}')
    timeline = Timeline(dopesheet)
    means = {p: float(np.mean([timeline.at(t).props[p] for t in range(len(dopesheet))])) for p in props}
    table = dopesheet.as_df()
    for p in props:
        table[p] = np.nan
        table.loc[0, p] = means[p]
    keep = table.drop(columns=['STEP']).notna().any(axis=1) | (table['STEP'] == table['STEP'].max())
    lines = [','.join(table.columns)]
    for _, row in table[keep].iterrows():
        cells = ['' if pd.isna(v) else (f'{v:.6g}' if isinstance(v, float) else str(v)) for v in row]
        lines.append(','.join(cells))
    return Dopesheet.from_text('\n'.join(lines) + '\n', source=f'{dopesheet.source} without its transition')


def headline(n_seeds: int, *, first_seed: int = 0) -> tuple[Recipe, list[MemberSpec]]:
    """What the notebook's headline row is about: `RECIPE` under the committed schedule
    (``notebooks/ex-2.10-dopesheet.csv``), on seeds ``first_seed`` … ``first_seed + n_seeds − 1``
    (`./go verify ex-2.10` retrains it)."""
    from utils.paths import project_root

    dopesheet = Dopesheet.from_csv(project_root() / 'notebooks' / DOPESHEET)
    return RECIPE.with_(dopesheet=dopesheet), seeds(range(first_seed, first_seed + n_seeds))
