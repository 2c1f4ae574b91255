"""Names, value labels and tick choices for colour-cube axes, shared by the cube figures.

Design decisions:
- Axis letters map to names (`h` → Hue, `s` → Saturation, …). Values print as exact fractions when the
  axis is "pretty" (`1/3`, `24/47`; recognised with a tolerance of 1e-9 and denominators up to 1000),
  otherwise with two significant digits.
- `pretty` may be a bool (all axes or none) or a string of axis letters (`'sv'`) naming the axes to
  prettify.
- Hue ticks on an index axis (colour slices) use the first of hues3/hues6/hues12 that matches at least
  two coordinates. When none does (e.g. a 5-step hue axis), the best partial match is used if any hue
  matches, else the first and last coordinates as fractions (the reference crashed here, §19.32).
- Hue ticks on a continuous axis (line plots) pick the hue set by the span: hues12 up to half a turn,
  hues6 up to two thirds, else hues3. Hue coordinates are unwrapped so a range crossing red stays
  monotonic.
- A single coordinate in a legend (`coordinate_label`) is a hue's name when it is one of the 12 named
  hues, else its angle in whole degrees (a reader knows 111° sooner than 0.31 of a turn); other axes
  print two significant digits (`1`, `0.78`), since legend entries are read, not compared as fractions.

Deliberately not done here: no drawing; functions return positions and labels for the caller to apply.
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

import numpy as np

from ex_color.data.colors import hues3, hues6, hues12

AXIS_NAMES = {'h': 'Hue', 's': 'Saturation', 'v': 'Value', 'r': 'Red', 'g': 'Green', 'b': 'Blue'}
_MATCH_TOLERANCE = 1e-6


class Ticks(NamedTuple):
    """Tick positions and their labels."""

    positions: list[float]
    """Tick positions in data coordinates (indices for image axes, coordinates for line plots)."""
    labels: list[str]
    """One label per position."""


def axis_name(letter: str) -> str:
    """Human name of an axis letter (KeyError for unknown letters)."""
    if letter not in AXIS_NAMES:
        raise KeyError(f'axis letter {letter!r} is not one of {"".join(AXIS_NAMES)}')
    return AXIS_NAMES[letter]


def is_pretty(pretty: bool | str, letter: str) -> bool:
    """Whether `pretty` (a bool, or a string of axis letters) covers the axis `letter`."""
    if isinstance(pretty, str):
        return letter in pretty
    return bool(pretty)


def format_value(x: float, pretty: bool) -> str:
    """`1/3` for an exact small fraction when pretty, else two significant digits."""
    if pretty:
        frac = Fraction(float(x)).limit_denominator(1000)
        if abs(float(frac) - float(x)) < 1e-9:
            return str(frac)
    return f'{float(x):.2g}'


def unwrap_hue(coords: np.ndarray) -> np.ndarray:
    """Hue coordinates made monotonic across the red wrap-around (period 1)."""
    return np.unwrap(np.asarray(coords, dtype=np.float64), period=1.0)


def _matches(coords: np.ndarray, hue: float) -> np.ndarray:
    # Distance on the circle, so hue 1.0 matches red at 0.0.
    d = np.abs((coords - hue + 0.5) % 1.0 - 0.5)
    return np.flatnonzero(d < _MATCH_TOLERANCE)


def index_ticks(coords: np.ndarray, letter: str, pretty: bool | str) -> Ticks:
    """Ticks for an image axis whose cells are indexed 0..n-1 (colour slices)."""
    coords = np.asarray(coords, dtype=np.float64)
    if letter == 'h':
        best: Ticks | None = None
        for hues in (hues3, hues6, hues12):
            pos, lab = [], []
            for name, hue in hues.items():
                idx = _matches(coords, hue)
                if len(idx):
                    pos.append(float(idx[0]))
                    lab.append(name.capitalize())
            if len(pos) >= 2:
                return Ticks(pos, lab)
            if pos and best is None:
                best = Ticks(pos, lab)
        if best is not None:
            return best
    n = len(coords)
    ends = [0] if n == 1 else [0, n - 1]
    return Ticks([float(i) for i in ends], [format_value(coords[i], is_pretty(pretty, letter)) for i in ends])


def continuous_ticks(coords: np.ndarray, letter: str, pretty: bool | str) -> Ticks:
    """Ticks for a line-plot axis whose x values are the coordinates themselves."""
    coords = np.asarray(coords, dtype=np.float64)
    if letter == 'h':
        x = unwrap_hue(coords)
        lo, hi = float(np.min(x)), float(np.max(x))
        span = hi - lo
        hues = hues12 if span <= 1 / 2 else hues6 if span <= 2 / 3 else hues3
        pos, lab = [], []
        for name, hue in hues.items():
            # A hue may appear at hue + k turns after unwrapping; tick every occurrence within range.
            for k in range(int(np.floor(lo - hue)), int(np.ceil(hi - hue)) + 1):
                if lo - _MATCH_TOLERANCE <= hue + k <= hi + _MATCH_TOLERANCE:
                    pos.append(hue + k)
                    lab.append(name.capitalize())
        order = np.argsort(pos)
        return Ticks([pos[i] for i in order], [lab[i] for i in order])
    lo, hi = float(coords[0]), float(coords[-1])
    if lo == 0 and hi == 1:
        return Ticks([0.0, 1.0], ['0', '1'])
    picks = sorted({0, len(coords) // 2, len(coords) - 1})
    p = is_pretty(pretty, letter)
    return Ticks([float(coords[i]) for i in picks], [format_value(coords[i], p) for i in picks])


def coordinate_label(x: float, letter: str) -> str:
    """One coordinate of axis `letter` as a legend label: a hue name or degrees, else two digits."""
    if letter == 'h':
        for name, hue in hues12.items():
            if len(_matches(np.array([float(x)]), hue)):
                return name.capitalize()
        return f'{round(float(x) % 1.0 * 360) % 360}°'
    return format_value(x, pretty=False)


def resolve_colors(cube, colors, argument: str) -> np.ndarray:
    """A `[*shape, 3]` float array from a variable name or an array, clipped to [0, 1]."""
    arr = cube[colors] if isinstance(colors, str) else np.asarray(colors)
    if arr.shape != (*cube.shape, 3):
        raise ValueError(f'{argument}: expected colours of shape {(*cube.shape, 3)}, got {arr.shape}')
    return np.clip(np.asarray(arr, dtype=np.float64), 0.0, 1.0)
