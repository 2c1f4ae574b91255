"""Where a progress bar draws itself: one redrawn terminal line, or one in-place HTML display.

`ProgressState` is plain data; a sink turns it into output. Sinks never decide *when* to draw:
rate limiting lives in `Progress`, so each sink stays a few lines of formatting.
"""

from __future__ import annotations

import html
import math
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Protocol


@dataclass
class ProgressState:
    """A snapshot of some long work."""

    description: str
    """What is running, e.g. 'Training'."""
    count: int = 0
    """Units done."""
    total: int | None = None
    """Units expected, or None when unknown."""
    elapsed: float = 0.0
    """Seconds since the work started."""
    metrics: dict[str, float] = field(default_factory=dict)
    """Latest metric values to show beside the bar."""

    @property
    def rate(self) -> float:
        """Units per second so far."""
        return self.count / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate, or None when unknown."""
        if not self.total or self.rate <= 0:
            return None
        return max(self.total - self.count, 0) / self.rate

    @property
    def fraction(self) -> float | None:
        return min(self.count / self.total, 1.0) if self.total else None

    def summary(self) -> str:
        """One line: description, percentage, counts, timing and metrics."""
        frac = self.fraction
        head = (
            f'{self.description}: {100 * frac:5.1f}% [{self.count}/{self.total}]'
            if frac is not None
            else (f'{self.description}: [{self.count}]')
        )
        eta = self.eta
        timing = f'{_clock(self.elapsed)}<{_clock(eta) if eta is not None else "?"}, {self.rate:.0f} it/s'
        parts = [head, timing] + [f'{k}={_num(v)}' for k, v in self.metrics.items()]
        return ' | '.join(parts)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f'{h}:{m:02d}:{s:02d}' if h else f'{m:02d}:{s:02d}'


def _num(value: float) -> str:
    return f'{value:.4g}' if math.isfinite(value) else str(value)


class Sink(Protocol):
    def draw(self, state: ProgressState) -> None: ...
    def close(self, state: ProgressState) -> None: ...


class TerminalLine:
    """Redraws a single line in place with a carriage return; ends it with a newline on close."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream
        self._width = 0

    @property
    def stream(self) -> IO[str]:
        # Looked up at draw time: test runners and notebooks swap sys.stderr.
        return self._stream or sys.stderr

    def draw(self, state: ProgressState) -> None:
        columns = shutil.get_terminal_size((120, 20)).columns
        line = state.summary()[: columns - 1]
        pad = max(self._width - len(line), 0)
        self._width = len(line)
        self.stream.write('\r' + line + ' ' * pad)
        self.stream.flush()

    def close(self, state: ProgressState) -> None:
        self.draw(state)
        self.stream.write('\n')
        self.stream.flush()


class _Html:
    """A display object with an HTML bar and a plain-text fallback (what nbconvert and terminals show)."""

    def __init__(self, state: ProgressState) -> None:
        self.state = state

    def _repr_html_(self) -> str:
        s = self.state
        pct = 100 * (s.fraction or 0.0)
        cells = ''.join(
            f'<span style="margin-right:1em"><b>{html.escape(k)}</b> {html.escape(_num(v))}</span>'
            for k, v in s.metrics.items()
        )
        eta = s.eta
        return (
            '<div style="font-family:monospace;font-size:12px">'
            f'<div>{html.escape(s.description)}: {pct:.1f}% [{s.count}/{s.total}] '
            f'{_clock(s.elapsed)}&lt;{_clock(eta) if eta is not None else "?"}, {s.rate:.0f} it/s</div>'
            '<div style="width:100%;max-width:40em;height:6px;background:#8884;border-radius:3px">'
            f'<div style="width:{pct:.1f}%;height:6px;background:#4a90d9;border-radius:3px"></div></div>'
            f'<div>{cells}</div></div>'
        )

    def __repr__(self) -> str:
        return self.state.summary()


class NotebookDisplay:
    """An HTML bar in a Jupyter output area, updated in place through a display handle."""

    def __init__(self) -> None:
        self._handle = None

    def draw(self, state: ProgressState) -> None:
        from IPython.display import display

        if self._handle is None:
            self._handle = display(_Html(state), display_id=True)
        else:
            self._handle.update(_Html(state))

    def close(self, state: ProgressState) -> None:
        self.draw(state)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (including one driven headless by nbclient)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, 'kernel')


class Progress:
    """A rate-limited progress bar: call `update` as often as you like; it draws at most every `interval` s."""

    def __init__(
        self, description: str, total: int | None, *, interval: float = 0.3, sink: Sink | None = None
    ):
        if interval < 0:
            raise ValueError(f'interval must be >= 0, got {interval}')
        self.state = ProgressState(description, total=total)
        self.interval = interval
        self.sink: Sink = sink or (NotebookDisplay() if in_notebook() else TerminalLine())
        self._start = time.monotonic()
        self._next_draw = self._start
        self._closed = False

    def update(
        self,
        count: int,
        metrics: dict[str, float] | Callable[[], dict[str, float]] | None = None,
        *,
        force: bool = False,
    ) -> None:
        """Record progress; `metrics` may be a callable, evaluated only when a redraw is due."""
        self.state.count = count
        now = time.monotonic()
        if not force and now < self._next_draw:
            return
        self.state.elapsed = now - self._start
        if metrics is not None:
            self.state.metrics = metrics() if callable(metrics) else metrics
        self._next_draw = now + self.interval
        self.sink.draw(self.state)

    def close(self, metrics: dict[str, float] | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        self.state.elapsed = time.monotonic() - self._start
        if metrics is not None:
            self.state.metrics = metrics
        self.sink.close(self.state)
