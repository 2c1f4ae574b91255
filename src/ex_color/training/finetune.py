"""Fine-tuning trained models side by side, with their deletions kept in place: does the concept come back?

`fine_tune(members, dopesheet=..., make_data=...)` continues training already-trained `CNColorMLP`s,
M of them in one run of the engine (one `TrainingModule` over a `StackedColorMLP`, the project's loop),
on the reconstruction loss only. Each `FineTuneMember` says how its deletion is kept:

* ``frozen``: boolean masks by parameter name (`surgery.ablation_mask`) of entries that must stay
  exactly as they are — an ablation's zeroed rows and columns. Their gradients are zeroed before every
  optimiser step, so Adam never moves them (its moments stay zero, and so does its update).
* an erased bottleneck (`erasure.erased`): the member's edit runs in the stack's bottleneck, on that
  member's latents, in every forward pass, training and evaluation alike. Edits hold buffers, not
  parameters, so the eraser is never trained.

While it trains, `ColourErrors` records each member's reconstruction error at a few named colours at
step 0 and after every step, which is what a relearning curve is drawn from (recovery can take a
handful of steps, so an epoch's resolution would hide it).

Design decisions:
- Members keep their identity: results come back in member order, as standalone models with their
  edits reattached, so they can be evaluated exactly like the models that went in.
- Fine-tuning is a run of the same engine as training (same schedule realisation, optimiser, logging,
  wandb runs per member), not a second loop.

Deliberately not here: fitting erasers (`ex_color.erasure`), judging recovery (`ex_color.evaluation.recovery`).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn

from ex_color.erasure import ErasedBottleneck
from ex_color.model import CNColorMLP
from ex_color.training.fit import fit
from ex_color.training.loop import LoopCallback, TrainLoop
from ex_color.training.module import TrainingModule
from ex_color.training.schedule import Schedule
from ex_color.training.stacked import StackedColorMLP
from ex_color.training.stacked_batches import StackedBatches
from ex_color.training.tracking import MemberWandbLogger
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.timeline import Timeline

__all__ = ['ColourErrors', 'FineTuneMember', 'FineTuneResult', 'StackedEdits', 'fine_tune']

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FineTuneMember:
    """One model to fine-tune and what of it must not change."""

    model: CNColorMLP
    """The trained (and deleted) model; a bottleneck made by `erasure.erased` keeps its edit."""
    name: str
    """Label in results and wandb (unique within the run)."""
    seed: int = 0
    """Seeds the member's fine-tuning data."""
    frozen: Mapping[str, Tensor] = field(default_factory=dict)
    """Boolean masks by parameter name of entries that must not change (e.g. `surgery.ablation_mask`)."""

    def __post_init__(self) -> None:
        if not isinstance(self.model, CNColorMLP):
            raise TypeError(
                f'FineTuneMember {self.name!r}: model must be a CNColorMLP, got {type(self.model).__name__}'
            )
        params = dict(self.model.named_parameters())
        for key, mask in self.frozen.items():
            if key not in params:
                raise KeyError(
                    f'FineTuneMember {self.name!r}: frozen names no parameter {key!r}; have {sorted(params)}'
                )
            if mask.dtype != torch.bool or mask.shape != params[key].shape:
                raise ValueError(
                    f'FineTuneMember {self.name!r}: frozen[{key!r}] must be a bool mask of shape '
                    f'{tuple(params[key].shape)}, got {mask.dtype} {tuple(mask.shape)}'
                )


class StackedEdits(nn.Module):
    """A stack's bottleneck with a per-member edit: member m's unit latents go through ``edits[m]``
    (then are re-normalised); members without one are left as the normalisation made them."""

    def __init__(self, norm: nn.Module, edits: Sequence[nn.Module | None]):
        super().__init__()
        self.norm = norm
        self.edits = nn.ModuleList([e if e is not None else nn.Identity() for e in edits])
        self.edited = [e is not None for e in edits]

    def forward(self, h: Tensor) -> Tensor:  # [M, B, k]
        z = self.norm(h)
        if not any(self.edited):
            return z
        return torch.stack(
            [
                self.norm(e(z[m])) if on else z[m]
                for m, (e, on) in enumerate(zip(self.edits, self.edited, strict=True))
            ]
        )


class ColourErrors(LoopCallback):
    """Each member's MSE at named RGB colours, at step 0 and after every training batch."""

    def __init__(self, colours: Mapping[str, Sequence[float]]):
        if not colours:
            raise ValueError('ColourErrors: no colours given')
        self.names = list(colours)
        self.rgb = torch.tensor([list(map(float, colours[n])) for n in self.names], dtype=torch.float32)
        if self.rgb.ndim != 2 or self.rgb.shape[1] != 3:
            raise ValueError(f'ColourErrors: colours must be RGB triples, got shape {tuple(self.rgb.shape)}')
        self.records: list[tuple[int, int, str, float]] = []
        """(member, step, colour, mse)."""

    @torch.no_grad()
    def _record(self, loop: TrainLoop) -> None:
        net = loop.engine.model
        if not isinstance(net, StackedColorMLP):
            raise TypeError(
                f'ColourErrors: the module must train a StackedColorMLP, got {type(net).__name__}'
            )
        was = net.training
        net.eval()
        try:
            x = self.rgb.to(loop.device)
            y, _ = net(x.expand(net.n_members, -1, -1))
            mse = ((y - x) ** 2).mean(-1).cpu()  # [M, C]
        finally:
            net.train(was)
        step = loop.engine.global_step
        for m in range(mse.shape[0]):
            self.records += [(m, step, name, float(mse[m, c])) for c, name in enumerate(self.names)]

    def on_fit_start(self, loop: TrainLoop) -> None:
        if not any(r[1] == loop.engine.global_step for r in self.records):
            self._record(loop)

    def on_step_end(self, loop: TrainLoop) -> None:
        self._record(loop)

    def frame(self, names: Sequence[str]) -> pd.DataFrame:
        df = pd.DataFrame(self.records, columns=['member', 'step', 'colour', 'mse'])
        df['member'] = [names[i] for i in df['member']]
        return df


@dataclass
class FineTuneResult:
    """Every fine-tuned member, in member order."""

    names: list[str]
    models: list[CNColorMLP]
    """Standalone models after fine-tuning, edits reattached (eval mode)."""
    colour_errors: pd.DataFrame
    """Rows (member, step, colour, mse): the error at each tracked colour during fine-tuning."""
    history: pd.DataFrame
    """The engine's metric history: rows (member, step, metric, value)."""
    seconds: float = 0.0


def _split(model: CNColorMLP) -> tuple[CNColorMLP, nn.Module | None]:
    """The model with a plain normalising bottleneck, and its edit (None when it has none)."""
    plain = copy.deepcopy(model)
    if isinstance(plain.bottleneck, ErasedBottleneck):
        edit = plain.bottleneck.edit
        plain.bottleneck = plain.bottleneck.norm
        return plain, edit
    return plain, None


def _freeze(net: StackedColorMLP, members: Sequence[FineTuneMember]) -> None:
    """Zero the gradient of every frozen entry of every member, before any optimiser sees it."""
    names = {key for m in members for key in m.frozen}
    for key in sorted(names):
        param = getattr(net, net.param_name(key.rsplit('.', 1)[0], key.rsplit('.', 1)[1]))
        masks = [m.frozen.get(key, torch.zeros(param.shape[1:], dtype=torch.bool)) for m in members]
        keep = (~torch.stack(masks)).to(param.dtype)

        def hook(grad: Tensor, keep: Tensor = keep) -> Tensor:
            return grad * keep.to(grad.device)

        param.register_hook(hook)


def fine_tune(
    members: Sequence[FineTuneMember],
    *,
    dopesheet: Dopesheet,
    make_data: Callable[[int], tuple[Iterable[Any], Iterable[Any] | None]],
    run_name: str,
    project: str = '',
    colours: Mapping[str, Sequence[float]] | None = None,
    max_steps: int | None = None,
    log_every_n_steps: int = 16,
    wandb_mode: str | None = None,
    progress: bool = True,
    threads: int | None = 1,
    device: str = 'cpu',
    wandb_dir: str | Path | None = None,
) -> FineTuneResult:
    """Fine-tune every member on the reconstruction loss under `dopesheet` (its ``lr`` column), with
    its deletion in place; `make_data(seed)` gives a member's (training, validation or None) batches;
    `colours` (name -> RGB) are tracked in `colour_errors`."""
    members = list(members)
    if not members:
        raise ValueError('fine_tune: no members given')
    names = [m.name for m in members]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f'fine_tune: member names must be unique; repeated: {dupes}')
    start = time.perf_counter()
    timeline = Timeline(dopesheet)
    schedule = Schedule.stack([Schedule.build(dopesheet, [], member=n, timeline=timeline) for n in names])
    plain, edits = zip(*(_split(m.model) for m in members), strict=True)
    net = StackedColorMLP(list(plain))
    stacked_edits = StackedEdits(net.bottleneck, list(edits))
    net.bottleneck = stacked_edits
    _freeze(net, members)
    net.train()  # the members may arrive in eval mode (as evaluated); they train here
    module = TrainingModule(net, schedule, nn.MSELoss(), [], member_names=names)
    data = [make_data(m.seed) for m in members]
    n_val = sum(v is not None for _, v in data)
    if n_val not in (0, len(data)):
        raise ValueError(
            f'fine_tune: make_data returned validation data for {n_val} of {len(data)} members; need all or none'
        )
    batches = StackedBatches([t for t, _ in data], role='training')
    val = StackedBatches([v for _, v in data if v is not None], role='validation') if n_val else None
    tracker = ColourErrors(colours or {'red': (1.0, 0.0, 0.0)})
    logger = MemberWandbLogger(
        [f'{run_name} · {n}' for n in names],
        group=run_name,
        project=project,
        configs=[
            {
                'member': m.name,
                'seed': m.seed,
                'frozen': sorted(m.frozen),
                'edit': type(e).__name__ if e else None,
            }
            for m, e in zip(members, edits, strict=True)
        ],
        job_type='fine-tune',
        mode=wandb_mode,
        save_dir=Path(wandb_dir) if wandb_dir is not None else None,
    )
    log.info('Fine-tuning %d member%s', len(members), '' if len(members) == 1 else 's')
    fit(
        module,
        batches,
        val,
        run_name=run_name,
        project=project,
        max_steps=max_steps,
        log_every_n_steps=log_every_n_steps,
        logger=logger,
        progress=progress,
        callbacks=[tracker],
        threads=threads,
        device=device,
    )
    net.cpu()
    models = []
    for i, edit in enumerate(edits):
        model = net.member(i)
        if edit is not None:
            model.bottleneck = ErasedBottleneck(model.bottleneck, copy.deepcopy(stacked_edits.edits[i]).cpu())
        models.append(model.eval())
    history = pd.concat([module.history(i).assign(member=n) for i, n in enumerate(names)], ignore_index=True)
    return FineTuneResult(names, models, tracker.frame(names), history, time.perf_counter() - start)
