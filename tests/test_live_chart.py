"""The live chart: which metrics it draws (by name), one stable colour per term, and text forms that
read well where HTML or SVG cannot be shown."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ex_color.training import fit
from mini.temporal.dopesheet import Dopesheet
from tests.training_helpers import data, module
from utils.progress import chart_metrics, metric_colour, term_name
from utils.progress.chart import MAX_SERIES, History, svg_chart
from utils.progress.colours import SPARE_COLOURS, TERM_COLOURS
from utils.progress.display import Progress, ProgressState, _Html

NOTEBOOKS = Path(__file__).resolve().parents[1] / 'notebooks'

# The order the engine reports an Ex 2.10 run's metrics in: the anchor's weight is 0 for the first
# steps, so its term arrives last (after the validation means), where "the first four" never reached.
EX_2_10_ORDER = [
    'train_recon', 'train_reg-separate', 'train_reg-anti-subspace', 'train_loss',
    'val_loss', 'val_recon', 'val_reg-anchor', 'train_reg-anchor',
]  # fmt: skip


class Recorder:
    def draw(self, state: ProgressState) -> None:
        pass

    def close(self, state: ProgressState) -> None:
        pass


def strokes(chart: str) -> list[str]:
    return re.findall(r'<polyline fill="none" stroke="(#[0-9a-f]{6})"', chart)


def stripped(markup: str) -> str:
    """What a viewer that drops every tag (SVG included) but keeps their text shows, spaces collapsed."""
    parser = TextOnly()
    parser.feed(markup)
    return ' '.join(''.join(parser.chunks).split())


class TextOnly(HTMLParser):
    """Collects the text between tags."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def test_the_chart_draws_loss_recon_and_every_term_and_no_validation_mean():
    pick = chart_metrics(EX_2_10_ORDER)
    assert pick.drawn == [
        'train_loss', 'train_recon', 'train_reg-separate', 'train_reg-anti-subspace', 'train_reg-anchor',
    ]  # fmt: skip
    assert pick.left_out == []


def test_terms_past_the_limit_are_left_out_in_report_order_and_named_under_the_chart():
    terms = [f'train_reg-t{i}' for i in range(MAX_SERIES)]  # 2 + MAX_SERIES candidates
    pick = chart_metrics(['val_loss', *terms, 'train_recon', 'train_loss'])
    assert pick.drawn == ['train_loss', 'train_recon', *terms[: MAX_SERIES - 2]]
    assert pick.left_out == terms[MAX_SERIES - 2 :]
    h = History()
    for step in (1, 2):
        h.add(step, {name: 1.0 / step for name in [*terms, 'train_recon', 'train_loss']})
    chart = svg_chart(h)
    assert len(strokes(chart)) == MAX_SERIES
    assert f'not drawn: {", ".join(terms[MAX_SERIES - 2 :])}' in chart
    with pytest.raises(ValueError, match='limit'):
        chart_metrics(terms, limit=0)


def test_a_real_fits_chart_draws_the_anchor_in_the_colour_the_history_figure_gets():
    bar = Progress('Training', 40, interval=0, sink=Recorder())
    fit(module(0), *data(0), run_name='t', max_steps=40, wandb_mode='disabled', progress=bar,
        log_every_n_steps=4)  # fmt: skip
    assert 'train_reg-anchor' in bar.state.metrics
    chart = svg_chart(bar.state.history)
    drawn = chart_metrics(bar.state.history.values).drawn
    assert set(drawn) == {'train_loss', 'train_recon', 'train_reg-separate', 'train_reg-anchor',
                          'train_reg-anti-subspace'}  # fmt: skip
    # every line in its term's colour, the anchor red as in TERM_COLOURS; the legend says which is which
    assert sorted(strokes(chart)) == sorted(metric_colour(n) for n in drawn)
    assert metric_colour('val_reg-anchor') == metric_colour('train_reg-anchor') == TERM_COLOURS['anchor']
    assert (
        f'<span style="color:{TERM_COLOURS["anchor"]};margin-right:0.8em;white-space:nowrap">━ train_reg-anchor</span>'
        in chart
    )
    assert 'val_' not in chart


def test_a_term_has_one_colour_whatever_its_phase_layer_or_reg_prefix():
    assert term_name('train_reg-anchor:bottleneck') == 'anchor'
    assert term_name('val_anti-subspace') == 'anti-subspace'
    assert term_name('train_loss') == 'loss'
    assert metric_colour('train_anchor') == metric_colour('val_reg-anchor:encoder') == metric_colour('anchor')
    for bad in ('', 'train_', 'reg-'):
        with pytest.raises(ValueError, match='metric'):
            term_name(bad)


@pytest.mark.parametrize('sheet', sorted(p.name for p in NOTEBOOKS.glob('*dopesheet*.csv')))
def test_every_notebooks_terms_are_told_apart_by_colour(sheet):
    columns = set(Dopesheet.from_csv(NOTEBOOKS / sheet).props) - {'lr'}
    names = ['train_loss', 'train_recon', *(f'train_{c}' for c in sorted(columns))]
    colours = [metric_colour(n) for n in names]
    assert len(set(colours)) == len(names), dict(zip(names, colours, strict=True))


def test_an_unknown_term_gets_a_spare_colour_the_same_in_every_process():
    code = 'from utils.progress import metric_colour; print(metric_colour("train_reg-mystery"))'
    seen = set()
    for seed in ('1', '2'):  # str hashing differs between these; the colour must not
        env = {**os.environ, 'PYTHONHASHSEED': seed}
        out = subprocess.run(
            [sys.executable, '-c', code], capture_output=True, text=True, env=env, check=True
        )
        seen.add(out.stdout.strip())
    assert seen == {metric_colour('train_reg-mystery')}
    assert seen <= set(SPARE_COLOURS) and not seen & set(TERM_COLOURS.values())


def test_a_viewer_that_strips_svg_shows_a_readable_caption_not_labels_run_together():
    h = History()
    for step in (16, 800, 1501):
        h.add(step, {'train_loss': 18.0 / step, 'train_recon': 2.3e-5 * 1501 / step})
    chart = svg_chart(h)
    svg = chart[chart.index('<svg') : chart.index('</svg>')]
    assert svg.count('<text') == 1 and 'step 1501</text>' in svg  # one label in the picture
    # 18/16 = 1.125 is the top of the range, 2.3e-05 the bottom
    assert stripped(chart) == 'step 1501 from step 16, log scale 2.3e-05 to 1.1: ━ train_loss ━ train_recon'
    bar = Progress('Training', 1501, interval=0, sink=Recorder())
    bar.state.history = h
    bar.close({'train_loss': 0.012, 'train_recon': 2.3e-05})
    page = stripped(_Html(bar.state)._repr_html_())
    assert 'it/s train_loss 0.012 train_recon 2.3e-05 step 1501 from step 16,' in page, page


def test_the_plain_text_form_is_one_status_line_with_the_anchor_early():
    from IPython.core.formatters import DisplayFormatter

    metrics = {name: 0.5 for name in EX_2_10_ORDER} | {'labels/red': 0.1}
    state = ProgressState('Training 400 members', count=560, total=1501, elapsed=21.0, metrics=metrics)
    data, _ = DisplayFormatter().format(_Html(state))
    plain = data['text/plain']
    assert '\n' not in plain and '<' not in plain.replace('00:21<', '')
    # 560 / 1501 = 37.3 %; 560 it / 21 s = 27 it/s; (1501 - 560) / 26.67 it/s = 35.3 s left
    assert plain.startswith('Training 400 members:  37.3% [560/1501] | 00:21<00:35, 27 it/s | ')
    names = [part.split('=')[0] for part in plain.split(' | ')[2:]]
    assert names[:5] == chart_metrics(EX_2_10_ORDER).drawn
    assert names[5:] == ['val_loss', 'val_recon', 'val_reg-anchor', 'labels/red']
