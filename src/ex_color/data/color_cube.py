"""`ColorCube`: a 3-axis grid of colours carrying named per-cell variables.

A cube has three coordinate axes in a canonical colour space (`'rgb'` or `'hsv'`), an axis order
`space` (a permutation such as `'svh'`), and variables: arrays whose three leading axes are the grid
and which may have trailing axes (`color` is `[*shape, 3]`, `latents` `[*shape, K]`, `MSE` `[*shape]`).

Design decisions:
- Cubes are immutable values. Every operation (`assign`, `permute`, slicing) returns a new cube; the
  stored arrays are read-only numpy views, so a slice that shares memory with its parent cannot be used
  to corrupt the parent. Copy with `np.array(...)` / `torch.tensor(...)` if you need to write.
- Slicing and `permute` are cheap: they produce views (index arrays aside) and skip re-validation,
  because a sub-grid or transposition of a valid cube is valid.
- Indexing rules (three parts, integers keep their axis, per-axis index arrays) live in
  `cube_indexing`. Operations return `type(self)`, so subclasses survive `permute` and slicing.
- Validation raises ValueError naming the variable (and, for bad colours, an example grid index): a
  colour must be finite and within [0, 1]; every variable's leading shape must equal the grid shape;
  `color` and `bias` must exist.
- `from_hsv` wraps hue modulo 1 and clips s and v to [0, 1] before converting (so linspace wobble
  cannot produce invalid colours); the coordinates are kept exactly as given.

Deliberately not done: no interpolation, no resampling, no colour-space conversion of the grid axes
(a cube built from HSV stays an HSV-ordered grid; `color` is always RGB).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike

from ex_color.data.colors import hsv2rgb
from ex_color.data.cube_indexing import index_grid, normalize_key

CANONICAL_SPACES = ('rgb', 'hsv')


def _readonly(array: np.ndarray) -> np.ndarray:
    # A fresh view, so flipping the flag never touches the caller's own array object.
    view = array.view()
    view.flags.writeable = False
    return view


class ColorCube:
    """An immutable grid of colours with named variables; see the module docstring."""

    _vars: dict[str, np.ndarray]
    _coordinates: tuple[np.ndarray, np.ndarray, np.ndarray]
    _space: str
    _canonical_space: str

    def __init__(
        self,
        vars: Mapping[str, ArrayLike],
        coordinates: Sequence[ArrayLike],
        space: str,
        canonical_space: str,
    ):
        if canonical_space not in CANONICAL_SPACES:
            raise ValueError(f'canonical_space must be one of {CANONICAL_SPACES}, got {canonical_space!r}')
        _check_space(space, canonical_space)
        if len(coordinates) != 3:
            raise ValueError(f'coordinates: expected 3 arrays (one per axis), got {len(coordinates)}')
        coords = []
        for letter, c in zip(space, coordinates, strict=True):
            arr = np.asarray(c, dtype=np.float64)
            if arr.ndim != 1:
                raise ValueError(f'coordinates for axis {letter!r} must be 1-D, got shape {arr.shape}')
            if not np.all(np.isfinite(arr)):
                raise ValueError(f'coordinates for axis {letter!r} contain non-finite values')
            coords.append(_readonly(arr))
        for name in ('color', 'bias'):
            if name not in vars:
                raise ValueError(f'vars: a {name!r} variable is required, got {sorted(vars)}')
        self._coordinates = (coords[0], coords[1], coords[2])
        self._space = space
        self._canonical_space = canonical_space
        self._vars = {}
        self._vars = self._validated(vars)

    @classmethod
    def _unchecked(
        cls,
        vars: dict[str, np.ndarray],
        coordinates: tuple[np.ndarray, ...],
        space: str,
        canonical_space: str,
    ) -> Self:
        # Internal fast path for results derived from an already-valid cube (views, transposes).
        cube = cls.__new__(cls)
        cube._vars = {name: _readonly(arr) for name, arr in vars.items()}
        cube._coordinates = tuple(_readonly(c) for c in coordinates)  # type: ignore[assignment]
        cube._space = space
        cube._canonical_space = canonical_space
        return cube

    # --- construction -------------------------------------------------------------------------------

    @classmethod
    def from_rgb(cls, r: ArrayLike, g: ArrayLike, b: ArrayLike) -> Self:
        """Grid with colour (r_i, g_j, b_k) at (i, j, k); bias is 1 everywhere."""
        r, g, b = (np.asarray(x, dtype=np.float64) for x in (r, g, b))
        grids = np.meshgrid(r, g, b, indexing='ij')
        color = np.stack(grids, axis=-1)
        return cls({'color': color, 'bias': np.ones(color.shape[:3])}, (r, g, b), 'rgb', 'rgb')

    @classmethod
    def from_hsv(cls, h: ArrayLike, s: ArrayLike, v: ArrayLike) -> Self:
        """Grid with colour HSV->RGB(h_i, s_j, v_k) and a sampling bias that down-weights near-greys.

        bias = (1/(n_s n_h)) (1 - V) + (1/n_h) (1 - S) V + S V: vibrant colours 1, white 1/n_h,
        black 1/(n_s n_h), because greys are repeated across every hue (and black across every s).
        """
        h, s, v = (np.asarray(x, dtype=np.float64) for x in (h, s, v))
        for letter, c in zip('hsv', (h, s, v), strict=True):
            if c.ndim != 1 or not np.all(np.isfinite(c)):
                raise ValueError(
                    f'from_hsv: {letter} must be a 1-D array of finite values, got shape {c.shape}'
                )
        hh, ss, vv = np.meshgrid(np.mod(h, 1.0), np.clip(s, 0, 1), np.clip(v, 0, 1), indexing='ij')
        color = hsv2rgb(np.stack([hh, ss, vv], axis=-1))
        # hsv2rgb can stray below 0 / above 1 by one ulp; clip so validation sees exact bounds.
        color = np.clip(color, 0.0, 1.0)
        n_h, n_s = len(h), len(s)
        bias = (1 / (n_s * n_h)) * (1 - vv) + (1 / n_h) * (1 - ss) * vv + ss * vv
        return cls({'color': color, 'bias': bias}, (h, s, v), 'hsv', 'hsv')

    # --- accessors ----------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int, int]:
        """Grid shape: the lengths of the three coordinate arrays, in `space` order."""
        a, b, c = (len(x) for x in self._coordinates)
        return (a, b, c)

    @property
    def vars(self) -> dict[str, np.ndarray]:
        """A new dict of the (read-only) variable arrays; changing the dict does not change the cube."""
        return dict(self._vars)

    @property
    def coordinates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The three 1-D coordinate arrays, in `space` order."""
        return self._coordinates

    @property
    def space(self) -> str:
        """Current axis order, e.g. `'svh'`."""
        return self._space

    @property
    def canonical_space(self) -> str:
        """`'rgb'` or `'hsv'`: the space the cube was built in (unchanged by `permute`)."""
        return self._canonical_space

    @property
    def rgb_grid(self) -> np.ndarray:
        """The `color` variable: RGB in [0, 1], shape `[*shape, 3]`."""
        return self._vars['color']

    @property
    def bias(self) -> np.ndarray:
        """The `bias` variable (sampling weight), shape `[*shape]`."""
        return self._vars['bias']

    def coordinate(self, letter: str) -> np.ndarray:
        """Coordinates of the axis named `letter` (e.g. `'h'`), wherever it is in `space`."""
        if len(letter) != 1 or letter not in self._space:
            raise ValueError(f'coordinate: {letter!r} is not an axis of this cube (space {self._space!r})')
        return self._coordinates[self._space.index(letter)]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            if key not in self._vars:
                raise KeyError(f'ColorCube has no variable {key!r}; it has {sorted(self._vars)}')
            return self._vars[key]
        indexers = normalize_key(key, self.shape, self._space)
        vars = {name: index_grid(arr, indexers) for name, arr in self._vars.items()}
        coords = tuple(c[ix] for c, ix in zip(self._coordinates, indexers, strict=True))
        return self._unchecked(vars, coords, self._space, self._canonical_space)

    def __contains__(self, name: object) -> bool:
        return name in self._vars

    def __repr__(self) -> str:
        parts = ', '.join(f'{n}{list(a.shape[3:]) if a.ndim > 3 else ""}' for n, a in self._vars.items())
        shape = 'x'.join(str(n) for n in self.shape)
        return f'{type(self).__name__}({self._space} {shape}; vars: {parts})'

    # --- derived cubes ------------------------------------------------------------------------------

    def assign(self, name: str | None = None, array: ArrayLike | None = None, /, **arrays: ArrayLike) -> Self:
        """New cube with variables added or replaced: `assign('red', x)` or `assign(red=x, blue=y)`."""
        if name is not None:
            if not isinstance(name, str):
                raise TypeError(f'assign: the variable name must be a str, got {type(name).__name__}')
            if array is None:
                raise TypeError(f'assign({name!r}, array): the array is missing')
            if name in arrays:
                raise ValueError(f'assign: variable {name!r} given both positionally and by keyword')
            arrays = {name: array, **arrays}
        if not arrays:
            raise TypeError('assign: give a name and an array, or one or more name=array keywords')
        new = self._validated(arrays)
        return self._unchecked({**self._vars, **new}, self._coordinates, self._space, self._canonical_space)

    def permute(self, space: str) -> Self:
        """New cube with grid axes reordered to `space` (e.g. `'svh'`); trailing axes stay last."""
        _check_space(space, self._canonical_space)
        order = [self._space.index(letter) for letter in space]
        vars = {n: np.transpose(a, order + list(range(3, a.ndim))) for n, a in self._vars.items()}
        coords = tuple(self._coordinates[i] for i in order)
        return self._unchecked(vars, coords, space, self._canonical_space)

    # --- validation ---------------------------------------------------------------------------------

    def _validated(self, arrays: Mapping[str, ArrayLike]) -> dict[str, np.ndarray]:
        out = {}
        for name, value in arrays.items():
            arr = np.asarray(value)
            if arr.ndim < 3 or arr.shape[:3] != self.shape:
                raise ValueError(
                    f'variable {name!r}: leading shape must be the grid shape {self.shape} '
                    f'(axes {self._space!r}), got array of shape {arr.shape}'
                )
            if name == 'color':
                _check_colors(arr)
            elif name == 'bias':
                _check_bias(arr)
            out[name] = _readonly(arr)
        return out


def _check_space(space: str, canonical_space: str) -> None:
    if not isinstance(space, str) or len(space) != 3 or sorted(space) != sorted(canonical_space):
        raise ValueError(
            f'space must be a permutation of the letters of {canonical_space!r} (e.g. '
            f'{canonical_space[::-1]!r}), got {space!r}'
        )


def _check_colors(arr: np.ndarray) -> None:
    if arr.shape[3:] != (3,):
        raise ValueError(f"variable 'color': expected shape [*grid, 3], got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating) and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"variable 'color': expected a numeric array, got dtype {arr.dtype}")
    bad = np.isnan(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"variable 'color' has NaN at index {where}")
    bad = (arr < 0) | (arr > 1)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"variable 'color' is outside [0, 1] at index {where}: value {arr[where]!r}")


def _check_bias(arr: np.ndarray) -> None:
    if arr.ndim != 3:
        raise ValueError(f"variable 'bias': expected shape [*grid] with no trailing axes, got {arr.shape}")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"variable 'bias' must be finite and >= 0; bad value at index {where}: {arr[where]!r}"
        )
