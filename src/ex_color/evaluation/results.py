"""Seed-sweep results: one `Result` per training run, and a table of them for ranking.

`results_to_dataframe(results)` gives one row per run with columns ``seed``, ``wandb url``, ``score``
and then the interesting tracker-summary metrics: ``_runtime``, every ``labels/n…`` key and every
``val_…`` key.

Design decisions:
- Summary columns are the union over *all* runs, in first-seen order (run order, then each run's key
  order), not just the first run's keys: a metric the first run happened not to log is still shown.
  A run lacking a key gets NaN there, so numeric columns stay numeric (the reference used None).
- Rows keep the order of `results`; the frame has a fresh RangeIndex.
- Results are plain data; building the frame never mutates them.

Deliberately not done: no fetching from the tracker, no sorting or ranking (see `pareto_front`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

FIXED_COLUMNS = ('seed', 'wandb url', 'score')


def is_summary_metric(key: str) -> bool:
    """True for the summary keys that go into the results table."""
    return key == '_runtime' or key.startswith('labels/n') or key.startswith('val_')


@dataclass(frozen=True)
class Result:
    """The outcome of one training run in a sweep."""

    seed: int
    """Random seed the run was trained with."""
    checkpoint_key: str
    """Where the trained model's checkpoint is stored (storage key, not a URL)."""
    url: str
    """Link to the run in the experiment tracker (shown as ``wandb url``)."""
    summary: Mapping[str, Any] = field(repr=False)
    """The tracker's final summary metrics (e.g. ``val_recon``, ``labels/n_total``, ``_runtime``)."""
    score: float
    """The run's score (e.g. from `ScoreByHSVSimilarity`); NaN if it could not be scored."""

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f'Result.seed: expected an int, got {self.seed!r}')
        for name in ('checkpoint_key', 'url'):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f'Result.{name}: expected a str, got {getattr(self, name)!r}')
        if not isinstance(self.summary, Mapping):
            raise TypeError(f'Result.summary: expected a mapping, got {type(self.summary).__name__}')
        bad = [k for k in self.summary if not isinstance(k, str)]
        if bad:
            raise TypeError(f'Result.summary: keys must be strings, got {bad!r}')
        if isinstance(self.score, bool) or not isinstance(self.score, int | float):
            raise TypeError(f'Result.score: expected a number, got {self.score!r}')
        if math.isinf(self.score):
            raise ValueError(f'Result.score: must be finite or NaN, got {self.score!r}')
        object.__setattr__(self, 'summary', dict(self.summary))


def results_to_dataframe(results: Iterable[Result]) -> pd.DataFrame:
    """One row per run: ``seed``, ``wandb url``, ``score``, then the summary metrics (union, first seen)."""
    results = list(results)
    for i, result in enumerate(results):
        if not isinstance(result, Result):
            raise TypeError(f'results[{i}]: expected a Result, got {type(result).__name__}')
    keys: dict[str, None] = {}  # an ordered set
    for result in results:
        for key in result.summary:
            if is_summary_metric(key) and key not in FIXED_COLUMNS:
                keys.setdefault(key)
    rows = [
        {
            'seed': r.seed,
            'wandb url': r.url,
            'score': float(r.score),
            **{k: r.summary.get(k, math.nan) for k in keys},
        }
        for r in results
    ]
    return pd.DataFrame(rows, columns=[*FIXED_COLUMNS, *keys])
