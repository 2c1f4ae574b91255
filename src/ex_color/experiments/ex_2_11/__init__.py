"""Ex 2.11: how few red labels are enough? Ex 2.10 with the label rate scaled over three decades.

This module is the experiment's declaration. Model, regularisers, schedule and the rest of the data
are Ex 2.10's (`ex_color.experiments.ex_2_10`); only the training label changes. In Ex 2.10 a colour
carries 'red' with probability q = redness⁸ × 0.08. Here `s` independent annotators each label it
with that probability, and a colour is labelled when any of them does:

    p = 1 − (1 − q)^s

`ANNOTATORS` is the grid of `s` (1/16 … 32); `make_data(seed, annotators=s)` is Ex 2.10's data under
that label, and `expected_labels(s, dopesheet)` is how many labelled samples a member should see
while the anchor term is live (what the engine counts in `MemberResult.label_counts['red']`).

Design decisions:
- **Annotators, not a scale.** Scaling q by 12.5 already gives pure red a label every time, so a
  plain scale cannot reach a thousand labels without clamping, and clamping would change the
  label's shape (it would flatten the peak at red). p keeps the shape for small s (p ≈ s·q), is
  below 1 for every finite s, and s = 1 is Ex 2.10's label exactly.
- **s = 1 is bit for bit Ex 2.10's.** p is computed as −expm1(s·log1p(−q)) (accurate for the tiny p
  of s = 1/16), except at s = 1, where q itself is used: that formula would move q by an ulp, and
  then the same seed would draw slightly different labels from Ex 2.10's.
- **Expected counts come from the schedule, not a constant.** `labelled_samples` realises the
  dopesheet exactly as training does (`Schedule.build`), finds the steps at which a train-phase term
  that reads 'red' has a non-zero weight, and adds up the sizes of the batches drawn at those steps
  (an epoch of `RandomBatches` is ⌈1000 / 64⌉ = 16 batches, the last one of 40). Samples are drawn
  uniformly from the 1000 colours, so the expectation is that count × the mean of p over the cube.

The experiment is this folder: this module declares it (recipe, label grid, expected counts);
`coverage` scores a run's members against the labels each drew and reads the verdict; `report`
writes the notebook's prose from those results; `figures` shows them (`plot` draws the figure).
Training is the engine's and the metrics are `ex_color.evaluation`'s, shared with every experiment.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from functools import partial

import numpy as np
from numpy.typing import NDArray

from ex_color.experiments import ex_2_10
from ex_color.loss import RegularizerConfig
from ex_color.training import FixedBatches, MemberSpec, RandomBatches
from ex_color.training.schedule import Schedule
from mini.temporal.dopesheet import Dopesheet

__all__ = [
    'ANNOTATORS',
    'LABEL',
    'annotated_rate',
    'expected_labels',
    'labelled_samples',
    'make_data',
    'member_specs',
]

NBID = '2.11'
LABEL = 'red'
"""The label whose coverage varies."""
ANNOTATORS: tuple[float, ...] = (1 / 16, 1 / 4, 1 / 2, 1.0, 2.0, 4.0, 8.0, 32.0)
"""The grid of `s`: 1/16 … 32 annotators (about 4 … 1600 labels over Ex 2.10's schedule).

Eight settings, not the ten powers of two from 1/16 to 32: a verdict needs about 200 seeds per
setting (at 20, a rate's Wilson interval is about ±0.2 wide and straddles one half), and the
notebook's full run has to stay under five minutes on two cores. 200 members train in about 20 s
and score in about 6 s, so ten settings (2000 members) would not fit; eight (1600) do. Dropping 1/8
and 16 keeps the grid's span (the same three decades of labels, from a handful to well over a
thousand), keeps its densest stretch around s = 1, and keeps s = 1 itself: Ex 2.10's own labelling,
the reference every other setting is compared with seed by seed.
"""


def _check_annotators(annotators: float) -> float:
    if isinstance(annotators, bool) or not isinstance(annotators, numbers.Real):
        raise TypeError(f'annotators must be a number, got {annotators!r}')
    if not math.isfinite(annotators) or annotators <= 0:
        raise ValueError(f'annotators must be a finite number > 0, got {annotators!r}')
    return float(annotators)


def annotated_rate(rgb: NDArray[np.float64], annotators: float = 1.0) -> NDArray[np.float64]:
    """The probability that any of `annotators` independent Ex 2.10 annotators labels a colour red:
    1 − (1 − q)^s with q = `ex_2_10.red_rate`; exactly q at s = 1."""
    s = _check_annotators(annotators)
    q = ex_2_10.red_rate(rgb)
    if s == 1:
        return q
    return -np.expm1(s * np.log1p(-q))


def make_data(seed: int, annotators: float = 1.0) -> tuple[RandomBatches, FixedBatches]:
    """Ex 2.10's training and validation data, with the training label drawn from `annotated_rate`."""
    _check_annotators(annotators)
    return ex_2_10.make_labelled_data(seed, partial(annotated_rate, annotators=annotators))


def labelled_samples(
    dopesheet: Dopesheet,
    *,
    max_steps: int | None = None,
    regularizers: Sequence[RegularizerConfig] | None = None,
) -> int:
    """Training samples drawn while the label is live: at steps where a train-phase regulariser that
    reads `LABEL` has a non-zero weight. `max_steps` stops early, as training does (steps past the
    schedule use its last row); `regularizers` default to Ex 2.10's."""
    regs = list(ex_2_10.regularizers() if regularizers is None else regularizers)
    schedule = Schedule.build(dopesheet, regs)
    readers = [r.name for r in regs if r.train and LABEL in (r.label_affinities or {})]
    if not readers:
        raise ValueError(f'labelled_samples: no train-phase regulariser reads the label {LABEL!r}')
    steps = schedule.steps if max_steps is None else max_steps
    if steps < 1:
        raise ValueError(f'labelled_samples: max_steps must be >= 1, got {max_steps}')
    rows = np.minimum(np.arange(steps), schedule.steps - 1)
    live = np.any([schedule.weights[name][rows, 0] != 0 for name in readers], axis=0)
    batches = make_data(0)[0]
    n, size = batches.num_samples, batches.batch_size
    assert n is not None
    per_epoch = len(batches)
    position = np.arange(steps) % per_epoch
    sizes = np.minimum(size, n - position * size)  # the epoch's last batch is short
    return int(sizes[live].sum())


def expected_labels(
    annotators: float,
    dopesheet: Dopesheet,
    *,
    max_steps: int | None = None,
    regularizers: Sequence[RegularizerConfig] | None = None,
) -> float:
    """Expected number of labelled samples one member draws while the label is live (the engine's
    ``label_counts['red']``): `labelled_samples` × the mean of p over the training colours."""
    batches = make_data(0, annotators)[0]
    if batches.weights is not None:
        raise NotImplementedError('expected_labels assumes colours are drawn uniformly')
    mean_p = float(batches.soft_labels[LABEL].double().mean())
    return mean_p * labelled_samples(dopesheet, max_steps=max_steps, regularizers=regularizers)


def member_specs(annotators: Iterable[float], seeds: Iterable[int]) -> list[MemberSpec]:
    """Every setting × every seed, named ``s=<annotators> seed-<seed>``, setting by setting."""
    seeds = list(seeds)
    return [
        MemberSpec(seed, data={'annotators': float(s)}, name=f's={float(s):g} seed-{seed}')
        for s in (_check_annotators(a) for a in annotators)
        for seed in seeds
    ]
