"""Where a progress bar draws itself: a redrawn terminal line, plain log lines, or one in-place HTML display.

`ProgressState` is plain data; a sink turns it into output. Sinks never decide *when* to draw:
rate limiting lives in `Progress`, so each sink stays a few lines of formatting. Without a sink,
`Progress` picks one (`default_sink`): the HTML display in a Jupyter kernel, one redrawn line when
stderr is a terminal, and a plain line every `PLAIN_EVERY` seconds (and the last one) when it is a
file or a pipe, so a CI log is not one endless line of carriage returns.

In a notebook the HTML display also draws a small live chart of the run's own terms against the
step (`utils.progress.chart`: the loss, the reconstruction and the regulariser terms, chosen by
name). Its plain-text form, what nbconvert, `./go run` and viewers that cannot show HTML print, is
the same one line as the terminal's (`ProgressState.summary`), never markup.
"""

from __future__ import annotations

import html
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Protocol

from utils.progress.chart import MAX_POINTS, MAX_SERIES, History, chart_metrics, svg_chart
from utils.progress.terminal import PLAIN_EVERY, PeriodicLines, RedrawnLine, is_terminal

__all__ = [
    'MAX_POINTS',
    'MAX_SERIES',
    'History',
    'NotebookDisplay',
    'PlainLines',
    'Progress',
    'ProgressState',
    'Sink',
    'TerminalLine',
    'default_sink',
    'in_notebook',
    'svg_chart',
]


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
    history: History = field(default_factory=History)
    """Metric values at every drawn update, for the live chart."""

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

    def ordered_metrics(self) -> dict[str, float]:
        """The metrics, the charted terms first (loss, recon, regularisers), then the rest as reported."""
        first = chart_metrics(self.metrics).drawn
        return {**{k: self.metrics[k] for k in first}, **self.metrics}

    def summary(self) -> str:
        """One line: description, percentage, counts, timing and metrics (`ordered_metrics`)."""
        frac = self.fraction
        head = (
            f'{self.description}: {100 * frac:5.1f}% [{self.count}/{self.total}]'
            if frac is not None
            else (f'{self.description}: [{self.count}]')
        )
        eta = self.eta
        timing = f'{_clock(self.elapsed)}<{_clock(eta) if eta is not None else "?"}, {self.rate:.0f} it/s'
        parts = [head, timing] + [f'{k}={_num(v)}' for k, v in self.ordered_metrics().items()]
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


class _SummaryLines:
    """A sink writing each state's one-line summary to a line writer (`show(text)`, `end()`)."""

    def __init__(self, line: RedrawnLine | PeriodicLines) -> None:
        self._line = line

    def draw(self, state: ProgressState) -> None:
        self._line.show(state.summary())

    def close(self, state: ProgressState) -> None:
        self.draw(state)
        self._line.end()


class TerminalLine(_SummaryLines):
    """Redraws a single line in place with a carriage return; ends it with a newline on close."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(
            RedrawnLine(stream)
        )  # the stream is looked up at draw time (runners swap sys.stderr)


class PlainLines(_SummaryLines):
    """For a log: one plain line at the first draw, then at most every `every` s, and the final state."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        every: float = PLAIN_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(PeriodicLines(stream, every=every, clock=clock))


class _Html:
    """A display object with an HTML bar and a plain-text fallback (what nbconvert and terminals show)."""

    def __init__(self, state: ProgressState) -> None:
        self.state = state

    def _repr_html_(self) -> str:
        s = self.state
        pct = 100 * (s.fraction or 0.0)
        cells = ' '.join(
            f'<span style="margin-right:1em;white-space:nowrap"><b>{html.escape(k)}</b> {html.escape(_num(v))}</span>'
            for k, v in s.ordered_metrics().items()
        )
        eta = s.eta
        # Newlines between the blocks: nothing when rendered, a word break where a viewer strips tags.
        return (
            '<div style="font-family:monospace;font-size:12px">\n'
            f'<div>{html.escape(s.description)}: {pct:.1f}% [{s.count}/{s.total}] '
            f'{_clock(s.elapsed)}&lt;{_clock(eta) if eta is not None else "?"}, {s.rate:.0f} it/s</div>\n'
            '<div style="width:100%;max-width:40em;height:6px;background:#8884;border-radius:3px">'
            f'<div style="width:{pct:.1f}%;height:6px;background:#4a90d9;border-radius:3px"></div></div>\n'
            f'<div>{cells}</div>\n{svg_chart(s.history)}</div>'
        )

    def __repr__(self) -> str:
        # IPython's text/plain: one readable line, as the terminal shows it
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


def default_sink() -> Sink:
    """The HTML display in a Jupyter kernel; else a redrawn line on a terminal, plain lines in a log."""
    if in_notebook():
        return NotebookDisplay()
    return TerminalLine() if is_terminal(sys.stderr) else PlainLines()


class Progress:
    """A rate-limited progress bar: call `update` as often as you like; it draws at most every `interval` s."""

    def __init__(
        self, description: str, total: int | None, *, interval: float = 0.3, sink: Sink | None = None
    ):
        if interval < 0:
            raise ValueError(f'interval must be >= 0, got {interval}')
        self.state = ProgressState(description, total=total)
        self.interval = interval
        self.sink: Sink = sink or default_sink()
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
            self.state.history.add(count, self.state.metrics)
        self._next_draw = now + self.interval
        self.sink.draw(self.state)

    def close(self, metrics: dict[str, float] | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        self.state.elapsed = time.monotonic() - self._start
        if metrics is not None:
            self.state.metrics = metrics
            self.state.history.add(self.state.count, metrics)
        self.sink.close(self.state)
