"""Pieces the numbered experiments share: test cubes and training loop wiring (the ablation summary and
thresholds live in `ex_color.evaluation.ablation`; re-exported here)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ex_color.data.color_cube import ColorCube
from ex_color.evaluation import TestSet
from ex_color.evaluation.ablation import AblationSummary, ablation_summary, check_thresholds
from ex_color.loss import RegularizerConfig
from ex_color.model import CNColorMLP
from ex_color.seed import set_deterministic_mode
from ex_color.training import FitResult, fit
from ex_color.training.engine import Engine
from ex_color.training.run_record import member_record
from ex_color.training.specs import MemberSpec
from mini.temporal.dopesheet import Dopesheet

__all__ = [
    'AblationSummary',
    'TestCubes',
    'ablation_summary',
    'check_thresholds',
    'evaluation_cubes',
    'model_state',
    'train_model',
]


@dataclass(frozen=True)
class TestCubes:
    """The test set's three cubes (`TestSet.create`), under the names the notebooks use."""

    hsv: ColorCube
    """12 hues × 4 saturations × 5 values, axes `svh` (colour-slice figure)."""
    hd_hsv: ColorCube
    """150 hues (overlapping red on both sides) × 24 × 24 (error figure and summary numbers)."""
    rgb: ColorCube
    """20³ RGB grid (latent figure and the error-vs-similarity correlation)."""


def evaluation_cubes() -> TestCubes:
    """The one evaluation stack's cubes: those of `TestSet.create()`."""
    test_set = TestSet.create()
    return TestCubes(hsv=test_set.color_slice_cube, hd_hsv=test_set.loss_cube, rgb=test_set.latent_cube)


def train_model(
    *,
    dopesheet: Dopesheet,
    regularizers: Sequence[RegularizerConfig],
    make_data: Callable[[int], tuple[Iterable[Any], Iterable[Any] | None]],
    k_bottleneck: int,
    n_nonlinear: int,
    seed: int,
    run_name: str,
    project: str,
    max_steps: int | None = None,
    wandb_mode: str | None = None,
    progress: bool = True,
    **fit_kwargs,
) -> FitResult:
    """Seed everything, build the model and data, and fit. The data factory receives the seed. The
    wandb run is named ``<run_name> · seed-<seed>`` and records the seed, shape, steps and schedule."""
    set_deterministic_mode(seed)
    model = CNColorMLP(k_bottleneck, n_nonlinear=n_nonlinear)
    train_data, val_data = make_data(seed)
    engine = Engine(model, dopesheet, nn.MSELoss(), regularizers)
    record = member_record(
        MemberSpec(seed),
        run=run_name,
        recipe=run_name,
        steps=max_steps if max_steps is not None else engine.schedule.steps,
        k_bottleneck=k_bottleneck,
        n_nonlinear=n_nonlinear,
        regularizers=regularizers,
        dopesheet=dopesheet,
    )
    return fit(
        engine,
        train_data,
        val_data,
        run_name=run_name,
        project=project,
        max_steps=max_steps,
        wandb_mode=wandb_mode,
        progress=progress,
        record=record,
        **fit_kwargs,
    )


def model_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
