"""`EnsembleLoop`: the training and validation steps of an ensemble fit, and their records.

One step for all members: a stacked forward pass, the MSE and the scheduled regularisers per member,
one finiteness check, the backward pass on the sum of the members' losses, and one Adam step. The
loop keeps per-member window sums (`MemberWindow`) and turns them into history rows and one
``seed_<s>/<metric>`` dict per logging step.

Deliberately not here: building members and data, tracking set-up and teardown (see `train.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd
import torch
from torch import Tensor

from ex_color.ensemble.batches import StackedBatches
from ex_color.ensemble.stacked import StackedColorMLP
from ex_color.ensemble.terms import MemberTerm, per_member_loss, weighted_term
from ex_color.ensemble.window import MemberWindow
from ex_color.loss import RegularizerConfig
from ex_color.training import TrainingModule
from utils.progress.display import Progress

__all__ = ['EnsembleLoop', 'Schedule']

Objective = Callable[[Tensor, Tensor], Tensor]  # (y [M, B, 3], x [M, B, 3]) -> [M]


@dataclass(frozen=True)
class Schedule:
    """Per-step learning rate and regulariser weights, precomputed."""

    lr: list[float]
    """Learning rate at every schedule step."""
    weights: dict[str, list[float]]
    """Weight of every regulariser at every schedule step (1.0 throughout when unscheduled)."""
    phase_starts: dict[int, str]
    """Steps that start a phase, with the phase's name."""

    @classmethod
    def from_module(cls, module: TrainingModule) -> Schedule:
        """The schedule exactly as `module` reads it."""
        n = len(module.timeline)
        weights = {r.name: [module.weight(r.name, s) for s in range(n)] for r in module.regularizers}
        starts = {s: module.timeline.at(s).phase for s in range(n) if module.timeline.at(s).is_phase_start}
        return cls(module.timeline.values('lr').tolist(), weights, starts)

    def step(self, global_step: int) -> int:
        return min(global_step, len(self.lr) - 1)


def _key(reg: RegularizerConfig, layer: str) -> str:
    return reg.name if len(reg.layer_affinities) == 1 else f'{reg.name}:{layer}'


class EnsembleLoop:
    """Runs the fit; `history()` afterwards returns one row per seed and logged step."""

    def __init__(
        self,
        *,
        net: StackedColorMLP,
        seeds: list[int],
        regularizers: list[RegularizerConfig],
        schedule: Schedule,
        objective: Objective,
        log: Callable[[int, dict[str, float]], None],
        bar: Progress | None,
    ) -> None:
        self.net, self.seeds, self.schedule, self.objective = net, seeds, schedule, objective
        self._log, self._bar = log, bar
        self.train_regs = [r for r in regularizers if 'train' in r.phases]
        self.val_regs = [r for r in regularizers if 'validate' in r.phases]
        self.train_layers = list(
            dict.fromkeys(layer for r in self.train_regs for layer in r.layer_affinities)
        )
        self.val_layers = list(dict.fromkeys(layer for r in self.val_regs for layer in r.layer_affinities))
        # The schedule sets the real learning rate before every step. foreach=True does the same
        # arithmetic as the default per-tensor loop (bitwise equal), with fewer dispatches.
        self.optimizer = torch.optim.Adam(net.parameters(), lr=schedule.lr[0], foreach=True)
        self.window = MemberWindow(len(seeds))
        self._rows: dict[tuple[int, int], dict[str, float]] = {}
        self.bar_metrics: dict[str, float] = {}
        """Summary of the latest logged window, as the progress bar shows it."""

    # -- steps -----------------------------------------------------------------------------------

    def _terms(
        self,
        regs: list[RegularizerConfig],
        acts: dict[str, Tensor],
        labels: dict[str, Tensor],
        step: int | None,
    ) -> Iterator[tuple[str, float, MemberTerm]]:
        """(key, weight, term) of every term that applies; weights are 1 when `step` is None."""
        for reg in regs:
            w = 1.0 if step is None else self.schedule.weights[reg.name][step]
            if w == 0:
                continue
            for layer in reg.layer_affinities:
                per = per_member_loss(reg.compute_loss_term, acts[layer], name=reg.name)
                term = weighted_term(per, labels, reg.label_affinities)
                if term is not None:
                    yield _key(reg, layer), w, term

    def train_step(self, x: Tensor, labels: dict[str, Tensor], global_step: int) -> None:
        step = self.schedule.step(global_step)
        if step in self.schedule.phase_starts:
            print(f'Starting phase: {self.schedule.phase_starts[step]}')
        y, acts = self.net(x, capture=self.train_layers)
        recon = self.objective(y, x)  # [M]
        total = recon
        terms: dict[str, MemberTerm] = {}
        for key, w, term in self._terms(self.train_regs, acts, labels, step):
            terms[key] = term
            total = total + w * term.value
        if not bool(torch.isfinite(total).all()):
            self._raise_non_finite(step, 'training', {'recon': MemberTerm(recon, None), **terms})
        for group in self.optimizer.param_groups:
            group['lr'] = self.schedule.lr[step]
        self.optimizer.zero_grad(set_to_none=True)
        total.sum().backward()
        self.optimizer.step()
        self.window.add('train_recon', recon)
        for key, term in terms.items():
            self.window.add(f'train_{key}', term.value, term.present)
        self.window.add('train_loss', total)

    @torch.no_grad()
    def validate(self, val_data: StackedBatches, log_step: int) -> None:
        window = MemberWindow(len(self.seeds))
        self.net.eval()
        try:
            for x, labels in val_data:
                y, acts = self.net(x, capture=self.val_layers)
                recon = self.objective(y, x)
                n = float(x.shape[1])
                window.add('val_loss', recon, weight=n)
                window.add('val_recon', recon, weight=n)
                # Validate-phase terms are computed unscheduled (weight 1) and never added.
                for key, _, term in self._terms(self.val_regs, acts, labels, None):
                    present = (
                        term.present
                        if term.present is not None
                        else torch.ones_like(term.value, dtype=torch.bool)
                    )
                    if not bool(torch.isfinite(term.value[present]).all()):
                        self._raise_non_finite(log_step, 'validation', {key: term})
                    window.add(f'val_{key}', term.value, term.present, weight=n)
        finally:
            self.net.train()
        self._record(log_step, window.flush())

    def _raise_non_finite(self, step: int, phase: str, terms: dict[str, MemberTerm]) -> None:
        bad = []
        for key, term in terms.items():
            for m, value in enumerate(term.value.tolist()):
                counted = term.present is None or bool(term.present[m])
                if counted and not torch.isfinite(torch.tensor(value)):
                    bad.append(f'{key}={value} (seed {self.seeds[m]})')
        raise RuntimeError(f'Non-finite loss at step {step} ({phase}): {", ".join(bad) or "total"}')

    # -- records ---------------------------------------------------------------------------------

    def _record(self, log_step: int, values: dict[str, list[float | None]]) -> None:
        flat: dict[str, float] = {}
        for m, seed in enumerate(self.seeds):
            row = self._rows.setdefault((m, log_step), {'seed': seed, 'step': log_step})
            for key, per_member in values.items():
                value = per_member[m]
                if value is not None:
                    row[key] = value
                    flat[f'seed_{seed}/{key}'] = value
        losses = [v for v in values.get('train_loss', []) if v is not None]
        if losses:
            self.bar_metrics = {
                'train_loss (mean)': sum(losses) / len(losses),
                'train_loss (max)': max(losses),
            }
        self._log(log_step, flat)

    def history(self) -> pd.DataFrame:
        rows = sorted(self._rows.values(), key=lambda r: (self.seeds.index(int(r['seed'])), r['step']))
        return pd.DataFrame(rows).astype({'seed': int, 'step': int})

    # -- the fit ---------------------------------------------------------------------------------

    def run(
        self,
        train_data: StackedBatches,
        val_data: StackedBatches | None,
        *,
        max_steps: int,
        val_every: int,
        log_every: int,
    ) -> None:
        done, epoch, validated_at = 0, 0, -1
        n_batches = len(train_data)
        while done < max_steps:
            for k, (x, labels) in enumerate(train_data):
                self.train_step(x, labels, done)
                done += 1
                if done % log_every == 0 or done == max_steps:
                    self._record(done - 1, self.window.flush())
                if self._bar is not None:
                    self._bar.update(done, lambda: self.bar_metrics)
                if val_data is not None and k == n_batches - 1 and (epoch + 1) % val_every == 0:
                    self.validate(val_data, done - 1)
                    validated_at = done
                if done >= max_steps:
                    break
            epoch += 1
        if val_data is not None and validated_at != done:
            self.validate(val_data, done - 1)
