"""The relearning figure: two panels from the recorded curves, a clear error when columns are missing."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from ex_color.experiments.ex_2_12.plot import plot_relearning


def curves() -> pd.DataFrame:
    rows = []
    for case in ('ablated', 'leace'):
        for seed in range(3):
            for step in range(0, 50, 5):
                for colour in ('red', 'green', 'cyan', 'blue'):
                    rows.append((case, f'{case} seed-{seed}', step, colour, 0.5 / (1 + step + seed)))
    return pd.DataFrame(rows, columns=['case', 'member', 'step', 'colour', 'mse'])


def test_two_log_panels_one_line_per_case():
    fig = plot_relearning(curves(), {'ablated': 10.0, 'leace': float('inf')}, before={'ablated': 1e-4})
    try:
        red, far = fig.axes
        assert red.get_yscale() == 'log' and far.get_yscale() == 'log'
        assert len(red.get_lines()) >= 2 and len(far.get_lines()) == 2
        legend = red.get_legend()
        assert legend is not None
        labels = [t.get_text() for t in legend.get_texts()]
        assert any('ablated (3 seeds)' in t for t in labels)
    finally:
        plt.close(fig)


def test_missing_columns_and_colours_are_named():
    with pytest.raises(KeyError, match='case'):
        plot_relearning(curves().drop(columns='case'), {})
    with pytest.raises(KeyError, match='cyan'):
        plot_relearning(curves()[curves()['colour'] != 'cyan'], {})
    assert plt.get_fignums() == []
