"""`member_record`: what one member's tracking run is called and what its config records.

Every wandb run of a member, whether it trained alone or beside thousands, carries the same record:
its recipe and run, the member's seed, data settings and weight scales, the model's shape, the steps
trained, each regulariser (its term's class and settings, label and layer affinities, phases) and the
schedule it ran under, keyframe by keyframe. Two runs that differ in anything that decides their
weights differ in config, so a re-run after editing a dopesheet's values can be told from the first
even where the file name is the same.

Design decisions:
- One function for both front doors: `train_members` gives each member its record, and a one-model
  fit (`fit(..., record=...)`) takes the record its caller made, so the two never drift apart.
- The name is ``<run> · <member label>`` (``ex-2.10 · seed-3``) and the group is the run's name:
  runs of one call sit together, and no two members of a run share a name (labels are unique).
- The schedule is recorded as the resolved keyframes (``{column header: {step: value}}``, relative
  steps resolved, the header keeping the interpolation), the phase and action cells, its length and
  a short digest of all of them: values a tracker can filter and compare, rather than a file name.
  Step keys are strings, as a tracker's JSON stores them.

Deliberately not here: starting runs and writing to them (`ex_color.training.tracking`); the run
cache's key (`ex_color.training.cache`), which digests more than a tracker needs to show.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ex_color.loss import RegularizerConfig
from ex_color.training.recipe import describe_regularizer
from ex_color.training.specs import MemberSpec
from mini.temporal.dopesheet import Dopesheet

__all__ = ['RunRecord', 'member_record', 'schedule_record']


@dataclass(frozen=True)
class RunRecord:
    """One member's tracking run: its name, its group and its config."""

    name: str
    """The run's name: ``<run> · <member label>``."""
    group: str
    """The runs of one call share it: the run's name."""
    config: Mapping[str, Any]
    """Plain values (see the module docstring)."""


def schedule_record(dopesheet: Dopesheet) -> dict[str, Any]:
    """A dopesheet as plain values: source, length, keyframes, phases, actions and their digest."""
    if not isinstance(dopesheet, Dopesheet):
        raise TypeError(f'schedule_record: expected a Dopesheet, got {type(dopesheet).__name__}')
    frames = [dopesheet[step] for step in dopesheet.steps]  # the rows, as the sheet resolves them
    phases = {str(f.t): f.phase for f in frames if f.is_phase_start}
    actions = {str(f.t): ','.join(f.actions) for f in frames if f.actions}
    keyframes = {
        header: {str(step): float(value) for step, value in keys.items()}
        for header, keys in dopesheet.to_dict().items()
    }
    content = {
        'steps': len(dopesheet),
        'keyframes': keyframes,
        'phases': phases,
        'actions': actions,
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]
    return {'source': dopesheet.source, **content, 'digest': digest}


def member_record(
    spec: MemberSpec,
    *,
    run: str,
    recipe: str,
    steps: int,
    k_bottleneck: int,
    n_nonlinear: int,
    regularizers: Sequence[RegularizerConfig],
    dopesheet: Dopesheet,
    unscheduled: Collection[str] = (),
) -> RunRecord:
    """The record of `spec`'s run in run `run` of recipe `recipe`: `steps` trained, under `dopesheet`
    (the run's; the member's own when it has one) with `regularizers` (`unscheduled` ones at weight
    1.0 throughout)."""
    if not isinstance(spec, MemberSpec):
        raise TypeError(f'member_record: spec must be a MemberSpec, got {type(spec).__name__}')
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f'member_record: steps must be an int >= 1, got {steps!r}')
    if not run or not recipe:
        raise ValueError(f'member_record: run and recipe must be named, got run={run!r}, recipe={recipe!r}')
    sheet = spec.dopesheet if spec.dopesheet is not None else dopesheet
    described = spec.describe()
    described.pop('dopesheet')  # its source only; the schedule below is the whole of it
    regs: dict[str, Any] = {}
    for reg in regularizers:
        entry = describe_regularizer(reg)
        name = entry.pop('name')
        regs[name] = {
            **entry,
            'scheduled': name not in unscheduled,
            'weight_scale': spec.weights.get(name, 1.0),
        }
    config = {
        'recipe': recipe,
        'run': run,
        'member': spec.label,
        **described,
        'steps': steps,
        'k_bottleneck': k_bottleneck,
        'n_nonlinear': n_nonlinear,
        'regularizers': regs,
        'schedule': schedule_record(sheet),
    }
    return RunRecord(name=f'{run} · {spec.label}', group=run, config=config)
