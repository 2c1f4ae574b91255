"""A linear probe: can a logistic regression still tell red from the latents?

`probe_balanced_accuracy(x, y)` fits a class-balanced logistic regression on one random half of
the samples and returns its balanced accuracy (the mean of the true-positive and true-negative rates)
on the other half. 0.5 is chance; an erased concept should leave a probe there.

Design decisions:
- Balanced accuracy and class-balanced weights, because red is rare: a probe that always says "not
  red" would score a high plain accuracy and learn nothing.
- Features are standardised on the fitting half, and the fit is full-batch L-BFGS with a small L2
  penalty, so the result is deterministic for a given seed and does not depend on a learning rate.

Deliberately not done: non-linear probes (LEACE promises nothing about them).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

__all__ = ['probe_balanced_accuracy']


def probe_balanced_accuracy(
    x: Tensor, y: Tensor, *, seed: int = 0, l2: float = 1e-4, test_fraction: float = 0.5
) -> float:
    """Held-out balanced accuracy of a logistic-regression probe for binary labels `y` [N] on `x` [N, d]."""
    if x.ndim != 2 or y.shape != x.shape[:1]:
        raise ValueError(f'probe: need x [N, d] and y [N], got {tuple(x.shape)} and {tuple(y.shape)}')
    y = y.to(torch.bool)
    if not 0 < test_fraction < 1:
        raise ValueError(f'probe: test_fraction must be in (0, 1), got {test_fraction}')
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_test = int(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    for part, idx in (('fitting', train), ('held-out', test)):
        n_pos = int(y[idx].sum())
        if n_pos == 0 or n_pos == len(idx):
            raise ValueError(f'probe: the {part} half has only one class ({n_pos} of {len(idx)} positive)')
    x = x.detach().to(torch.float64)
    mean, std = x[train].mean(0), x[train].std(0).clamp_min(1e-12)
    xs = (x - mean) / std
    target = y.to(torch.float64)
    pos = float(target[train].mean())
    weight = torch.where(y, 0.5 / pos, 0.5 / (1 - pos))
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn='strong_wolfe')

    def closure() -> Tensor:
        opt.zero_grad()
        logits = xs[train] @ w + b
        loss = F.binary_cross_entropy_with_logits(logits, target[train], weight=weight[train]) + l2 * (w @ w)
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        said = (xs[test] @ w + b) > 0
    truth = y[test]
    tpr = float((said & truth).sum()) / float(truth.sum())
    tnr = float((~said & ~truth).sum()) / float((~truth).sum())
    return 0.5 * (tpr + tnr)
