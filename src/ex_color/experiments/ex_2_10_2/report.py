"""Ex 2.10.2's verdict, rendered from its results: does the searched schedule beat Ex 2.10's on seeds the
search never saw? Read from paired tests, never typed."""

from __future__ import annotations

from collections.abc import Mapping

from ex_color.evaluation.claims import ALPHA, PairedTest
from ex_color.evaluation.metrics import METRICS
from ex_color.evaluation.numbers import g
from ex_color.experiments.report import change_text

__all__ = ['search_markdown']


def search_markdown(
    tests: Mapping[str, PairedTest],
    *,
    chosen: str,
    reference: str,
    in_search: Mapping[str, Mapping[str, float]],
    search_seeds: int,
) -> str:
    """Whether the searched schedule beats `reference` on fresh seeds, read from the paired tests of
    ``red``, ``median`` and ``worst_gcb``; `in_search` holds both schedules' seed medians during the
    search (``{chosen: {...}, reference: {...}}``), to show how much of the gain survived fresh seeds."""
    missing = [m for m in ('red', 'median', 'worst_gcb') if m not in tests]
    if missing:
        raise KeyError(f'search_markdown: no paired test for {missing}')
    red, med, gcb = tests['red'], tests['median'], tests['worst_gcb']

    def change(t: PairedTest) -> str:
        return (
            f'{g(t.median_b)} against {g(t.median_a)} (change {change_text(t)}; {chosen} higher on {t.b_higher} of {t.n} seeds, '
            f'Holm-corrected p = {g(t.p_corrected)})'
        )

    more_red = red.verdict == 'higher'
    less_red = red.verdict == 'lower'
    worse = [t for t in (med, gcb) if t.verdict == 'higher']
    better = [t for t in (med, gcb) if t.verdict == 'lower']
    lines = [
        f'On {red.n} fresh seeds (none of them used by the search), the ablated error at red under the '
        f'{chosen} schedule is {change(red)}; the median ablated error over the cube is {change(med)}, '
        f'and the worst of green, cyan and blue {change(gcb)}.'
    ]
    a, b = in_search[reference], in_search[chosen]
    lines.append(
        f'During the search ({search_seeds} seeds each) the two had red {g(b["red"])} and {g(a["red"])}: '
        + (
            'the fresh seeds keep the ordering.'
            if (b['red'] > a['red']) == (red.median_b > red.median_a)
            else "the fresh seeds reverse it, so the search's pick was partly seed luck."
        )
    )
    if more_red and not worse:
        extra = (
            ' and with less collateral (' + ', '.join(METRICS[t.metric] for t in better) + ')'
            if better
            else ''
        )
        verdict = (
            f"**The searched schedule deletes more red than {reference}'s without more collateral**{extra}, "
            f'at the {ALPHA:.0%} level after Holm correction.'
        )
    elif more_red:
        verdict = (
            f"**The searched schedule deletes more red than {reference}'s, but at a cost**: "
            + ', '.join(f'{METRICS[t.metric]} is higher' for t in worse)
            + f' (at the {ALPHA:.0%} level after Holm correction), so it is a different trade-off, not a better schedule.'
        )
    elif less_red:
        verdict = (
            f"**On fresh seeds the searched schedule deletes less red than {reference}'s** (Holm-corrected p = {g(red.p_corrected)}): "
            'what it gained during the search does not hold up on seeds it was not chosen on.'
        )
    else:
        verdict = (
            f"**On fresh seeds the searched schedule and {reference}'s cannot be told apart by the error "
            f'at red** at n = {red.n} (Holm-corrected p = {g(red.p_corrected)}): this is not evidence '
            'that they delete the same amount, only that these seeds do not separate them.'
        )
    return ' '.join(lines) + '\n\n' + verdict
