"""In-memory batch iterables for training and validation.

The whole training set (1000 colours) fits in a few kilobytes, so batches are sliced from tensors
that already sit in memory instead of being collated per sample by worker processes, which cost
more than the model itself here. The project's loop and Lightning both accept any sized iterable.

Randomness comes from a private `torch.Generator`, never from the global RNG: the data order and
label draws of a run depend on its seed alone, which is also what lets a run of many members give
each member exactly the batches its one-member run would give it.

**Position.** `RandomBatches` remembers its generator's state at the start of the current epoch;
`position(consumed)` is that state plus the number of batches already trained in the epoch, and
`restore_position` makes the next pass redraw the same epoch and skip those batches. Checkpoints
store it (see `ex_color.training.resume`), so a resumed fit sees exactly the batches it would have
seen had it not stopped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

Batch = tuple[Tensor, dict[str, Tensor]]


def _check_inputs(colors: Tensor, labels: Mapping[str, Tensor]) -> None:
    if colors.ndim != 2 or colors.shape[1] != 3:
        raise ValueError(f'colors must have shape [N, 3], got {tuple(colors.shape)}')
    for name, values in labels.items():
        if values.shape != colors.shape[:1]:
            raise ValueError(f'label {name!r} must have shape [{colors.shape[0]}], got {tuple(values.shape)}')


def _refuse_improbable(labels: Mapping[str, Tensor]) -> None:
    """Soft labels are probabilities: each in [0, 1], and not NaN (a NaN would never draw, 1.5 would
    always draw). Name the label and its first bad index, as `CubeDataset` does for a cube's cells."""
    for name, values in labels.items():
        bad = ~((values >= 0) & (values <= 1))
        if bool(bad.any()):
            index = int(bad.nonzero()[0])
            raise ValueError(
                f'RandomBatches: {name!r} at index {index} is {float(values[index])}; expected soft labels '
                f'in [0, 1] ({int(bad.sum())} of {values.shape[0]} colours are not)'
            )


@dataclass
class RandomBatches:
    """Batches drawn with replacement; binary labels drawn with probability = the soft label.

    Each pass (epoch) draws `num_samples` indices, so ``len()`` is ``ceil(num_samples / batch_size)``
    and the last batch may be short, as with a `RandomSampler(replacement=True)` DataLoader.
    """

    colors: Tensor
    """Colours, [N, 3] float32."""
    soft_labels: Mapping[str, Tensor]
    """Probability that each colour carries each label, {name: [N]}."""
    batch_size: int = 64
    """Samples per batch."""
    num_samples: int | None = None
    """Samples per epoch; defaults to N."""
    seed: int | None = None
    """Seed of the private generator; None draws one from the global torch RNG (so seeding torch suffices)."""
    weights: Tensor | None = None
    """Optional sampling weights [N] (e.g. a cube's bias); uniform when None."""
    generator: torch.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_inputs(self.colors, self.soft_labels)
        _refuse_improbable(self.soft_labels)
        if self.batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {self.batch_size}')
        if self.num_samples is None:
            self.num_samples = len(self.colors)
        if self.num_samples < 1:
            raise ValueError(f'num_samples must be >= 1, got {self.num_samples}')
        if self.weights is not None and self.weights.shape != self.colors.shape[:1]:
            raise ValueError(f'weights must have shape [{len(self.colors)}], got {tuple(self.weights.shape)}')
        if self.seed is None:
            self.seed = int(torch.randint(0, 2**62, (1,)).item())
        self.generator = torch.Generator().manual_seed(self.seed)
        self._epoch_start = self.generator.get_state()
        self._skip = 0
        self._names = list(self.soft_labels)
        self._soft = torch.stack([self.soft_labels[n] for n in self._names], 1) if self._names else None

    def __len__(self) -> int:
        assert self.num_samples is not None
        return -(-self.num_samples // self.batch_size)

    def draw_epoch(self) -> tuple[Tensor, Tensor | None]:
        """Indices [S] and binary labels [S, L] for one epoch (labels None when there are none)."""
        n = self.num_samples
        assert n is not None
        self._epoch_start = self.generator.get_state()
        if self.weights is None:
            idx = torch.randint(len(self.colors), (n,), generator=self.generator)
        else:
            idx = torch.multinomial(self.weights, n, replacement=True, generator=self.generator)
        if self._soft is None:
            return idx, None
        draws = torch.rand((n, len(self._names)), generator=self.generator)
        return idx, (draws < self._soft[idx]).to(self.colors.dtype)

    def position(self, consumed: int) -> dict[str, Any]:
        """Where the data stands after `consumed` batches of the current epoch were trained."""
        if consumed <= 0 or consumed >= len(self):
            return {'generator': self.generator.get_state(), 'skip': 0}
        return {'generator': self._epoch_start.clone(), 'skip': consumed}

    def restore_position(self, state: dict[str, Any]) -> None:
        """Continue from `position(...)`: the next pass redraws that epoch and skips its trained batches."""
        self.generator.set_state(state['generator'])
        self._skip = int(state['skip'])

    def take_skip(self) -> int:
        """Batches the next pass must skip (and forget the request)."""
        skip, self._skip = self._skip, 0
        return skip

    def __iter__(self) -> Iterator[Batch]:
        skip = self.take_skip()
        idx, labels = self.draw_epoch()
        x = self.colors[idx]
        for start in range(skip * self.batch_size, len(idx), self.batch_size):
            stop = start + self.batch_size
            batch_labels = (
                {} if labels is None else dict(zip(self._names, labels[start:stop].unbind(1), strict=True))
            )
            yield x[start:stop], batch_labels


@dataclass
class FixedBatches:
    """Every colour once, in order, with its labels passed through unchanged (for validation)."""

    colors: Tensor
    """Colours, [N, 3] float32."""
    labels: Mapping[str, Tensor]
    """Exact label values, {name: [N]}."""
    batch_size: int = 64
    """Samples per batch."""

    def __post_init__(self) -> None:
        _check_inputs(self.colors, self.labels)
        if self.batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {self.batch_size}')

    def __len__(self) -> int:
        return -(-len(self.colors) // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        for start in range(0, len(self.colors), self.batch_size):
            stop = start + self.batch_size
            yield self.colors[start:stop], {k: v[start:stop] for k, v in self.labels.items()}
