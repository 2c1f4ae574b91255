"""The live chart a notebook's progress bar draws: the run's own terms against step, by name.

Which lines (`chart_metrics`): the training terms only, named as the engine names them: `train_loss`,
then `train_recon`, then every other `train_…` metric (each a regulariser term: `train_reg-anchor`,
or `train_anchor` where a notebook names its regularisers without `reg-`) in the order the run first
reported it, `MAX_SERIES` lines in all. So the anchor term is drawn whatever its position among the
metrics and however late its weight turns on; validation means, label rates and other numbers stay
in the bar's text row. A run with more terms than fit has the rest named under the chart ("not
drawn: …"), never dropped unsaid. Work that reports no `train_` metric gets no chart.

Colours come from `metric_colour`, so a term has the colour it has in the training-history figure.

How it is drawn (`svg_chart`): an inline SVG of lines on a log scale, so the saved notebook shows the
final frame without a kernel, built only when the bar redraws (at most every `interval` s) from a
history thinned to `MAX_POINTS`. The SVG holds a single label (the last step, at the axis' end);
the range and the legend are HTML under it. Viewers that strip SVG but keep its text (sanitisers of
untrusted HTML) then show one readable caption, not every label run together ("182.3e-0516step 1501").
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from utils.progress.colours import metric_colour

__all__ = ['MAX_POINTS', 'MAX_SERIES', 'ChartPick', 'History', 'chart_metrics', 'svg_chart']

MAX_SERIES = 8
"""Lines the live chart draws: the loss, the reconstruction and up to six regulariser terms."""
MAX_POINTS = 400
"""Points kept per line; older ones are thinned by half when it fills, so memory and drawing stay bounded."""

TRAIN_PREFIX = 'train_'
FIRST = ('train_loss', 'train_recon')
"""Always drawn first, when reported."""


@dataclass(frozen=True)
class ChartPick:
    """Which of a run's metrics the chart draws."""

    drawn: list[str]
    """In drawing order: the loss, the reconstruction, then the terms in the order first reported."""
    left_out: list[str]
    """Training terms past `MAX_SERIES`, named under the chart."""


def chart_metrics(names: Iterable[str], limit: int = MAX_SERIES) -> ChartPick:
    """Apply the module docstring's rule to metric `names` (in the order they were first reported)."""
    if limit < 1:
        raise ValueError(f'chart_metrics: limit must be >= 1, got {limit}')
    seen = [n for n in dict.fromkeys(names) if n.startswith(TRAIN_PREFIX)]
    ordered = [n for n in FIRST if n in seen] + [n for n in seen if n not in FIRST]
    return ChartPick(drawn=ordered[:limit], left_out=ordered[limit:])


@dataclass
class History:
    """Training-term values at the steps they were drawn at, thinned to at most `MAX_POINTS`.

    Every `train_` metric is kept (a run has a handful), so a term first reported late is charted
    from where it appeared; `chart_metrics` picks the lines when the chart is drawn.
    """

    steps: list[int] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, step: int, metrics: dict[str, float]) -> None:
        """Record `metrics` at `step`; a second record at the last step replaces it (the final values)."""
        names = [n for n in metrics if n.startswith(TRAIN_PREFIX)]
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


def _drawable(value: float) -> bool:
    return value > 0 and math.isfinite(value)  # a log axis has no place for 0 (an inactive term)


def svg_chart(history: History, *, width: int = 360, height: int = 110) -> str:
    """HTML: the chosen terms against step on a log scale (an inline SVG), its range and its legend."""
    pick = chart_metrics(history.values)
    series = {k: history.values[k] for k in pick.drawn if any(map(_drawable, history.values[k]))}
    if len(history.steps) < 2 or not series:
        return ''
    positive = [x for v in series.values() for x in v if _drawable(x)]
    lo, hi = math.log10(min(positive)), math.log10(max(positive))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    s0, s1 = history.steps[0], history.steps[-1]
    left, right, top, bottom = 6, 6, 6, 16
    w, h = width - left - right, height - top - bottom

    def xy(step: int, value: float) -> str:
        x = left + w * (step - s0) / max(s1 - s0, 1)
        y = top + h * (hi - math.log10(value)) / (hi - lo)
        return f'{x:.1f},{y:.1f}'

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="font:10px monospace;display:block">',
        f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#8886"/>',
    ]
    legend = []
    for name in reversed(list(series)):  # the loss last, so it sits on top where it meets recon
        colour = metric_colour(name)
        runs: list[list[str]] = [[]]
        for step, value in zip(history.steps, series[name], strict=True):
            if _drawable(value):
                runs[-1].append(xy(step, value))
            elif runs[-1]:
                runs.append([])
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.3" points="{" ".join(run)}"/>'
                )
    for name in series:
        style = f'color:{metric_colour(name)};margin-right:0.8em;white-space:nowrap'
        legend.append(f'<span style="{style}">━ {html.escape(name)}</span>')
    parts.append(
        f'<text x="{left + w}" y="{height - 3}" text-anchor="end" fill="currentColor">step {s1}</text></svg>'
    )
    caption = f'from step {s0}, log scale {10**lo:.2g} to {10**hi:.2g}: '
    more = f' (not drawn: {html.escape(", ".join(pick.left_out))})' if pick.left_out else ''
    # Newlines between the elements: nothing when rendered, a word break when the tags are stripped.
    body = '\n'.join(parts)
    return f'<div>\n{body}\n<div style="font-size:11px">{caption}{" ".join(legend)}{more}</div>\n</div>'
