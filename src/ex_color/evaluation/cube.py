"""Evaluate a model over a colour cube: reconstruction, per-colour error and latents per cell.

`evaluate_cube` is the seed notebook's ``test(model, cube)``: it returns the cube with three new
variables, ``recon`` [..., 3], ``MSE`` (one value per grid cell, no trailing singleton axis) and
``latents`` [..., D]. `named_color_table` is the one table of named colours (12 hues at full
saturation and value, then 5 greys) that every evaluation uses; `named_color_errors` gives the
per-colour MSE at those colours, the numbers the experiment summaries print.

Design decisions:
- `evaluate_cube` does its own tensor work (the float64 -> float32 copy of the grid and the MSE) on
  one torch thread, like `infer` does for the forward pass. Those are element-wise ops over 207k
  values, enough for torch to split them across threads, and notebooks run at the default thread
  count. Measured on the hd cube on a 2-core VM, medians, against 11-14 ms for one plain forward
  pass: idle, two threads were ~0.5 ms faster (14.6 against 15.2 ms); with one other busy process
  15-16 ms on one thread against 17 ms (worst 28 against 69 ms); with both cores busy 24-26 ms
  against 62-64 ms, the OpenMP stalls described in `ex_color.runtime`. Denormals are not flushed
  there, so the MSE is exactly what the same expression gives outside the block.
- The squared error is formed in place (``err.square_()``, bit-identical to ``err ** 2``), which
  saves one [N, 3] temporary (measured: MSE 0.64 ms instead of 0.88 ms on the hd cube).
- ``.numpy()`` and `ColorCube.assign` share the tensors' memory (no copies; ~0.05 ms together), so
  on the hd cube evaluate_cube costs ~2.5 ms more than `infer`: the grid copy and the MSE.

Deliberately not here: caching the float32 grid on the cube (about 0.5-1.5 ms per call on the hd
cube, not worth a second copy of every evaluated cube's colours kept alive).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ex_color.data.color_cube import ColorCube
from ex_color.data.colors import grays5, hsv2rgb, hues12
from ex_color.model.inference import infer
from ex_color.model.intervention import InterventionConfig
from ex_color.runtime import fast_cpu_math


def named_color_table() -> pd.DataFrame:
    """The default named colours: 12 hues at full saturation and value, then 5 greys."""
    rows = [(name, (float(h), 1.0, 1.0)) for name, h in hues12.items()]
    rows += [(name, (0.0, 0.0, float(v))) for name, v in grays5.items()]
    hsv = np.array([r[1] for r in rows])
    rgb = hsv2rgb(hsv)
    return pd.DataFrame(
        {
            'name': [r[0] for r in rows],
            'hsv': [r[1] for r in rows],
            'rgb': [tuple(float(c) for c in row) for row in rgb],
        }
    )


def evaluate_cube(
    model: nn.Module,
    cube: ColorCube,
    *,
    interventions: Sequence[InterventionConfig] = (),
    layer: str = 'bottleneck',
) -> ColorCube:
    """`cube` plus ``recon``, ``MSE`` and ``latents`` (the output of `layer`) for every cell."""
    with fast_cpu_math(flush_denormal=False):
        x = torch.tensor(cube.rgb_grid, dtype=torch.float32)
        out = infer(model, x, interventions=interventions, layer=layer)
        mse = (out.recon - x).square_().mean(dim=-1)
    return cube.assign(
        recon=out.recon.numpy(),
        MSE=mse.numpy(),
        latents=out.latents.numpy().reshape(*cube.shape, -1),
    )


def named_color_errors(
    model: nn.Module,
    *,
    interventions: Sequence[InterventionConfig] = (),
    colors: pd.DataFrame | None = None,
) -> pd.Series:
    """MSE of the reconstruction at each named colour (default: `named_color_table`), indexed by name."""
    table = named_color_table() if colors is None else colors
    x = torch.tensor(np.array(table['rgb'].tolist(), dtype=np.float64), dtype=torch.float32)
    out = infer(model, x, interventions=interventions, layer=None)
    mse = ((out.recon - x) ** 2).mean(dim=-1).numpy()
    return pd.Series(mse.astype(np.float64), index=list(table['name']), name='MSE')
