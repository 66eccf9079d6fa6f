"""Statistics at their edges: no data, one value, touching intervals, 0 % and 100 %, the confidence level."""

import pytest
from statsmodels.stats.proportion import proportion_confint

from leaderboard import stats
from leaderboard.stats import Interval, UnitSums


@pytest.mark.parametrize("n", [0, -1, 0.0])
def test_no_data_gives_no_interval(n):
    assert stats.wilson_interval(0, n) is None
    assert stats.mean_t_interval(int(n), 0.0, 0.0) is None


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


@pytest.mark.parametrize(("weights", "weights_sq"), [(0.0, 1.0), (1.0, 0.0), (-1.0, 1.0)])
def test_weighted_proportion_without_positive_weights_is_none(weights, weights_sq):
    assert stats.weighted_proportion_interval(0.0, weights, weights_sq) == (None, 0.0)


def test_weighted_proportion_effective_n_for_unequal_weights():
    interval, effective_n = stats.weighted_proportion_interval(3.0, 4.0, 6.0)
    assert effective_n == pytest.approx(16 / 6)
    assert interval == stats.wilson_interval(0.75 * 16 / 6, 16 / 6)


def test_mean_of_two_equal_values_has_no_width_and_of_two_different_values_has_some():
    same = stats.mean_t_interval(2, 8.0, 32.0)
    assert (same.estimate, same.low, same.high) == (4.0, 4.0, 4.0)
    spread = stats.mean_t_interval(2, 6.0, 20.0)  # values 2 and 4
    assert spread.estimate == 3.0
    assert spread.high - spread.estimate == pytest.approx(12.7062047, rel=1e-6)  # t(1, 0.975) · sd/√2, sd/√2 = 1


def test_a_variance_that_rounds_below_zero_gives_no_width_not_an_error():
    interval = stats.mean_t_interval(3, 0.3, 0.0299)
    assert interval.low == interval.high == pytest.approx(0.1)


def test_alpha_needs_two_pairable_values():
    assert stats.krippendorff_alpha_interval_from_sums([UnitSums(1, 3, 9), UnitSums(1, 5, 25)]) is None
    assert stats.krippendorff_alpha_interval_from_sums([UnitSums(2, 6, 18)]) is None  # pairable, but no variation
    perfect = [UnitSums(2, 2, 2), UnitSums(2, 10, 50)]  # (1, 1) and (5, 5)
    assert stats.krippendorff_alpha_interval_from_sums(perfect) == pytest.approx(1.0)


def test_alpha_from_a_table_with_missing_values_and_ragged_rows():
    assert stats.krippendorff_alpha_interval([[1, 5, None], [1, 5]]) == pytest.approx(1.0)
    assert stats.krippendorff_alpha_interval([]) is None


def test_touching_intervals_share_a_rank_and_a_gap_separates_them():
    low = Interval(0.3, 0.2, 0.4)
    touching = Interval(0.5, 0.4, 0.6)
    above = Interval(0.7, 0.41, 0.9)
    assert stats.honest_ranks([low, touching]) == [1, 1]
    assert stats.honest_ranks([low, above]) == [2, 1]
    assert stats.honest_ranks([low, None, above]) == [2, None, 1]


def test_sort_key_breaks_ties_by_rate_then_name_and_puts_no_data_last():
    rows = {
        "b": Interval(0.5, 0.3, 0.7),
        "a": Interval(0.5, 0.3, 0.7),
        "c": Interval(0.6, 0.3, 0.8),
        "d": Interval(0.4, 0.35, 0.5),
        "e": None,
    }
    assert sorted(rows, key=lambda name: stats.leaderboard_sort_key(rows[name], name)) == ["d", "c", "a", "b", "e"]


def test_weights_below_one_still_give_an_interval_at_the_asked_confidence():
    interval, effective_n = stats.weighted_proportion_interval(0.25, 0.5, 0.125)  # two judgments of weight 0.25
    assert effective_n == pytest.approx(2.0)
    assert interval == stats.wilson_interval(1.0, 2.0)
    narrow, _ = stats.weighted_proportion_interval(0.25, 0.5, 0.125, confidence=0.8)
    assert narrow == stats.wilson_interval(1.0, 2.0, confidence=0.8)


def test_alpha_of_a_single_unit_with_two_different_values_is_zero():
    assert stats.krippendorff_alpha_interval_from_sums([UnitSums(2, 6, 20)]) == pytest.approx(0.0)  # 2 and 4


def test_alpha_on_a_small_scale_is_not_mistaken_for_no_variation():
    # Expected disagreement here is about 0.03: small, but far from zero.
    assert stats.krippendorff_alpha_interval([[0.1, 0.3], [0.1, 0.3]]) == pytest.approx(1.0)


def test_a_bot_with_a_zero_interval_still_sorts_before_one_without_data():
    rows = {"a": None, "z": Interval(0.0, 0.0, 0.0)}
    assert sorted(rows, key=lambda name: stats.leaderboard_sort_key(rows[name], name)) == ["z", "a"]
