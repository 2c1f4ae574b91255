"""How long does a seed sweep of Ex 2.10 take: one run of many members vs one seed after another?

Times, in one process, on the Ex 2.10 configuration (1501 steps, batch 64, three regularisers):

(a) `ex_color.training.run.train_members` over seeds 0..M-1 for each M in --counts (default 1, 8, 60),
    in --workers processes (default 2);
(b) the single-model trainer, `ex_color.experiments.ex_2_10.train(seed)`, for --single seeds (default 2),
    whose mean time per seed is extrapolated to M seeds run one after another;

and prints wall and CPU times (medians of --repeats runs), ms per step and the speed-up a/b. Where CUDA is present it then times
one run of --gpu-members members (default 1000) on the GPU. Tracking is off (``disabled``) and
progress bars are hidden in both, so only training is timed. The machine's load average is printed
too: other processes on a 2-core machine slow both sides.

With --kernels it also times one training step of 60 members (forward, the three regularisers,
backward) with batched matmuls (`StackedColorMLP`) and with `torch.func.vmap` over
`functional_call`, the alternative `StackedColorMLP` rejected.

    ./go bench sweep_speed [--counts 1 8 60] [--repeats 5] [--single 2] [--steps 1501] [--kernels] [--gpu-members 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import torch
from torch.nn import functional as F

from ex_color.experiments import ex_2_10
from ex_color.model import CNColorMLP
from ex_color.training import StackedBatches, StackedColorMLP, fast_cpu_math
from ex_color.training.run import train_members
from ex_color.training.specs import seeds
from ex_color.training.terms import per_member_loss, weighted_term
from mini.temporal.dopesheet import Dopesheet
from utils.paths import project_root


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


WORKERS = 2


def ensemble(
    dopesheet: Dopesheet, m: int, steps: int, device: str = 'cpu', workers: int | None = None
) -> tuple[float, float]:
    return timed(
        lambda: train_members(
            seeds(range(m)),
            workers=WORKERS if workers is None else workers,
            device=device,
            dopesheet=dopesheet,
            regularizers=ex_2_10.regularizers(),
            make_data=ex_2_10.make_data,
            k_bottleneck=ex_2_10.K,
            n_nonlinear=ex_2_10.N,
            run_name='sweep-speed',
            max_steps=steps,
            wandb_mode='disabled',
            progress=False,
        )
    )


def single(dopesheet: Dopesheet, seed: int, steps: int) -> tuple[float, float]:
    return timed(
        lambda: ex_2_10.train(
            seed, dopesheet=dopesheet, max_steps=steps, wandb_mode='disabled', progress=False
        )
    )


def kernels(m: int = 60, repeats: int = 100) -> None:
    """Median time of one training step, batched matmul vs vmap(functional_call)."""
    regs = ex_2_10.regularizers()
    weights = {'reg-separate': 0.01, 'reg-anchor': 0.15, 'reg-anti-subspace': 0.03}
    models = [CNColorMLP(ex_2_10.K, n_nonlinear=ex_2_10.N) for _ in range(m)]
    x, labels = next(iter(StackedBatches([ex_2_10.make_data(s)[0] for s in range(m)])))
    net = StackedColorMLP(models)

    def batched() -> None:
        y, acts = net(x, capture=['bottleneck'])
        total = F.mse_loss(y, x, reduction='none').mean(dim=(1, 2))
        for r in regs:
            term = weighted_term(
                per_member_loss(r.compute_loss_term, acts['bottleneck']), labels, r.label_affinities
            )
            if term is not None:
                total = total + weights[r.name] * term.value
        net.zero_grad(set_to_none=True)
        total.sum().backward()

    params, buffers = torch.func.stack_module_state(models)
    params = {k: v.detach().requires_grad_() for k, v in params.items()}
    base = CNColorMLP(ex_2_10.K, n_nonlinear=ex_2_10.N)

    def one(p: dict, b: dict, xm: torch.Tensor, red: torch.Tensor) -> torch.Tensor:
        enc = {k.removeprefix('encoder.'): v for k, v in p.items() if k.startswith('encoder.')}
        dec = {k.removeprefix('decoder.'): v for k, v in p.items() if k.startswith('decoder.')}
        z = base.bottleneck(torch.func.functional_call(base.encoder, enc, (xm,)))
        y = torch.func.functional_call(base.decoder, dec, (z,))
        total = F.mse_loss(y, xm)
        for r in regs:
            per = r.compute_loss_term(z)
            alpha = red if r.label_affinities else torch.ones_like(red)
            total = total + weights[r.name] * (alpha * per).sum() / (alpha.sum() + 1e-8)
        return total

    per_member = torch.func.vmap(one, in_dims=(0, 0, 0, 0))

    def vmapped() -> None:
        for v in params.values():
            v.grad = None
        per_member(params, buffers, x, labels['red']).sum().backward()

    with fast_cpu_math(1):
        for name, fn in (('batched matmul', batched), ('vmap + functional_call', vmapped)):
            for _ in range(10):
                fn()
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            print(f'  {name:24s} {1000 * statistics.median(times):6.2f} ms per step ({m} members)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--counts', type=int, nargs='+', default=[1, 8, 60], help='ensemble sizes to time')
    parser.add_argument('--single', type=int, default=2, help='seeds to time with the single-model trainer')
    parser.add_argument('--steps', type=int, default=None, help='default: the length of the dopesheet')
    parser.add_argument('--kernels', action='store_true', help='also compare batched matmul with vmap')
    parser.add_argument('--workers', type=int, default=2, help='processes the members are split over')
    parser.add_argument('--repeats', type=int, default=5, help='runs per ensemble size (the median is shown)')
    parser.add_argument(
        '--gpu-members',
        type=int,
        default=1000,
        help='members of the GPU run, where CUDA is present (0: skip)',
    )
    args = parser.parse_args()
    global WORKERS
    WORKERS = args.workers
    dopesheet = Dopesheet.from_csv(project_root() / 'notebooks' / ex_2_10.DOPESHEET)
    steps = args.steps or len(dopesheet)
    print(f'load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})')
    if args.kernels:
        print('one training step:')
        kernels()
    ensemble(dopesheet, 2, 20)  # warm-up: imports, first wandb start
    single(dopesheet, 0, 20)

    singles = [single(dopesheet, seed, steps) for seed in range(args.single)]
    per_seed = statistics.mean(w for w, _ in singles)
    per_seed_cpu = statistics.mean(c for _, c in singles)
    print(f'\nsingle-model trainer, {steps} steps: ' + ', '.join(f'{w:.2f} s' for w, _ in singles))
    print(
        f'\n{"seeds":>5} | {"ensemble wall":>13} | {"CPU":>7} | {"ms/step":>7} | {"one by one (est.)":>17} | speed-up'
    )
    for m in args.counts:
        runs = [ensemble(dopesheet, m, steps) for _ in range(args.repeats)]
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(
            f'{m:5d} | {wall:11.2f} s | {cpu:5.2f} s | {1000 * wall / steps:7.2f} | {m * per_seed:15.1f} s | '
            f'{m * per_seed / wall:6.1f}×  (CPU {m * per_seed_cpu / cpu:.1f}×)  '
            f'[median of {args.repeats}: {", ".join(f"{w:.2f}" for w, _ in runs)}]',
            flush=True,
        )
    print(f'\nload average after: {os.getloadavg()[0]:.2f}')
    if torch.cuda.is_available() and args.gpu_members:
        m = args.gpu_members
        ensemble(dopesheet, m, 20, device='cuda', workers=1)  # warm-up: CUDA context, kernels
        wall, cpu = ensemble(dopesheet, m, steps, device='cuda', workers=1)
        print(
            f'\nGPU ({torch.cuda.get_device_name()}): {m} members, {steps} steps: {wall:.2f} s wall, '
            f'{1000 * wall / steps:.2f} ms per step, {wall / m * 1000:.1f} ms per member'
        )
    else:
        print('\nno CUDA device: the GPU run (--gpu-members) is skipped')


if __name__ == '__main__':
    main()
