"""Perceptual similarity between HSV colours, used to ask "does the error fall off with distance to red?".

`hsv_similarity(c1, c2)` combines three agreements, each in [0, 1]:

* hue: from the hue angle θ = 360°·min(d, 1 − d), d = |h1 − h2| mod 1 (so hues outside [0, 1), e.g. the
  loss cube's −1/12, wrap). ``mode='angular'``: (90 − θ)/90 clipped at 0 with ``hemi=True`` (only the
  hemisphere within 90° counts), else (180 − θ)/180. ``mode='cosine'``: max(0, cos θ) with ``hemi``,
  else ½ + ½·cos θ.
* vibrancy weighting: hue only matters as much as the colours are vibrant. With r = (s1·v1 + s2·v2)/2
  (or r = 1 when ``weight_vibrancy=False``) the effective hue similarity is r·hue + (1 − r), so two
  greys agree fully on hue.
* saturation and value: (1 − |s1 − s2|)·(1 − |v1 − v2|).

Against red (0, 1, 1), angular/hemi: red 1, orange and pink 2/3, yellow and magenta 1/3, cyan 0, white,
black and every grey 0 (saturation differs by 1), dark red (0, 1, 0.5) 0.5.

Design decisions:
- Pure numpy on ``[..., 3]`` arrays that broadcast against each other; the result has the broadcast
  leading shape. The result is clipped to [0, 1] only to absorb rounding (r·1 + (1 − r) can be 1 + 1 ulp).
- s and v must lie in [0, 1] and every value must be finite: out-of-range input is an error naming the
  argument, because the formula silently returns negative "similarities" for it.

Deliberately not done: no RGB input (convert with `ex_color.data.rgb2hsv`), no perceptual colour space.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

MODES = ('angular', 'cosine')


def _as_hsv(arr: ArrayLike, argument: str) -> NDArray[np.float64]:
    out = np.asarray(arr, dtype=np.float64)
    if out.ndim < 1 or out.shape[-1] != 3:
        raise ValueError(f'hsv_similarity: {argument} must have shape [..., 3], got {out.shape}')
    if not np.all(np.isfinite(out)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
        raise ValueError(f'hsv_similarity: {argument} has a non-finite value at index {bad}')
    sv = out[..., 1:]
    outside = (sv < 0) | (sv > 1)
    if outside.any():
        bad = tuple(int(i) for i in np.argwhere(outside)[0])
        bad = (*bad[:-1], bad[-1] + 1)  # index into the full [..., 3] array
        raise ValueError(f'hsv_similarity: {argument} has s or v outside [0, 1] at index {bad}: {out[bad]!r}')
    return out


def hue_similarity(
    h1: ArrayLike, h2: ArrayLike, *, hemi: bool = True, mode: Literal['angular', 'cosine'] = 'angular'
) -> NDArray[np.float64]:
    """Similarity of two hues (fractions of a turn) in [0, 1]; see the module docstring."""
    if mode not in MODES:
        raise ValueError(f'hsv_similarity: mode must be one of {MODES}, got {mode!r}')
    d = np.mod(np.abs(np.asarray(h1, dtype=np.float64) - np.asarray(h2, dtype=np.float64)), 1.0)
    theta = 360.0 * np.minimum(d, 1.0 - d)  # degrees, in [0, 180]
    if mode == 'angular':
        return np.maximum(0.0, (90.0 - theta) / 90.0) if hemi else (180.0 - theta) / 180.0
    cos = np.cos(np.radians(theta))
    return np.maximum(0.0, cos) if hemi else 0.5 + 0.5 * cos


def hsv_similarity(
    c1: ArrayLike,
    c2: ArrayLike,
    hemi: bool = True,
    mode: Literal['angular', 'cosine'] = 'angular',
    weight_vibrancy: bool = True,
) -> NDArray[np.float64]:
    """Similarity in [0, 1] of HSV colours `c1` and `c2` ([..., 3], broadcastable) → [...]."""
    a = _as_hsv(c1, 'c1')
    b = _as_hsv(c2, 'c2')
    h1, s1, v1 = a[..., 0], a[..., 1], a[..., 2]
    h2, s2, v2 = b[..., 0], b[..., 1], b[..., 2]
    hue = hue_similarity(h1, h2, hemi=hemi, mode=mode)
    r = (s1 * v1 + s2 * v2) / 2 if weight_vibrancy else np.ones_like(hue)
    effective = r * hue + (1.0 - r)
    similarity = effective * (1.0 - np.abs(s1 - s2)) * (1.0 - np.abs(v1 - v2))
    return np.clip(similarity, 0.0, 1.0)
