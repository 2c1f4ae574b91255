"""The label-coverage figure (Ex 2.11), rendered light and dark like every notebook figure.

`show_label_coverage(df, nbid=...)` writes ``large-assets/ex-<nbid>-label-coverage.png`` (and its dark
twin) through `displayer_mpl` and displays it with alt text, as `ex_color.experiments.figures` does
for the other figures; the plotting is `ex_color.experiments.ex_2_11.plot.plot_label_coverage`.

Design decisions:
- The metrics, their labels and the threshold lines come from `ex_color.evaluation.ablation`
  (`METRICS`, `THRESHOLDS`), so the figure, the tables and the prose use the same words and limits.
- Two pass rates are drawn: every threshold, and the red threshold alone, because "red is deleted"
  and "red is deleted and nothing else is" can need different numbers of labels. Each carries its
  Wilson interval, the quantity the notebook's verdicts are read from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from ex_color.evaluation.metrics import LOG_SCALE, METRICS, THRESHOLDS
from ex_color.experiments.figures import SEP, asset_path, figure_key
from utils.nb import displayer_mpl
from utils.plt import Theme

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ['COVERAGE_METRICS', 'show_label_coverage']

COVERAGE_METRICS = tuple(METRICS)
"""Every metric that decides a pass (and r): the pass rate can fall for a reason the ablation panels
do not show, such as the unablated model's reconstruction."""


def show_label_coverage(
    df: pd.DataFrame, *, nbid: str, setting: str = 'annotators', tags: Sequence[str] = ()
) -> None:
    """Every member's metrics against the labels it drew, per-setting medians and pass rates."""
    from ex_color.experiments.ex_2_11.coverage import RED_PASS

    limits = {th.metric: th.limit for th in THRESHOLDS}
    red = next(th for th in THRESHOLDS if th.metric == 'red')
    n_settings = df[setting].nunique()
    with displayer_mpl(
        asset_path(nbid, 'label-coverage', tags),
        alt_text=f'{len(COVERAGE_METRICS) + 1} panels titled "{{title}}", sharing a horizontal axis: the number '
        f'of labelled samples each model drew during training, on a logarithmic scale. {len(COVERAGE_METRICS)} '
        'panels show one metric each ('
        + ', '.join(METRICS[m] for m in COVERAGE_METRICS)
        + f'): every model is a faint dot, and a line joins the median of each of the {n_settings} settings, '
        'with a band over the middle half of its seeds; dashed lines mark thresholds. The bottom panel shows the '
        f'fraction of seeds of each setting that meet every threshold, and that meet "{red.label}" alone, '
        'each with a bar over its Wilson 95% interval, and a line at one half.',
        key=figure_key('label-coverage', df, setting, tuple(tags)),
        column_layout=False,
    ) as show:

        def draw(
            theme: Theme,
        ) -> Figure:  # pyplot is imported only when the figure is not in the figure cache
            from ex_color.experiments.ex_2_11.plot import plot_label_coverage

            return plot_label_coverage(
                df,
                COVERAGE_METRICS,
                setting=setting,
                rates={'pass': 'every threshold', RED_PASS: red.label},
                labels=METRICS,
                limits=limits,
                log=tuple(m for m in COVERAGE_METRICS if m in LOG_SCALE),
                title=f'Label coverage{SEP}{len(df)} models, {n_settings} settings'
                + (f'{SEP}{SEP.join(tags)}' if tags else ''),
                theme=theme,
            )

        show(draw)
