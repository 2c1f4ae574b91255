"""The figures every ablation notebook shows, named and described the same way in each.

Each `show_*` renders light and dark PNGs into ``large-assets/ex-<nbid>-<kind>-<tags>.png`` through
`displayer_mpl` and displays them as a `<picture>` with alt text. Notebooks call these instead of
repeating the plotting code.

A figure drawn from a table passes `figure_key(...)` of that table to `displayer_mpl`, so a re-run with
the same numbers and the same plotting code writes the kept PNGs instead of drawing them again. The
plotting modules are imported where a figure is drawn, so a notebook served from the cache never
loads pyplot.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ex_color.data.color_cube import ColorCube
from mini.temporal.dopesheet import Dopesheet
from utils.code_digest import CODE_MEMO, code_digest
from utils.nb import displayer_mpl
from utils.paths import runs_root

SEP = ' · '
LATENT_DIMS_5D = [(1, 0, 2), (2, 0, 1), (3, 0, 1), (4, 1, 2), (3, 2, 4), (4, 3, 0)]


FIGURE_SOURCES = (
    'ex_color/vis',
    'ex_color/experiments',
    'ex_color/evaluation',
    'mini/temporal',
    'utils/plt',
    'utils/nb',
)
"""The code a figure may depend on, relative to ``src/`` (a change anywhere here draws every figure again)."""


def figure_key(kind: str, *inputs: Any) -> str:
    """A key for `displayer_mpl`'s figure cache: the figure's kind, its inputs (tables by their values,
    index, columns and dtypes; anything else by its repr) and the plotting code (`FIGURE_SOURCES`)."""
    h = hashlib.sha256(kind.encode())
    h.update(
        code_digest(
            Path(__file__).resolve().parents[2], FIGURE_SOURCES, memo=runs_root() / CODE_MEMO
        ).encode()
    )
    for value in inputs:
        if isinstance(value, pd.DataFrame):
            h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
            h.update(repr([list(value.columns), [str(t) for t in value.dtypes], value.index.names]).encode())
        else:
            h.update(repr(value).encode())
        h.update(b'|')
    return h.hexdigest()


def tags_for_file(tags: Sequence[str]) -> str:
    """'ablated', 'no intervention' → 'ablated-no-intervention'."""
    return '-'.join(re.sub(r'[^a-zA-Z0-9]+', '-', tag.lower()).strip('-') for tag in tags)


def asset_path(nbid: str, kind: str, tags: Sequence[str] = ()) -> str:
    """The figure file of notebook `nbid` for `kind` (and `tags`), under large-assets/."""
    suffix = f'-{tags_for_file(tags)}' if tags else ''
    return f'large-assets/ex-{nbid}-{kind}{suffix}.png'


def show_dopesheet(dopesheet: Dopesheet, *, nbid: str) -> None:
    from mini.temporal.vis import plot_dopesheet

    with displayer_mpl(
        asset_path(nbid, 'dopesheet'),
        alt_text='Plot showing the parameter schedule for the training run. The plot has two '
        'sections: the upper section shows the regularisation weights over time, and the lower section shows '
        'the learning rate over time. The x-axis represents training steps.',
        column_layout=False,
    ) as show:
        show(lambda theme: plot_dopesheet(dopesheet, theme))


def show_reconstruction(data: ColorCube, *, nbid: str, tags: Sequence[str]) -> None:
    from ex_color.vis.color_slices import plot_colors

    with displayer_mpl(
        asset_path(nbid, 'pred-colors', tags),
        alt_text='Plot showing four slices of the HSV cube, titled "{title}". Nominally, each slice has constant '
        'saturation, but varies in value (brightness) from top to bottom, and in hue from left to right. Each '
        'color value is represented as a square patch of that color. The outer portion of the patches shows the '
        'color as reconstructed by the model; the inner portion shows the true (input) color.',
        column_layout=False,
    ) as show:
        show(
            lambda: plot_colors(
                data, title=f'Predicted colors{SEP}{SEP.join(tags)}', colors='recon', colors_compare='color'
            )
        )


def show_loss(
    data: ColorCube, *, nbid: str, tags: Sequence[str], title_tags: Sequence[str] | None = None
) -> tuple[float, float]:
    """Error-per-colour lines on the hd cube; prints and returns (max, median) MSE. `tags` name the
    file; `title_tags` (default: `tags`) head the figure, e.g. to say which seed it is."""
    from ex_color.vis.cube_series import plot_cube_series

    mse = data['MSE']
    max_loss, median_loss = float(np.max(mse)), float(np.median(mse))
    with displayer_mpl(
        asset_path(nbid, 'loss-colors', tags),
        alt_text='Line chart showing loss per color, titled "{title}". Y-axis: mean square error, ranging from '
        f'zero to {max_loss:.2g}. X-axis: hue, then saturation, then value. A legend above the hue panel names '
        'the value level of each stacked curve.',
    ) as show:
        show(
            lambda theme: plot_cube_series(
                data.permute('hsv')[:, -1:, :: (data.shape[2] // -5)],
                data.permute('svh')[:, -1:, :: -(data.shape[0] // -3)],
                data.permute('vsh')[:, -1:, :: -(data.shape[0] // -3)],
                title=f'Reconstruction error{SEP}{SEP.join(tags if title_tags is None else title_tags)}',
                var='MSE',
                theme=theme,
            )
        )
    print(f'Max loss: {max_loss:.2g}')
    print(f'Median MSE: {median_loss:.2g}')
    return max_loss, median_loss


def show_latents(
    data: ColorCube, *, nbid: str, tags: Sequence[str], dims: Sequence[tuple[int, int, int]] = LATENT_DIMS_5D
) -> None:
    from ex_color.vis.latent_grid import plot_latent_grid_3d_from_cube

    with displayer_mpl(
        asset_path(nbid, 'latents', tags),
        alt_text=f'{len(dims)} circular plots in a grid, titled "{{title}}". Each shows the colours of an RGB cube '
        'as dots on the unit hypersphere of the latent space, projected onto the two latent dimensions named on its '
        'axes (e₀…e₄) and drawn front to back along the third, named in its title. Dot fill is the true colour; the ring around it is the reconstruction.',
    ) as show:
        show(
            lambda theme: plot_latent_grid_3d_from_cube(
                data,
                colors='recon',
                colors_compare='color',
                latents='latents',
                title=f'Latents{SEP}{SEP.join(tags)}',
                dims=dims,
                theme=theme,
            )
        )


def show_seed_metrics(
    groups: Mapping[str, pd.DataFrame], *, nbid: str, tags: Sequence[str] = (), highlight: int = 0
) -> None:
    """Every seed's headline and thresholded metrics (one panel each), one row per configuration,
    thresholds dashed, seed `highlight` ringed."""
    from ex_color.evaluation.metrics import HEADLINE_METRICS, LOG_SCALE, METRICS, THRESHOLDS
    from ex_color.vis.seed_metrics import plot_seed_metrics

    n = max(len(df) for df in groups.values())
    limits = {th.metric: th.limit for th in THRESHOLDS}
    shown = tuple(m for m in METRICS if m in HEADLINE_METRICS or m in limits)
    with displayer_mpl(
        asset_path(nbid, 'seeds', tags),
        alt_text=f'{len(shown)} panels, titled "{{title}}", one per metric: {", ".join(METRICS[m] for m in shown)}. '
        f'Each panel has one row per configuration ({", ".join(groups)}); each of the {n} seeds is a dot over a box '
        f'spanning the middle half of the seeds, seed {highlight} is ringed, and a dashed line marks the threshold. '
        'Lines join the same seed across configurations.',
        column_layout=False,
    ) as show:
        show(
            lambda theme: plot_seed_metrics(
                groups,
                shown,
                labels=METRICS,
                limits=limits,
                log=tuple(m for m in shown if m in LOG_SCALE),
                highlight=highlight,
                title=f'Per-seed metrics{SEP}{n} seeds' + (f'{SEP}{SEP.join(tags)}' if tags else ''),
                theme=theme,
            )
        )


def show_training_history(
    history: pd.DataFrame, dopesheet: Dopesheet, *, nbid: str, tags: Sequence[str] = ()
) -> None:
    """The main run's training and validation terms against step, on the dopesheet's time axis."""
    from ex_color.vis.training_history import plot_training_history

    with displayer_mpl(
        asset_path(nbid, 'training-history', tags),
        alt_text='Two line charts sharing a step axis, titled "{title}": the training terms (window means) above '
        'and the validation terms below, each on a logarithmic scale, with a faint vertical line where each phase '
        'of the schedule starts.',
        column_layout=False,
    ) as show:
        show(
            lambda theme: plot_training_history(
                history,
                dopesheet,
                title=f'Training history{SEP}{SEP.join(tags)}' if tags else 'Training history',
                theme=theme,
            )
        )
