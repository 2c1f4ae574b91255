"""Ex 2.13: anchoring that holds on nine seeds in ten? Ex 2.10's recipe, raced over seeds.

This module is the experiment's one declaration: the search space (`SPACE`, cells of the starting
schedule ``notebooks/ex-2.13-dopesheet-start.csv``, and `LABEL_SCALE`, the red label's rate), the
race's rungs (`rungs`), the fresh seeds of the final comparison (`FRESH_FIRST`), the goal (`GOAL_*`),
and how a candidate becomes members of a run (`candidate_members`). The model, data and regularisers
are Ex 2.10's (`ex_2_10.RECIPE`); only the schedule and the label rate vary.

The notebook writes what the race chose beside itself: the schedule (``ex-2.13-dopesheet.csv``) and
the recipe's other settings (``ex-2.13-recipe.json``: the label rate, the base recipe, the schedule's
file); `chosen` reads both back, and `headline` is what `./go verify ex-2.13` retrains.

Design decisions:
- Every candidate has the starting schedule's length (`LAST_STEP` steps): a rung trains all its
  candidates side by side as one run of the engine, and a run's members share their step count. The
  length itself is therefore not searched; the start is Ex 2.10's schedule stretched to twice its
  length with a quieter tail (learning rate falling further once the regularisers are off).
- The start is one candidate of the first rung like any other (enqueued in the study): it earns its
  seeds or drops out.
- Seeds never overlap: the race uses ``RACE_FIRST`` onwards, the final comparison ``FRESH_FIRST``
  onwards, and the other notebooks ``0 …`` a few hundred.

Analysis: `modes` (how a seed fails); prose: `report`; figures: `plot`, `figures`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ex_color.experiments import ex_2_10
from ex_color.search.racing import Rung
from ex_color.training import Recipe
from ex_color.training.specs import MemberSpec
from mini.temporal.dopesheet import Dopesheet
from mini.temporal.template import SearchParam, SheetTemplate

__all__ = [
    'DOPESHEET',
    'FRESH_FIRST',
    'GOAL_PASS',
    'GOAL_RED',
    'LABEL_SCALE',
    'LAST_STEP',
    'RACE_FIRST',
    'RECIPE_FILE',
    'SPACE',
    'START_DOPESHEET',
    'START_LABEL_SCALE',
    'Chosen',
    'candidate_members',
    'chosen',
    'headline',
    'recipe_text',
    'rungs',
    'suggest',
]

NBID = '2.13'
START_DOPESHEET = 'ex-2.13-dopesheet-start.csv'
"""The starting schedule (in the notebooks folder), whose cells `SPACE` varies."""
DOPESHEET = 'ex-2.13-dopesheet.csv'
"""The schedule the race chose, written by the notebook beside itself."""
RECIPE_FILE = 'ex-2.13-recipe.json'
"""The chosen recipe's other settings (label rate, base recipe, schedule file), written likewise."""
LAST_STEP = 3750
"""Every candidate's last keyframe (the starting schedule's; Ex 2.10's is 1500)."""

SPACE = (
    #           name          line(s)  column               low     high  log scale
    SearchParam('transition', 5, 'STEP', 900, 2100),  # the anchor/anti-subspace hand-over
    SearchParam('reg_end', 7, 'STEP', 2400, 3400),  # regularisers faded out and the tail begins
    SearchParam('lr_peak', (5, 6), 'lr', 0.05, 0.2, log=True),  # learning rate held after the hand-over
    SearchParam('anchor_peak', 5, 'reg-anchor', 0.05, 0.5, log=True),  # the anchor's weight after it
    SearchParam('anti_late', 5, 'reg-anti-subspace', 0.01, 0.1, log=True),  # anti-subspace after it
    SearchParam('separate', 5, 'reg-separate', 0.003, 0.03, log=True),  # Separate's weight
    SearchParam('tail_lr', 8, 'lr', 0.002, 0.05, log=True),  # learning rate at the end of the tail
)
"""The schedule's searched cells (lines of `START_DOPESHEET`; line 1 is its header)."""
LABEL_SCALE = (0.75, 4.0)
"""Range of the red label's rate, as a multiple of Ex 2.10's (`ex_2_10.make_data`'s ``label_scale``;
searched on a log scale)."""
START_LABEL_SCALE = 1.5
"""The start candidate's label rate."""

RACE_FIRST = 20_000
"""The race's first seed; its rungs take consecutive seeds from here."""
FRESH_FIRST = 10_000
"""The final comparison's first seed (never raced on)."""

GOAL_PASS = 0.9
"""The goal: at least this share of fresh seeds meets every threshold ..."""
GOAL_RED = 0.5
"""... with the median ablated error at red at least this, and the median ablated MSE no worse than Ex 2.10's."""


def template(path: str | Path) -> SheetTemplate:
    """The starting schedule at `path` (``notebooks/ex-2.13-dopesheet-start.csv``) with `SPACE`'s cells open."""
    t = SheetTemplate.from_csv(path, SPACE)
    if len(t.base) - 1 != LAST_STEP:
        raise ValueError(
            f'{path}: the starting schedule ends at step {len(t.base) - 1}; Ex 2.13 declares {LAST_STEP}'
        )
    return t


def start_params(t: SheetTemplate) -> dict[str, float]:
    """The start candidate: the starting schedule's own cells and `START_LABEL_SCALE`."""
    current = t.current()
    missing = [name for name, v in current.items() if v is None]
    if missing:
        raise ValueError(f'{t.base.source}: the starting schedule leaves {missing} empty; each needs a value')
    return {name: float(v) for name, v in current.items() if v is not None} | {
        'label_scale': START_LABEL_SCALE
    }


def suggest(trial: Any) -> dict[str, float]:
    """One candidate proposed by an Optuna trial: every `SPACE` cell and the label rate."""
    params = {p.name: trial.suggest_float(p.name, p.low, p.high, log=p.log) for p in SPACE}
    return params | {'label_scale': trial.suggest_float('label_scale', *LABEL_SCALE, log=True)}


def candidate_members(
    t: SheetTemplate, params: Mapping[str, float], seeds: Sequence[int], *, name: str
) -> list[MemberSpec]:
    """One member per seed of candidate `params` (`suggest`'s keys), named ``<name> seed-<s>``."""
    sheet_keys = {p.name for p in SPACE}
    unknown = sorted(set(params) - sheet_keys - {'label_scale'})
    missing = sorted((sheet_keys | {'label_scale'}) - set(params))
    if unknown or missing:
        raise KeyError(f'candidate {name}: unknown parameters {unknown}, missing {missing}')
    sheet = t.fill({k: v for k, v in params.items() if k in sheet_keys}, name)
    data = {'label_scale': float(params['label_scale'])}
    return [MemberSpec(s, dopesheet=sheet, data=data, name=f'{name} seed-{s}') for s in seeds]


def rungs(sizes: Sequence[tuple[int, int]], first_seed: int = RACE_FIRST) -> list[Rung]:
    """`Rung`s from ``(candidates, seeds)`` pairs, each rung on the next consecutive, unused seeds."""
    out, at = [], first_seed
    for keep, n in sizes:
        out.append(Rung(keep, tuple(range(at, at + n))))
        at += n
    return out


@dataclass(frozen=True)
class Chosen:
    """The configuration the race chose, as committed beside the notebook."""

    dopesheet: Dopesheet
    label_scale: float
    params: Mapping[str, float]

    @property
    def recipe(self) -> Recipe:
        return ex_2_10.RECIPE.with_(
            name=f'Ex {NBID}: chosen', dopesheet=self.dopesheet, dopesheet_file=DOPESHEET
        )

    def members(self, seeds: Sequence[int]) -> list[MemberSpec]:
        return [MemberSpec(s, data={'label_scale': self.label_scale}) for s in seeds]


def recipe_text(params: Mapping[str, float], *, candidate: int, seeds_raced: int, passed: int) -> str:
    """The JSON of ``ex-2.13-recipe.json`` for the chosen candidate `params`."""
    record = {
        'experiment': f'Ex {NBID}',
        'base_recipe': 'ex_color.experiments.ex_2_10:RECIPE',
        'dopesheet': DOPESHEET,
        'data': {'label_scale': float(params['label_scale'])},
        'searched': {k: float(v) for k, v in params.items()},
        'race': {'candidate': candidate, 'seeds': seeds_raced, 'passed': passed},
    }
    return json.dumps(record, indent=2) + '\n'


def chosen(folder: str | Path) -> Chosen:
    """The committed choice: ``ex-2.13-recipe.json`` and the schedule it names, in `folder`."""
    folder = Path(folder)
    path = folder / RECIPE_FILE
    try:
        record = json.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        raise FileNotFoundError(f'{path}: no chosen recipe; run the Ex 2.13 notebook to write it') from None
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: line {e.lineno}, column {e.colno}: {e.msg}') from None
    try:
        scale = record['data']['label_scale']
        sheet_file = record['dopesheet']
        params = record['searched']
    except (KeyError, TypeError) as e:
        raise ValueError(
            f'{path}: missing {e}; the recipe needs data.label_scale, dopesheet and searched'
        ) from None
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale) or scale < 0:
        raise ValueError(f'{path}: data.label_scale must be a number >= 0, got {scale!r}')
    return Chosen(Dopesheet.from_csv(folder / sheet_file), float(scale), dict(params))


def headline(n_seeds: int, *, first_seed: int = FRESH_FIRST) -> tuple[Recipe, list[MemberSpec]]:
    """What the notebook's headline row is about: the chosen configuration on seeds ``first_seed`` …
    (`./go verify ex-2.13` retrains it)."""
    from utils.paths import project_root

    choice = chosen(project_root() / 'notebooks')
    return choice.recipe, choice.members(range(first_seed, first_seed + n_seeds))
