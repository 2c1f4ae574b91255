"""Does inference with latent capture cost at most twice one plain forward pass over the hd cube?

Times, in one process, on one torch thread, over the hd cube (120×24×24 = 69,120 colours, built as
`ex_color.experiments.common.evaluation_cubes` builds ``hd_hsv``) and an untrained ``CNColorMLP(5,
n_nonlinear=2)`` in eval mode:

(a) plain: ``with torch.inference_mode(): model(x)`` on the [69120, 3] float32 tensor;
(b) infer: ``ex_color.model.inference.infer(model, x, layer='bottleneck')``, the cube-shaped tensor in,
    reconstruction and captured bottleneck latents out;
(c) evaluate_cube: ``ex_color.evaluation.evaluate_cube(model, cube)``, what the notebooks call; on top
    of (b) it converts the float64 grid to float32, computes the per-cell MSE and builds the new cube.

and prints the median of each over --repeats calls after --warmup calls, the ratios b/a and c/a,
and the load average. It exits with status 1 if either ratio exceeds --max-ratio (2.0) unless
--no-check is given.

    ./go bench inference_speed [--repeats 31] [--warmup 5] [--no-check]

Design decisions:
- One process, and the three are interleaved: every round times each once, in an order that rotates
  from round to round. Wall times on the 2-core VM this was written on swing by ±20 % (and by 2x
  when other processes run), within seconds; timing the sides one after another in blocks measured
  those swings rather than the difference between them (a block ratio of 1.5 where interleaving
  gave 1.0).
- One torch thread for all three: `infer` runs on one thread whatever the caller set (see
  `ex_color.runtime`), so the plain side is pinned to one as well. Medians, not means: a single
  scheduler hiccup of 50 ms would dominate a mean of 31 samples of ~13 ms.

Deliberately not here: a trained model (the forward pass costs the same whatever the weights), wall
time limits in the tests (tests check behaviour; this script checks the ratio).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

from ex_color.data.color_cube import ColorCube
from ex_color.data.cyclic import arange_cyclic
from ex_color.evaluation import evaluate_cube
from ex_color.model import CNColorMLP
from ex_color.model.inference import infer

MIN_REPEATS = 21


def hd_cube() -> ColorCube:
    """The 120×24×24 hd cube: every other hue, saturation and value of a 240×48×48 HSV grid."""
    full = ColorCube.from_hsv(
        h=arange_cyclic(step_size=1 / 240), s=np.linspace(0, 1, 48), v=np.linspace(0, 1, 48)
    )
    return full[::2, ::2, ::2]


def interleaved(sides: dict[str, Callable[[], object]], warmup: int, repeats: int) -> dict[str, list[float]]:
    """Wall seconds of `repeats` calls of each side; each round calls every side once, order rotated."""
    names = list(sides)
    for _ in range(warmup):
        for name in names:
            sides[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(repeats):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            start = time.perf_counter()
            sides[name]()
            times[name].append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--repeats', type=int, default=31, help=f'timed calls of each side (>= {MIN_REPEATS})'
    )
    parser.add_argument('--warmup', type=int, default=5, help='untimed calls of each side first')
    parser.add_argument('--max-ratio', type=float, default=2.0, help='fail above this ratio (default 2.0)')
    parser.add_argument('--no-check', action='store_true', help='print the numbers, never fail')
    args = parser.parse_args()
    if args.repeats < MIN_REPEATS:
        parser.error(f'--repeats must be >= {MIN_REPEATS}, got {args.repeats}')

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = CNColorMLP(5, n_nonlinear=2).eval()
    cube = hd_cube()
    x_grid = torch.tensor(cube.rgb_grid, dtype=torch.float32)
    x = x_grid.reshape(-1, 3)

    def plain() -> None:
        with torch.inference_mode():
            model(x)

    sides: dict[str, Callable[[], object]] = {
        'plain': plain,
        'infer': lambda: infer(model, x_grid, layer='bottleneck'),
        'evaluate_cube': lambda: evaluate_cube(model, cube, layer='bottleneck'),
    }
    times = interleaved(sides, args.warmup, args.repeats)
    median = {name: 1000 * statistics.median(ts) for name, ts in times.items()}

    print(
        f'hd cube ({len(x):,} colours), 1 torch thread, median of {args.repeats} interleaved calls '
        f'after {args.warmup} warm-up calls each; load average {os.getloadavg()[0]:.2f}:'
    )
    labels = {
        'plain': '(a) plain forward, inference_mode',
        'infer': "(b) infer, layer='bottleneck'",
        'evaluate_cube': '(c) evaluate_cube',
    }
    for name, label in labels.items():
        ts = times[name]
        print(f'  {label:36s} {median[name]:7.2f} ms  (min {1000 * min(ts):.2f}, max {1000 * max(ts):.2f})')
    ratios = {name: median[name] / median['plain'] for name in ('infer', 'evaluate_cube')}
    print(f'  ratio capture/plain: infer {ratios["infer"]:.2f}, evaluate_cube {ratios["evaluate_cube"]:.2f}')

    over = {name: r for name, r in ratios.items() if r > args.max_ratio}
    if over and not args.no_check:
        worst = ', '.join(f'{name} {r:.2f}' for name, r in over.items())
        print(
            f'FAIL: inference with latent capture costs more than {args.max_ratio:g}x a plain forward pass '
            f'({worst}). Medians swing on a loaded machine; check the load average above, then rerun.',
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
