"""The pure statistics, cross-checked against statsmodels, scipy and the krippendorff package."""

import pytest
from statsmodels.stats.proportion import proportion_confint

from leaderboard import stats


@pytest.mark.parametrize(("successes", "n"), [(0, 10), (1, 10), (7, 10), (10, 10), (50, 100), (3, 1000), (999, 1000)])
def test_wilson_interval_matches_statsmodels(successes, n):
    interval = stats.wilson_interval(successes, n)
    low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")
    assert interval.estimate == pytest.approx(successes / n)
    assert interval.low == pytest.approx(low, abs=1e-12)
    assert interval.high == pytest.approx(high, abs=1e-12)


def test_wilson_interval_without_data_is_none():
    assert stats.wilson_interval(0, 0) is None
