"""Reproducibility switch for experiments.

`set_deterministic_mode(seed)` seeds Python, NumPy and torch (through Lightning, so dataloader
workers are seeded too) and asks PyTorch for deterministic kernels. On CPU the same seed then gives
bitwise-identical weights. GPUs may still differ from run to run for ops that have no deterministic
implementation: we warn rather than fail there (``warn_only=True``), since a notebook that stops
on a GPU would help nobody.
"""

from __future__ import annotations

import logging
import os

import torch

log = logging.getLogger(__name__)


def set_deterministic_mode(seed: int, *, verbose: bool = True) -> None:
    """Seed every RNG the project uses and make PyTorch choose deterministic algorithms.

    `verbose=False` skips the log line (for callers that seed many models in a row).
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f'seed must be an int, got {seed!r}')
    from lightning.fabric.utilities.seed import seed_everything

    seed_everything(seed, workers=True, verbose=False)
    # cuBLAS needs this to be deterministic; harmless on CPU.
    os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
    torch.use_deterministic_algorithms(True, warn_only=True)
    if verbose:
        log.info('Seed set to %d; PyTorch set to deterministic mode', seed)
