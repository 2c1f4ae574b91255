"""How fast a deleted concept comes back: relearning curves over seeds, and two ways to count the steps.

A curve is one member's error at a colour (red) against fine-tuning steps, starting right after the
deletion (step 0). Errors there span decades (from about 0.5 right after deletion to 1e-5 once red
is back), so both step counts are read on the log scale:

* `half_recovery_step(curve, before)`: the first step at which the error is back half-way **in
  orders of magnitude** from its value at step 0 towards `before` (the error of the model before
  anything was deleted): at or below their geometric mean. A linear midpoint of such a curve is
  reached while the error is still within a factor of two of "deleted", and says little.
* `relearn_step(curve, level)`: the first step at which the error is at or below an absolute
  `level` (the notebook uses the threshold every colour is held to before deletion, baseline max),
  so deleted models and a model that never learned red are measured against the same line.

`curve_quartiles(frame, by)` gives the median and interquartile range over seeds at every step, for
each group (case), as a figure draws them.

Design decisions:
- A curve that never gets half-way back within the steps run gives ``inf``: censored, not dropped,
  so a median over seeds says "more than the steps run" when most seeds never recover.
- A deletion that did not raise the error at all (step 0 no higher than `before`) has nothing to
  recover and gives ``nan``, which medians then skip; `recovery_table` counts such seeds.

Deliberately not done: curve fitting or extrapolation past the last step.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ['curve_quartiles', 'half_recovery_step', 'recovery_table', 'relearn_step']


def half_recovery_step(curve: pd.Series, before: float) -> float:
    """First step (index of `curve`) with error <= sqrt(error at the first step × before): half-way
    back on the log scale."""
    if curve.empty:
        raise ValueError('half_recovery_step: the curve is empty')
    curve = curve.sort_index()
    start = float(curve.iloc[0])
    if not math.isfinite(before) or not math.isfinite(start):
        raise ValueError(f'half_recovery_step: non-finite error (start {start}, before {before})')
    if before < 0:
        raise ValueError(f'half_recovery_step: an error cannot be negative (before {before})')
    if start <= before:
        return math.nan
    return relearn_step(curve, math.sqrt(start * before))


def relearn_step(curve: pd.Series, level: float) -> float:
    """First step (index of `curve`) with error <= `level`; inf when the curve never gets there."""
    if curve.empty:
        raise ValueError('relearn_step: the curve is empty')
    curve = curve.sort_index()
    reached = curve[curve.to_numpy(dtype=float) <= level]
    return float(reached.index[0]) if len(reached) else math.inf


def curve_quartiles(frame: pd.DataFrame, by: str, *, value: str = 'mse') -> pd.DataFrame:
    """Per group `by` and step: q1, median and q3 of `value` over the group's members."""
    missing = [c for c in (by, 'step', value) if c not in frame.columns]
    if missing:
        raise KeyError(f'curve_quartiles: the frame has no column(s) {missing}')
    grouped = frame.groupby([by, 'step'], sort=True)[value]
    out = pd.DataFrame(
        {'q1': grouped.quantile(0.25), 'median': grouped.median(), 'q3': grouped.quantile(0.75)}
    )
    return out.reset_index()


def _quantiles(values: np.ndarray) -> tuple[float, float, float]:
    """Quartiles where censored (inf) values may sit on both sides of a quantile: there it is inf,
    where plain interpolation would give inf − inf = nan."""
    if not len(values):
        return math.nan, math.nan, math.nan
    with np.errstate(invalid='ignore'):
        q = np.quantile(values, [0.25, 0.5, 0.75])
    q = np.where(np.isnan(q), math.inf, q)
    return float(q[0]), float(q[1]), float(q[2])


def recovery_table(
    steps: pd.DataFrame, *, by: str, max_steps: int, column: str = 'half_step'
) -> pd.DataFrame:
    """Per group `by`: the median of `column` (steps) over seeds, its quartiles, how many seeds got
    there within `max_steps`, and how many had nothing to recover (nan)."""
    if by not in steps.columns or column not in steps.columns:
        raise KeyError(f'recovery_table: need columns {by!r} and {column!r}')
    rows = {}
    for name, group in steps.groupby(by, sort=False):
        v = group[column].astype(float)
        valid = v[~np.isnan(v)]
        q1, med, q3 = _quantiles(valid.to_numpy())
        rows[name] = {
            'median steps': med,
            'q1': q1,
            'q3': q3,
            'recovered': int(np.isfinite(valid).sum()),
            'seeds': len(v),
            'nothing to recover': int(np.isnan(v).sum()),
            'max steps': max_steps,
        }
    return pd.DataFrame.from_dict(rows, orient='index')
