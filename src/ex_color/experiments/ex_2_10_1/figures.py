"""Ex 2.10.1's figures, the ones a seed-sweep notebook shows: error vs similarity, metric box plots and the results figure.

Each `show_*` renders light and dark PNGs into ``large-assets/ex-<nbid>-<kind>-<tags>.png`` through
`displayer_mpl` and displays them as a `<picture>` with alt text, exactly like `figures.py` (whose
asset naming and title separator it reuses), so notebooks call one line per figure.

Deliberately not done here: no computation beyond what the figure shows (scores come from
`ex_color.evaluation`), no file names of its own making.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd
from numpy.typing import ArrayLike

from ex_color.data.color_cube import ColorCube
from ex_color.evaluation.correlation import correlation_cube
from ex_color.experiments.figures import SEP, asset_path
from ex_color.vis.boxplot import plot_metric_boxes
from ex_color.vis.latent_grid import ConeAnnotation
from ex_color.vis.results_figure import plot_results
from ex_color.vis.similarity_scatter import (
    SimilarityFit,
    anchor_label,
    fit_similarity,
    plot_error_vs_similarity,
    similarity_points,
)
from utils.nb import displayer_mpl

if TYPE_CHECKING:
    from ex_color.evaluation.test_set import TestSet


def _title(kind: str, tags: Sequence[str]) -> str:
    return SEP.join([kind, *tags])


def show_error_vs_similarity(
    data: ColorCube | TestSet,
    *,
    nbid: str,
    tags: Sequence[str],
    anchor_hsv: ArrayLike = (0.0, 1.0, 1.0),
    power: float = 3,
) -> SimilarityFit:
    """Scatter of error against similarity^power to the anchor; returns the fitted line and r."""
    name = anchor_label(anchor_hsv)
    with displayer_mpl(
        asset_path(nbid, 'error-vs-similarity', tags),
        alt_text=f'Scatter plot titled "{{title}}". Each dot is one colour of an RGB cube, drawn in that colour; '
        f'the x-axis is its similarity to {name} raised to the power {power:g}, from 0 to 1, and the y-axis is '
        'its reconstruction error (MSE). A dashed least-squares line is labelled with the Pearson correlation '
        'r and R squared.',
        column_layout=False,
    ) as show:
        show(
            lambda theme: plot_error_vs_similarity(
                data, anchor_hsv, power, title=_title('Error vs similarity', tags), theme=theme
            )
        )
    # The numbers the figure shows, for the notebook to print or record.
    return fit_similarity(similarity_points(correlation_cube(data), anchor_hsv, power))


def show_metric_boxes(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    nbid: str,
    tags: Sequence[str],
    log: bool | Collection[str] | None = None,
    titles: Mapping[str, str] | None = None,
    xlims: Mapping[str, tuple[float, float]] | None = None,
) -> None:
    """One horizontal box per metric column over the sweep's runs, every run drawn as a dot."""
    labels = [(titles or {}).get(c, c) for c in columns]
    with displayer_mpl(
        asset_path(nbid, 'boxplot', tags),
        alt_text=f'Box plots titled "{{title}}", one row per metric ({", ".join(labels)}), summarising '
        f'{len(df)} training runs. Each box spans the middle half of the runs with a line at the median; '
        'whiskers reach the furthest run within 1.5 box lengths; dots are the individual runs.',
        column_layout=False,
    ) as show:
        show(
            lambda theme: plot_metric_boxes(
                df,
                columns,
                log=log,
                titles=titles,
                xlims=xlims,
                title=_title('Sweep metrics', tags),
                theme=theme,
            )
        )


def show_results(
    test_set: TestSet | Mapping[str, ColorCube],
    *,
    nbid: str,
    tags: Sequence[str],
    max_error: float | None = None,
    latent_dims: Sequence[tuple[int, int, int]] = ((1, 0, 2), (2, 0, 1)),
    anchor_annotation: ConeAnnotation | Sequence[ConeAnnotation] | None = None,
) -> None:
    """The stacked results figure: latents, full-saturation colours, and hue-wise error."""
    y_range = 'zero to the largest error shown' if max_error is None else f'zero to {max_error:.2g}'
    with displayer_mpl(
        asset_path(nbid, 'results', tags),
        alt_text='Three-part figure titled "{title}". Top: two circular plots of the latent space, each '
        'showing the colours of an RGB cube as dots projected onto two latent dimensions; dot fill is the '
        'true colour and the ring the reconstruction. Middle: a grid of colour patches at full saturation, '
        'hue from left to right and value increasing upwards; the outer part of each patch is the '
        'reconstructed colour, the inner square the true colour. Bottom: line chart of reconstruction error '
        f'against hue at full saturation for five brightness levels, y-axis from {y_range}.',
        column_layout=False,
    ) as show:
        show(
            lambda theme: plot_results(
                test_set,
                title=_title('Results', tags),
                latent_dims=latent_dims,
                anchor_annotation=anchor_annotation,
                max_error=max_error,
                theme=theme,
            )
        )
