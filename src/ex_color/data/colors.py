"""Named hues and greys, and vectorised HSV <-> RGB conversion on numpy arrays.

Design decisions:
- Hues are fractions of a turn in [0, 1) (red 0, orange 30/360, ...). Named sets (`hues3`, `hues6`,
  `hues12`) are ordered `dict[str, float]` sorted by hue, so they can be iterated as (name, hue) pairs
  or looked up by name. Grey sets map a name to a value (brightness) level.
- `hsv2rgb` and `rgb2hsv` follow scikit-image's conventions: every channel in [0, 1]; hue wraps
  (h = 1 and h = 0 are both red, and h = -1/12 is the same as 11/12); a grey (max == min) gets h = 0 and
  s = 0; black gets s = 0. They are implemented in numpy so scikit-image is not a dependency.
- The conversions accept any `[..., 3]` array and return float64 of the same shape.

Deliberately not done here:
- No range validation of s, v or r, g, b: the formulas are defined for any finite input, and
  `ColorCube` is where colours are validated. Non-finite input *is* rejected, because NaN would
  otherwise silently become a colour (NaN compares false everywhere).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Hue constants, as fractions of a turn.
RED = 0.0
ORANGE = 30 / 360
YELLOW = 60 / 360
LIME = 90 / 360
GREEN = 120 / 360
TEAL = 150 / 360
CYAN = 180 / 360
AZURE = 210 / 360
BLUE = 240 / 360
PURPLE = 270 / 360
MAGENTA = 300 / 360
PINK = 330 / 360

hues3: dict[str, float] = {'red': RED, 'green': GREEN, 'blue': BLUE}
"""The three additive primaries, sorted by hue."""

hues6: dict[str, float] = {
    'red': RED,
    'yellow': YELLOW,
    'green': GREEN,
    'cyan': CYAN,
    'blue': BLUE,
    'magenta': MAGENTA,
}
"""Primaries and secondaries, sorted by hue."""

hues12: dict[str, float] = {
    'red': RED,
    'orange': ORANGE,
    'yellow': YELLOW,
    'lime': LIME,
    'green': GREEN,
    'teal': TEAL,
    'cyan': CYAN,
    'azure': AZURE,
    'blue': BLUE,
    'purple': PURPLE,
    'magenta': MAGENTA,
    'pink': PINK,
}
"""All twelve named hues (every 30 degrees), sorted by hue."""

grays2: dict[str, float] = {'black': 0.0, 'white': 1.0}
"""Value levels of black and white."""

grays3: dict[str, float] = {'black': 0.0, 'gray': 0.5, 'white': 1.0}
"""Black, mid grey and white."""

grays5: dict[str, float] = {
    'black': 0.0,
    'dark gray': 0.25,
    'gray': 0.5,
    'light gray': 0.75,
    'white': 1.0,
}
"""Five evenly spaced value levels from black to white."""


def _as_triples(arr: ArrayLike, argument: str) -> NDArray[np.float64]:
    out = np.asarray(arr, dtype=np.float64)
    if out.ndim < 1 or out.shape[-1] != 3:
        raise ValueError(f'{argument}: expected an array of shape [..., 3], got shape {out.shape}')
    if not np.all(np.isfinite(out)):
        bad = np.argwhere(~np.isfinite(out))[0]
        raise ValueError(f'{argument}: non-finite value at index {tuple(int(i) for i in bad)}')
    return out


def hsv2rgb(hsv: ArrayLike) -> NDArray[np.float64]:
    """Convert HSV to RGB. Input and output are `[..., 3]`; hue wraps modulo 1."""
    hsv = _as_triples(hsv, 'hsv')
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    h6 = np.mod(h, 1.0) * 6.0
    sector = np.floor(h6)
    f = h6 - sector
    # np.mod can return exactly 1.0 for tiny negative hues (e.g. -1e-17), giving sector 6: that is red.
    sector = sector.astype(np.int64) % 6
    p = v * (1 - s)
    q = v * (1 - f * s)
    t = v * (1 - (1 - f) * s)
    # Each sector of the hue circle picks (r, g, b) from (v, t, p, q) in a fixed pattern.
    r = np.choose(sector, [v, q, p, p, t, v])
    g = np.choose(sector, [t, v, v, q, p, p])
    b = np.choose(sector, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-1)


def rgb2hsv(rgb: ArrayLike) -> NDArray[np.float64]:
    """Convert RGB to HSV. Input and output are `[..., 3]`; greys get h = 0 and s = 0."""
    rgb = _as_triples(rgb, 'rgb')
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = rgb.max(axis=-1)
    delta = v - rgb.min(axis=-1)
    grey = delta == 0
    safe_delta = np.where(grey, 1.0, delta)
    safe_v = np.where(v == 0, 1.0, v)
    s = np.where(v == 0, 0.0, delta / safe_v)
    # Later assignments win on ties, as in scikit-image; tied channels give the same hue anyway.
    h = (g - b) / safe_delta
    h = np.where(g == v, 2.0 + (b - r) / safe_delta, h)
    h = np.where(b == v, 4.0 + (r - g) / safe_delta, h)
    h = np.mod(h / 6.0, 1.0)
    # A hue a hair below 0 (e.g. -1e-17) rounds to exactly 1.0 under mod; that is red, i.e. 0.
    h = np.where(grey | (h >= 1.0), 0.0, h)
    return np.stack([h, s, v], axis=-1)
