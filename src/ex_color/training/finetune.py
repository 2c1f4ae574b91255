"""Fine-tuning trained models side by side, with their deletions kept in place: does the concept come back?

Fine-tuning is the front door's own call (`ex_color.training.train`): members that start from given
weights (`MemberSpec.start`), keep entries frozen (`MemberSpec.frozen`) or an edit in place
(`MemberSpec.edit`), under a recipe with no regulariser (reconstruction only) and a schedule of the
learning rate. `fine_tune(members, dopesheet=..., make_data=...)` is that call for `FineTuneMember`s,
the way the Ex 2.12 notebook states them; each says how its deletion is kept:

* ``frozen``: boolean masks by parameter name (`surgery.ablation_mask`) of entries that must stay
  exactly as they are — an ablation's zeroed rows and columns. Their gradients are zeroed before every
  optimiser step, so Adam never moves them (its moments stay zero, and so does its update).
* an erased bottleneck (`model.edits.erased`): the member's edit runs in the stack's bottleneck, on that
  member's latents, in every forward pass, training and evaluation alike. Edits hold buffers, not
  parameters, so the eraser is never trained.

While it trains, `ColourErrors` records each member's reconstruction error at a few named colours at
step 0 and after every step into the members' metric history (``colour_mse/<name>``), which is what a
relearning curve is drawn from (recovery can take a handful of steps, so an epoch's resolution would
hide it). Being part of the results, the curves come back from the run cache with the members.
Given an axis, it also records where each colour's latent points (its angle to that axis): the same
callback, passed to `train`, follows red towards (or away from) its anchor while a model trains.

Design decisions:
- Members keep their identity: results come back in member order, as standalone models with their
  edits reattached, so they can be evaluated exactly like the models that went in.
- Fine-tuning is a run of the same engine as training (same schedule realisation, optimiser, logging,
  wandb runs per member, run cache), not a second loop.

Deliberately not here: fitting erasers (`ex_color.model.edits`), judging recovery (`ex_color.experiments.ex_2_12.recovery`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn

from ex_color.model import CNColorMLP
from ex_color.model.edits import ErasedBottleneck
from ex_color.model.stacked import StackedColorMLP
from ex_color.training.front import train
from ex_color.training.loop import LoopCallback, TrainLoop
from ex_color.training.recipe import Recipe
from ex_color.training.results import RunResult
from ex_color.training.settings import RunSettings
from ex_color.training.specs import MemberSpec
from mini.temporal.dopesheet import Dopesheet

__all__ = [
    'ANGLE_METRIC',
    'COLOUR_METRIC',
    'ColourErrors',
    'FineTuneMember',
    'FineTuneResult',
    'colour_errors',
    'fine_tune',
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FineTuneMember:
    """One model to fine-tune and what of it must not change."""

    model: CNColorMLP
    """The trained (and deleted) model; a bottleneck made by `model.edits.erased` keeps its edit."""
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


COLOUR_METRIC = 'colour_mse/'
"""Prefix of the metrics `ColourErrors` records: ``colour_mse/<colour name>``."""


ANGLE_METRIC = 'colour_angle/'
"""Prefix of the angles `ColourErrors` records when given an axis: ``colour_angle/<colour name>``."""


class ColourErrors(LoopCallback):
    """Each member's MSE at named RGB colours, at step 0 and after every `every`-th training step,
    recorded into the members' metric history as ``colour_mse/<name>`` at that step; with `axis`, also
    the angle in degrees between each colour's unit latent (the bottleneck's output, after any edit)
    and that axis, as ``colour_angle/<name>`` (where red sits relative to its anchor, while training)."""

    def __init__(
        self, colours: Mapping[str, Sequence[float]], *, axis: Sequence[float] | None = None, every: int = 1
    ):
        if not colours:
            raise ValueError('ColourErrors: no colours given')
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f'ColourErrors: every must be a whole number of steps >= 1, got {every!r}')
        self.names = list(colours)
        self.every = every
        self.rgb = torch.tensor([list(map(float, colours[n])) for n in self.names], dtype=torch.float32)
        if self.rgb.ndim != 2 or self.rgb.shape[1] != 3:
            raise ValueError(f'ColourErrors: colours must be RGB triples, got shape {tuple(self.rgb.shape)}')
        self.axis: Tensor | None = None
        if axis is not None:
            a = torch.tensor([float(v) for v in axis], dtype=torch.float32)
            if a.ndim != 1 or not torch.isfinite(a).all() or float(a.norm()) == 0:
                raise ValueError(f'ColourErrors: axis must be a finite, non-zero vector, got {list(axis)}')
            self.axis = a / a.norm()

    def describe(self) -> Any:
        out: dict[str, Any] = {'colour_errors': {n: self.rgb[i].tolist() for i, n in enumerate(self.names)}}
        if self.every != 1:
            out['every'] = self.every
        if self.axis is not None:
            out['axis'] = self.axis.tolist()
        return out

    @torch.no_grad()
    def _record(self, loop: TrainLoop) -> None:
        net = loop.engine.model
        if not isinstance(net, StackedColorMLP):
            raise TypeError(
                f'ColourErrors: the module must train a StackedColorMLP, got {type(net).__name__}'
            )
        if self.axis is not None and self.axis.shape[0] != net.k_bottleneck:
            raise ValueError(
                f'ColourErrors: axis has {self.axis.shape[0]} entries; the bottleneck has {net.k_bottleneck}'
            )
        was = net.training
        net.eval()
        try:
            x = self.rgb.to(loop.device)
            y, acts = net(
                x.expand(net.n_members, -1, -1), capture=('bottleneck',) if self.axis is not None else ()
            )
            mse = ((y - x) ** 2).mean(-1).cpu()  # [M, C]
        finally:
            net.train(was)
        values: dict[str, list[float | None]] = {
            f'{COLOUR_METRIC}{name}': mse[:, c].tolist() for c, name in enumerate(self.names)
        }
        if self.axis is not None:
            cos = (acts['bottleneck'].cpu() @ self.axis).clamp(-1.0, 1.0)  # [M, C], unit latents
            degrees = torch.rad2deg(torch.arccos(cos))
            values |= {f'{ANGLE_METRIC}{name}': degrees[:, c].tolist() for c, name in enumerate(self.names)}
        loop.engine.record_values(loop.engine.global_step, values)

    def on_fit_start(self, loop: TrainLoop) -> None:
        if loop.engine.global_step == 0:
            self._record(loop)

    def on_step_end(self, loop: TrainLoop) -> None:
        if loop.engine.global_step % self.every == 0:
            self._record(loop)


def colour_errors(run: RunResult, prefix: str = COLOUR_METRIC) -> pd.DataFrame:
    """Rows (member, step, colour, mse) of the `ColourErrors` a run recorded; with ``prefix=ANGLE_METRIC``,
    rows (member, step, colour, degrees) of the angles it recorded."""
    value = 'degrees' if prefix == ANGLE_METRIC else 'mse'
    frames = []
    for m in run:
        h = m.history[m.history['metric'].str.startswith(prefix)]
        frames.append(
            pd.DataFrame(
                {
                    'member': m.name,
                    'step': h['step'].to_numpy(),
                    'colour': h['metric'].str.removeprefix(prefix).to_numpy(),
                    value: h['value'].to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


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
    workers: int = 1,
    device: str = 'cpu',
    settings: RunSettings | None = None,
) -> FineTuneResult:
    """Fine-tune every member on the reconstruction loss under `dopesheet` (its ``lr`` column), with
    its deletion in place, through `train`; `make_data(seed)` gives a member's (training, validation or
    None) batches; `colours` (name -> RGB) are tracked in `colour_errors`; `workers`: processes the
    members are split across (as `RunSettings.workers`). `settings`, when given, replaces the run
    settings the other arguments make (e.g. to change the cache)."""
    members = list(members)
    if not members:
        raise ValueError('fine_tune: no members given')
    names = [m.name for m in members]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f'fine_tune: member names must be unique; repeated: {dupes}')
    shapes = {(m.model.k_bottleneck, m.model.n_nonlinear) for m in members}
    if len(shapes) != 1:
        raise ValueError(
            f'fine_tune: the members have different shapes (k_bottleneck, n_nonlinear): {sorted(shapes)}'
        )
    ((k, n),) = shapes
    split = [_split(m.model) for m in members]
    specs = [
        MemberSpec(
            m.seed,
            name=m.name,
            start={key: v.detach().clone() for key, v in plain.state_dict().items()},
            frozen=m.frozen,
            edit=edit,
        )
        for m, (plain, edit) in zip(members, split, strict=True)
    ]
    recipe = Recipe(run_name, (), make_data, k, n, dopesheet=dopesheet, project=project)
    if settings is None:
        settings = RunSettings(
            max_steps=max_steps, log_every_n_steps=log_every_n_steps, tracking=wandb_mode, job_type='fine-tune',
            progress=progress, threads=threads, workers=workers, device=device,
        )  # fmt: skip
    log.info('Fine-tuning %d member%s', len(members), '' if len(members) == 1 else 's')
    tracker = ColourErrors(colours or {'red': (1.0, 0.0, 0.0)})
    result = train(recipe, specs, settings, callbacks=[tracker])
    history = pd.concat(
        [m.history[~m.history['metric'].str.startswith(COLOUR_METRIC)].assign(member=m.name) for m in result],
        ignore_index=True,
    )
    return FineTuneResult(names, [m.model for m in result], colour_errors(result), history, result.seconds)
