"""Ex 2.13's prose, generated from the run: the race in a sentence, and what it found against the goal.

* `race_markdown(race, rungs, ...)`: how many candidates and members the race trained, and the
  finalists' standings with their Wilson intervals;
* `goal_markdown(chosen, reference, tests, modes, ...)`: each part of the goal (pass rate, error at
  red, collateral against Ex 2.10) as shown, reached only by the estimate, or missed, and what limits
  the chosen configuration (its most common failure modes).

Design decisions:
- A part of the goal is **shown** only when its interval clears the goal; an estimate past the goal
  whose interval still holds it is "reached by the estimate, not shown at n = …"; otherwise it is
  missed, and the sentence says by how much. The goal itself is declared in `ex_2_13` and never moved.
- "No worse than Ex 2.10" is the paired test's verdict (Holm-corrected), never the two medians side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ex_color.evaluation.claims import PairedTest, median_estimate, rate_estimate
from ex_color.evaluation.numbers import g
from ex_color.experiments.ex_2_13 import GOAL_PASS, GOAL_RED
from ex_color.experiments.ex_2_13.modes import MODES
from ex_color.experiments.report import change_text
from ex_color.model.surgery import ablate
from ex_color.search.racing import Race, Rung

__all__ = ['ablated_red_markdown', 'goal_markdown', 'modes_markdown', 'race_markdown', 'share']


def share(k: int, n: int) -> str:
    """``k/n`` as a percentage that never shows a non-zero count as 0 % (one decimal below 1 %)."""
    return _pct(k / n)


def _pct(x: float) -> str:
    return f'{x:.1%}' if 0 < x < 0.01 else f'{x:.0%}'


def modes_markdown(counts: pd.DataFrame) -> str:
    """`modes.mode_counts`' table as Markdown: seeds per mode and configuration, with the Wilson interval
    of each share."""
    configs = list(dict.fromkeys(counts['configuration']))
    ns = {c: int(counts.loc[counts['configuration'] == c, 'n'].iloc[0]) for c in configs}
    lines = [
        '| mode | ' + ' | '.join(f'{c} (n = {ns[c]}) [95 % CI]' for c in configs) + ' |',
        '|---|' + '---:|' * len(configs),
    ]
    table = counts.set_index(['mode', 'configuration'])
    for mode in MODES:
        cells = []
        for c in configs:
            row = table.loc[(mode, c)]
            cells.append(
                f'{int(row["seeds"])} = {row["seeds"] / ns[c]:.0%} [{row["low"]:.0%}, {row["high"]:.0%}]'
            )
        lines.append(f'| {mode} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def race_markdown(race: Race, rungs: Sequence[Rung], seconds: float, *, start: int | None = None) -> str:
    """The race in numbers: candidates, members trained, wall time, and the finalists' standings."""
    members = sum(c.n for c in race.standings)
    lines = [
        f'The race proposed **{len(race.standings)} candidates** and trained **{members} members** in '
        f'{len(rungs)} rungs ({", ".join(f"{r.keep} × {len(r.seeds)} seeds" for r in rungs)}), one run of the '
        f'engine each, in **{seconds / 60:.1f} min**.',
        '',
        '| candidate | seeds run | pass | pass rate [95 % CI] |',
        '|---|---:|---:|---:|',
    ]
    for c in race.standings:
        if len(c.seeds) < len(rungs) and c is not race.winner:
            continue
        e = rate_estimate(sum(c.passed), c.n)
        name = (
            f'{c.number}'
            + (' (start)' if c.number == start else '')
            + (' **chosen**' if c is race.winner else '')
        )
        lines.append(f'| {name} | {c.n} | {sum(c.passed)} | {e.value:.0%} [{e.low:.0%}, {e.high:.0%}] |')
    if start is not None and not any(
        c.number == start and len(c.seeds) == len(rungs) for c in race.standings
    ):
        s = next(c for c in race.standings if c.number == start)
        lines += [
            '',
            f'The start candidate dropped out after rung {len(s.seeds)} ({sum(s.passed)} of {s.n} seeds passed).',
        ]
    return '\n'.join(lines)


def _level(value: float, low: float, high: float, goal: float) -> str:
    if low >= goal:
        return 'shown'
    if value >= goal:
        return 'reached by the estimate, not shown'
    return 'missed' if high < goal else 'not reached'


def goal_markdown(
    chosen: pd.DataFrame,
    reference: pd.DataFrame,
    tests: Sequence[PairedTest],
    modes: pd.Series,
    *,
    names: tuple[str, str],
) -> str:
    """What the run found against the goal (see the module docstring). `chosen`, `reference`: each
    configuration's `seed_metrics` on the same fresh seeds; `tests`: the Holm-corrected paired tests
    of chosen against reference; `modes`: the chosen configuration's failure modes; `names`: (chosen,
    reference) as the prose calls them."""
    mine, ref = names
    n = len(chosen)
    if len(reference) != n or not chosen.index.equals(reference.index):
        raise ValueError('goal_markdown: the two configurations must be scored on the same seeds')
    by_metric = {t.metric: t for t in tests}
    absent = [m for m in ('pass', 'median') if m not in by_metric]
    if absent:
        raise KeyError(f'goal_markdown: no paired test of {absent}')
    k, k_ref = int(chosen['pass'].sum()), int(reference['pass'].sum())
    rate, rate_ref = rate_estimate(k, n), rate_estimate(k_ref, n)
    red, red_ref = median_estimate(chosen['red']), median_estimate(reference['red'])
    pass_level = _level(rate.value, rate.low, rate.high, GOAL_PASS)
    red_level = _level(red.value, red.low, red.high, GOAL_RED)
    coll = by_metric['median']
    coll_level = (
        'missed: worse'
        if coll.judgement == 'worse'
        else ('shown: better' if coll.judgement == 'better' else f'not shown worse at n = {coll.n}')
    )
    reached = pass_level == 'shown' and red_level == 'shown' and coll.judgement != 'worse'
    head = (
        '**The goal is reached**' if reached else '**The goal is not reached in full**'
    ) + f' on {n} fresh seeds, never raced on:'
    lines = [
        head,
        '',
        '| part of the goal | goal | ' + f'{mine} | {ref} | verdict |',
        '|---|---|---:|---:|---|',
        f'| seeds meeting every threshold | ≥ {GOAL_PASS:.0%} | {k}/{n} = {rate.value:.0%} '
        f'[{rate.low:.0%}, {rate.high:.0%}] | {k_ref}/{n} = {rate_ref.value:.0%} [{rate_ref.low:.0%}, '
        f'{rate_ref.high:.0%}] | {pass_level} |',
        f'| median ablated error at red | ≥ {g(GOAL_RED)} | {g(red.value)} [{g(red.low)}, {g(red.high)}] | '
        f'{g(red_ref.value)} [{g(red_ref.low)}, {g(red_ref.high)}] | {red_level} |',
        f"| median ablated MSE | no worse than {ref}'s | {g(coll.median_b)} | {g(coll.median_a)} | {coll_level} "
        f'({change_text(coll)}, Holm p = {g(coll.p_corrected)}) |',
    ]
    failing = modes[modes != 'passes']
    if len(failing):
        counts = failing.value_counts()
        top = [m for m in MODES if m in counts.index]
        top.sort(key=lambda m: -counts[m])
        limits = ', '.join(f'{m} ({counts[m]})' for m in top)
        lines += [
            '',
            f'What limits {mine}: of its {len(failing)} failing seeds, by mode: {limits}.',
        ]
    else:
        lines += ['', f'Every one of the {n} seeds of {mine} passes.']
    return '\n'.join(lines)


def ablated_red_markdown(models: Sequence[nn.Module], *, name: str) -> str:
    """What bounds the error at red: the colour each model decodes pure red to once the anchor's
    dimension is ablated (median over `models`), and how far from red the colours it would have to
    decode to lie. The MSE of a colour c from red is ((1 − r)² + g² + b²) / 3."""
    if not models:
        raise ValueError('ablated_red_markdown: no models')
    red = torch.tensor([[1.0, 0.0, 0.0]])
    with torch.no_grad():
        decoded = np.array([ablate(m, 'bottleneck', [0]).eval()(red)[0].numpy() for m in models])
    mse = ((decoded - red.numpy()) ** 2).mean(axis=1)
    centre = np.median(decoded, axis=0)

    def far(rgb: tuple[float, float, float]) -> float:
        return float(((np.array(rgb) - red.numpy()[0]) ** 2).mean())

    ref = {
        'black': (0.0, 0.0, 0.0),
        'mid grey': (0.5, 0.5, 0.5),
        'white': (1.0, 1.0, 1.0),
        'cyan': (0.0, 1.0, 1.0),
    }
    beyond = [f'{k} ({g(far(v))})' for k, v in ref.items() if far(v) >= GOAL_RED]
    within = [f'{k} ({g(far(v))})' for k, v in ref.items() if far(v) < GOAL_RED]
    return (
        f'**What bounds the error at red.** With dimension 0 ablated, the {len(models)} models of {name} decode pure '
        f'red to a median colour of RGB ({", ".join(f"{v:.2f}" for v in centre)}); their median error at red is {g(float(np.median(mse)))}. '
        f"A colour's error at red is ((1 − r)² + g² + b²) / 3, so ablated red meets the goal "
        f'of {g(GOAL_RED)} only where it decodes as far from red as {" or ".join(beyond)}; decoding to '
        f'{" or ".join(within)} stays below it.'
    )
