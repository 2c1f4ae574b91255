"""How numbers are written in tables, prose and the README: one formatter each.

* `g`: two significant figures (``0.00017``, ``0.37``, ``1.7e+02``);
* `median_interval`: a median with its interval, ``0.37 [0.12, 0.47]`` in tables, or
  ``0.37 (IQR 0.12–0.47)`` in prose;
* `column_format`: one notation for a table column (no ``0.00013`` beside ``8.3e-05``);
* `quartiles`: the 25th, 50th and 75th percentiles of some values, in that order;
* `setting_name`: a setting's value as a short fraction (``1/16``, ``32``).

Deliberately not here: which interval a claim needs (quartiles describe a spread; the claims
themselves are the statistics modules' business).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction

import numpy as np

__all__ = ['g', 'median_interval', 'quartiles', 'setting_name']


def g(v: float) -> str:
    """Two significant figures."""
    return f'{v:.2g}'


def quartiles(values: Iterable[float]) -> tuple[float, float, float]:
    """(25th percentile, median, 75th percentile) of `values`."""
    q1, med, q3 = np.quantile(np.asarray(list(values), dtype=float), [0.25, 0.5, 0.75])
    return float(q1), float(med), float(q3)


def median_interval(
    median: float, low: float, high: float, *, prose: str | None = None, fmt: Callable[[float], str] = g
) -> str:
    """``median [low, high]``; with ``prose='IQR'``, ``median (IQR low–high)``; `fmt` formats each
    number (`column_format` gives one notation to a table column)."""
    if prose is not None:
        return f'{fmt(median)} ({prose} {fmt(low)}–{fmt(high)})'
    return f'{fmt(median)} [{fmt(low)}, {fmt(high)}]'


def column_format(values: Iterable[float]) -> Callable[[float], str]:
    """One notation for every number of a table column: where `g` would write some of `values` with an
    exponent (below 1e-4 in size: ``8.3e-05``), every value gets two significant digits and an
    exponent (``1.4e-04``, ``8.3e-05``), so a column never mixes ``0.00013`` and ``8.3e-05``;
    otherwise `g` as it is. The values themselves are never rounded further than `g` rounds them."""
    if any(0 < abs(v) < 1e-4 for v in values):
        return lambda v: f'{v:.1e}'
    return g


def setting_name(value: float) -> str:
    """1/16, 1/2, 1, 32: a setting as a short fraction (falls back to ``{:g}``)."""
    f = Fraction(value).limit_denominator(1024)
    return str(f) if float(f) == value else f'{value:g}'
