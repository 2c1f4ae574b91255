"""Argument checks shared by the regularisers.

Every check raises with the owning class and argument named, so a bad tensor in a notebook points at
the regulariser that received it rather than at a broadcasting error deep inside a formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ['as_vector', 'check_activations', 'check_finite_number', 'check_index_tuple']


def as_vector(p: Tensor | Sequence[float], *, owner: str, name: str, nonzero: bool = False) -> Tensor:
    """Return `p` as a detached 1-D floating tensor (integer input becomes the default float dtype)."""
    t = torch.as_tensor(p).detach().clone()
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    if t.ndim != 1 or t.numel() == 0:
        raise ValueError(f'{owner}: {name} must be a non-empty 1-D vector, got shape {tuple(t.shape)}')
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f'{owner}: {name} must be finite, got {t.tolist()}')
    if nonzero and float(torch.linalg.vector_norm(t)) == 0.0:
        raise ValueError(f'{owner}: {name} must not be the zero vector (its direction is undefined)')
    return t


def check_activations(x: Tensor, *, owner: str, width: int | None = None) -> None:
    """Activations are [B, D] (or [..., B, D]); `width`, if given, must equal D."""
    if not isinstance(x, Tensor):
        raise TypeError(f'{owner}: activations must be a Tensor, got {type(x).__name__}')
    if x.ndim < 2:
        raise ValueError(f'{owner}: activations must be at least 2-D [B, D], got shape {tuple(x.shape)}')
    if width is not None and x.shape[-1] != width:
        raise ValueError(
            f'{owner}: activations have width {x.shape[-1]} but the anchor has width {width} '
            f'(activations shape {tuple(x.shape)})'
        )


def check_index_tuple(values: Sequence[int], *, owner: str, name: str) -> tuple[int, ...]:
    """Non-empty, non-negative, duplicate-free ints; returned sorted."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise TypeError(f'{owner}: {name} must be a sequence of ints, got {type(values).__name__}')
    out: list[int] = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f'{owner}: {name} must contain ints, got {v!r}')
        out.append(v)
    if not out:
        raise ValueError(f'{owner}: {name} must not be empty')
    if min(out) < 0:
        raise ValueError(f'{owner}: {name} must be non-negative, got {tuple(values)}')
    if len(set(out)) != len(out):
        raise ValueError(f'{owner}: {name} must not contain duplicates, got {tuple(values)}')
    return tuple(sorted(out))


def check_finite_number(value: object, *, owner: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f'{owner}: {name} must be a finite number, got {value!r}')
    return float(value)
