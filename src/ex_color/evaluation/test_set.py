"""`TestSet`: the fixed cubes and named colours a trained model is judged on, and their evaluation.

A test set holds three colour cubes and a table of named colours. `TestSet.create()` builds the
defaults; `test_set.evaluate(model, interventions, tags)` returns a *new* test set whose cubes carry
``recon`` [..., 3], ``MSE`` [...] and ``latents`` [..., D] (via `evaluate_cube`) and whose table gains
``recon`` (a tuple of 3 floats) and ``MSE`` columns.

Default contents:
- ``color_slice_cube``: HSV, h = 12 hues every 1/12 turn, s 4 points and v 5 points in [0, 1] (both
  ends included), permuted to axis order ``'svh'`` (one panel per saturation, rows = value, columns =
  hue), the layout `plot_colors` expects.
- ``loss_cube``: HSV, h 150 points linearly from −1/12 to 1 + 1/12 (the range overlaps red on both
  sides; `ColorCube.from_hsv` wraps the hue when converting), s and v 24 points each in [0, 1],
  both ends included (unlike the seed's subsampled cube, which stopped at s, v ≈ 0.979). Axis order
  ``'hsv'``, so a hue-wise line plot has hue along the first axis.
- ``latent_cube``: RGB, 20 points per axis in [0, 1] (8000 colours). This is also the one cube
  `error_correlation` uses when handed a whole test set.
- ``named_colors``: the 12 named hues at s = v = 1 (red, orange, …, pink) then 5 greys (black, dark gray,
  gray, light gray, white); columns ``name``, ``hsv`` and ``rgb`` (tuples of 3 floats).

Design decisions:
- Tags are an ordered, de-duplicated tuple (first occurrence wins). Sets are rejected: their iteration
  order is not stable across runs, and tags become table column names.
- A `TestSet` is a frozen value; `evaluate` never mutates the receiver (cubes are immutable and the
  table is copied).

Deliberately not done: no plotting, no persistence, no batching (`infer` runs each cube in one pass).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from ex_color.data.color_cube import ColorCube
from ex_color.data.cyclic import arange_cyclic
from ex_color.evaluation.cube import evaluate_cube, named_color_table
from ex_color.model.inference import infer
from ex_color.model.intervention import InterventionConfig


def normalize_tags(tags: Iterable[str], argument: str = 'tags') -> tuple[str, ...]:
    """`tags` as an ordered tuple without duplicates; a set, a bare string or a blank tag is an error."""
    if isinstance(tags, str):
        raise TypeError(f'{argument}: expected a sequence of tags, got the single string {tags!r}')
    if isinstance(tags, set | frozenset):
        raise TypeError(f'{argument}: a set has no stable order; pass a list or tuple, got {tags!r}')
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise ValueError(f'{argument}: every tag must be a non-blank string, got {tag!r}')
        if tag not in out:
            out.append(tag)
    return tuple(out)


@dataclass(frozen=True, eq=False)  # eq on DataFrames/cubes is ambiguous; compare fields explicitly
class TestSet:
    """Cubes and named colours to evaluate a model on; see the module docstring."""

    __test__ = False  # not a pytest test class, despite the name

    tags: tuple[str, ...]
    """Ordered, de-duplicated labels of what was done to the model (e.g. ``('ablated',)``)."""
    color_slice_cube: ColorCube
    """Coarse HSV cube for colour-patch figures."""
    loss_cube: ColorCube
    """Dense HSV cube for reconstruction-error line plots."""
    latent_cube: ColorCube
    """RGB cube for latent-space figures and the error/similarity correlation."""
    named_colors: pd.DataFrame = field(repr=False)
    """Columns ``name``, ``hsv``, ``rgb`` (and after `evaluate`: ``recon``, ``MSE``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, 'tags', normalize_tags(self.tags, 'TestSet.tags'))
        for name in ('color_slice_cube', 'loss_cube', 'latent_cube'):
            value = getattr(self, name)
            if not isinstance(value, ColorCube):
                raise TypeError(f'TestSet.{name}: expected a ColorCube, got {type(value).__name__}')
        if not isinstance(self.named_colors, pd.DataFrame):
            raise TypeError(
                f'TestSet.named_colors: expected a DataFrame, got {type(self.named_colors).__name__}'
            )
        missing = [c for c in ('name', 'hsv', 'rgb') if c not in self.named_colors.columns]
        if missing:
            raise ValueError(f'TestSet.named_colors: missing columns {missing}')
        if self.named_colors['name'].duplicated().any():
            dupes = sorted(set(self.named_colors['name'][self.named_colors['name'].duplicated()]))
            raise ValueError(f'TestSet.named_colors: duplicate names {dupes}')

    @classmethod
    def create(cls, tags: Sequence[str] = ()) -> TestSet:
        """The default test set (module docstring), not yet evaluated."""
        unit = np.linspace(0.0, 1.0, 24)
        return cls(
            tags=normalize_tags(tags),
            color_slice_cube=ColorCube.from_hsv(
                arange_cyclic(step_size=1 / 12), np.linspace(0.0, 1.0, 4), np.linspace(0.0, 1.0, 5)
            ).permute('svh'),
            loss_cube=ColorCube.from_hsv(np.linspace(-1 / 12, 1 + 1 / 12, 150), unit, unit),
            latent_cube=ColorCube.from_rgb(*(np.linspace(0.0, 1.0, 20),) * 3),
            named_colors=named_color_table(),
        )

    @property
    def cubes(self) -> dict[str, ColorCube]:
        """The three cubes by field name."""
        return {
            'color_slice_cube': self.color_slice_cube,
            'loss_cube': self.loss_cube,
            'latent_cube': self.latent_cube,
        }

    def evaluate(
        self,
        model: nn.Module,
        interventions: Sequence[InterventionConfig] = (),
        tags: Sequence[str] = (),
    ) -> TestSet:
        """New test set with `model`'s reconstruction, error and latents; tags = old then new tags."""
        new_tags = normalize_tags(tags)
        interventions = tuple(interventions)
        cubes = {
            name: evaluate_cube(model, cube, interventions=interventions) for name, cube in self.cubes.items()
        }
        table = self.named_colors.copy()
        x = torch.tensor(np.array(table['rgb'].tolist(), dtype=np.float64), dtype=torch.float32)
        recon = infer(model, x, interventions=interventions, layer=None).recon
        mse = ((recon - x) ** 2).mean(dim=-1).numpy().astype(np.float64)
        table['recon'] = [tuple(float(c) for c in row) for row in recon.numpy()]
        table['MSE'] = mse
        return TestSet(tags=self.tags + new_tags, named_colors=table, **cubes)
