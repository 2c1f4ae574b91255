"""Label functions on colours, `CubeDataset`, and the collate functions that turn soft labels into targets.

Design decisions:
- Label functions (`redness`, `greenness`, `blueness`, `vibrancy`) are plain numpy functions of an RGB
  array `[..., 3]`, returning `[...]`, so they can be assigned straight onto a `ColorCube`.
- `CubeDataset` flattens the cube once into float32 tensors: `colors` `[N, 3]`, `bias` `[N]` and
  `labels` (every other variable, `[N]` each). Training code may index those tensors directly by batch
  (no per-sample dicts, no collation); the per-item interface exists for `DataLoader`.
- A batch is a `LabelledBatch(colors, labels)` NamedTuple, so `x, labels = batch` works and Lightning /
  pin-memory treat it as a tuple.
- Stochastic labels are drawn by one vectorised function, `draw_stochastic_labels`, used by the
  `stochastic_labels` collate function too. Without a `generator` it draws from torch's global RNG, so
  `torch.manual_seed` makes the draw deterministic in-process. In DataLoader worker processes the draw
  depends on the worker seeds, which torch derives from the loader's base seed: seed the loader (its
  `generator`) for reproducible multi-worker runs, or draw in the main process from the tensors.

Deliberately not done: the dataset does not weight samples by `bias` (that is the sampler's job), and
labels are not validated to lie in [0, 1] until they are drawn (exact labels may be any float).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import Tensor
from torch.utils.data import Dataset

from ex_color.data.color_cube import ColorCube
from ex_color.data.colors import rgb2hsv

NON_LABEL_KEYS = frozenset({'color', 'bias'})
"""Dataset keys that are not labels."""


def _rgb(rgb: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(rgb, dtype=np.float64)
    if arr.ndim < 1 or arr.shape[-1] != 3:
        raise ValueError(f'rgb: expected an array of shape [..., 3], got shape {arr.shape}')
    return arr


def redness(rgb: ArrayLike) -> NDArray[np.float64]:
    """r (1 - g/2 - b/2): 1 only at pure red, 0 for black and for any colour without red."""
    c = _rgb(rgb)
    return c[..., 0] * (1 - c[..., 1] / 2 - c[..., 2] / 2)


def greenness(rgb: ArrayLike) -> NDArray[np.float64]:
    """g (1 - r/2 - b/2): 1 only at pure green."""
    c = _rgb(rgb)
    return c[..., 1] * (1 - c[..., 0] / 2 - c[..., 2] / 2)


def blueness(rgb: ArrayLike) -> NDArray[np.float64]:
    """b (1 - r/2 - g/2): 1 only at pure blue."""
    c = _rgb(rgb)
    return c[..., 2] * (1 - c[..., 0] / 2 - c[..., 1] / 2)


def vibrancy(rgb: ArrayLike) -> NDArray[np.float64]:
    """Saturation x value: 1 for fully saturated, fully bright hues; 0 for greys and black."""
    hsv = rgb2hsv(_rgb(rgb))
    return hsv[..., 1] * hsv[..., 2]


class LabelledBatch(NamedTuple):
    """A collated batch."""

    colors: Tensor
    """Input colours, float32 [B, 3]."""
    labels: dict[str, Tensor]
    """Label name -> float32 [B] (0/1 for stochastic labels, stored values for exact labels)."""


def _refuse_outside(values: Tensor, name: str, cube: ColorCube) -> None:
    """Soft labels must lie in [0, 1] (NaN does not); name the first bad cell. (`ColorCube` itself
    refuses colours outside [0, 1].)"""
    bad = ~((values >= 0) & (values <= 1))
    if bool(bad.any()):
        row = int(bad.nonzero()[0])
        index = tuple(int(i) for i in np.unravel_index(row, cube.shape))
        raise ValueError(
            f'CubeDataset: {name!r} at grid index {index} is {float(values[row])}; expected soft labels '
            f'in [0, 1] ({int(bad.sum())} of {values.shape[0]} cells are not)'
        )


class CubeDataset(Dataset[dict[str, Tensor]]):
    """Every grid point of a `ColorCube` as one sample: a dict of `color` [3], `bias` and labels (scalars)."""

    colors: Tensor
    """All colours, float32 [N, 3], in C (row-major) order of the cube's grid."""
    bias: Tensor
    """Sampling weight per colour, float32 [N]."""
    labels: dict[str, Tensor]
    """Every variable other than `color` and `bias`, float32 [N] each, in the cube's variable order."""

    def __init__(self, cube: ColorCube):
        grid = cube.shape
        n = int(np.prod(grid))
        self.colors = torch.tensor(np.reshape(cube['color'], (n, 3)), dtype=torch.float32)
        self.bias = torch.tensor(np.reshape(cube['bias'], (n,)), dtype=torch.float32)
        self.labels = {}
        for name, arr in cube.vars.items():
            if name in NON_LABEL_KEYS:
                continue
            if arr.shape != grid:
                raise ValueError(
                    f'CubeDataset: variable {name!r} must be one scalar per grid cell (shape {grid}), '
                    f'got shape {arr.shape}; drop it from the cube or reduce it first'
                )
            self.labels[name] = torch.tensor(np.reshape(arr, (n,)), dtype=torch.float32)
            _refuse_outside(self.labels[name], name, cube)

    def __len__(self) -> int:
        return self.colors.shape[0]

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        item = {'color': self.colors[index]}
        item.update({name: values[index] for name, values in self.labels.items()})
        item['bias'] = self.bias[index]
        return item


def draw_stochastic_labels(
    soft: Mapping[str, Tensor], generator: torch.Generator | None = None
) -> dict[str, Tensor]:
    """Turn soft labels (probabilities, any shape) into float32 0/1 labels: 1 with that probability.

    Draws one uniform number per value, per label in mapping order, from `generator` (or torch's global
    RNG when None). A probability of 0 never yields 1 and a probability of 1 always does.
    """
    out = {}
    for name, p in soft.items():
        if not torch.all((p >= 0) & (p <= 1)):  # also rejects NaN
            raise ValueError(f'draw_stochastic_labels: label {name!r} has values outside [0, 1] (or NaN)')
        u = torch.rand(p.shape, generator=generator, dtype=torch.float32, device=p.device)
        out[name] = (u < p).to(torch.float32)
    return out


def _stack(batch: Sequence[Mapping[str, Tensor]]) -> tuple[Tensor, dict[str, Tensor]]:
    if len(batch) == 0:
        raise ValueError('collate: the batch is empty')
    keys = list(batch[0])
    if 'color' not in keys:
        raise KeyError(f"collate: samples need a 'color' entry, got keys {keys}")
    for i, item in enumerate(batch):
        if list(item) != keys:
            raise KeyError(f'collate: sample {i} has keys {list(item)}, sample 0 has {keys}')
    colors = torch.stack([item['color'] for item in batch]).to(torch.float32)
    labels = {
        k: torch.stack([torch.as_tensor(item[k]) for item in batch]).to(torch.float32)
        for k in keys
        if k not in NON_LABEL_KEYS
    }
    return colors, labels


def stochastic_labels(batch: Sequence[Mapping[str, Tensor]]) -> LabelledBatch:
    """Collate samples, replacing each soft label by a 0/1 draw (see `draw_stochastic_labels`)."""
    colors, soft = _stack(batch)
    return LabelledBatch(colors, draw_stochastic_labels(soft))


def exact_labels(batch: Sequence[Mapping[str, Tensor]]) -> LabelledBatch:
    """Collate samples, passing the stored label values through unchanged."""
    colors, labels = _stack(batch)
    return LabelledBatch(colors, labels)
