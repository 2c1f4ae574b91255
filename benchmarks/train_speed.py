"""How much does the library's training cost over a bare PyTorch loop? And how fast is inference?

Times, in one process, on the Ex 2.10 configuration (1501 steps, batch 64, three regularisers):

(a) the library: `ex_color.experiments.ex_2_10.train` — the project's loop over the engine, the
    progress bar, label accounting and wandb in offline mode (written to a temporary folder);
(b) a minimal loop: the same model, losses, schedule, batches and step count, plain PyTorch;

and prints both wall times and the ratio a/b (median over --repeats runs), then the time to run the
model over the test set's loss cube (150×24×24 = 86,400 colours) with latent capture.

(c) the live training view: run (a) once more as a notebook would draw it (the HTML bar with its
    chart, rendered at every redraw; only the transport to a browser is left out), timing every
    render, and print their total as a share of that fit.

    ./go bench train_speed [--repeats 3] [--steps 1501]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch
from torch import nn

from ex_color.experiments import ex_2_10
from ex_color.experiments.common import evaluation_cubes
from ex_color.model import CNColorMLP
from ex_color.model.inference import infer
from ex_color.seed import set_deterministic_mode
from ex_color.training import fast_cpu_math
from ex_color.training.loop import LoopCallback, TrainLoop
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline
from utils.paths import project_root


def plain_loop(dopesheet: Dopesheet, steps: int, seed: int = 0) -> tuple[float, float]:
    """(wall, CPU) seconds of the bare loop."""
    set_deterministic_mode(seed)
    model = CNColorMLP(ex_2_10.K, n_nonlinear=ex_2_10.N)
    train_data, _ = ex_2_10.make_data(seed)
    regs = ex_2_10.regularizers()
    timeline = Timeline(dopesheet)
    lr = timeline.values('lr').tolist()
    weights = {r.name: timeline.values(r.name).tolist() for r in regs}
    opt = torch.optim.Adam(model.parameters(), lr=lr[0], foreach=True)  # as TrainingModule
    mse = nn.MSELoss()
    start, cpu = time.perf_counter(), time.process_time()
    with fast_cpu_math(1):
        step = 0
        while step < steps:
            for x, labels in train_data:
                if step >= steps:
                    break
                s = min(step, len(lr) - 1)
                z = model.bottleneck(model.encoder(x))
                y = model.decoder(z)
                loss = mse(y, x)
                for r in regs:
                    w = weights[r.name][s]
                    if w == 0:
                        continue
                    per = r.compute_loss_term(z)
                    if r.label_affinities:
                        alpha = labels['red']
                        if alpha.sum() == 0:
                            continue
                        term = (alpha * per).sum() / (alpha.sum() + 1e-8)
                    else:
                        term = per.mean()
                    loss = loss + w * term
                opt.zero_grad()
                loss.backward()
                for g in opt.param_groups:
                    g['lr'] = lr[s]
                opt.step()
                step += 1
    return time.perf_counter() - start, time.process_time() - cpu


class LoopTimer(LoopCallback):
    """Wall time between the first and the last training batch (the rest is set-up and tear-down)."""

    def on_fit_start(self, loop: TrainLoop) -> None:
        self.start = time.perf_counter()

    def on_fit_end(self, loop: TrainLoop) -> None:
        self.loop = time.perf_counter() - self.start


def library(dopesheet: Dopesheet, steps: int, seed: int = 0) -> tuple[float, float, float]:
    """(total wall, step-loop wall, total CPU) seconds of one library training run."""
    timer = LoopTimer()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ['EX_COLOR_WANDB_DIR'] = tmp
        start, cpu = time.perf_counter(), time.process_time()
        ex_2_10.train(seed, dopesheet=dopesheet, max_steps=steps, wandb_mode='offline', callbacks=[timer])
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        os.environ.pop('EX_COLOR_WANDB_DIR', None)
    return elapsed, timer.loop, cpu


class TimedHtml:
    """The notebook sink's work without a kernel: build the bar's HTML (and chart) at every redraw, timed."""

    renders = 0
    seconds = 0.0

    def draw(self, state) -> None:
        from utils.progress.display import _Html

        start = time.perf_counter()
        _Html(state)._repr_html_()
        TimedHtml.seconds += time.perf_counter() - start
        TimedHtml.renders += 1

    def close(self, state) -> None:
        self.draw(state)


def live_view(dopesheet: Dopesheet, steps: int) -> tuple[float, int, float]:
    """(fit wall s, redraws, render s) of one library fit with the notebook's progress display."""
    from utils.progress import display

    saved = display.in_notebook, display.NotebookDisplay
    display.in_notebook, display.NotebookDisplay = (lambda: True), TimedHtml
    TimedHtml.renders, TimedHtml.seconds = 0, 0.0
    try:
        total, _, _ = library(dopesheet, steps)
    finally:
        display.in_notebook, display.NotebookDisplay = saved
    return total, TimedHtml.renders, TimedHtml.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--steps', type=int, default=None, help='default: the length of the dopesheet')
    args = parser.parse_args()
    dopesheet = Dopesheet.from_csv(project_root() / 'notebooks' / ex_2_10.DOPESHEET)
    steps = args.steps or len(dopesheet)
    library(dopesheet, 20)  # warm-up: imports, first wandb service start
    a, loops, a_cpu, b, b_cpu = [], [], [], [], []
    for i in range(args.repeats):
        wall, cpu = plain_loop(dopesheet, steps)
        b.append(wall)
        b_cpu.append(cpu)
        total, loop, cpu = library(dopesheet, steps)
        a.append(total)
        loops.append(loop)
        a_cpu.append(cpu)
        print(
            f'run {i + 1}: library {total:.2f} s, plain loop {wall:.2f} s, ratio {total / wall:.2f}',
            flush=True,
        )
    ma, mb, ml = statistics.median(a), statistics.median(b), statistics.median(loops)
    mac, mbc = statistics.median(a_cpu), statistics.median(b_cpu)
    print(
        f'\ntraining, {steps} steps (median of {args.repeats}; wall times on this VM vary by ~20 % between runs):'
    )
    print(
        f'  (a) library (loop + progress + wandb offline)     : {ma:.2f} s ({1000 * ma / steps:.2f} ms/step), CPU {mac:.2f} s'
    )
    print(
        f'      of which the step loop: {ml:.2f} s; set-up and tear-down (wandb run, data): {ma - ml:.2f} s'
    )
    print(
        f'  (b) plain PyTorch loop:                            {mb:.2f} s ({1000 * mb / steps:.2f} ms/step), CPU {mbc:.2f} s'
    )
    print(f'  ratio a/b: {ma / mb:.2f} wall, {mac / mbc:.2f} CPU (step loop alone: {ml / mb:.2f})')
    fit_s, renders, render_s = live_view(dopesheet, steps)
    print(
        f'  (c) live view: {renders} redraws of the bar and chart took {1000 * render_s:.1f} ms, '
        f'{100 * render_s / fit_s:.2f} % of that {fit_s:.2f} s fit'
    )

    model = CNColorMLP(ex_2_10.K, n_nonlinear=ex_2_10.N)
    x = torch.tensor(evaluation_cubes().hd_hsv.rgb_grid, dtype=torch.float32)
    infer(model, x)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        infer(model, x)
        times.append(time.perf_counter() - t)
    print(
        f'\ninference over the hd cube ({x.shape[0] * x.shape[1] * x.shape[2]:,} colours): '
        f'{1000 * statistics.median(times):.1f} ms (median of 5)'
    )


if __name__ == '__main__':
    main()
