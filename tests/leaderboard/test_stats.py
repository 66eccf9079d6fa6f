"""The pure statistics, cross-checked against statsmodels, scipy and the krippendorff package."""

import math

import krippendorff
import numpy as np
import pytest
from scipy import stats as scipy_stats
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


def test_weighted_proportion_with_equal_weights_is_the_plain_wilson_interval():
    interval, effective_n = stats.weighted_proportion_interval(7.0, 10.0, 10.0)
    assert effective_n == pytest.approx(10)
    assert interval == stats.wilson_interval(7, 10)


def test_weighted_proportion_uses_kish_effective_sample_size():
    weights = [1.0, 1.0, 0.5, 0.5]
    human = [0, 0, 1, 1]
    interval, effective_n = stats.weighted_proportion_interval(
        sum(w * h for w, h in zip(weights, human, strict=True)), sum(weights), sum(w * w for w in weights)
    )
    assert effective_n == pytest.approx(9 / 2.5)
    low, high = proportion_confint(effective_n / 3, effective_n, method="wilson")
    assert interval.estimate == pytest.approx(1 / 3)
    assert (interval.low, interval.high) == pytest.approx((low, high))


@pytest.mark.parametrize("values", [[3, 4, 5, 2, 4], [1, 1, 2], [5, 4, 4, 4, 3, 5, 2, 1, 3, 3]])
def test_mean_t_interval_matches_scipy(values):
    interval = stats.mean_t_interval(len(values), float(sum(values)), float(sum(v * v for v in values)))
    low, high = scipy_stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=scipy_stats.sem(values))
    assert interval.estimate == pytest.approx(np.mean(values))
    assert (interval.low, interval.high) == pytest.approx((low, high))


def test_mean_t_interval_of_one_value_has_no_width_and_of_none_is_none():
    assert stats.mean_t_interval(1, 4.0, 16.0) == stats.Interval(4.0, 4.0, 4.0)
    assert stats.mean_t_interval(0, 0.0, 0.0) is None


RELIABILITY_CASES = [
    # Krippendorff's own interval example (coders × units, None = missing).
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ],
    # Means of ratings (non-integers), as the leaderboard feeds it.
    [
        [3.25, 4.5, None, 1.75, 2.0],
        [3.0, 4.25, 2.5, 2.0, None],
        [None, 4.0, 2.75, 1.5, 2.25],
    ],
]


@pytest.mark.parametrize("data", RELIABILITY_CASES)
def test_krippendorff_alpha_matches_the_krippendorff_package(data):
    expected = krippendorff.alpha(
        reliability_data=np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float),
        level_of_measurement="interval",
    )
    assert stats.krippendorff_alpha_interval(data) == pytest.approx(expected, abs=1e-9)


def test_krippendorff_alpha_from_sums_ignores_units_with_one_value():
    units = [stats.UnitSums(2, 7.0, 25.0), stats.UnitSums(2, 3.0, 5.0), stats.UnitSums(1, 5.0, 25.0)]
    expected = krippendorff.alpha(
        reliability_data=np.array([[3, 1, 5], [4, 2, np.nan]], dtype=float), level_of_measurement="interval"
    )
    assert stats.krippendorff_alpha_interval_from_sums(units) == pytest.approx(expected)


def test_krippendorff_alpha_is_none_without_pairs_or_variation():
    assert stats.krippendorff_alpha_interval([[1, None], [None, 2]]) is None
    assert stats.krippendorff_alpha_interval([[3, 3], [3, 3]]) is None


def test_honest_ranks_share_a_rank_when_intervals_overlap():
    intervals = [
        stats.Interval(0.8, 0.70, 0.90),
        stats.Interval(0.7, 0.60, 0.80),  # overlaps the first: shares rank 1
        stats.Interval(0.4, 0.30, 0.50),  # both above lie entirely higher: rank 3
        stats.Interval(0.45, 0.20, 0.65),  # only the first lies entirely higher: rank 2
        None,
    ]
    assert stats.honest_ranks(intervals) == [1, 1, 3, 2, None]


def test_leaderboard_order_is_by_lower_bound_then_rate_with_empty_last():
    entries = {
        "wide": stats.Interval(0.9, 0.40, 0.99),
        "narrow": stats.Interval(0.6, 0.55, 0.65),
        "same-low-higher-rate": stats.Interval(0.7, 0.55, 0.80),
        "empty": None,
    }
    ordered = sorted(entries, key=lambda name: stats.leaderboard_sort_key(entries[name], name))
    assert ordered == ["same-low-higher-rate", "narrow", "wide", "empty"]
    assert math.isfinite(stats.leaderboard_sort_key(entries["wide"], "wide")[1])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_alpha_from_unit_sums_matches_the_package_on_value_counts(seed):
    """The leaderboard's definition: unit = bot, every rating one pairable value (the package's value_counts)."""
    rng = np.random.default_rng(seed)
    value_counts = rng.integers(0, 30, size=(12, 5))
    value_counts[3] = [0, 0, 1, 0, 0]  # a unit with one value is not pairable and must be left out
    values = np.arange(1, 6)
    units = [
        stats.UnitSums(count=int(row.sum()), total=float(row @ values), total_sq=float(row @ (values * values)))
        for row in value_counts
    ]
    expected = krippendorff.alpha(value_counts=value_counts, value_domain=values, level_of_measurement="interval")
    assert stats.krippendorff_alpha_interval_from_sums(units) == pytest.approx(expected, abs=1e-9)
