"""Judging an ablation: one model's summary, its metrics and thresholds, and their distribution over seeds.

`ablation_summary(model, hd_cube)` tabulates the error before and after deleting the anchor's latent
dimension: max and median over the hd cube and the error at named colours. `ablation_metrics` turns a
summary (plus the error-vs-similarity correlation on the RGB cube) into the flat metrics a claim is
made about, and `THRESHOLDS` are the criteria each metric is held to.

Many models at once: `stacked_metrics` scores them over their stack (`StackedColorMLP`, a chunk of
members and of colours at a time, so activations stay in the CPU's cache); the encoder runs once per
cube, since ablating a dimension of the bottleneck zeroes that output of the encoder's last layer
(`surgery.ablate`): the ablated codes are the baseline's with that entry zeroed before normalisation.
It gives bitwise `ablation_metrics`'s values (tested), at about half the time per model.

Over seeds, `seed_metrics` gives one row of metrics per seed, `distribution_table` their median and
interquartile range with the pass rate of each threshold and where one seed (seed 0, the story's
seed) sits. Comparing configurations, with intervals and corrected tests, is `evaluation.claims`'.

Design decisions:
- Metrics are named columns, defined once in `evaluation.metrics` (`METRICS`, `THRESHOLDS` are
  re-exported here), so tables, figures and prose say the same thing in the same words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
import torch
from torch import nn

from ex_color.data.color_cube import ColorCube
from ex_color.evaluation.claims import median_estimate, rate_estimate
from ex_color.evaluation.correlation import error_correlation
from ex_color.evaluation.cube import evaluate_cube, named_color_errors, named_color_table
from ex_color.evaluation.metrics import METRICS, THRESHOLDS, Threshold
from ex_color.evaluation.numbers import g, median_interval
from ex_color.evaluation.score_cache import ScoreCache
from ex_color.model import CNColorMLP, L2Norm
from ex_color.model.stacked import StackedColorMLP
from ex_color.model.surgery import ablate
from ex_color.runtime import fast_cpu_math

__all__ = [
    'METRICS',
    'THRESHOLDS',
    'AblationSummary',
    'Threshold',
    'ablation_metrics',
    'ablation_summary',
    'check_thresholds',
    'deletion_metrics',
    'distribution_table',
    'metrics_table',
    'seed_metrics',
    'stack_metrics',
    'stacked_metrics',
]

RED_HSV = (0.0, 1.0, 1.0)
SIMILARITY_POWER = 3.0
"""Exponent of similarity-to-red in the error correlation (as the Ex 2.10.1 sweep scores)."""


@dataclass(frozen=True)
class AblationSummary:
    """Before/after-ablation error statistics on the hd cube and at named colours."""

    table: pd.DataFrame
    """Rows: max, median and named colours; columns: baseline, ablated."""

    def format(self) -> str:
        return self.table.to_string(float_format=lambda v: f'{v:.3g}')


def _summary(model: nn.Module, ablated: nn.Module, hd_cube: ColorCube) -> AblationSummary:
    cols = {}
    for name, m in (('baseline', model), ('ablated', ablated)):
        mse = evaluate_cube(m, hd_cube)['MSE']
        summary = pd.Series({'max': float(np.max(mse)), 'median': float(np.median(mse))})
        cols[name] = pd.concat([summary, named_color_errors(m)])
    return AblationSummary(pd.DataFrame(cols))


def ablation_summary(model: nn.Module, hd_cube: ColorCube, dims: Sequence[int] = (0,)) -> AblationSummary:
    return _summary(model, ablate(model, 'bottleneck', list(dims)), hd_cube)


def _summary_metrics(summary: AblationSummary) -> dict[str, float]:
    ablated, baseline = summary.table['ablated'], summary.table['baseline']
    return {
        'red': float(ablated['red']),
        'median': float(ablated['median']),
        'worst_gcb': float(ablated[['green', 'cyan', 'blue']].max()),
        'baseline_max': float(baseline['max']),
        'baseline_median': float(baseline['median']),
    }


def ablation_metrics(
    model: nn.Module, hd_cube: ColorCube, rgb_cube: ColorCube, dims: Sequence[int] = (0,)
) -> dict[str, float]:
    """The `METRICS` of one model: its ablation summary plus the error correlation on `rgb_cube`."""
    return deletion_metrics(model, ablate(model, 'bottleneck', list(dims)), hd_cube, rgb_cube)


def deletion_metrics(
    model: nn.Module, deleted: nn.Module, hd_cube: ColorCube, rgb_cube: ColorCube
) -> dict[str, float]:
    """The `METRICS` of `model` with red deleted some other way (`deleted`: e.g. an erased copy); the
    'ablated' metrics are `deleted`'s, the baseline ones `model`'s."""
    metrics = _summary_metrics(_summary(model, deleted, hd_cube))
    metrics['r'] = error_correlation(evaluate_cube(deleted, rgb_cube), RED_HSV, SIMILARITY_POWER).r
    return {m: metrics[m] for m in METRICS}


def check_thresholds(summary: AblationSummary) -> dict[str, bool]:
    """Each of `THRESHOLDS` as a named pass/fail for one model's summary."""
    values = _summary_metrics(summary)
    return {th.label: th.passes(values[th.metric]) for th in THRESHOLDS}


def seed_metrics(
    models: Mapping[int, nn.Module],
    hd_cube: ColorCube,
    rgb_cube: ColorCube,
    dims: Sequence[int] = (0,),
    *,
    cache: bool = True,
) -> pd.DataFrame:
    """One row per seed (index ``seed``): every metric, a ``pass:<label>`` column per threshold and
    ``pass`` (all thresholds met). `CNColorMLP`s are scored over their stack (`stacked_metrics`);
    with `cache`, models scored before are read from the score cache instead."""
    if not models:
        raise ValueError('seed_metrics: no models given')
    if all(_stackable(m) for m in models.values()):
        stack = [cast(CNColorMLP, m) for m in models.values()]
        scored = stacked_metrics(stack, hd_cube, rgb_cube, dims, cache=cache)
        return metrics_table(dict(zip(models, scored, strict=True)))
    return metrics_table({seed: ablation_metrics(m, hd_cube, rgb_cube, dims) for seed, m in models.items()})


def metrics_table(by_seed: Mapping[int, Mapping[str, float]]) -> pd.DataFrame:
    """`seed_metrics`'s table from metrics already computed (e.g. `deletion_metrics` of each seed)."""
    if not by_seed:
        raise ValueError('metrics_table: no seeds given')
    rows = {}
    for seed, metrics in by_seed.items():
        missing = [m for m in METRICS if m not in metrics]
        if missing:
            raise KeyError(f'metrics_table: seed {seed} has no {missing}')
        row: dict[str, float | bool] = {m: float(metrics[m]) for m in METRICS}
        checks = {f'pass:{th.label}': th.passes(float(row[th.metric])) for th in THRESHOLDS}
        row.update(checks)
        row['pass'] = all(checks.values())
        rows[seed] = row
    df = pd.DataFrame.from_dict(rows, orient='index')
    df.index.name = 'seed'
    return df


def distribution_table(
    df: pd.DataFrame, *, highlight: int = 0, metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """Each metric over the seeds: its median with the bootstrap 95 % interval, its interquartile
    range, its threshold's pass rate with the Wilson 95 % interval, and where seed `highlight` sits
    (its value and its rank from the worst, 1 = worst)."""
    if highlight not in df.index:
        raise KeyError(f'distribution_table: seed {highlight} is not among the seeds {list(df.index)}')
    n = len(df)
    by_metric = {th.metric: th for th in THRESHOLDS}
    rows = {}
    for m in metrics or list(METRICS):
        values = df[m].astype(float)
        q1, q3 = np.quantile(values, [0.25, 0.75])
        th = by_metric.get(m)
        # worst first: a metric that must be small is worst when largest
        worse = (
            values > values[highlight]
            if (th is None or th.at_most) and m != 'r'
            else values < values[highlight]
        )
        est = median_estimate(values)
        k = 0 if th is None else int(df[f'pass:{th.label}'].sum())
        rate = None if th is None else rate_estimate(k, n)
        rows[METRICS[m]] = {
            'median [95 % CI]': median_interval(est.value, est.low, est.high),
            'IQR': f'{g(q1)}–{g(q3)}',
            'threshold': '' if th is None else th.label,
            'pass rate [95 % CI]': '' if rate is None else f'{k}/{n} [{rate.low:.0%}, {rate.high:.0%}]',
            f'seed {highlight}': g(float(values[highlight])),
            f'seed {highlight} rank (1 = worst)': f'{int(worse.sum()) + 1}/{n}',
        }
    table = pd.DataFrame.from_dict(rows, orient='index')
    table.index.name = 'metric'
    return table


CHUNK = 32
"""Members per stack."""
COLOURS = 4096
"""Colours per pass: a stack's activations then stay in the CPU's cache (measured on this model: 32
members × 4096 colours is about 3.5× faster per member than 32 × the whole hd cube, and 1.7× faster
than one model at a time)."""


def _mse(net: StackedColorMLP, x: torch.Tensor, dims: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-member MSE [M, N] of the baseline and of the ablated stack on colours `x` [N, 3]."""
    baseline = x.new_empty((net.n_members, len(x)))
    ablated = x.new_empty((net.n_members, len(x)))
    for start in range(0, len(x), COLOURS):
        part = slice(start, start + COLOURS)
        xs = x[part].expand(net.n_members, -1, -1)
        h = net.encode(xs)
        baseline[:, part] = (net.decode(h) - xs).square_().mean(dim=-1)
        h[..., list(dims)] = 0.0
        ablated[:, part] = (net.decode(h) - xs).square_().mean(dim=-1)
    return baseline, ablated


def _stackable(model: nn.Module) -> bool:
    return type(model) is CNColorMLP and type(model.bottleneck) is L2Norm


def stacked_metrics(
    models: Sequence[CNColorMLP],
    hd_cube: ColorCube,
    rgb_cube: ColorCube,
    dims: Sequence[int] = (0,),
    *,
    threads: int | None = None,
    cache: bool = False,
) -> list[dict[str, float]]:
    """`METRICS` of every model, in order (as `ablation_metrics` gives for each). `threads`: torch
    threads for the passes (None: torch's own count; unlike a training step, a pass over thousands of
    colours gains from every core). `cache`: load the metrics of models scored before from the score
    cache (`ex_color.evaluation.score_cache`), score only the others, and store theirs."""
    if not models:
        raise ValueError('stacked_metrics: no models given')
    if not cache:
        return _score(models, hd_cube, rgb_cube, dims, threads)
    store = ScoreCache(hd_cube, rgb_cube, dims, threads if threads is not None else torch.get_num_threads())
    keys = [store.key(m) for m in models]
    found = [store.get(k) for k in keys]
    missing = [i for i, f in enumerate(found) if f is None]
    if missing:
        scored = _score([models[i] for i in missing], hd_cube, rgb_cube, dims, threads)
        for i, metrics in zip(missing, scored, strict=True):
            found[i] = metrics
        store.put({keys[i]: metrics for i, metrics in zip(missing, scored, strict=True)})
    return [cast(dict[str, float], f) for f in found]


def _score(
    models: Sequence[CNColorMLP],
    hd_cube: ColorCube,
    rgb_cube: ColorCube,
    dims: Sequence[int],
    threads: int | None,
) -> list[dict[str, float]]:
    for i, m in enumerate(models):
        if not _stackable(m):
            raise TypeError(
                f'stacked_metrics: models[{i}] is a {type(m).__name__} with a '
                f'{type(getattr(m, "bottleneck", None)).__name__} bottleneck; only plain CNColorMLPs stack '
                '(score others with ablation_metrics or deletion_metrics)'
            )
    out: list[dict[str, float]] = []
    with torch.inference_mode(), fast_cpu_math(threads, flush_denormal=False):
        for start in range(0, len(models), CHUNK):
            net = StackedColorMLP(list(models[start : start + CHUNK])).eval()
            out.extend(stack_metrics(net, hd_cube, rgb_cube, dims))
    return out


def stack_metrics(
    net: StackedColorMLP, hd_cube: ColorCube, rgb_cube: ColorCube, dims: Sequence[int] = (0,)
) -> list[dict[str, float]]:
    """`METRICS` of every member of a stack as it stands (in eval mode; the caller owns grad mode and
    threads): what `stacked_metrics` computes per chunk, and what `MetricsDuringTraining` records."""
    table = named_color_table()
    names = list(table['name'])
    named = torch.tensor(np.array(table['rgb'].tolist(), dtype=np.float64), dtype=torch.float32)
    hd = torch.tensor(hd_cube.rgb_grid, dtype=torch.float32).reshape(-1, 3)
    rgb = torch.tensor(rgb_cube.rgb_grid, dtype=torch.float32).reshape(-1, 3)
    gcb = [names.index(c) for c in ('green', 'cyan', 'blue')]
    red = names.index('red')
    device = next(net.parameters()).device
    hd, named, rgb = hd.to(device), named.to(device), rgb.to(device)
    base_hd, abl_hd = (t.cpu().numpy() for t in _mse(net, hd, dims))
    _, abl_named = (t.cpu().numpy() for t in _mse(net, named, dims))
    _, abl_rgb = (t.cpu().numpy() for t in _mse(net, rgb, dims))
    out: list[dict[str, float]] = []
    for j in range(net.n_members):
        metrics = {
            'red': float(abl_named[j, red]),
            'median': float(np.median(abl_hd[j])),
            'worst_gcb': float(abl_named[j, gcb].max()),
            'r': error_correlation(
                rgb_cube.assign(MSE=abl_rgb[j].reshape(rgb_cube.shape)), RED_HSV, SIMILARITY_POWER
            ).r,
            'baseline_max': float(np.max(base_hd[j])),
            'baseline_median': float(np.median(base_hd[j])),
        }
        out.append({k: metrics[k] for k in METRICS})
    return out
