"""A notebook's own tracking run holds what it concluded: read back from the offline run's own file.

`publish_results`, the call with which every notebook records its evaluation over seeds, also writes
one run for the notebook: its config names the notebook and the seeds scored, its summary holds the
pass rate, the medians, the claims, every seed's verdict and the figures the notebook rendered.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from ex_color.evaluation.ablation import metrics_table
from ex_color.experiments.notebook_record import begin, record_results
from ex_color.experiments.report import publish_results
from tests.wandb_runs import runs_by_name
from utils.nb import displayer_mpl

# Five seeds: three meet every threshold, seed 3 keeps red (ablated red 0.02 < 0.1), seed 4
# reconstructs poorly (baseline max 0.003 > 5e-4).
GOOD = {
    'red': 0.4,
    'median': 1e-4,
    'worst_gcb': 5e-4,
    'r': 0.8,
    'baseline_max': 2e-4,
    'baseline_median': 1e-5,
}
BY_SEED = {
    10: GOOD,
    11: GOOD | {'red': 0.3},
    12: GOOD | {'red': 0.5, 'r': 0.7},
    13: GOOD | {'red': 0.02},
    14: GOOD | {'baseline_max': 3e-3},
}


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    centre = (k + z * z / 2) / (n + z * z)
    half = z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


@pytest.fixture
def figures(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / 'figures'
    monkeypatch.setenv('EX_COLOR_FIGURES_DIR', str(folder))
    return folder


def draw(theme=None):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [1, 0, 1])
    fig.suptitle('a test line')
    return fig


def test_published_results_make_one_notebook_run_with_the_evaluation_and_the_figures(
    offline, figures, monkeypatch
):
    monkeypatch.setenv('WANDB_MODE', 'offline')
    with displayer_mpl('large-assets/ex-test-before.png', alt_text='before set-up') as show:
        show(draw)  # rendered before the session starts: not this notebook's
    begin('ex-test', 'ex-test-experiment', 'ex-color-test')
    with displayer_mpl('large-assets/ex-test-line.png', alt_text='A line, titled "{title}"') as show:
        show(draw)
    df = metrics_table(BY_SEED)

    publish_results('ex-test', 'Ex test', 'five made-up seeds', df, claims=())

    runs = runs_by_name(offline)
    assert sorted(runs) == ['ex-test · results']
    run = runs['ex-test · results']
    assert run.group == 'ex-test-experiment'
    assert run.config['notebook'] == 'ex-test'
    assert run.config['title'] == 'Ex test'
    assert run.config['seed list'] == [10, 11, 12, 13, 14]
    assert run.config['environment']['cpu capability']

    summary = run.summary
    assert (summary['seeds'], summary['passed'], summary['pass rate']) == (5, 3, 0.6)
    assert summary['pass rate interval'] == pytest.approx(wilson(3, 5), abs=1e-9)
    for metric in ('red', 'median', 'worst_gcb', 'r'):
        values = [row[metric] for row in BY_SEED.values()]
        assert summary[f'median/{metric}'] == pytest.approx(float(np.median(values)))
        low, high = summary[f'median interval/{metric}']
        assert min(values) <= low <= summary[f'median/{metric}'] <= high <= max(values)
    assert summary['claims'] == []

    table = summary['by seed']
    assert table['_type'] == 'table-file' and table['nrows'] == 5
    assert summary['figures/ex-test-line']['_type'] == 'image-file'
    assert summary['figures/ex-test-line']['caption'] == 'A line, titled "a test line"'
    assert not any(key.startswith('figures/ex-test-before') for key in summary)
    (folder,) = (offline / 'wandb').glob('offline-run-*')
    (image,) = (folder / 'files' / 'media' / 'images').rglob('*.png')
    assert image.read_bytes() == (figures / 'ex-test-line.png').read_bytes()


def test_a_disabled_tracker_records_nothing(offline, monkeypatch):
    monkeypatch.setenv('WANDB_MODE', 'disabled')
    begin('ex-test', 'ex-test-experiment', 'ex-color-test')
    payload = {'nbid': 'ex-test', 'seeds': 5, 'passed': 3}
    assert record_results(payload, metrics_table(BY_SEED)) is None
    assert not (offline / 'wandb').exists()
