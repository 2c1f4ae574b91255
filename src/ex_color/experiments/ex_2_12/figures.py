"""Ex 2.12's figure: the relearning curves of each way of deleting red (drawn by `plot`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ex_color.experiments.figures import asset_path
from utils.nb import displayer_mpl

__all__ = ['show_relearning']


def show_relearning(
    curves: pd.DataFrame,
    half_steps: Mapping[str, float],
    *,
    nbid: str,
    before: Mapping[str, float] | None = None,
    level: float | None = None,
    far: Sequence[str] = ('green', 'cyan', 'blue'),
    labels: Mapping[str, str] | None = None,
) -> None:
    """The error at red and the worst far colour's error against fine-tuning steps, per way of deleting."""
    from ex_color.experiments.ex_2_12.plot import plot_relearning

    names = ', '.join((labels or {}).get(c, c) for c in dict.fromkeys(curves['case']))
    with displayer_mpl(
        asset_path(nbid, 'relearning'),
        alt_text='Two panels titled "{title}", against fine-tuning steps: left, the reconstruction error at red; '
        f'right, the worst error of {", ".join(far)}; both on log scales. One line per way of deleting red '
        f'({names}): the median over seeds, with the interquartile range shaded. Dots mark the median step at '
        'which the error at red was half-way back in orders of magnitude; dotted lines the median red error '
        'before deletion; a dashed line the error at which red counts as relearned.',
        column_layout=False,
    ) as show:
        show(
            lambda theme: plot_relearning(
                curves, half_steps, before=before, level=level, far=far, labels=labels, theme=theme
            )
        )
