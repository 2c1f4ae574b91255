"""How fast are many members scored: over their stack, or one model after another?

Times, in one process, the ablation metrics (`METRICS`: the test set's loss cube before and after
deleting latent dimension 0, the named colours, and the error-vs-similarity correlation on the RGB
cube) of --members models:

(a) `stacked_metrics`: the members stacked, a chunk of members and of colours at a time;
(b) `ablation_metrics` on each model in turn;

and prints the median wall time of each over --repeats runs, their ratio, and whether the two agree.
The models are freshly initialised `CNColorMLP`s of Ex 2.10's shape (the work does not depend on
the weights).

    ./go bench score_speed [--members 512] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from ex_color.evaluation.ablation import ablation_metrics, stacked_metrics
from ex_color.experiments import ex_2_10
from ex_color.experiments.common import evaluation_cubes
from ex_color.model import CNColorMLP


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--members', type=int, default=512)
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args()
    cubes = evaluation_cubes()
    torch.manual_seed(0)
    models = [CNColorMLP(ex_2_10.K, n_nonlinear=ex_2_10.N).eval() for _ in range(args.members)]
    stacked_metrics(models[:2], cubes.hd_hsv, cubes.rgb)  # warm-up
    a, b = [], []
    for i in range(args.repeats):
        start = time.perf_counter()
        together = stacked_metrics(models, cubes.hd_hsv, cubes.rgb)
        a.append(time.perf_counter() - start)
        start = time.perf_counter()
        alone = [ablation_metrics(m, cubes.hd_hsv, cubes.rgb) for m in models]
        b.append(time.perf_counter() - start)
        print(f'run {i + 1}: stacked {a[-1]:.2f} s, one by one {b[-1]:.2f} s', flush=True)
    same = together == alone
    ma, mb = statistics.median(a), statistics.median(b)
    print(
        f'\nscoring {args.members} members (median of {args.repeats}, {torch.get_num_threads()} torch threads):'
    )
    print(f'  (a) stacked:    {ma:.2f} s ({1000 * ma / args.members:.1f} ms/member)')
    print(f'  (b) one by one: {mb:.2f} s ({1000 * mb / args.members:.1f} ms/member)')
    print(f'  ratio b/a: {mb / ma:.2f}; metrics identical: {same}')


if __name__ == '__main__':
    main()
