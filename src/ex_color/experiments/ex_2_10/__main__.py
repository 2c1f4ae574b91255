"""Ex 2.10 from the command line: train seeds under the notebook's schedule and check the thresholds.

Run: ``python -m ex_color.experiments.ex_2_10 --seed 0`` (``--seeds 0 1 2 3 4`` for several) from the
repository root, or pass ``--dopesheet PATH``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ex_color.experiments.common import ablation_summary, check_thresholds, evaluation_cubes
from ex_color.experiments.ex_2_10 import DOPESHEET, train
from mini.temporal.dopesheet import Dopesheet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog='python -m ex_color.experiments.ex_2_10', description=__doc__.splitlines()[0]
    )
    parser.add_argument('--seed', type=int, action='append', dest='seeds', help='seed (repeatable)')
    parser.add_argument('--seeds', type=int, nargs='+', dest='seed_list', help='several seeds')
    parser.add_argument('--wandb-mode', choices=['online', 'offline', 'disabled'], default=None)
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument(
        '--dopesheet',
        type=Path,
        default=Path('notebooks') / DOPESHEET,
        help='schedule CSV (default: %(default)s)',
    )
    parser.add_argument(
        '--max-steps', type=int, default=None, help='stop early (default: the whole schedule)'
    )
    args = parser.parse_args(argv)
    dopesheet = Dopesheet.from_csv(args.dopesheet)
    seeds = (args.seeds or []) + (args.seed_list or []) or [0]
    logging.basicConfig(level=logging.INFO, format='%(levelname).1s %(name)s: %(message)s')
    cubes = evaluation_cubes()
    passed = 0
    for seed in seeds:
        result = train(
            seed,
            dopesheet=dopesheet,
            wandb_mode=args.wandb_mode,
            progress=not args.no_progress,
            max_steps=args.max_steps,
        )
        summary = ablation_summary(result.module.model, cubes.hd_hsv)
        checks = check_thresholds(summary)
        passed += all(checks.values())
        print(f'\n== seed {seed} ==\n{summary.format()}')
        print('thresholds: ' + ', '.join(f'{k}: {"ok" if v else "FAIL"}' for k, v in checks.items()))
    print(f'\n{passed}/{len(seeds)} seeds meet every threshold')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
