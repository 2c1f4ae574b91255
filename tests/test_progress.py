"""Progress display: content of the line, in-place redraws, rate limiting, and the Lightning bar."""

from __future__ import annotations

import io

from ex_color.training import fit
from tests.training_helpers import data, module
from utils.progress.display import Progress, ProgressState, TerminalLine
from utils.progress.lightning import LightningProgress


class Recorder:
    def __init__(self) -> None:
        self.draws: list[tuple[int, dict]] = []
        self.closed: ProgressState | None = None

    def draw(self, state: ProgressState) -> None:
        self.draws.append((state.count, dict(state.metrics)))

    def close(self, state: ProgressState) -> None:
        self.closed = state


def test_summary_shows_step_total_percentage_rate_eta_and_metrics():
    state = ProgressState('Training', count=750, total=1500, elapsed=5.0, metrics={'train_loss': 0.012345})
    text = state.summary()
    # 750/1500 = 50.0%; rate = 750 / 5 s = 150 it/s; eta = (1500 - 750) / 150 = 5 s
    assert 'Training:  50.0% [750/1500]' in text
    assert '150 it/s' in text
    assert '00:05<00:05' in text
    assert 'train_loss=0.01235' in text


def test_terminal_line_redraws_in_place_and_ends_with_one_newline():
    stream = io.StringIO()
    sink = TerminalLine(stream)
    sink.draw(ProgressState('Training', count=1, total=10, elapsed=1.0, metrics={'loss': 1.0}))
    sink.draw(ProgressState('Training', count=2, total=10, elapsed=1.0))
    sink.close(ProgressState('Training', count=10, total=10, elapsed=2.0))
    out = stream.getvalue()
    assert out.count('\r') == 3
    assert out.count('\n') == 1 and out.endswith('\n')
    # The second, shorter line is padded so no characters of the first one remain visible.
    second = out.split('\r')[2]
    assert len(second) >= len(out.split('\r')[1])


def test_updates_are_rate_limited_but_close_always_draws():
    rec = Recorder()
    bar = Progress('Work', 1000, interval=3600, sink=rec)
    for i in range(1000):
        bar.update(i + 1, lambda: {'x': 1.0})
    bar.close()
    assert len(rec.draws) == 1  # only the first update; the hour-long interval suppresses the rest
    assert rec.closed is not None and rec.closed.count == 1000


def test_fit_shows_the_whole_fit_as_one_bar_step_by_step():
    rec = Recorder()
    train, val = data(0)
    bar = Progress('Training', 20, interval=0, sink=rec)
    fit(module(0), train, val, run_name='t', max_steps=20, wandb_mode='disabled', progress=bar,
        log_every_n_steps=4)  # fmt: skip
    counts = [c for c, _ in rec.draws]
    assert counts == list(range(1, 21))  # the project's loop reports every step
    assert rec.closed is not None
    assert rec.closed.count == 20 and rec.closed.total == 20
    assert 'train_loss' in rec.closed.metrics and 'val_loss' not in rec.closed.metrics  # no validation yet


def test_lightning_progress_shows_a_seed_style_fit_as_one_bar():
    import lightning as L

    rec = Recorder()
    m = module(0)
    train, val = data(0)
    trainer = L.Trainer(
        max_steps=20, logger=False, callbacks=[LightningProgress(interval=0, sink=rec)],
        enable_model_summary=False, enable_checkpointing=False, accelerator='cpu',
    )  # fmt: skip
    m.log_every_n_steps = 4
    trainer.fit(m, train, val)
    counts = [c for c, _ in rec.draws]
    assert counts[0] == 1 and counts == sorted(counts)
    assert rec.closed is not None
    assert rec.closed.count == 20 and rec.closed.total == 20
    assert 'train_loss' in rec.closed.metrics


def test_live_chart_keeps_a_bounded_history_and_the_final_values():
    from utils.progress.display import MAX_POINTS, History, svg_chart

    h = History()
    for step in range(1, 3 * MAX_POINTS):
        h.add(step, {'train_recon': 1.0 / step, 'train_loss': 2.0 / step})
    h.add(3 * MAX_POINTS - 1, {'train_recon': 0.5, 'train_loss': 0.25})  # the close: same step, final values
    assert len(h.steps) <= MAX_POINTS and h.steps[-1] == 3 * MAX_POINTS - 1
    assert h.values['train_recon'][-1] == 0.5
    h.add(3 * MAX_POINTS, {'train_recon': 0.1, 'train_loss': 0.1, 'train_reg-anchor': 0.01})  # a late metric
    assert len(h.values['train_reg-anchor']) == len(h.steps)
    svg = svg_chart(h)
    import xml.dom.minidom

    xml.dom.minidom.parseString(svg[svg.index('<svg') : svg.index('</svg>') + 6])
    assert svg.count('<polyline') == 2  # the late metric has one point: no line yet
    assert f'step {3 * MAX_POINTS}</text>' in svg and 'train_reg-anchor' in svg
    assert svg_chart(History()) == ''


def test_notebook_bar_draws_the_chart_and_the_terminal_line_does_not():
    import io

    from utils.progress.display import Progress, TerminalLine, _Html

    stream = io.StringIO()
    bar = Progress('Training', 10, interval=0, sink=TerminalLine(stream))
    for i in range(1, 11):
        bar.update(i, {'train_loss': 1.0 / i})
    bar.close({'train_loss': 0.05})
    assert '<svg' not in stream.getvalue() and stream.getvalue().count('\n') == 1
    assert '<svg' in _Html(bar.state)._repr_html_()
