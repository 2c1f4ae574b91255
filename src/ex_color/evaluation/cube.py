"""Evaluate a model over a colour cube: reconstruction, per-colour error and latents per cell.

`evaluate_cube` is the seed notebook's ``test(model, cube)``: it returns the cube with three new
variables, ``recon`` [..., 3], ``MSE`` (one value per grid cell, no trailing singleton axis) and
``latents`` [..., D]. `named_color_errors` gives the per-colour MSE at a fixed set of named
colours, the numbers the experiment summaries print.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ex_color.data.color_cube import ColorCube
from ex_color.data.colors import hsv2rgb
from ex_color.inference import infer
from ex_color.intervention import InterventionConfig

# (name, hue, saturation, value) of the colours whose error experiments report.
SUMMARY_COLORS: tuple[tuple[str, float, float, float], ...] = (
    ('red', 0.0, 1.0, 1.0),
    ('orange', 30 / 360, 1.0, 1.0),
    ('yellow', 60 / 360, 1.0, 1.0),
    ('green', 120 / 360, 1.0, 1.0),
    ('cyan', 180 / 360, 1.0, 1.0),
    ('blue', 240 / 360, 1.0, 1.0),
    ('magenta', 300 / 360, 1.0, 1.0),
    ('white', 0.0, 0.0, 1.0),
    ('grey', 0.0, 0.0, 0.5),
    ('black', 0.0, 0.0, 0.0),
)


def evaluate_cube(
    model: nn.Module,
    cube: ColorCube,
    *,
    interventions: Sequence[InterventionConfig] = (),
    layer: str = 'bottleneck',
) -> ColorCube:
    """`cube` plus ``recon``, ``MSE`` and ``latents`` (the output of `layer`) for every cell."""
    x = torch.tensor(cube.rgb_grid, dtype=torch.float32)
    out = infer(model, x, interventions=interventions, layer=layer)
    mse = ((out.recon - x) ** 2).mean(dim=-1)
    return cube.assign(
        recon=out.recon.numpy(),
        MSE=mse.numpy(),
        latents=out.latents.numpy().reshape(*cube.shape, -1),
    )


def named_color_errors(
    model: nn.Module,
    *,
    interventions: Sequence[InterventionConfig] = (),
    colors: Sequence[tuple[str, float, float, float]] = SUMMARY_COLORS,
) -> pd.Series:
    """MSE of the reconstruction at each named colour, indexed by name."""
    hsv = np.array([c[1:] for c in colors], dtype=np.float64)
    x = torch.tensor(hsv2rgb(hsv), dtype=torch.float32)
    out = infer(model, x, interventions=interventions, layer=None)
    mse = ((out.recon - x) ** 2).mean(dim=-1).numpy()
    return pd.Series(mse.astype(np.float64), index=[c[0] for c in colors], name='MSE')
