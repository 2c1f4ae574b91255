"""One colour per training term, the same in every chart: `metric_colour(name)`.

The live chart drawn while a notebook trains and the training-history figure drawn afterwards show
the same terms; a term keeps its colour in both, in every run and every process, so a reader who
learnt "the anchor is red" in one chart can read the next without its legend.

    metric_colour('train_reg-anchor') == metric_colour('val_reg-anchor') == metric_colour('anchor')

Rule:
- The colour belongs to the *term*, not to the phase or layer it was measured in: `term_name` drops a
  `train_`/`val_` prefix, a `:layer` suffix (a regulariser watching several layers) and a `reg-`
  prefix (Ex 2.10.1 names its regularisers without one), so `train_reg-anchor`, `val_reg-anchor` and
  `train_anchor` are one term.
- `loss` and `recon` and the regularisers this project uses have fixed colours (`TERM_COLOURS`);
  the anchor, the term the experiments are about, is red, as the concept it anchors.
- Any other term gets a colour from `SPARE_COLOURS`, picked by a CRC-32 of its name: stable across
  runs and processes (Python's `hash` of a string is not), never one of the fixed colours; two
  unknown terms may share one, and the legend tells them apart.

Colours are mid-tones that read on both the light and the dark page.
Deliberately not here: which metrics a chart draws (`utils.progress.chart`) and line styles.
"""

from __future__ import annotations

import zlib

__all__ = ['SPARE_COLOURS', 'TERM_COLOURS', 'metric_colour', 'term_name']

TERM_COLOURS: dict[str, str] = {
    'loss': '#4a90d9',  # blue: the total, what the optimiser sees
    'recon': '#f0ad4e',  # orange
    'anchor': '#d9534f',  # red
    'anti-anchor': '#9b6fc3',  # purple
    'subspace': '#2aa198',  # teal
    'anti-subspace': '#5cb85c',  # green
    'separate': '#a0785a',  # brown
    'unit': '#e377c2',  # pink
    'planar-d': '#b5b52a',  # olive
}
"""Fixed colours of the terms every run has and of this project's regularisers, by `term_name`."""

SPARE_COLOURS: tuple[str, ...] = ('#17becf', '#8c8c8c', '#c7a76b', '#7b9fd4', '#d98fa0', '#6bbf9e')
"""Colours for terms not in `TERM_COLOURS`, chosen by a hash of the name."""

_PHASES = ('train_', 'val_')


def term_name(metric: str) -> str:
    """The term a metric measures: `train_reg-anchor:bottleneck` → `anchor` (see the module docstring)."""
    if not isinstance(metric, str) or not metric:
        raise ValueError(f'metric_colour: a metric name must be a non-empty string, got {metric!r}')
    name = metric
    for phase in _PHASES:
        if name.startswith(phase):
            name = name[len(phase) :]
            break
    name = name.split(':', 1)[0].removeprefix('reg-')
    if not name:
        raise ValueError(f'metric_colour: {metric!r} names no term')
    return name


def metric_colour(metric: str) -> str:
    """The colour (``#rrggbb``) of the term that `metric` measures, the same wherever it is drawn."""
    term = term_name(metric)
    fixed = TERM_COLOURS.get(term)
    if fixed is not None:
        return fixed
    return SPARE_COLOURS[zlib.crc32(term.encode('utf-8')) % len(SPARE_COLOURS)]
