"""A status line that moves in a terminal and stays readable in a log: `live_line(stream)`.

Two writers of the same small interface (`show(text)`, `clear()`, `redraw()`, `end()`):

* `RedrawnLine`, for a terminal (a TTY): one line redrawn in place with a carriage return, padded so
  a shorter text leaves nothing of a longer one, cut to the terminal's width (a wrapped line could
  not be redrawn); `end()` keeps the last text and moves to a new line. `clear()` blanks the line so
  that other output can be printed, and the next `show` draws it again below that output.
* `PeriodicLines`, for a file or a pipe (CI logs): a plain line at the first `show`, then at most one
  every `every` seconds; `end()` prints the last text unless it was the last line printed, so the
  final state is always in the log, once.

`live_line` picks one by `stream.isatty()`. Streams are looked up when written (default: the
`sys.stderr` of the moment, since test runners and kernels replace it), and the clock is an argument
so tests can step it.

Deliberately not here: what the text says (`ProgressState.summary`, a kernel's text/plain) and when
to call `show` (`Progress` rate-limits its draws).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import IO, Protocol

__all__ = ['PLAIN_EVERY', 'LiveLine', 'PeriodicLines', 'RedrawnLine', 'is_terminal', 'live_line']

PLAIN_EVERY = 15.0
"""Seconds between two progress lines in a log: a 3-minute fit leaves about a dozen lines."""


class LiveLine(Protocol):
    def show(self, text: str) -> None: ...
    def clear(self) -> None: ...
    def redraw(self) -> None: ...
    def end(self) -> None: ...


def is_terminal(stream: IO[str]) -> bool:
    """True when `stream` is an interactive terminal (a closed or odd stream counts as not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _one_line(text: str) -> str:
    return text.splitlines()[0] if text else ''


class RedrawnLine:
    """One line, redrawn in place with a carriage return (see the module docstring)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream
        self._width = 0
        """Characters on the line now (0: nothing drawn, or cleared)."""
        self._text: str | None = None
        """The text of the line being shown, kept while it is cleared."""

    @property
    def stream(self) -> IO[str]:
        return self._stream or sys.stderr

    def show(self, text: str) -> None:
        columns = shutil.get_terminal_size((120, 20)).columns
        line = _one_line(text)[: max(columns - 1, 1)]
        pad = max(self._width - len(line), 0)
        self.stream.write('\r' + line + ' ' * pad)
        self.stream.flush()
        self._width, self._text = len(line), text

    def clear(self) -> None:
        if self._width:
            self.stream.write('\r' + ' ' * self._width + '\r')
            self.stream.flush()
            self._width = 0

    def redraw(self) -> None:
        """Draw the last text again (after `clear` and other output)."""
        if self._text is not None and not self._width:
            self.show(self._text)

    def end(self) -> None:
        if self._text is None:
            return
        self.redraw()
        self.stream.write('\n')
        self.stream.flush()
        self._width, self._text = 0, None


class PeriodicLines:
    """Plain lines, at most one every `every` seconds, and the final text once (module docstring)."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        every: float = PLAIN_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if every < 0:
            raise ValueError(f'PeriodicLines: every must be >= 0 seconds, got {every}')
        self._stream = stream
        self.every = every
        self.clock = clock
        self._next = -float('inf')
        self._pending: str | None = None
        """The latest text, when it has not been printed."""

    @property
    def stream(self) -> IO[str]:
        return self._stream or sys.stderr

    def show(self, text: str) -> None:
        now = self.clock()
        if now < self._next:
            self._pending = text
            return
        self._write(text)
        self._next = now + self.every

    def clear(self) -> None:
        """Nothing to undo: a printed line stays where it is."""

    def redraw(self) -> None:
        """Nothing to redraw: the next line is printed when it is due."""

    def end(self) -> None:
        if self._pending is not None:
            self._write(self._pending)
        self._next = -float('inf')

    def _write(self, text: str) -> None:
        self.stream.write(_one_line(text) + '\n')
        self.stream.flush()
        self._pending = None


def live_line(stream: IO[str] | None = None, *, every: float = PLAIN_EVERY) -> RedrawnLine | PeriodicLines:
    """A `RedrawnLine` when `stream` (default `sys.stderr`) is a terminal, else `PeriodicLines`."""
    if is_terminal(stream or sys.stderr):
        return RedrawnLine(stream)
    return PeriodicLines(stream, every=every)
