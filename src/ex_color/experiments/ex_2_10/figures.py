"""Ex 2.10's own figure: where its seeds fail, rendered light and dark like every notebook figure.

`show_failures(models, df, cubes, nbid=...)` prints the table of thresholds missed and writes
``large-assets/ex-<nbid>-failures.png`` (and its dark twin) through `displayer_mpl`, with alt text
that says where the worst colours sit; the drawing is `ex_2_10.plot.plot_failures`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd
from torch import nn

from ex_color.experiments.common import TestCubes
from ex_color.experiments.ex_2_10.failures import FailureMaps, failure_counts, failure_table
from ex_color.experiments.figures import SEP, asset_path, figure_key
from utils.nb import displayer_mpl
from utils.plt import Theme

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ['show_failures']


def show_failures(
    models: Mapping[int, nn.Module], df: pd.DataFrame, cubes: TestCubes, *, nbid: str, name: str = ''
) -> FailureMaps:
    """The thresholds `df`'s seeds miss and where on the hd cube (see `failures`); returns the maps."""
    from IPython.display import Markdown, display

    counts = failure_counts(df)
    display(Markdown(failure_table(counts).to_markdown()))
    maps = FailureMaps.build(models, df, cubes.hd_hsv)
    with displayer_mpl(
        asset_path(nbid, 'failures'),
        alt_text=f'Titled "{{title}}". Left: one bar per threshold, the number of the {len(df)} seeds that miss it, '
        'split into seeds missing only it and seeds missing another too, with a line over the 95 % interval. '
        f'Right: {len(maps.panels)} heat maps of hue (degrees, across) by value (up), each the median over a '
        'group of seeds of the largest error over saturation, on one logarithmic colour scale, with a ring at '
        "each seed's worst colour. " + maps.describe() + '.',
        key=figure_key('failures', df, *(p.median.tobytes() for p in maps.panels)),
        column_layout=False,
    ) as show:

        def draw(theme: Theme) -> Figure:  # pyplot is imported only when the figure is not in the cache
            from ex_color.experiments.ex_2_10.plot import plot_failures

            title = f'Where the seeds fail{SEP}{len(df)} seeds' + (f'{SEP}{name}' if name else '')
            return plot_failures(counts, maps, title=title, theme=theme)

        show(draw)
    display(Markdown('Where the worst colours lie: ' + maps.describe().replace('; ', ';\n') + '.'))
    return maps
