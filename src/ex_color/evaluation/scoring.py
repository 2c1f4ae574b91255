"""Scoring a trained model in a seed sweep: how cleanly does removing the anchor remove only its colour?

An `EvaluationPlan` says what to do to a model before evaluating it (a surgery `transform`, plus
inference-time `interventions`) and how to tag the result. `ScoreByHSVSimilarity` applies a plan,
evaluates the transformed model on an RGB cube and returns r² of `error_correlation`: near 1 when the
error after ablation falls off smoothly with similarity to the anchor colour.

Design decisions:
- The score is r², as in the reference, so a strong *negative* correlation would also score high. In
  practice ablating the anchor direction raises the anchor's error, so r > 0; read ``error_correlation``
  directly if the sign matters.
- The cube is built once per scorer (RGB, `cube_subdivisions` evenly spaced points per axis including 0
  and 1; Ex 2.10.1 used 8 → 512 colours) and reused on every call.
- The transform receives the caller's model and must not mutate it (`ex_color.model.surgery` functions
  deep-copy); the scorer does not copy defensively, so an in-place transform is the caller's bug.

Deliberately not done: no checkpoint loading, no logging, no choice among cubes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from torch import nn

from ex_color.data.color_cube import ColorCube
from ex_color.evaluation.correlation import error_correlation
from ex_color.evaluation.cube import evaluate_cube
from ex_color.evaluation.test_set import normalize_tags
from ex_color.model.intervention import InterventionConfig


def _identity(model: nn.Module) -> nn.Module:
    return model


@dataclass(frozen=True)
class EvaluationPlan:
    """What to do to a model before evaluating it, and what to call the result."""

    tags: tuple[str, ...]
    """Ordered, de-duplicated labels, e.g. ``('ablated',)``; they name table columns and figures."""
    transform: Callable[[nn.Module], nn.Module] = _identity
    """Model → model applied first (e.g. ``lambda m: ablate(m, 'bottleneck', [0])``); must not mutate."""
    interventions: tuple[InterventionConfig, ...] = ()
    """Inference-time interventions applied while evaluating the transformed model."""

    def __post_init__(self) -> None:
        object.__setattr__(self, 'tags', normalize_tags(self.tags, 'EvaluationPlan.tags'))
        if not callable(self.transform):
            raise TypeError(
                f'EvaluationPlan.transform: expected a callable, got {type(self.transform).__name__}'
            )
        if isinstance(self.interventions, InterventionConfig):
            raise TypeError(
                'EvaluationPlan.interventions: expected a sequence of InterventionConfig, got one'
            )
        interventions = tuple(self.interventions)
        for i, cfg in enumerate(interventions):
            if not isinstance(cfg, InterventionConfig):
                raise TypeError(
                    f'EvaluationPlan.interventions[{i}]: expected an InterventionConfig, got {type(cfg).__name__}'
                )
        object.__setattr__(self, 'interventions', interventions)


@dataclass(frozen=True)
class ScoreByHSVSimilarity:
    """Callable model → r² of ablated error vs similarity^power to `anchor_hsv`; see the module docstring."""

    plan: EvaluationPlan
    """The transform and interventions applied before evaluating."""
    anchor_hsv: tuple[float, float, float]
    """Anchor colour (h, s, v), each in [0, 1] (h may be any finite value; it wraps)."""
    power: float
    """Exponent applied to the similarity (> 0). Ex 2.10.1 used 3."""
    cube_subdivisions: int
    """Points per RGB axis (>= 2); the cube has cube_subdivisions³ colours."""
    _cube: ColorCube = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.plan, EvaluationPlan):
            raise TypeError(
                f'ScoreByHSVSimilarity.plan: expected an EvaluationPlan, got {type(self.plan).__name__}'
            )
        anchor = tuple(float(c) for c in self.anchor_hsv)
        if len(anchor) != 3 or not all(math.isfinite(c) for c in anchor):
            raise ValueError(
                f'ScoreByHSVSimilarity.anchor_hsv: expected 3 finite values, got {self.anchor_hsv!r}'
            )
        if not (0 <= anchor[1] <= 1 and 0 <= anchor[2] <= 1):
            raise ValueError(f'ScoreByHSVSimilarity.anchor_hsv: s and v must be in [0, 1], got {anchor!r}')
        object.__setattr__(self, 'anchor_hsv', anchor)
        power = self.power
        if (
            isinstance(power, bool)
            or not isinstance(power, int | float)
            or not math.isfinite(power)
            or power <= 0
        ):
            raise ValueError(f'ScoreByHSVSimilarity.power: must be a finite number > 0, got {power!r}')
        n = self.cube_subdivisions
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ValueError(f'ScoreByHSVSimilarity.cube_subdivisions: must be an int >= 2, got {n!r}')
        axis = np.linspace(0.0, 1.0, n)
        object.__setattr__(self, '_cube', ColorCube.from_rgb(axis, axis, axis))

    def __call__(self, model: nn.Module) -> float:
        transformed = self.plan.transform(model)
        if not isinstance(transformed, nn.Module):
            raise TypeError(
                f'EvaluationPlan.transform must return an nn.Module, got {type(transformed).__name__}'
            )
        cube = evaluate_cube(transformed, self._cube, interventions=self.plan.interventions)
        return float(error_correlation(cube, self.anchor_hsv, self.power).r_squared)
