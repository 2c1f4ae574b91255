"""The concise log line: `<L> <elapsed> <abbrev>:` padded to 15 characters, then the message.

- L: first letter of the level name (T for the TRACE level registered by `SimpleLoggingConfig`).
- elapsed: seconds since the formatter's origin, one decimal.
- abbrev: each dot-separated part of the logger name truncated to two characters
  (`lightning.pytorch.utilities.rank_zero` → `li.py.ut.ra`).

Examples::

    I 6.3 no.2.10: Training with: [...]
    I 6.3 ex.se:   PyTorch set to deterministic mode
    I 6.4 li.py.ut.ra:GPU available: False, used: False

A prefix longer than 15 characters is not truncated, and no space is added after it.

Design decisions: the origin and clock are constructor arguments (tests and workers can pin them);
by default the origin is the moment `SimpleLoggingConfig` was first applied in this process (or this
module's import, if it never was), so re-applying a config in a notebook does not reset the clock.
Exceptions and stack info are appended as the standard formatter does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ['PREFIX_WIDTH', 'ConciseFormatter', 'abbreviate', 'process_origin']

PREFIX_WIDTH = 15
"""Width the `<L> <elapsed> <abbrev>:` prefix is padded to."""

_origin: float = time.monotonic()
_origin_pinned = False


def process_origin(pin: bool = False) -> float:
    """The default elapsed-time origin (a `time.monotonic()` reading).

    With `pin`, the first call moves the origin to now; later pins keep it (so the clock starts when
    logging is first configured, not when this module happened to be imported).
    """
    global _origin, _origin_pinned
    if pin and not _origin_pinned:
        _origin, _origin_pinned = time.monotonic(), True
    return _origin


def abbreviate(name: str) -> str:
    """Truncate each dot-separated part of a logger name to two characters."""
    return '.'.join(part[:2] for part in name.split('.'))


class ConciseFormatter(logging.Formatter):
    """Formats records as concise single lines (see the module docstring).

    Args:
        origin: time the elapsed column counts from, on `clock`'s scale; None = `process_origin()`
            read at format time.
        clock: returns the current time; `time.monotonic` by default.
    """

    def __init__(self, origin: float | None = None, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.origin = origin
        self.clock = clock

    def format(self, record: logging.LogRecord) -> str:
        origin = process_origin() if self.origin is None else self.origin
        elapsed = self.clock() - origin
        prefix = f'{record.levelname[:1]} {elapsed:.1f} {abbreviate(record.name)}:'
        text = prefix.ljust(PREFIX_WIDTH) + record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text = f'{text}\n{record.exc_text}'
        if record.stack_info:
            text = f'{text}\n{self.formatStack(record.stack_info)}'
        return text
