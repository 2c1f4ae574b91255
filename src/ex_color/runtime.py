"""CPU settings for this project's tiny models, applied for the duration of a block.

Measured on a 2-core machine: for an 840-parameter MLP one torch thread is as fast as two and never
suffers the occasional 3-20x OpenMP stalls seen with two threads (inference over 69k colours took
15-25 ms on one thread, 25-160 ms on two under load). `Separate(power=100)` produces subnormal
floats, which are slow on CPUs; flushing them to zero changes nothing measurable in the results.
Both settings are process-global in torch, so they are restored when the block ends.

Entering and leaving the block costs microseconds (measured: 2-20 µs per enter/exit pair, also
when the thread count actually changes), so it is cheap enough to wrap every inference call.

Deliberately not here: reading back the flush-denormal state. Torch has a setter but no getter, so
leaving a block that flushed always turns flushing off, even if it was on before the block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def fast_cpu_math(threads: int | None = 1, *, flush_denormal: bool = True) -> Iterator[None]:
    """Temporarily use `threads` torch threads (None: leave as is) and flush denormals to zero.

    `flush_denormal=False` sets the thread count only, for arithmetic whose results must stay
    exactly as without the block (flushing rounds subnormal results to zero).
    """
    old_threads = torch.get_num_threads()
    was_flushing = flushing_denormals()
    if threads is not None:
        torch.set_num_threads(threads)
    if flush_denormal:
        torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        # the caller's setting, whichever it was (torch has no getter: `flushing_denormals` probes)
        torch.set_flush_denormal(was_flushing)


def flushing_denormals() -> bool:
    """Whether the CPU flushes subnormal floats to zero now (`torch.set_flush_denormal`)."""
    return float(torch.tensor(1e-39, dtype=torch.float32) * 1.0) == 0.0
