"""How a seed fails, read from where red's latent went during training and which thresholds it missed.

`failure_modes(df, angles)` names one mode per seed, from `seed_metrics`' table and red's angle to
the anchor axis over training (`training.finetune.ColourErrors` with ``axis=ex_2_10.RED``; rows seed,
step, degrees). The first rule that holds names the mode:

1. **passes**: every threshold met;
2. **never anchored**: red is not deleted (``ablated red`` missed), and red's latent never came
   within `ANCHORED_DEGREES` of the anchor at any recorded step;
3. **anchored, then pushed off**: red is not deleted, it came within `ANCHORED_DEGREES` at some step,
   and it ends training farther away;
4. **anchored, yet not deleted**: red is not deleted though it ends within `ANCHORED_DEGREES`
   (ablation leaves enough of red in the other dimensions);
5. **anchored, with collateral**: red is deleted, but an ablated threshold on the other colours is
   missed (``ablated median`` or ``ablated green, cyan, blue``);
6. **reconstruction short**: red is deleted and nothing else of the ablation is missed, but the model
   before ablation misses a baseline threshold (`ex_2_10.failures` locates these on the cube's
   bright face).

Design decisions:
- `ANCHORED_DEGREES` (30°) is declared here, once, and never tuned to a result: a latent within 30°
  of e₀ has at least cos 30° ≈ 87 % of its length on the anchor's axis.
- A seed that misses several thresholds gets the first mode whose rule holds, so every seed has one
  mode and the counts add up to the seeds.
"""

from __future__ import annotations

import pandas as pd

from ex_color.evaluation.metrics import THRESHOLDS

__all__ = ['ANCHORED_DEGREES', 'MODES', 'failure_modes']

ANCHORED_DEGREES = 30.0
"""Red counts as anchored while its unit latent is within this angle of the anchor axis."""
MODES = (
    'passes',
    'never anchored',
    'anchored, then pushed off',
    'anchored, yet not deleted',
    'anchored, with collateral',
    'reconstruction short',
)
"""Every mode, in the order the rules are tried."""

_LABEL = {th.metric: th.label for th in THRESHOLDS}


def failure_modes(df: pd.DataFrame, angles: pd.DataFrame) -> pd.Series:
    """One mode (of `MODES`) per seed of `df` (`seed_metrics`' table, index seed); `angles`: rows
    (seed, step, degrees) of red's angle to the anchor axis during training."""
    missing = [c for c in ('seed', 'step', 'degrees') if c not in angles.columns]
    if missing:
        raise KeyError(f'failure_modes: the angles have no column(s) {missing}')
    needed = ['pass', *(f'pass:{label}' for label in _LABEL.values())]
    absent = [c for c in needed if c not in df.columns]
    if absent:
        raise KeyError(f'failure_modes: the metrics table has no column(s) {absent}')
    unseen = sorted(set(df.index) - set(angles['seed']))
    if unseen:
        raise KeyError(f'failure_modes: no angles recorded for seeds {unseen[:5]}')
    by_seed = angles.sort_values('step').groupby('seed')['degrees']
    closest, last = by_seed.min().to_dict(), by_seed.last().to_dict()
    modes = {}
    for seed, row in df.iterrows():
        passed = {metric: bool(row[f'pass:{label}']) for metric, label in _LABEL.items()}
        if bool(row['pass']):
            mode = 'passes'
        elif not passed['red']:
            if closest[seed] > ANCHORED_DEGREES:
                mode = 'never anchored'
            elif last[seed] > ANCHORED_DEGREES:
                mode = 'anchored, then pushed off'
            else:
                mode = 'anchored, yet not deleted'
        elif not (passed['median'] and passed['worst_gcb']):
            mode = 'anchored, with collateral'
        else:
            mode = 'reconstruction short'
        modes[seed] = mode
    return pd.Series(modes, name='mode').rename_axis('seed')
