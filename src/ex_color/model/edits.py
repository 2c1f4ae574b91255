"""Edits of the bottleneck's unit latents: LEACE, a direction projected out, dimensions ablated.

**The edit contract.** An edit is an `nn.Module` mapping unit latents ``[..., k] -> [..., k]`` that
holds buffers only (never parameters). Every way this project deletes a concept at the bottleneck is
one: `AblateDims` (anchoring's deletion), `ProjectOut`, `LeaceEdit` here, and
`model.intervention.Suppression` (gated removal along a concept vector). Any of them works on one model
(`erased(model, edit)`) and on a stack of models trained or fine-tuned together (`MemberSpec.edit`,
applied by `model.stacked.StackedEdits`), re-normalised after the edit in both; an edit that also
declares ``affine() -> (M, shift)`` is batched across a stack's members. A test holds every edit's
one-model and stacked outputs equal, and `AblateDims` equal to weight surgery (`model.surgery.ablate`).

Anchoring decides before training where red will live, so deleting it is `surgery.ablate` (weights
zeroed at the source) or, as an edit, `AblateDims` (the same map on the latents). The
alternatives a researcher would compare it with find red afterwards in a model trained without
anchoring, from its latents and the red labels, and remove it there:

* `fit_leace(latents, labels)`: LEACE (least-squares concept erasure, the ``concept-erasure``
  package's `LeaceFitter`), the affine edit that leaves no linear trace of the labels while moving the
  latents as little as possible. `LeaceEdit` applies the fitted eraser with the package's own
  `LeaceEraser.__call__`.
* `mean_difference(latents, labels)`: the single unit direction from the label-weighted mean of the
  other latents to that of the red ones, and `ProjectOut`, which removes each latent's component along
  it.

`erased(model, edit)` puts an edit into a copy of a `CNColorMLP`: its `bottleneck` becomes
`ErasedBottleneck` (the model's own normalisation, then the edit, then the normalisation again), so
the decoder sees unit latents as it always has, every forward pass goes through the edit, and
captures of ``bottleneck`` see the erased latents. `latents(model, colours)` are the unit latents an
edit is fitted on.

Design decisions:
- Labels may be soft (the probability that a colour carries the label, as the training data declares
  it): LEACE's cross-covariance and the weighted class means are then the expectations of what
  drawn binary labels estimate, without their sampling noise.
- Edits are plain `nn.Module`s with their tensors as buffers, so they follow ``.to(device)`` and
  ``deepcopy`` and hold no parameters: fine-tuning an erased model never trains the eraser.
- Both edits are affine, and say so (``affine() -> (M, shift)``, ``edit(x) = x − x @ M + shift``):
  a stack of models fine-tuned together applies every such edit in one batched product
  (`model.stacked.StackedEdits`) instead of one small product per member.
- Re-normalising after the edit is part of the edit's meaning here (the decoder was trained on unit
  latents); it makes the erased model's latent a direction again, which LEACE alone does not promise.

Deliberately not here: fine-tuning (`ex_color.training.finetune`), probing (`ex_color.evaluation.probe`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch
from torch import Tensor, nn

from ex_color.model import CNColorMLP

__all__ = [
    'AblateDims',
    'ErasedBottleneck',
    'LeaceEdit',
    'ProjectOut',
    'erased',
    'fit_leace',
    'latents',
    'mean_difference',
]

M = TypeVar('M', bound=CNColorMLP)


def _check(latents: Tensor, labels: Tensor, who: str) -> tuple[Tensor, Tensor]:
    if latents.ndim != 2:
        raise ValueError(f'{who}: latents must be [N, k], got shape {tuple(latents.shape)}')
    labels = labels.reshape(-1).to(latents.dtype)
    if labels.shape[0] != latents.shape[0]:
        raise ValueError(f'{who}: {latents.shape[0]} latents but {labels.shape[0]} labels')
    if not torch.isfinite(latents).all() or not torch.isfinite(labels).all():
        raise ValueError(f'{who}: latents and labels must be finite')
    if (labels < 0).any() or (labels > 1).any():
        raise ValueError(
            f'{who}: labels must be probabilities in [0, 1], got {labels.min():g} … {labels.max():g}'
        )
    if not 0 < float(labels.sum()) < labels.shape[0]:
        raise ValueError(f'{who}: labels must mark some latents and not all (sum {float(labels.sum()):g})')
    return latents, labels


class LeaceEdit(nn.Module):
    """A fitted LEACE eraser as a module: ``x − ((x − bias) @ Rᴴ) @ Lᴴ``, applied by `LeaceEraser` itself."""

    proj_left: Tensor
    proj_right: Tensor
    bias: Tensor | None

    def __init__(self, eraser: object):
        super().__init__()
        from concept_erasure import LeaceEraser

        if not isinstance(eraser, LeaceEraser):
            raise TypeError(f'LeaceEdit: expected a concept_erasure.LeaceEraser, got {type(eraser).__name__}')
        self.register_buffer('proj_left', eraser.proj_left.detach().clone())
        self.register_buffer('proj_right', eraser.proj_right.detach().clone())
        self.register_buffer('bias', None if eraser.bias is None else eraser.bias.detach().clone())

    def eraser(self) -> Callable[[Tensor], Tensor]:
        """The package's eraser over this module's (device-following) buffers."""
        from concept_erasure import LeaceEraser

        return LeaceEraser(self.proj_left, self.proj_right, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.eraser()(x)

    def affine(self) -> tuple[Tensor, Tensor]:
        """``(M [k, k], shift [k])`` with ``edit(x) = x − x @ M + shift``: the same map as `forward`,
        in the form a stack of models applies to all its members in one batched product."""
        m = self.proj_right.mH @ self.proj_left.mH
        shift = self.bias @ m if self.bias is not None else m.new_zeros(m.shape[0])
        return m, shift


def fit_leace(latents: Tensor, labels: Tensor) -> LeaceEdit:
    """LEACE fitted on `latents` [N, k] and red `labels` [N] (soft or binary)."""
    from concept_erasure import LeaceFitter

    x, z = _check(latents, labels, 'fit_leace')
    # Standardised: the eraser does not depend on the labels' scale, but the package drops singular
    # values of the cross-covariance below an absolute `svd_tol` (0.01), and rare red labels (a mean
    # of 0.001) make every one of them smaller than that: unscaled, the eraser would be the identity.
    z = (z - z.mean()) / z.std()
    return LeaceEdit(LeaceFitter.fit(x.detach(), z[:, None]).eraser)


class ProjectOut(nn.Module):
    """Remove each latent's component along one unit direction: ``x − (x · d) d``."""

    direction: Tensor  # [k], unit norm

    def __init__(self, direction: Tensor):
        super().__init__()
        if direction.ndim != 1 or not torch.isfinite(direction).all() or float(direction.norm()) == 0:
            raise ValueError(f'ProjectOut: direction must be a finite, non-zero vector, got {direction}')
        self.register_buffer('direction', (direction / direction.norm()).detach().clone())

    def forward(self, x: Tensor) -> Tensor:
        d = self.direction
        return x - (x @ d)[..., None] * d

    def affine(self) -> tuple[Tensor, Tensor]:
        """``(d dᵀ, 0)``: `forward` as ``x − x @ M + shift`` (see `LeaceEdit.affine`)."""
        d = self.direction
        return torch.outer(d, d), d.new_zeros(d.shape[0])

    def extra_repr(self) -> str:
        return f'k={self.direction.shape[0]}'


class AblateDims(nn.Module):
    """Zero latent dimensions `dims` of a `k`-dimensional latent: ``x − x @ diag(mask)``. After the
    bottleneck's re-normalisation this is `surgery.ablate(model, 'bottleneck', dims)` as an edit
    (zeroing a dimension before or after normalising gives the same direction)."""

    mask: Tensor  # [k], 1.0 at the ablated dimensions

    def __init__(self, k: int, dims: Sequence[int]):
        super().__init__()
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f'AblateDims: k must be a whole number of dimensions >= 1, got {k!r}')
        dims = list(dims)
        bad = [d for d in dims if isinstance(d, bool) or not isinstance(d, int) or not 0 <= d < k]
        if not dims or bad or len(set(dims)) != len(dims):
            raise ValueError(f'AblateDims: dims must be distinct dimensions in [0, {k}), got {dims}')
        mask = torch.zeros(k)
        mask[dims] = 1.0
        self.register_buffer('mask', mask)

    def forward(self, x: Tensor) -> Tensor:
        return x * (1 - self.mask)

    def affine(self) -> tuple[Tensor, Tensor]:
        """``(diag(mask), 0)``: `forward` as ``x − x @ M + shift``."""
        return torch.diag(self.mask), self.mask.new_zeros(self.mask.shape[0])

    def extra_repr(self) -> str:
        return f'k={self.mask.shape[0]}, dims={torch.nonzero(self.mask).flatten().tolist()}'


def mean_difference(latents: Tensor, labels: Tensor) -> ProjectOut:
    """Project out the direction from the (label-weighted) mean non-red latent to the mean red one."""
    x, w = _check(latents, labels, 'mean_difference')
    x = x.detach()
    red = (w[:, None] * x).sum(0) / w.sum()
    rest = ((1 - w)[:, None] * x).sum(0) / (1 - w).sum()
    return ProjectOut(red - rest)


class ErasedBottleneck(nn.Module):
    """The model's normalisation, then `edit`, then the normalisation again."""

    def __init__(self, norm: nn.Module, edit: nn.Module):
        super().__init__()
        self.norm = norm
        self.edit = edit

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.edit(self.norm(x)))


def erased(model: M, edit: nn.Module) -> M:
    """A copy of `model` whose bottleneck applies `edit` (re-normalised); `model` is not changed."""
    if not isinstance(model, CNColorMLP):
        raise TypeError(f'erased: expected a CNColorMLP, got {type(model).__name__}')
    if isinstance(model.bottleneck, ErasedBottleneck):
        raise ValueError('erased: the model is already erased; erase the original model instead')
    out = copy.deepcopy(model)
    out.bottleneck = ErasedBottleneck(out.bottleneck, copy.deepcopy(edit))
    return out


@torch.no_grad()
def latents(model: nn.Module, colours: Tensor) -> Tensor:
    """The unit latents [N, k] of `colours` [N, 3] (the output of the model's `bottleneck`), in eval mode."""
    was = model.training
    model.eval()
    try:
        return model.bottleneck(model.encoder(colours))  # type: ignore[operator]
    finally:
        model.train(was)
