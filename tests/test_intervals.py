"""`wilson(k, n)`: the Wilson score interval, in closed form, agrees with scipy's."""

from __future__ import annotations

import pytest
from scipy import stats

from ex_color.evaluation.intervals import wilson


@pytest.mark.parametrize('n', [1, 2, 3, 20, 200, 1000])
def test_wilson_agrees_with_scipy_for_every_count(n):
    for k in range(n + 1):
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method='wilson')
        low, high = wilson(k, n)
        assert low == pytest.approx(ci.low, abs=1e-12) and high == pytest.approx(ci.high, abs=1e-12), (k, n)
        assert 0.0 <= low <= k / n <= high <= 1.0


def test_wilson_at_another_confidence_and_on_bad_input():
    ci = stats.binomtest(9, 20).proportion_ci(confidence_level=0.8, method='wilson')
    assert wilson(9, 20, 0.8) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert wilson(9, 20, 0.8)[1] - wilson(9, 20, 0.8)[0] < wilson(9, 20)[1] - wilson(9, 20)[0]
    for k, n, match in [(3, 2, r'0 <= k <= n'), (0, 0, r'n >= 1'), (-1, 5, r'0 <= k <= n')]:
        with pytest.raises(ValueError, match=match):
            wilson(k, n)
    with pytest.raises(TypeError, match='must be ints'):
        wilson(1.0, 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='strictly between 0 and 1'):
        wilson(1, 2, 1.0)
