"""Progress that moves in a terminal: a redrawn line on a TTY, periodic plain lines in a log, and a
headless notebook's bar relayed by `./go run`'s runner from a real kernel."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import nbformat
import pytest

from utils.nbrun import run_notebook
from utils.progress.display import PlainLines, Progress, TerminalLine, default_sink
from utils.progress.terminal import PeriodicLines, RedrawnLine, live_line


class Tty(io.StringIO):
    """A terminal, as far as a writer can tell: it says it is one."""

    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_live_line_is_redrawn_on_a_terminal_and_plain_in_a_log():
    assert isinstance(live_line(Tty()), RedrawnLine)
    assert isinstance(live_line(io.StringIO()), PeriodicLines)


def test_a_redrawn_line_clears_for_other_output_and_comes_back_below_it():
    tty = Tty()
    line = RedrawnLine(tty)
    line.show('Training: [1/3]')
    line.clear()
    tty.write('a log line\n')
    line.redraw()
    line.show('Training: [3/3]')
    line.end()
    line.end()  # a second end adds nothing
    # '\r' + 15 spaces + '\r' blanks the 15 characters of 'Training: [1/3]' before the log line
    assert tty.getvalue() == (
        '\rTraining: [1/3]' + '\r' + ' ' * 15 + '\r' + 'a log line\n'
        '\rTraining: [1/3]' + '\rTraining: [3/3]' + '\n'
    )


def test_periodic_lines_print_the_first_then_one_per_interval_and_the_last_once():
    log, clock = io.StringIO(), Clock()
    lines = PeriodicLines(log, every=10.0, clock=clock)
    for t in range(25):  # one show a second: 0 s, 10 s and 20 s are due; 24 s is the last
        clock.now = float(t)
        lines.show(f'step {t}')
    lines.end()
    assert log.getvalue() == 'step 0\nstep 10\nstep 20\nstep 24\n'
    lines.show('again')  # after end, a new run starts with a line at once
    lines.end()
    assert log.getvalue().endswith('step 24\nagain\n')
    with pytest.raises(ValueError, match='every'):
        PeriodicLines(log, every=-1)


def test_a_bar_in_a_log_writes_few_plain_lines_and_ends_on_its_final_state():
    log, clock = io.StringIO(), Clock()
    bar = Progress('Training', 1000, interval=0, sink=PlainLines(log, every=15.0, clock=clock))
    for i in range(1, 1001):
        clock.now = i / 16  # exact in binary; 62.5 s in all: lines at 1/16 s, then 15, 30, 45 and 60 s later
        bar.update(i, {'train_loss': 1.0 / i})
    bar.close({'train_loss': 0.001})
    lines = log.getvalue().splitlines()
    assert '\r' not in log.getvalue()
    assert [re.findall(r'\[(\d+)/1000\]', line) for line in lines] == [
        ['1'],  # at 1/16 s
        ['241'],  # 241 / 16 = 15.0625 s = 1/16 + 15
        ['481'],
        ['721'],
        ['961'],
        ['1000'],  # the close
    ]
    assert lines[-1].endswith('train_loss=0.001')


def test_outside_a_notebook_the_default_bar_follows_what_stderr_is(monkeypatch):
    monkeypatch.setattr(sys, 'stderr', Tty())
    assert isinstance(default_sink(), TerminalLine)
    monkeypatch.setattr(sys, 'stderr', io.StringIO())
    assert isinstance(default_sink(), PlainLines)


# -- a real kernel, through the runner ------------------------------------------------------------

STEPS = 60

BAR_CELL = f"""
import time
from utils.progress.display import Progress

bar = Progress('Training 3 members', {STEPS}, interval=0)
for i in range(1, {STEPS + 1}):
    bar.update(i, {{'train_loss': 1.0 / i, 'train_reg-anchor': 0.5}})
    if i == {STEPS // 2}:
        print('halfway there', flush=True)
    time.sleep(0.02)
bar.close({{'train_loss': 0.01, 'train_reg-anchor': 0.25}})
"""


def bar_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    nb.cells = [nbformat.v4.new_code_cell(BAR_CELL)]
    path = folder / 'ex-0.0-bar.ipynb'
    nbformat.write(nb, path)
    return path


def counts(text: str) -> list[int]:
    return [int(m) for m in re.findall(rf'\[(\d+)/{STEPS}\]', text)]


def test_the_runner_redraws_a_kernels_bar_on_a_terminal_with_logs_above_it(tmp_path, monkeypatch):
    tty = Tty()
    monkeypatch.setattr(sys, 'stdout', tty)  # one terminal shows both streams, as `./go run` does
    monkeypatch.setattr(sys, 'stderr', tty)
    saved = run_notebook(bar_notebook(tmp_path), smoke=True, out_dir=tmp_path / 'out')
    shown = tty.getvalue()
    frames = counts(shown)
    assert len(set(frames)) >= 5, shown  # it moved: many states, not one
    assert frames == sorted(frames) and frames[-1] == STEPS
    assert '<div' not in shown and '<svg' not in shown
    # the log line is printed on a cleared line, and the bar is drawn again below it
    assert re.search(r'\r +\rhalfway there\n\rTraining 3 members: ', shown), shown
    assert re.search(rf'\[{STEPS}/{STEPS}\][^\r\n]*train_loss=0\.01[^\r\n]*\n', shown)
    # what the notebook keeps: the final frame, with a one-line plain-text form
    outputs = nbformat.read(saved, as_version=4).cells[0].outputs
    (plain,) = [o.data['text/plain'] for o in outputs if 'text/html' in o.get('data', {})]
    assert plain.startswith(f'Training 3 members: 100.0% [{STEPS}/{STEPS}]') and '\n' not in plain
    assert plain.index('train_loss=') < plain.index('train_reg-anchor=0.25')


def test_the_runner_writes_a_kernels_bar_as_plain_lines_in_a_log(tmp_path, capsys):
    run_notebook(bar_notebook(tmp_path), smoke=True, out_dir=tmp_path / 'out')
    captured = capsys.readouterr()
    assert '\r' not in captured.err
    bar_lines = [line for line in captured.err.splitlines() if line.startswith('Training 3 members:')]
    # the run lasts about a second, under one interval: its first state and its last, once each
    assert counts('\n'.join(bar_lines)) == [1, STEPS], captured.err
    assert 'halfway there\n' in captured.out and 'Training' not in captured.out
