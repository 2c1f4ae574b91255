"""Ex 2.10.2's figures: the search's progress, trial by trial, and its Pareto front (drawn by `plot`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ex_color.experiments.figures import asset_path
from utils.nb import displayer_mpl

__all__ = ['show_search_front', 'show_search_progress']


def show_search_progress(
    trials: pd.DataFrame,
    objectives: Sequence[tuple[str, str]],
    *,
    nbid: str,
    labels: Mapping[str, str],
    log: Sequence[str] = (),
) -> None:
    """Every trained trial's objectives in the order the search ran them."""
    from ex_color.experiments.ex_2_10_2.plot import plot_search_progress

    names = ', '.join(labels.get(m, m) for m, _ in objectives)
    with displayer_mpl(
        asset_path(nbid, 'search-progress'),
        alt_text=f'Panels titled "{{title}}", one per objective ({names}), each trial\'s median over its seeds '
        'against the trial number. Filled dots keep every constraint, hollow ones break one; a step line follows the '
        'best feasible value so far, faint vertical lines separate batches, and a star marks the template schedule.',
        column_layout=False,
    ) as show:
        show(lambda theme: plot_search_progress(trials, objectives, labels=labels, log=log, theme=theme))


def show_search_front(
    trials: pd.DataFrame,
    front: Sequence[int],
    *,
    x: str,
    y: str,
    colour: str,
    chosen: int | None,
    nbid: str,
    labels: Mapping[str, str],
    log: Sequence[str] = (),
) -> None:
    """The feasible trials on two objectives, coloured by a third, with the Pareto front ringed."""
    from ex_color.experiments.ex_2_10_2.plot import plot_search_front

    with displayer_mpl(
        asset_path(nbid, 'search-front'),
        alt_text=f'Scatter plot titled "{{title}}": every feasible trial\'s {labels.get(x, x)} (x) against its '
        f'{labels.get(y, y)} (y), coloured by {labels.get(colour, colour)}. Trials on the Pareto front are ringed, '
        'a star marks the template schedule and a diamond the chosen trial.',
        column_layout=False,
    ) as show:
        show(
            lambda theme: plot_search_front(
                trials, front, x=x, y=y, colour=colour, chosen=chosen, labels=labels, log=log, theme=theme
            )
        )
