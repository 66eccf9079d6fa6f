"""The Wilson interval at its edges: no data, 0 % and 100 %, the confidence level. The evaluator-aware estimators
built on it have their own edge cases in test_inference.py."""

import pytest
from statsmodels.stats.proportion import proportion_confint

from leaderboard import stats


@pytest.mark.parametrize("n", [0, -1, 0.0])
def test_no_data_gives_no_interval(n):
    assert stats.wilson_interval(0, n) is None


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_the_confidence_level_is_the_one_asked_for(confidence):
    interval = stats.wilson_interval(7, 20, confidence=confidence)
    assert (interval.low, interval.high) == pytest.approx(
        proportion_confint(7, 20, alpha=1 - confidence, method="wilson")
    )


def test_the_default_confidence_is_95_percent():
    assert stats.CONFIDENCE == 0.95
    assert stats.wilson_interval(7, 20) == stats.wilson_interval(7, 20, confidence=0.95)


@pytest.mark.parametrize(("successes", "n"), [(0, 1), (1, 1), (0, 30), (30, 30)])
def test_all_or_nothing_stays_inside_zero_and_one(successes, n):
    interval = stats.wilson_interval(successes, n)
    assert 0.0 <= interval.low <= interval.estimate <= interval.high <= 1.0
    assert interval.estimate == successes / n
    if successes == 0:
        assert interval.low == 0.0 and interval.high > 0.0
    else:
        assert interval.high == 1.0 and interval.low < 1.0
