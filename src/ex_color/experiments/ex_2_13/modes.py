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

`traces(run)` gathers what a tracked run recorded (red's angle, the thresholded metrics, the
regulariser terms) as one long table; `modes_of` names the modes from it. `mode_counts` tallies the modes of several configurations with Wilson intervals, and
`curves_by_mode` summarises anything traced during training (red's angle, a regulariser term, a
thresholded metric) by the quartiles over each mode's seeds, step by step.

Design decisions:
- `ANCHORED_DEGREES` (30°) is declared here, once, and never tuned to a result: a latent within 30°
  of e₀ has at least cos 30° ≈ 87 % of its length on the anchor's axis.
- A seed that misses several thresholds gets the first mode whose rule holds, so every seed has one
  mode and the counts add up to the seeds.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ex_color.evaluation.claims import rate_estimate
from ex_color.evaluation.metrics import THRESHOLDS
from ex_color.evaluation.tracking import during_metrics
from ex_color.training.finetune import ANGLE_METRIC, colour_errors
from ex_color.training.results import RunResult

__all__ = [
    'ANCHORED_DEGREES',
    'MODES',
    'RED_ANGLE',
    'TERMS',
    'curves_by_mode',
    'failure_modes',
    'mode_counts',
    'modes_of',
    'traces',
]

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


def mode_counts(modes: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Rows (configuration, mode) for every configuration's modes (`failure_modes`' series) and every
    mode of `MODES`, with ``seeds`` in that mode of ``n`` and the Wilson 95 % interval of the share
    (``low``, ``high``); a mode no seed falls in has a row with 0 (and its interval)."""
    rows = []
    for config, series in modes.items():
        unknown = sorted(set(series) - set(MODES))
        if unknown:
            raise ValueError(f'mode_counts: {config!r} has modes {unknown} outside MODES')
        n = len(series)
        for mode in MODES:
            k = int((series == mode).sum())
            e = rate_estimate(k, n)
            rows.append(
                {'configuration': config, 'mode': mode, 'seeds': k, 'n': n, 'low': e.low, 'high': e.high}
            )
    return pd.DataFrame(rows)


def curves_by_mode(traces: pd.DataFrame, modes: pd.Series, *, min_seeds: int = 3) -> pd.DataFrame:
    """Quartiles over the seeds of each mode of every traced quantity, step by step. `traces`: rows
    (seed, step, quantity, value); `modes`: `failure_modes`' series. Returns rows (mode, quantity, step,
    q1, median, q3, n); modes with fewer than `min_seeds` seeds are left out (quartiles of one or two
    seeds are not a curve)."""
    missing = [c for c in ('seed', 'step', 'quantity', 'value') if c not in traces.columns]
    if missing:
        raise KeyError(f'curves_by_mode: the traces have no column(s) {missing}')
    unseen = sorted(set(modes.index) - set(traces['seed']))
    if unseen:
        raise KeyError(f'curves_by_mode: no traces for seeds {unseen[:5]}')
    table = traces[traces['seed'].isin(modes.index)].assign(mode=lambda d: d['seed'].map(modes))
    sizes = modes.value_counts()
    table = table[table['mode'].map(sizes) >= min_seeds]
    if table.empty:
        return pd.DataFrame(columns=['mode', 'quantity', 'step', 'q1', 'median', 'q3', 'n'])
    grouped = table.groupby(['mode', 'quantity', 'step'])['value']
    out = pd.DataFrame({
        'q1': grouped.quantile(0.25), 'median': grouped.quantile(0.5), 'q3': grouped.quantile(0.75), 'n': grouped.size()
    })  # fmt: skip
    return out.reset_index()


RED_ANGLE = 'red angle'
"""The traced quantity holding red's angle to the anchor axis, in degrees."""
TERMS = ('train_reg-anchor', 'train_reg-anti-subspace', 'train_reg-separate')
"""The regulariser terms a member's history holds (as logged while training)."""


def traces(result: RunResult) -> pd.DataFrame:
    """Rows (seed, step, quantity, value) of what a tracked run recorded: red's angle to the anchor
    (`RED_ANGLE`, from `ColourErrors` with an axis), every thresholded metric (`MetricsDuringTraining`;
    quantities named as in `METRICS`) and the regulariser terms (`TERMS`)."""
    seeds = {m.name: m.spec.seed for m in result}
    angles = colour_errors(result, ANGLE_METRIC)
    angles = angles[angles['colour'] == 'red']
    if angles.empty:
        raise ValueError(
            "traces: the run recorded no angle for 'red' (ColourErrors with axis= and a 'red' colour)"
        )
    frames = [
        pd.DataFrame({
            'seed': angles['member'].map(seeds), 'step': angles['step'], 'quantity': RED_ANGLE, 'value': angles['degrees']
        }),
        during_metrics(result).rename(columns={'metric': 'quantity'})[['seed', 'step', 'quantity', 'value']],
    ]  # fmt: skip
    for m in result:
        h = m.history[m.history['metric'].isin(TERMS)]
        frames.append(
            pd.DataFrame(
                {'seed': m.spec.seed, 'step': h['step'], 'quantity': h['metric'], 'value': h['value']}
            )
        )
    return pd.concat(frames, ignore_index=True)


def modes_of(df: pd.DataFrame, traced: pd.DataFrame) -> pd.Series:
    """`failure_modes` of `seed_metrics`' table `df`, with red's angle read from `traces`' table."""
    angles = traced[traced['quantity'] == RED_ANGLE].rename(columns={'value': 'degrees'})
    return failure_modes(df, angles[['seed', 'step', 'degrees']])
