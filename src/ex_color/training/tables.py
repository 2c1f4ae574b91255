"""`ScheduleTables`: the schedule in the form a training step reads it, for `Engine`.

The `Schedule` holds one row per step and one column per member. A step wants the cheapest form:
a plain Python number where every member agrees (so M = 1 runs exactly torch's own arithmetic), a
tensor on the model's device where they differ, and for each label the steps and members at which
a label-weighted term is live (what `LabelProportionCallback` and `fit` count).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor, nn

from ex_color.model.stacked import StackedColorMLP

if TYPE_CHECKING:
    from ex_color.loss import RegularizerConfig
    from ex_color.training.schedule import Schedule

__all__ = ['ScheduleTables']


class ScheduleTables:
    """Mixin for `Engine`: per-step learning rates, weights and live labels.

    Expects ``schedule`` (`Schedule`), ``model``, ``_train_regs``, ``_step`` and ``global_step``.
    """

    # Set by the host module; declared here for the type checker.
    schedule: Schedule
    model: nn.Module
    _train_regs: list[RegularizerConfig]
    _step: int
    _seen_labels: tuple[str, ...] | None
    global_step: int

    # -- tables ----------------------------------------------------------------------------------

    def _tables(self) -> None:
        """Per-step values in the cheapest form: Python numbers where every member agrees."""
        s = self.schedule
        # A stack always takes per-member rates, so that a member's arithmetic does not depend on
        # whether the other members happen to share its schedule; a single model takes torch's.
        self._lr: list[float] | Tensor = (
            torch.tensor(s.lr, dtype=torch.float32)
            if isinstance(self.model, StackedColorMLP)
            else s.lr[:, 0].tolist()
        )
        self._w: dict[str, list[float | None] | Tensor] = {}
        self._w_mask: dict[str, list[Tensor | None]] = {}
        for name, w in s.weights.items():
            if (w == w[:, :1]).all():
                self._w[name] = [None if v == 0 else float(v) for v in w[:, 0]]
                self._w_mask[name] = [None] * s.steps
            else:
                table = torch.tensor(w, dtype=torch.float32)
                self._w[name] = table
                nonzero = table != 0
                self._w_mask[name] = [None if bool(row.all()) else row for row in nonzero]
        # Labels in use at each step: those of train-phase, label-weighted terms with a non-zero weight.
        labelled = [r for r in self._train_regs if r.label_affinities]
        active = np.zeros((s.steps, s.members), dtype=bool)
        self._active: dict[str, np.ndarray] = {}
        for reg in labelled:
            for label in reg.label_affinities or {}:
                self._active[label] = self._active.get(label, active) | (s.weights[reg.name] != 0)

    def _tables_to(self, device: torch.device) -> None:
        """Put the per-member tables where the model is, so a step never copies between devices."""
        if isinstance(self._lr, Tensor) and self._lr.device != device:
            self._lr = self._lr.to(device)
        for name, table in self._w.items():
            if isinstance(table, Tensor) and table.device != device:
                self._w[name] = table.to(device)
                self._w_mask[name] = [None if r is None else r.to(device) for r in self._w_mask[name]]

    # -- schedule --------------------------------------------------------------------------------

    @property
    def schedule_step(self) -> int:
        """The schedule row the current (or next) training batch uses."""
        return self.schedule.row(self.global_step)

    def weight(self, name: str, step: int | None = None, member: int = 0) -> float:
        """Scheduled weight of regulariser `name` for `member` (1.0 when it is unscheduled)."""
        return float(self.schedule.weights[name][self.schedule_step if step is None else step, member])

    @property
    def active_labels(self) -> set[str]:
        """Labels that influence training now (for any member): those of label-weighted terms with
        non-zero weight at the current step."""
        return {label for label, table in self._active.items() if table[self._step].any()}

    def active_label_members(self) -> dict[str, Tensor]:
        """For each label active now, which members it is active for ([M] bool)."""
        return {
            label: torch.from_numpy(table[self._step].copy())
            for label, table in self._active.items()
            if table[self._step].any()
        }

    def _check_labels(self, names: tuple[str, ...]) -> None:
        """Every label a train-phase regulariser selects must be one the training batches carry."""
        for reg in self._train_regs:
            missing = [label for label in reg.label_affinities or {} if label not in names]
            if missing:
                raise ValueError(
                    f'regulariser {reg.name!r}: label_affinities={reg.label_affinities} name '
                    f'{missing}, but the training batches carry labels {sorted(names) or "none"}; '
                    'the term would never run (fix the name, or label the data)'
                )
        self._seen_labels = names
