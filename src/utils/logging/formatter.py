"""The concise log line: `<L> <elapsed> <logger>: <message>`.

- L: first letter of the level name (T for the TRACE level registered by `SimpleLoggingConfig`).
- elapsed: seconds since the formatter's origin, one decimal.
- logger: the logger's name cut to its first two dotted parts, plus any numeric parts right after
  them (`short_name`): `lightning.pytorch.utilities.rank_zero` → `lightning.pytorch`,
  `ex_color.training.run` → `ex_color.training`, `notebook.2.10` stays `notebook.2.10`.

Examples::

    I 6.3 notebook.2.10: Training with: [...]
    I 6.3 ex_color.seed: PyTorch set to deterministic mode
    I 6.4 lightning.pytorch: GPU available: False, used: False

Design decisions: names are cut, not abbreviated letter by letter: `li.py.ut.ra` saved a few columns
and cost every reader a lookup. The origin and clock are constructor arguments (tests and workers can
pin them); by default the origin is the moment `SimpleLoggingConfig` was first applied in this process
(or this module's import, if it never was), so re-applying a config in a notebook does not reset the
clock. Exceptions and stack info are appended as the standard formatter does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ['ConciseFormatter', 'process_origin', 'short_name']

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


def short_name(name: str, depth: int = 2) -> str:
    """The first `depth` dotted parts of a logger name, and any numeric parts that follow them."""
    parts = name.split('.')
    keep = parts[:depth]
    for part in parts[depth:]:
        if not part.isdigit():
            break
        keep.append(part)
    return '.'.join(keep)


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
        text = f'{record.levelname[:1]} {elapsed:.1f} {short_name(record.name)}: {record.getMessage()}'
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text = f'{text}\n{record.exc_text}'
        if record.stack_info:
            text = f'{text}\n{self.formatStack(record.stack_info)}'
        return text
