"""`MemberRecords`: what the training module records of its members, and how it reports faults.

Window and validation means go three ways at once: into the metric history (rows of member, step,
metric, value, kept as plain tuples until asked for), to the engine's loggers (a `MemberLogger` gets
every member's values, any other logger the mean over members, which for M = 1 is the member's
value), and into `latest_metrics` for progress bars. A non-finite loss is reported with every
offending term, layer key and member.

Deliberately not here: when to record (the training module's per-step semantics decide).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from torch import Tensor

from ex_color.training.tracking import MemberLogger

__all__ = ['MemberRecords', 'describe_config']


def describe_config(module: Any) -> dict[str, Any]:
    """The module's configuration as plain values (its saved hyper-parameters)."""
    described: dict[str, Any] = {
        'members': module.stack.n_members,
        'regularizers': [
            {
                'name': r.name,
                'term': type(r.compute_loss_term).__name__,
                'labels': r.label_affinities,
                'layers': list(r.layer_affinities),
                'phase': sorted(r.phases),
            }
            for r in module.regularizers
        ],
    }
    if module.dopesheet is not None:
        described['dopesheet'] = module.dopesheet.to_dict()
    return described


class MemberRecords:
    """Mixin of `Engine`: history, loggers, `latest_metrics` and fault reports."""

    member_names: list[str]
    loggers: list[Any]
    latest_metrics: dict[str, float]
    _history: list[tuple[int, int, str, float]]

    if TYPE_CHECKING:  # read-only, from the host module

        @property
        def n_members(self) -> int: ...

    def _raise_non_finite(
        self, values: dict[str, Tensor], present: dict[str, Tensor], step: int, phase: str
    ) -> None:
        bad = []
        for key, value in values.items():
            if key == 'train_loss':
                continue
            mask = present.get(key)
            for m, v in enumerate(value.reshape(-1).tolist()):
                if (mask is None or bool(mask.reshape(-1)[m])) and not np.isfinite(v):
                    who = f' (member {self.member_names[m]})' if self.n_members > 1 else ''
                    bad.append(f'{key.removeprefix("train_").removeprefix("val_")}={v}{who}')
        first = bad[0].split('=')[0] if bad else 'loss'
        raise RuntimeError(
            f'Loss term {first!r} is non-finite at step {step} ({phase}); non-finite terms: '
            f'{", ".join(bad) or "the total loss"}'
        )

    def _record(self, step: int, means: dict[str, list[float | None]]) -> None:
        """Window or validation means: into the history, the loggers and `latest_metrics`."""
        if not means:
            return
        per_member: list[dict[str, float]] = [{} for _ in range(self.n_members)]
        aggregate: dict[str, float] = {}
        for key, values in means.items():
            seen = [v for v in values if v is not None]
            if not seen:
                continue
            aggregate[key] = seen[0] if len(values) == 1 else float(np.mean(seen))
            for m, v in enumerate(values):
                if v is not None:
                    per_member[m][key] = v
                    self._history.append((m, step, key, v))
        if any(k.startswith('train_') for k in aggregate):
            self.latest_metrics.update(aggregate)
        # Straight to the loggers: `self.log` moves its result store between devices on every call,
        # which costs about a millisecond per metric here.
        for logger in self.loggers:
            if isinstance(logger, MemberLogger):
                logger.log_members(per_member, step)
            else:
                logger.log_metrics(aggregate, step=step)

    def records_state(self) -> dict[str, Any]:
        """The history and latest metrics, for a checkpoint."""
        return {'history': list(self._history), 'latest_metrics': dict(self.latest_metrics)}

    def restore_records(self, state: Mapping[str, Any]) -> None:
        """Continue the records `records_state` stored."""
        self._history = [(int(m), int(step), str(key), float(v)) for m, step, key, v in state['history']]
        self.latest_metrics = dict(state['latest_metrics'])

    def history(self, member: int | None = None) -> pd.DataFrame:
        """Recorded metrics as rows (member, step, metric, value); one member's without `member`."""
        df = pd.DataFrame(self._history, columns=['member', 'step', 'metric', 'value'])
        if member is None:
            return df
        return df[df['member'] == member].drop(columns='member').reset_index(drop=True)

    def member_histories(self) -> list[pd.DataFrame]:
        """Every member's `history(member)`, built from one table (not one pass over all rows each)."""
        df = pd.DataFrame(self._history, columns=['member', 'step', 'metric', 'value'])
        groups = {int(cast(int, m)): g for m, g in df.groupby('member', sort=False)}
        empty = df.iloc[:0].drop(columns='member')
        return [
            groups[m].drop(columns='member').reset_index(drop=True) if m in groups else empty.copy()
            for m in range(self.n_members)
        ]

    def member_final_metrics(self) -> list[dict[str, float]]:
        """Every member's `final_metrics(member)`, in one pass over the history."""
        out: list[dict[str, float]] = [{} for _ in range(self.n_members)]
        for m, _, key, value in self._history:
            out[m][key] = value
        return out

    def final_metrics(self, member: int) -> dict[str, float]:
        """The latest recorded value of every metric of `member`."""
        out: dict[str, float] = {}
        for m, _, key, value in self._history:
            if m == member:
                out[key] = value
        return out
