"""Per-axis indexing for `ColorCube`: turn a user's `cube[i, j, k]` key into three axis indexers.

Design decisions:
- Each of the three axes is indexed independently (an "outer" product), unlike numpy's advanced
  indexing, where several index arrays broadcast together. `cube[[0, 2], :, [1, 3]]` therefore picks a
  2 x n x 2 sub-grid, which is what a grid of colours needs.
- An integer index keeps its axis: `i` becomes `slice(i, i + 1)` (with negative `i` counted from the
  end). A cube always has three grid axes, so dropping one would leave a cube that cannot exist; keeping
  it avoids the reference's breakage and needs no special cases downstream.
- Slices (any step, including negative) stay slices, so variables are indexed as numpy views.
- 1-D integer or boolean arrays (or lists) are allowed and produce copies, as in numpy.

Deliberately not supported (clear errors instead): Ellipsis, None/newaxis, multi-dimensional index
arrays, float indices, and keys that do not have exactly three parts.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

AxisIndex = slice | np.ndarray


def normalize_key(key: Any, shape: tuple[int, int, int], axis_names: str) -> tuple[AxisIndex, ...]:
    """Validate a `cube[...]` key and return one slice or 1-D integer array per axis."""
    if not isinstance(key, tuple) or len(key) != 3:
        count = len(key) if isinstance(key, tuple) else 1
        raise ValueError(
            f'ColorCube index must have exactly 3 parts (one per axis {axis_names!r}), got {count}: {key!r}'
        )
    return tuple(
        _normalize_axis(k, n, axis, name)
        for axis, (k, n, name) in enumerate(zip(key, shape, axis_names, strict=True))
    )


def _normalize_axis(index: Any, length: int, axis: int, name: str) -> AxisIndex:
    where = f'ColorCube index for axis {axis} ({name!r})'
    if isinstance(index, slice):
        return index
    if index is None or index is Ellipsis:
        raise TypeError(f'{where}: {index!r} is not supported; use a slice, an int or a 1-D index array')
    if isinstance(index, (bool, np.bool_)):
        raise TypeError(f'{where}: a single bool is not a valid index')
    if isinstance(index, (int, np.integer)):
        i = operator.index(index)
        if not -length <= i < length:
            raise IndexError(f'{where}: index {i} is out of range for length {length}')
        i = i % length
        # Keep the axis: a cube always has exactly three grid axes.
        return slice(i, i + 1)
    arr = np.asarray(index)
    if arr.ndim != 1:
        raise TypeError(f'{where}: index arrays must be 1-D, got shape {arr.shape}')
    if arr.dtype == bool:
        if arr.shape[0] != length:
            raise IndexError(f'{where}: boolean mask has length {arr.shape[0]}, axis has length {length}')
        return np.flatnonzero(arr)
    if arr.size == 0:
        return arr.astype(np.intp)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f'{where}: index arrays must hold integers or bools, got dtype {arr.dtype}')
    if arr.min() < -length or arr.max() >= length:
        raise IndexError(f'{where}: index array has values outside [-{length}, {length})')
    return arr.astype(np.intp) % length


def index_grid(array: np.ndarray, indexers: tuple[AxisIndex, ...]) -> np.ndarray:
    """Index the three leading (grid) axes of `array`, leaving trailing axes untouched."""
    basic = tuple(ix if isinstance(ix, slice) else slice(None) for ix in indexers)
    out = array[basic]  # a view: only slices so far
    for axis, ix in enumerate(indexers):
        if not isinstance(ix, slice):
            out = np.take(out, ix, axis=axis)
    return out
