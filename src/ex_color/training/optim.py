"""`MemberAdam`: Adam over stacked parameters, with one learning rate per member.

Members of a run are stacked along a leading axis of every parameter ([M, out, in], [M, out]); Adam
is element-wise, so one optimiser over the stack is M independent Adams as long as each member's
elements see their own learning rate. `set_lr` takes either one number (every member alike) or a
tensor [M]:

* **one number**: the update is exactly `torch.optim.Adam(foreach=True)`'s, operation for operation
  (the tests compare them bitwise), so a single model, or members sharing a schedule, train exactly as
  with torch's Adam;
* **a tensor [M]** (also for M = 1): the step size −lr/(1 − β₁ᵗ) is applied per member by dividing the denominator
  by it (the formulation torch's `capturable` path uses), which differs from the scalar path only in
  float rounding.

The step count is shared: every member takes every step. Parameters without a member axis (a single
model's own tensors) take the scalar path only; `stacked=False` says so.

Deliberately not here: weight decay, AMSGrad, maximisation; the learning-rate schedule (the training
module calls `set_lr` before every step).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

__all__ = ['MemberAdam']


class MemberAdam(torch.optim.Optimizer):
    """Adam (default betas and eps) with a learning rate per member of stacked parameters."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        stacked: bool = True,
    ) -> None:
        if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError(f'MemberAdam: betas must be in [0, 1), got {betas}')
        if not eps >= 0.0:
            raise ValueError(f'MemberAdam: eps must be >= 0, got {eps}')
        super().__init__(list(params), {'lr': float(lr), 'betas': betas, 'eps': eps})
        self.stacked = stacked
        self._member_lr: Tensor | None = None
        self._one = torch.tensor(1.0)

    def set_lr(self, lr: float | Tensor) -> None:
        """The learning rate of the next step: a number, or a tensor [M] (one per member)."""
        if isinstance(lr, Tensor):
            if not self.stacked:
                raise ValueError('MemberAdam: per-member learning rates need stacked parameters')
            self._member_lr = lr
            for group in self.param_groups:
                group['lr'] = float('nan')  # never read while per-member rates are set
            return
        self._member_lr = None
        value = float(lr)
        for group in self.param_groups:
            group['lr'] = value

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group['params'] if p.grad is not None]
            if not params:
                continue
            beta1, beta2 = group['betas']
            grads = [p.grad for p in params]
            states = [self.state[p] for p in params]
            for p, state in zip(params, states, strict=True):
                if not state:
                    state['step'] = torch.tensor(0.0)
                    state['exp_avg'] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state['exp_avg_sq'] = torch.zeros_like(p, memory_format=torch.preserve_format)
            exp_avgs = [s['exp_avg'] for s in states]
            exp_avg_sqs = [s['exp_avg_sq'] for s in states]
            steps = [s['step'] for s in states]
            torch._foreach_add_(steps, self._one, alpha=1.0)
            torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
            torch._foreach_mul_(exp_avg_sqs, beta2)
            torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
            # Every parameter takes every step, so one count serves them all.
            t = float(steps[0])
            bias_correction1 = 1 - beta1**t
            bias_correction2_sqrt = (1 - beta2**t) ** 0.5
            denom = torch._foreach_sqrt(exp_avg_sqs)
            torch._foreach_div_(denom, bias_correction2_sqrt)
            torch._foreach_add_(denom, group['eps'])
            if self._member_lr is None:
                torch._foreach_addcdiv_(params, exp_avgs, denom, (group['lr'] / bias_correction1) * -1)
            else:
                size = self._member_lr.to(params[0].device, params[0].dtype) / -bias_correction1  # [M]
                by_ndim = {n: size.view(-1, *([1] * (n - 1))) for n in {p.ndim for p in params}}
                torch._foreach_div_(denom, [by_ndim[p.ndim] for p in params])
                torch._foreach_addcdiv_(params, exp_avgs, denom)
        return loss
