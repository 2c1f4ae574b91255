"""What a checkpoint must hold beyond weights and optimiser for a resumed fit to continue bitwise.

The project's loop (`ex_color.training.loop`) stores all of it in its own checkpoints; this module
provides the RNG part to it, and the whole of it to the seed's Lightning API. Lightning's
checkpoints store the module's weights, the optimiser's state and the loops' progress (hence the
schedule position, which is the global step). Two things decide the remaining batches and are not
in them:

* **the random number generators**: torch's (CPU and CUDA), NumPy's and Python's. A `DataLoader`
  with a `RandomSampler` draws each epoch's order from torch's global generator when its iterator is
  created, and `stochastic_labels` draws labels from it too, so the seed's own set-up resumes
  exactly from a checkpoint taken at an epoch boundary once these are restored;
* **the data's position**, for our in-memory batches (`RandomBatches`, `StackedBatches`): their
  private generators' state at the start of the current epoch and the number of batches already
  trained in it.

Under Lightning, states are captured in `TrainingModule.on_save_checkpoint` (a public hook) and
restored in `on_train_start`, after Lightning has rebuilt its dataloaders and before the first batch
is drawn; Lightning's own loop state is never edited.

Deliberately not here: saving files (`ex_color.training.checkpointing`; Lightning's `ModelCheckpoint`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ['KEY', 'ResumeState', 'capture', 'capture_rng', 'restore', 'restore_rng']

KEY = 'ex_color_resume'
"""The checkpoint entry this module writes."""


@dataclass
class ResumeState:
    """RNG states and data position, as stored in a checkpoint."""

    rng: dict[str, Any]
    """torch (``torch``, ``cuda``), NumPy (``numpy``) and Python (``python``) generator states."""
    data: dict[str, Any] | None
    """The training data's `position(...)`, or None when the data has none (e.g. a `DataLoader`)."""

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ResumeState:
        return cls(state['rng'], state.get('data'))


def _numpy_state() -> dict[str, Any]:
    state = np.random.get_state(legacy=True)
    assert isinstance(state, tuple)  # the global generator is MT19937, so legacy=True gives the 5-tuple
    name, keys, pos, has_gauss, cached = state
    return {'name': name, 'keys': torch.from_numpy(keys.astype(np.int64)), 'pos': int(pos),
            'has_gauss': int(has_gauss), 'cached': float(cached)}  # fmt: skip


def capture_rng() -> dict[str, Any]:
    """The global generators' states: torch (CPU and, when in use, CUDA), NumPy and Python."""
    rng: dict[str, Any] = {
        'torch': torch.get_rng_state(),
        'numpy': _numpy_state(),
        'python': random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        rng['cuda'] = torch.cuda.get_rng_state_all()
    return rng


def restore_rng(rng: dict[str, Any]) -> None:
    """Put the global generators back where `capture_rng` found them."""
    torch.set_rng_state(rng['torch'])
    n = rng['numpy']
    np.random.set_state(
        (n['name'], n['keys'].numpy().astype(np.uint32), n['pos'], n['has_gauss'], n['cached'])
    )
    py = rng['python']
    random.setstate((py[0], tuple(py[1]), py[2]))
    if 'cuda' in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng['cuda'])


def capture(train_data: Any, consumed: int) -> dict[str, Any]:
    """The state to store: RNGs now, and `train_data`'s position after `consumed` batches of this epoch."""
    position = getattr(train_data, 'position', None)
    return {'rng': capture_rng(), 'data': position(consumed) if callable(position) else None}


def restore(state: ResumeState, train_data: Any) -> int:
    """Put the RNGs and `train_data` back where `state` says; return the batches the epoch skips."""
    restore_rng(state.rng)
    if state.data is not None:
        restore_position = getattr(train_data, 'restore_position', None)
        if not callable(restore_position):
            raise TypeError(
                f'the checkpoint holds a data position, but the training data ({type(train_data).__name__}) '
                'cannot restore one; resume with the same kind of data as the interrupted fit'
            )
        restore_position(state.data)
    return skip_of(state.data)


def skip_of(data: dict[str, Any] | None) -> int:
    if data is None:
        return 0
    if 'members' in data:
        return max((int(m['skip']) for m in data['members']), default=0)
    return int(data.get('skip', 0))
