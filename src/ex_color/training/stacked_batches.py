"""`StackedBatches`: one batch iterable per member, zipped into stacked batches.

Member m's batch k is exactly the k-th batch its own iterable yields (for the Ex 2.10 data, a
`RandomBatches` with the member's seed and its private generator), so a member sees the same data in
an ensemble as when it is trained alone. Each pass calls `iter()` on every member's iterable, as a
Lightning epoch does.

When every member is a `RandomBatches`, a pass draws each member's whole epoch with its own
`draw_epoch()` (what its `__iter__` does first) and slices stacked batches from the [M, S] result:
the same batches, without 60 small slicing and stacking operations per step.

Stacking is strict: every member must yield the same number of batches, of the same size, with the
same label names; anything else is a `ValueError` naming the member and batch, never a truncated zip.

When every member is a `RandomBatches`, `position` and `restore_position` carry every member's
position, so a resumed run continues each member's data exactly.

Deliberately not here: drawing the data (the experiment's `make_data` does that) or moving it
between devices.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

import torch
from torch import Tensor

from ex_color.training.batches import RandomBatches

__all__ = ['StackedBatch', 'StackedBatches']

StackedBatch = tuple[Tensor, dict[str, Tensor]]
"""Colours [M, B, 3] and labels {name: [M, B]}."""


class StackedBatches:
    """Zip M batch iterables of (colours [B, 3], {name: [B]}) into (colours [M, B, 3], {name: [M, B]})."""

    def __init__(self, members: Sequence[Iterable[Any]], *, role: str = 'data') -> None:
        if not members:
            raise ValueError(f'StackedBatches ({role}): members must not be empty')
        self.members = list(members)
        self.role = role
        lengths = [len(m) for m in self.members]  # type: ignore[arg-type]
        if len(set(lengths)) != 1:
            raise ValueError(
                f'StackedBatches ({role}): members yield different numbers of batches: {lengths}'
            )
        self._length = lengths[0]

    def __len__(self) -> int:
        return self._length

    def _random_members(self) -> list[RandomBatches] | None:
        """The members, when every one is exactly a `RandomBatches` (the fast path); else None."""
        members = [m for m in self.members if type(m) is RandomBatches]
        return members if len(members) == len(self.members) else None

    def position(self, consumed: int) -> dict[str, Any] | None:
        members = self._random_members()
        if members is None:
            return None
        return {'members': [m.position(consumed) for m in members]}

    def restore_position(self, state: dict[str, Any]) -> None:
        states = state['members']
        if len(states) != len(self.members):
            raise ValueError(
                f'StackedBatches ({self.role}): the checkpoint has {len(states)} members, this data {len(self.members)}'
            )
        members = self._random_members()
        if members is None:
            raise TypeError(
                f'StackedBatches ({self.role}): only RandomBatches members have a position to restore'
            )
        for member, member_state in zip(members, states, strict=True):
            member.restore_position(member_state)

    def _random_epoch(self, members: list[RandomBatches]) -> Iterator[StackedBatch]:
        names = list(members[0].soft_labels)
        for m, member in enumerate(members):
            if list(member.soft_labels) != names or member.batch_size != members[0].batch_size:
                raise ValueError(
                    f'StackedBatches ({self.role}): member {m} has labels {list(member.soft_labels)} and batch size '
                    f'{member.batch_size}; member 0 has {names} and {members[0].batch_size}'
                )
        skips = {member.take_skip() for member in members}
        if len(skips) != 1:
            raise ValueError(
                f'StackedBatches ({self.role}): members resume at different batches: {sorted(skips)}'
            )
        skip = skips.pop()
        draws = [member.draw_epoch() for member in members]
        x = torch.stack(
            [member.colors[idx] for member, (idx, _) in zip(members, draws, strict=True)]
        )  # [M, S, 3]
        labels = None
        if names:
            labels = (
                # every member carries the labels `names` (checked above), so none draws None
                torch.stack([cast(Tensor, lab) for _, lab in draws]).permute(2, 0, 1).contiguous()
            )  # [M, S, L] -> [L, M, S]
        size = members[0].batch_size
        for start in range(skip * size, x.shape[1], size):
            stop = start + size
            batch_labels = (
                {} if labels is None else {n: labels[j, :, start:stop] for j, n in enumerate(names)}
            )
            yield x[:, start:stop], batch_labels

    def _stack(self, batches: tuple[Any, ...], k: int) -> StackedBatch:
        x0, labels0 = batches[0]
        names = list(labels0)
        for m, (x, labels) in enumerate(batches):
            if x.shape != x0.shape:
                raise ValueError(
                    f'StackedBatches ({self.role}): batch {k} of member {m} has shape {tuple(x.shape)}, '
                    f'member 0 has {tuple(x0.shape)}'
                )
            if list(labels) != names:
                raise ValueError(
                    f'StackedBatches ({self.role}): batch {k} of member {m} has labels {list(labels)}, '
                    f'member 0 has {names}'
                )
        x = torch.stack([b[0] for b in batches])
        return x, {name: torch.stack([b[1][name] for b in batches]) for name in names}

    def __iter__(self) -> Iterator[StackedBatch]:
        members = self._random_members()
        if members is not None:
            yield from self._random_epoch(members)
            return
        iterators = [iter(m) for m in self.members]
        for k in range(self._length):
            batches = []
            for m, it in enumerate(iterators):
                try:
                    batches.append(next(it))
                except StopIteration:
                    raise ValueError(
                        f'StackedBatches ({self.role}): member {m} stopped after {k} of {self._length} batches'
                    ) from None
            yield self._stack(tuple(batches), k)
