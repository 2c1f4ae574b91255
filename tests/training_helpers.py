"""Small training set-ups shared by the training tests (a short schedule, tiny data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ex_color.data.color_cube import ColorCube
from ex_color.data.cube_dataset import CubeDataset, redness
from ex_color.loss import AngularAnchor, AxisAlignedSubspace, RegularizerConfig, Separate
from ex_color.model import CNColorMLP
from ex_color.seed import set_deterministic_mode
from ex_color.training import FixedBatches, RandomBatches, TrainingModule
from mini.temporal.dopesheet import Dopesheet

SHORT_SHEET = """STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-anti-subspace
0,Train,,0.01,0.01,0.5,0.25
+0.5,,,,,,0.1
40,,,0.05,0.01,0.5,0.03
"""


NOTEBOOKS = Path(__file__).resolve().parents[1] / 'notebooks'


def notebook_dopesheet(name: str) -> Dopesheet:
    """A schedule that sits beside the notebooks, by file name (e.g. ``ex_2_10.DOPESHEET``)."""
    return Dopesheet.from_csv(NOTEBOOKS / name)


def short_dopesheet(text: str = SHORT_SHEET) -> Dopesheet:
    return Dopesheet.from_text(text, source='short.csv')


def regularizers() -> list[RegularizerConfig]:
    return [
        RegularizerConfig('reg-separate', Separate(power=100.0, shift=True), None, ['bottleneck']),
        RegularizerConfig(
            'reg-anchor',
            AngularAnchor(torch.tensor([1.0, 0, 0, 0, 0])),
            {'red': 1.0},
            ['bottleneck'],
            phase=('train', 'validate'),
        ),
        RegularizerConfig('reg-anti-subspace', AxisAlignedSubspace((0,), invert=True), None, ['bottleneck']),
    ]


def data(seed: int, *, red_scale: float = 0.5) -> tuple[RandomBatches, FixedBatches]:
    cube = ColorCube.from_rgb(r=np.linspace(0, 1, 5), g=np.linspace(0, 1, 5), b=np.linspace(0, 1, 5))
    cube = cube.assign(red=redness(cube['color']) ** 8 * red_scale)
    ds = CubeDataset(cube)
    val = ColorCube.from_rgb(r=np.linspace(0, 1, 3), g=np.linspace(0, 1, 3), b=np.linspace(0, 1, 3))
    val = val.assign(red=(redness(val['color']) == 1).astype(np.float64))
    vds = CubeDataset(val)
    return (
        RandomBatches(ds.colors, ds.labels, batch_size=32, num_samples=128, seed=seed),
        FixedBatches(vds.colors, vds.labels, batch_size=64),
    )


def module(
    seed: int = 0, regs: list[RegularizerConfig] | None = None, sheet: Dopesheet | None = None
) -> TrainingModule:
    set_deterministic_mode(seed)
    model = CNColorMLP(5, n_nonlinear=2)
    return TrainingModule(model, sheet or short_dopesheet(), nn.MSELoss(), regs or regularizers())


def all_forward_hooks(model: nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if m._forward_hooks or m._forward_pre_hooks]
