"""Where Ex 2.10 fails: which thresholds the failing seeds miss, and where on the test cube.

* `failure_counts(df)`: per threshold, how many seeds miss it (with the Wilson interval of that
  share), how many miss only it, and how many of them also miss another; `failure_table` words it;
* `error_maps(models, cube)`: each model's per-colour error on the high-resolution HSV cube, before
  and after ablating the anchor's dimension, reduced over saturation to a hue × value map (the largest
  error over saturations, since a threshold on the max fails at the single worst colour);
* `FailureMaps.build(models, df, cube)`: those maps summarised for the seeds that miss each threshold
  (the median map over them, and each one's worst colour), beside the seeds that pass every threshold.

Design decisions:
- A baseline threshold (before ablation) is located on the baseline model's map, an ablated one on
  the ablated model's: the map shows the error the threshold judged.
- The median over failing seeds, not the mean: one seed's blow-up does not paint the map.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from torch import nn

from ex_color.data.color_cube import ColorCube
from ex_color.evaluation import evaluate_cube
from ex_color.evaluation.claims import rate_estimate
from ex_color.evaluation.metrics import THRESHOLDS
from ex_color.model.surgery import ablate

__all__ = ['FailureMaps', 'error_maps', 'failure_counts', 'failure_table']

BASELINE_METRICS = frozenset({'baseline_max', 'baseline_median'})
"""Thresholds judged on the model before ablation."""


def failure_counts(df: pd.DataFrame) -> pd.DataFrame:
    """One row per threshold, most missed first (index: its label): ``missing`` seeds of ``n``, the
    Wilson 95 % interval of that share (``low``, ``high``), and how many miss ``only`` this threshold
    or this one and ``another``."""
    n = len(df)
    passes = df[[f'pass:{th.label}' for th in THRESHOLDS]].astype(bool)
    missed = (~passes).sum(axis=1)
    rows = {}
    for th in THRESHOLDS:
        fails = ~passes[f'pass:{th.label}']
        k = int(fails.sum())
        r = rate_estimate(k, n)
        rows[th.label] = {
            'missing': k,
            'n': n,
            'low': r.low,
            'high': r.high,
            'only': int((fails & (missed == 1)).sum()),
            'another': int((fails & (missed > 1)).sum()),
        }
    counts = pd.DataFrame.from_dict(rows, orient='index').sort_values(
        'missing', ascending=False, kind='stable'
    )
    counts.index.name = 'threshold'
    return counts


def failure_table(counts: pd.DataFrame) -> pd.DataFrame:
    """`failure_counts` as a table to read: seeds missing each threshold, the share with its interval."""
    return pd.DataFrame(
        {
            'seeds missing it': [f'{k}/{n}' for k, n in zip(counts['missing'], counts['n'], strict=True)],
            'share [95 % CI]': [
                f'{k / n:.0%} [{lo:.0%}, {hi:.0%}]'
                for k, n, lo, hi in zip(
                    counts['missing'], counts['n'], counts['low'], counts['high'], strict=True
                )
            ],
            'missing only this one': counts['only'],
            'also missing another': counts['another'],
        },
        index=counts.index,
    )


def error_maps(models: Mapping[int, nn.Module], cube: ColorCube) -> dict[str, np.ndarray]:
    """``{'baseline': [seeds, hue, value], 'ablated': [...]}``: each model's largest per-colour error
    over saturations, before and after ablating dimension 0, seeds in `models`' order."""
    if cube.space != 'hsv':
        raise ValueError(f'error_maps: needs a cube in hsv axis order, got {cube.space!r}')
    maps: dict[str, list[np.ndarray]] = {'baseline': [], 'ablated': []}
    for model in models.values():
        for kind, net in (('baseline', model), ('ablated', ablate(model, 'bottleneck', [0]))):
            mse = evaluate_cube(net, cube)['MSE']  # [hue, saturation, value]
            maps[kind].append(mse.max(axis=1))
    return {k: np.stack(v) for k, v in maps.items()}


@dataclass(frozen=True)
class Panel:
    """One map: the median error over a group of seeds, and each seed's worst colour."""

    title: str
    kind: str
    """'baseline' or 'ablated': which model's error."""
    n: int
    median: np.ndarray
    """[hue, value]."""
    worst: np.ndarray
    """[n, 2]: each seed's (hue, value) of its largest error."""


@dataclass(frozen=True)
class FailureMaps:
    """The maps the failure figure draws, with the cube's hue and value axes."""

    hues: np.ndarray
    values: np.ndarray
    panels: tuple[Panel, ...]

    @classmethod
    def build(cls, models: Mapping[int, nn.Module], df: pd.DataFrame, cube: ColorCube) -> FailureMaps:
        """A panel per threshold that some seed misses (on the map its metric is judged on), and the
        seeds that pass every threshold, on the baseline map, for comparison."""
        missing = [s for s in df.index if s not in models]
        if missing:
            raise KeyError(f'FailureMaps.build: no model for seeds {missing[:5]}')
        seeds = list(df.index)
        maps = error_maps({s: models[s] for s in seeds}, cube)
        hues, _, values = cube.coordinates
        panels = []
        groups: list[tuple[str, str, pd.Series]] = [
            (
                f'miss {th.label}',
                'baseline' if th.metric in BASELINE_METRICS else 'ablated',
                ~df[f'pass:{th.label}'].astype(bool),
            )
            for th in THRESHOLDS
        ]
        groups.append(('pass every threshold', 'baseline', df['pass'].astype(bool)))
        for title, kind, mask in groups:
            chosen = np.flatnonzero(mask.to_numpy())
            if len(chosen) == 0:
                continue
            stack = maps[kind][chosen]
            flat = stack.reshape(len(chosen), -1).argmax(axis=1)
            hi, vi = np.unravel_index(flat, stack.shape[1:])
            panels.append(
                Panel(
                    f'{kind} error · {title}',
                    kind,
                    len(chosen),
                    np.median(stack, axis=0),
                    np.stack([hues[hi], values[vi]], axis=1),
                )
            )
        return cls(np.asarray(hues), np.asarray(values), tuple(panels))

    def describe(self) -> str:
        """Where each group's worst colours sit, in words (the figure's alt text and the notebook's
        prose): the share on the cube's bright face (value ≥ 0.95) and within 30° of red's hue."""
        parts = []
        for p in self.panels:
            hue = np.mod(p.worst[:, 0], 1.0)
            near_red = float(np.mean(np.minimum(hue, 1 - hue) < 1 / 12))
            bright = float(np.mean(p.worst[:, 1] >= 0.95))
            parts.append(
                f'{p.title} (n = {p.n}): the worst colour lies on the bright face (value ≥ 0.95) for '
                f'{bright:.0%} of the seeds, and within 30° of red for {near_red:.0%}'
            )
        return '; '.join(parts)
