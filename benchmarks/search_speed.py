"""How long does a schedule search take: trials × seeds as batched engine runs vs the same members one by one?

Runs, in one process, a real `ScheduleSearch` over Ex 2.10's schedule (the anchor's peak weight and
the transition step vary), with --trials trials (default 128) × --seeds seeds (default 4) in batches of --batch (default 32),
local, both cores, scoring every member like the notebook (ablation metrics on the test cubes).
The study goes to a temporary SQLite file, never under ``runs/``. Then it trains --single members
(default 3) one after another, each alone as a one-member run, and extrapolates their median time to
every member of the search. Prints the search's wall time (training and scoring), the one-by-one
estimate and their ratio, and the machine's load average (other processes slow both sides).

    ./go bench search_speed [--trials 128] [--seeds 4] [--batch 32] [--single 3] [--steps 1501]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from ex_color.evaluation.ablation import THRESHOLDS, ablation_metrics
from ex_color.experiments import ex_2_10
from ex_color.experiments.common import evaluation_cubes
from ex_color.search import Objective, ScheduleSearch
from ex_color.training.run import train_members
from ex_color.training.specs import MemberSpec
from mini.temporal.template import SearchParam, SheetTemplate
from utils.paths import project_root

# the time does not depend on what varies, only on how many members train: two cells suffice
SPACE = [
    SearchParam('anchor_peak', 5, 'reg-anchor', 0.05, 0.5, log=True),
    SearchParam('transition', 5, 'STEP', 500, 1000),
]
OBJECTIVES = [
    Objective('red', 'maximize'),
    Objective('median', 'minimize'),
    Objective('worst_gcb', 'minimize'),
]


def train(specs: list[MemberSpec], sheet, steps: int | None, workers: int):
    return train_members(
        specs,
        dopesheet=sheet,
        regularizers=ex_2_10.regularizers(),
        make_data=ex_2_10.make_data,
        k_bottleneck=ex_2_10.K,
        n_nonlinear=ex_2_10.N,
        run_name='search-speed',
        max_steps=steps,
        wandb_mode='disabled',
        progress=False,
        workers=workers,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--trials', type=int, default=128)
    parser.add_argument('--seeds', type=int, default=4)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--single', type=int, default=3)
    parser.add_argument('--steps', type=int, default=None, help='stop early (default: the whole schedule)')
    args = parser.parse_args()
    template = SheetTemplate.from_csv(project_root() / 'notebooks' / ex_2_10.DOPESHEET, SPACE)
    cubes = evaluation_cubes()
    print(f'load average before: {os.getloadavg()[0]:.2f}')
    with tempfile.TemporaryDirectory(prefix='search-speed-') as tmp:
        search = ScheduleSearch(
            Path(tmp) / 'study.db',
            'bench',
            template,
            OBJECTIVES,
            train=lambda specs: train(specs, template.base, args.steps, workers=2),
            score=lambda m: ablation_metrics(m.model, cubes.hd_hsv, cubes.rgb),
            seeds=tuple(range(100, 100 + args.seeds)),
            batch_size=args.batch,
            constraints=[th for th in THRESHOLDS if th.metric.startswith('baseline_')],
        )
        start = time.perf_counter()
        search.run(args.trials)
        wall = time.perf_counter() - start
        trials = search.trials()
    batches = trials[trials['state'] == 'COMPLETE'].groupby('batch')[['train_seconds', 'members']].first()
    members, training = int(batches['members'].sum()), float(batches['train_seconds'].sum())
    print(
        f'search: {len(trials)} trials x {args.seeds} seeds = {members} members in {len(batches)} batches: '
        f'{wall:.0f} s wall ({training:.0f} s training, {wall - training:.0f} s asking, scoring, telling)'
    )
    singles = []
    for seed in range(args.single):
        t = time.perf_counter()
        train([MemberSpec(100 + seed)], template.base, args.steps, workers=1)
        singles.append(time.perf_counter() - t)
    one = statistics.median(singles)
    print(f'one member alone: median {one:.2f} s of {args.single} ({", ".join(f"{s:.2f}" for s in singles)})')
    print(
        f'the same {members} members one by one: ~{members * one:.0f} s of training '
        f'= {members * one / training:.1f}x the batched training, {members * one / wall:.1f}x the whole search'
    )
    print(f'load average after: {os.getloadavg()[0]:.2f}')


if __name__ == '__main__':
    main()
