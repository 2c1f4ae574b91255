"""Ex 2.10's verdict on its schedule, rendered from the control's paired test, never typed.

`timing_markdown(tests)`: whether holding the anchor and anti-subspace weights constant (the
transition-removed control, `ex_2_10.without_transition`) changes the share of seeds that meet every
threshold, read from the Holm-corrected McNemar test; it says what the control cannot separate (the
hand-over from the fade-out, which it removes together).
"""

from __future__ import annotations

from collections.abc import Sequence

from ex_color.evaluation.claims import PairedTest
from ex_color.evaluation.numbers import g
from ex_color.experiments.report import change_text

__all__ = ['timing_markdown']


def timing_markdown(tests: Sequence[PairedTest], control: str = 'transition removed') -> str:
    """The schedule-timing sentence from the pass-rate comparison of `control` against Ex 2.10."""
    found = [t for t in tests if t.b == control and t.metric == 'pass']
    if len(found) != 1:
        raise KeyError(f'timing_markdown: need one pass-rate comparison of {control!r}, found {len(found)}')
    t = found[0]
    numbers = (
        f'{t.median_a:.0%} of seeds meet every threshold under the schedule, {t.median_b:.0%} with the two '
        f'weights held constant ({change_text(t)}, n = {t.n}, Holm-corrected p = {g(t.p_corrected)})'
    )
    caveat = (
        'The control removes the hand-over and the fade-out at the end together, so it cannot say which '
        'of the two matters.'
    )
    if t.verdict == 'lower':
        return f"**The schedule's timing is part of what makes this work**: {numbers}. {caveat}"
    if t.verdict == 'higher':
        return f'**Holding the weights constant works better than the schedule**: {numbers}. {caveat}'
    return f"At n = {t.n} this control cannot tell whether the schedule's timing matters: {numbers}. {caveat}"
