"""Ex 2.13's figures, rendered light and dark like every notebook figure.

* `show_failure_modes(counts, curves, traces, nbid=...)` writes ``large-assets/ex-<nbid>-failure-modes``;
* `show_race(race, rungs, nbid=...)` writes ``large-assets/ex-<nbid>-race``.

The drawing is `ex_2_13.plot`'s; the alt text says what the figure shows, numbers included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from ex_color.evaluation.metrics import METRICS, THRESHOLDS
from ex_color.experiments.ex_2_13.modes import ANCHORED_DEGREES, MODES, RED_ANGLE
from ex_color.experiments.ex_2_13.plot import Trace
from ex_color.experiments.figures import SEP, asset_path, figure_key
from ex_color.search.racing import Race, Rung
from utils.nb import displayer_mpl
from utils.plt import Theme

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ['FAILURE_TRACES', 'show_failure_modes', 'show_race']

_LIMIT = {th.metric: th for th in THRESHOLDS}


def _metric(metric: str) -> Trace:
    th = _LIMIT[metric]
    return Trace(
        metric,
        METRICS[metric],
        log=True,
        threshold=th.limit,
        threshold_label=th.label,
    )


FAILURE_TRACES = (
    Trace(
        RED_ANGLE, "red's angle to its anchor e₀ (°)", threshold=ANCHORED_DEGREES, threshold_label='anchored'
    ),
    _metric('red'),
    Trace('train_reg-anchor', 'anchor term, before its weight\n(logged while its weight is not 0)', log=True),
    _metric('baseline_max'),
    Trace(
        'train_reg-anti-subspace',
        'anti-subspace term, before its weight\n(logged while its weight is not 0)',
        log=True,
    ),
    _metric('worst_gcb'),
)
"""The failure figure's panels: where red sits, whether ablation deletes it, the terms that put it
there, and the two thresholds that fail most."""


def _shares(counts: pd.DataFrame) -> str:
    parts = []
    for config, part in counts.groupby('configuration', sort=False):
        n = int(part['n'].iloc[0])
        by_mode = part.set_index('mode')['seeds']
        parts.append(f'{config} (n = {n}): ' + ', '.join(f'{m} {int(by_mode[m])}' for m in MODES))
    return '; '.join(parts)


def show_failure_modes(
    counts: pd.DataFrame,
    curves: pd.DataFrame,
    *,
    curves_of: str,
    nbid: str,
    tags: Sequence[str] = (),
    traces: Sequence[Trace] = FAILURE_TRACES,
) -> None:
    """The failure-mode figure (see `plot.plot_failure_modes`)."""
    with displayer_mpl(
        asset_path(nbid, 'failure-modes', tags),
        alt_text='Titled "{title}". Left: horizontal bars, the share of seeds ending in each failure mode, one bar '
        f'per configuration, with a line over the 95 % interval ({_shares(counts)}). Right: {len(traces)} line '
        f'charts against the training step of {curves_of}, one line per failure mode (the median over its seeds), '
        'with the interquartile band of the seeds that pass: ' + ', '.join(t.label for t in traces) + '.',
        key=figure_key('failure-modes', counts, curves, [vars(t) for t in traces], curves_of),
        column_layout=False,
    ) as show:

        def draw(theme: Theme) -> Figure:
            from ex_color.experiments.ex_2_13.plot import plot_failure_modes

            n = int(counts['n'].iloc[0])
            title = f'How seeds fail{SEP}{n} fresh seeds{SEP}curves: {curves_of}'
            return plot_failure_modes(counts, curves, traces, curves_of=curves_of, title=title, theme=theme)

        show(draw)


def show_race(race: Race, rungs: Sequence[Rung], *, start: int | None, nbid: str) -> None:
    """The race, rung by rung (see `plot.plot_race`)."""
    w = race.winner
    finalists = [c for c in race.standings if len(c.seeds) == len(rungs)]
    with displayer_mpl(
        asset_path(nbid, 'race'),
        alt_text='Titled "{title}". Line chart: x is the rung, y the pass rate over every seed a candidate has run; '
        f'{len(race.standings)} candidates start, {len(finalists)} reach the last rung. The chosen candidate '
        f'{w.number} passes {sum(w.passed)} of {w.n} seeds.',
        key=figure_key(
            'race', [(c.number, c.passed, c.seeds) for c in race.standings], [r.seeds for r in rungs], start
        ),
        column_layout=False,
    ) as show:

        def draw(theme: Theme) -> Figure:
            from ex_color.experiments.ex_2_13.plot import plot_race

            title = (
                f'The race{SEP}{len(race.standings)} candidates, {sum(c.n for c in race.standings)} members'
            )
            return plot_race(race.standings, rungs, start=start, title=title, theme=theme)

        show(draw)
