"""Where a progress bar draws itself: one redrawn terminal line, or one in-place HTML display.

`ProgressState` is plain data; a sink turns it into output. Sinks never decide *when* to draw:
rate limiting lives in `Progress`, so each sink stays a few lines of formatting.

In a notebook the HTML display also draws a small live chart of the first few metrics against the
step (`svg_chart`): an inline SVG, so the saved notebook shows the final frame without a kernel, and
cheap, since it is only built when the bar redraws (at most every `interval` s) from a history
thinned to `MAX_POINTS`. A terminal keeps its one redrawn line.
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
    history: History = field(default_factory=lambda: History())
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


MAX_SERIES = 4
"""Metrics the live chart draws (the first ones reported; the rest stay in the text row)."""
MAX_POINTS = 400
"""Points kept per chart; older ones are thinned by half when it fills, so memory and drawing stay bounded."""
_SERIES_COLOURS = ('#4a90d9', '#d9534f', '#5cb85c', '#f0ad4e')


@dataclass
class History:
    """Metric values at the steps they were drawn at, thinned to at most `MAX_POINTS`."""

    steps: list[int] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, step: int, metrics: dict[str, float]) -> None:
        """Record `metrics` at `step`; a second record at the last step replaces it (the final values)."""
        names = list(metrics)[:MAX_SERIES]
        if not names or (self.steps and step < self.steps[-1]):
            return
        if self.steps and step == self.steps[-1]:
            self.steps.pop()
            for series in self.values.values():
                series.pop()
        for name in names:
            # a metric first seen late is padded with NaN (no line) before it appeared
            self.values.setdefault(name, [math.nan] * len(self.steps)).append(float(metrics[name]))
        for series in self.values.values():
            if len(series) < len(self.steps) + 1:
                series.append(math.nan)
        self.steps.append(step)
        if len(self.steps) > MAX_POINTS:
            self.steps = self.steps[::2]
            self.values = {k: v[::2] for k, v in self.values.items()}


def svg_chart(history: History, *, width: int = 360, height: int = 110) -> str:
    """A small inline SVG of every metric against step on a log scale (no kernel needed to show it)."""
    series = {k: v for k, v in history.values.items() if any(x > 0 and math.isfinite(x) for x in v)}
    if len(history.steps) < 2 or not series:
        return ''
    positive = [x for v in series.values() for x in v if x > 0 and math.isfinite(x)]
    lo, hi = math.log10(min(positive)), math.log10(max(positive))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    s0, s1 = history.steps[0], history.steps[-1]
    left, right, top, bottom = 44, 6, 6, 16
    w, h = width - left - right, height - top - bottom

    def xy(step: int, value: float) -> str:
        x = left + w * (step - s0) / max(s1 - s0, 1)
        y = top + h * (hi - math.log10(value)) / (hi - lo)
        return f'{x:.1f},{y:.1f}'

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="font:10px monospace;display:block">',
        f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#8886"/>',
        f'<text x="{left - 3}" y="{top + 8}" text-anchor="end" fill="currentColor">{10**hi:.2g}</text>',
        f'<text x="{left - 3}" y="{top + h}" text-anchor="end" fill="currentColor">{10**lo:.2g}</text>',
        f'<text x="{left}" y="{height - 3}" fill="currentColor">{s0}</text>',
        f'<text x="{left + w}" y="{height - 3}" text-anchor="end" fill="currentColor">step {s1}</text>',
    ]
    legend = []
    for i, (name, values) in enumerate(series.items()):
        colour = _SERIES_COLOURS[i % len(_SERIES_COLOURS)]
        runs: list[list[str]] = [[]]
        for step, value in zip(history.steps, values, strict=True):
            if value > 0 and math.isfinite(value):
                runs[-1].append(xy(step, value))
            elif runs[-1]:
                runs.append([])
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.3" points="{" ".join(run)}"/>'
                )
        legend.append(f'<span style="color:{colour}">━ {html.escape(name)}</span>')
    parts.append('</svg>')
    return '<div>' + ''.join(parts) + '<div style="font-size:11px">' + ' '.join(legend) + '</div></div>'


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
            f'<div>{cells}</div>{svg_chart(s.history)}</div>'
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
