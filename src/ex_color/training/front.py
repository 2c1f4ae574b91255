"""`train(recipe, members, settings)`: the one front door to the training engine.

    from ex_color.experiments import ex_2_10
    recipe = ex_2_10.RECIPE.with_(dopesheet=Dopesheet.from_csv('ex-2.10-dopesheet.csv'))
    result = train(recipe, range(20), RunSettings(workers=2))
    story = result.member(seed=0)          # the single-seed story is a member of the table

One member or thousands, in this process or split over worker processes (`RunSettings.workers`):
what is trained is the `Recipe`, which members the `MemberSpec`s (plain ints are seeds), and how
the `RunSettings`. The result is a `RunResult`, one `MemberResult` per member in the order given.

**Runs are not repeated.** Each finished member is kept in the run cache (`MemberCache`), keyed by
everything that decides its weights; a re-run loads the members it holds (one log line says how
many) and trains only the others, as one run. ``RunSettings(force=True)`` trains them all again;
``cache=False`` (or a smoke run) neither reads nor writes it.

Members are checked before anything trains: an empty list, a member whose dopesheet has another
length than the recipe's, a data setting `make_data` does not take, or a weight scale for a
regulariser the recipe lacks is refused, naming the member and the field.

`train_on(run, shard_fn, recipe, members, settings)` is the same door on an `Experiment`'s backend:
on Modal the members the cache lacks go to containers as shards, with one progress bar here.

Deliberately not here: the step and the loop (`ex_color.training.engine`, `ex_color.training.loop`).
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ex_color.training.cache import MemberCache, member_key, member_keys
from ex_color.training.loop import LoopCallback
from ex_color.training.recipe import Recipe
from ex_color.training.remote import train_members_on
from ex_color.training.results import MemberResult, RunResult
from ex_color.training.run import train_members
from ex_color.training.settings import RunSettings
from ex_color.training.specs import MemberSpec, check_specs
from utils.paths import project_root

__all__ = ['as_specs', 'cached_path', 'train', 'train_on']

log = logging.getLogger(__name__)


def as_specs(members: Iterable[MemberSpec | int]) -> list[MemberSpec]:
    """Members as specs: an int is a seed (``range(20)`` is 20 members)."""
    if isinstance(members, MemberSpec | int | str):
        raise TypeError(f'members must be a list of MemberSpecs or seeds, got one {type(members).__name__}')
    out = []
    for i, m in enumerate(members):
        if isinstance(m, MemberSpec):
            out.append(m)
        elif isinstance(m, int) and not isinstance(m, bool):
            out.append(MemberSpec(m))
        else:
            raise TypeError(f'members[{i}] must be a MemberSpec or an int seed, got {type(m).__name__} {m!r}')
    return check_specs(out)


def _check_members(recipe: Recipe, specs: Sequence[MemberSpec]) -> None:
    sheet = recipe.schedule()
    params = recipe.data_parameters()
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    regs = {r.name for r in recipe.regularizers}
    for s in specs:
        if s.dopesheet is not None and len(s.dopesheet) != len(sheet):
            raise ValueError(
                f'member {s.label}: its dopesheet ({s.dopesheet.source}) has {len(s.dopesheet)} steps, '
                f"the recipe's ({sheet.source}) {len(sheet)}; a run's members share one length"
            )
        unknown = [k for k in s.data if k not in params]
        if unknown and not takes_any:
            raise ValueError(
                f'member {s.label}: data setting {unknown[0]!r} is not an argument of '
                f'{recipe.make_data.__name__ if hasattr(recipe.make_data, "__name__") else "make_data"}; '
                f'it takes {sorted(params) or "none"}'
            )
        unknown = [k for k in s.weights if k not in regs]
        if unknown:
            raise ValueError(
                f'member {s.label}: weights names {unknown[0]!r}, which is not a regulariser of recipe '
                f'{recipe.name!r}; its regularisers are {sorted(regs)}'
            )


@dataclass
class _Plan:
    """A run before it trains: which members the cache holds and which must be trained."""

    specs: list[MemberSpec]
    run_name: str
    cache: MemberCache | None
    keys: list[str]
    found: dict[int, MemberResult]
    todo: list[int]
    start: float


def _plan(
    recipe: Recipe,
    members: Iterable[MemberSpec | int],
    settings: RunSettings,
    label: str,
    callbacks: Sequence[LoopCallback] = (),
) -> _Plan:
    if not isinstance(recipe, Recipe):
        raise TypeError(f'recipe must be a Recipe, got {type(recipe).__name__}')
    if not isinstance(settings, RunSettings):
        raise TypeError(f'settings must be RunSettings, got {type(settings).__name__}')
    specs = as_specs(members)
    _check_members(recipe, specs)
    start = time.perf_counter()
    run_name = f'{recipe.name} ({label})' if label else recipe.name
    cache = MemberCache(settings.cache_dir) if settings.caching else None
    recorded = [d for c in callbacks if (d := c.describe()) is not None]  # what callbacks add to results
    weight_settings = settings.weight_settings() | ({'callbacks': recorded} if recorded else {})
    keys = member_keys(recipe, specs, weight_settings) if cache else []
    found: dict[int, MemberResult] = {}
    if cache is not None and not settings.force:
        for i, key in enumerate(keys):
            hit = cache.get(key)
            if hit is not None:
                found[i] = dataclasses.replace(hit, spec=specs[i], name=specs[i].label)
    todo = [i for i in range(len(specs)) if i not in found]
    if found:
        log.info(
            'Loaded %d of %d member%s of %s from the run cache (%s); training %d',
            len(found), len(specs), '' if len(specs) == 1 else 's', run_name, _shown(cache.folder) if cache else '',
            len(todo),
        )  # fmt: skip
    return _Plan(specs, run_name, cache, keys, found, todo, start)


def _run_settings(recipe: Recipe, settings: RunSettings, run_name: str) -> dict[str, Any]:
    """`train_members`' keyword arguments for a run of `recipe` under `settings`."""
    return {
        'dopesheet': recipe.schedule(),
        'regularizers': recipe.regularizers,
        'make_data': recipe.make_data,
        'k_bottleneck': recipe.k_bottleneck,
        'n_nonlinear': recipe.n_nonlinear,
        'run_name': run_name,
        'recipe': recipe.name,
        'project': recipe.project,
        'max_steps': settings.steps_limit,
        'val_every_n_epochs': settings.val_every_n_epochs,
        'log_every_n_steps': settings.log_every_n_steps,
        'wandb_mode': settings.tracking,
        'job_type': settings.job_type,
        'tags': settings.tags,
        'progress': settings.progress,
        'threads': settings.threads,
        'device': settings.device,
        'checkpoint_dir': settings.checkpoint_dir,
        'unscheduled': recipe.unscheduled,
        'ignore_columns': recipe.ignore_columns,
    }


def _finish(plan: _Plan, trained: Sequence[MemberResult]) -> RunResult:
    if plan.cache is not None:
        for i, member in zip(plan.todo, trained, strict=True):
            plan.cache.put(plan.keys[i], member)
    by_index = dict(plan.found) | dict(zip(plan.todo, trained, strict=True))
    members = [by_index[i] for i in range(len(plan.specs))]
    return RunResult(members, plan.run_name, time.perf_counter() - plan.start, cached=len(plan.found))


def train(
    recipe: Recipe,
    members: Iterable[MemberSpec | int],
    settings: RunSettings | None = None,
    *,
    label: str = '',
    callbacks: Sequence[LoopCallback] = (),
) -> RunResult:
    """Train (or load from the run cache) every member of `members` under `recipe`, in this process
    or over `settings.workers` processes; see the module docstring. `label` tells this run apart from
    the recipe's others in wandb and logs. `callbacks` run in the loop; one that records into the
    members' results says so with `LoopCallback.describe`, so that the cache keys on it.

    Fine-tuning is the same call: members that start from given weights (`MemberSpec.start`), keep
    entries frozen (`frozen`) or an edit in place (`edit`)."""
    settings = RunSettings() if settings is None else settings
    if settings.backend == 'modal':
        raise ValueError(
            "RunSettings(backend='modal'): train() trains on this machine; a Modal run goes through an "
            'Experiment: NotebookTrainer(settings, run), or await train_on(run, shard_trainer(run), ...)'
        )
    plan = _plan(recipe, members, settings, label, callbacks)
    trained: list[MemberResult] = []
    if plan.todo:
        kwargs = _run_settings(recipe, settings, plan.run_name)
        specs = [plan.specs[i] for i in plan.todo]
        result = train_members(specs, workers=settings.workers, callbacks=callbacks, **kwargs)
        trained = list(result.members)
    return _finish(plan, trained)


async def train_on(
    run: Any,
    shard_fn: Callable[..., Any],
    recipe: Recipe,
    members: Iterable[MemberSpec | int],
    settings: RunSettings | None = None,
    *,
    label: str = '',
    callbacks: Sequence[LoopCallback] = (),
) -> RunResult:
    """`train` on an `Experiment`'s backend (or the one `settings.backend` names): on Modal the members
    the cache lacks go to containers as shards (`train_members_on`; `shard_fn` is what
    `shard_trainer(run, ...)` registered), locally they train here as `train` would. `callbacks` run
    only here: a run that needs them and would go to Modal is refused before anything trains."""
    settings = RunSettings() if settings is None else settings
    backend = settings.backend or run.backend.name
    if backend == 'modal' and run.backend.name != 'modal':
        raise ValueError(
            f"RunSettings(backend='modal'), but the Experiment runs locally ({run.backend.reason}): "
            "start it on Modal (set_up(..., backend='modal') or EX_COLOR_BACKEND=modal), or drop the setting"
        )
    plan = _plan(recipe, members, settings, label, callbacks)
    trained: list[MemberResult] = []
    if plan.todo:
        kwargs = _run_settings(recipe, settings, plan.run_name)
        specs = [plan.specs[i] for i in plan.todo]
        if backend == 'local':  # here, even when the Experiment could reach Modal
            result = train_members(specs, workers=settings.workers, callbacks=callbacks, **kwargs)
        elif callbacks:
            raise ValueError(
                f'train_on: loop callbacks ({", ".join(type(c).__name__ for c in callbacks)}) run in this '
                "process only; train this run with RunSettings(backend='local')"
            )
        else:
            if kwargs.pop('checkpoint_dir') is not None:
                raise ValueError(
                    'RunSettings.checkpoint_dir: member files are written locally; on Modal, read the results'
                )
            result = await train_members_on(run, shard_fn, specs, workers=settings.workers, **kwargs)
        trained = list(result.members)
    return _finish(plan, trained)


def _shown(folder: Path) -> str:
    """A folder as a log line shows it: relative to the project, else by its name (no home paths)."""
    try:
        return str(folder.resolve().relative_to(project_root()))
    except ValueError:
        return folder.name


def cached_path(recipe: Recipe, member: MemberSpec | int, settings: RunSettings | None = None) -> Path:
    """Where the run cache keeps `member` of `recipe` under `settings` (whether or not it is there yet)."""
    settings = RunSettings() if settings is None else settings
    (spec,) = as_specs([member])
    return MemberCache(settings.cache_dir).path(member_key(recipe, spec, settings.weight_settings()))
