"""leaderboard.inference at its edges: no evaluators, one evaluator, the minimum judgments at and below, tests
without spread exactly at the margin, the floor of a difference's variance, and every option passed on."""

from math import sqrt
from statistics import NormalDist

import numpy as np
import pytest

from leaderboard import inference
from leaderboard.inference import Mean, Rank, Rate, Verdict

NAN = float("nan")


def rate(judgments: int, human: int, *, evaluators: int = 1, design_effect: float = 1.0) -> Rate:
    estimate = human / judgments if judgments else None
    return Rate(judgments, evaluators, human, estimate, None, None, design_effect, None)


def test_bootstrap_weights_without_evaluators_and_with_the_default_seed_and_replicates():
    empty = inference.bootstrap_weights(0, replicates=5)
    assert (empty.shape, empty.dtype) == ((5, 0), np.float32)
    default = inference.bootstrap_weights(4)
    assert (default.shape, default.dtype) == ((inference.REPLICATES, 4), np.float32)
    assert (default == inference.bootstrap_weights(4, seed=0)).all()
    assert not (default == inference.bootstrap_weights(4, seed=1)).all()


def test_a_partner_without_judgments_has_no_rate_and_one_evaluator_no_variance():
    n = np.array([[0.0, 4.0, 2.0], [0.0, 0.0, 2.0]])
    h = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    (nobody, one, two), _ = inference.clustered_rates(n, h, inference.bootstrap_weights(2, replicates=200, seed=1))
    assert nobody == Rate(0, 0, 0, None, None, None, 1.0, None)
    assert (one.evaluators, one.variance, one.design_effect) == (1, None, 1.0)
    assert (two.evaluators, two.estimate) == (2, 0.5) and two.variance > 0


def test_a_narrower_confidence_gives_a_narrower_rate_interval():
    n = np.array([[3.0], [3.0], [3.0], [3.0]])
    h = np.array([[3.0], [1.0], [2.0], [0.0]])
    weights = inference.bootstrap_weights(4, replicates=500, seed=2)
    (wide,), _ = inference.clustered_rates(n, h, weights)
    (narrow,), _ = inference.clustered_rates(n, h, weights, confidence=0.5)
    assert wide.low < narrow.low < narrow.estimate < narrow.high < wide.high


@pytest.mark.parametrize("difference", [-0.1, 0.1])
def test_tost_without_spread_exactly_at_the_margin_is_not_equivalent(difference):
    assert inference.tost_p(difference, 0.0, 0.1) == 1.0
    assert inference.tost_p(difference * 0.99, 0.0, 0.1) == 0.0


def test_the_one_sided_test_without_spread_at_no_difference_keeps_the_null():
    assert (inference.one_sided_less_p(0.0, 0.0), inference.one_sided_less_p(0.01, 0.0)) == (1.0, 1.0)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"judgments": 0, "difference": -0.2, "standard_error": 0.1, "margin": 0.1, "tests": 1}, None),
        ({"judgments": 50, "difference": 0.0, "standard_error": 0.1, "margin": 0.0, "tests": 1}, None),
        ({"judgments": 50, "difference": -0.5, "standard_error": 0.01, "margin": 0.1, "tests": 1}, 0),
        ({"judgments": 50, "difference": -1e-6, "standard_error": 0.1, "margin": 0.0, "tests": 1}, 10_000_000),
    ],
)
def test_more_judgments_needed_at_its_limits(options, expected):
    assert inference.more_judgments_needed(**options) == expected


def test_more_judgments_needed_takes_the_nearer_verdict_at_the_bonferroni_level():
    normal = NormalDist()
    # The bot is 0.15 below: the one-sided gap 0.15 beats the equivalence gap 0.1 - 0.15 < 0.
    for tests, alpha in ((1, 0.05), (0, 0.05), (4, 0.05), (2, 0.2)):
        z = normal.inv_cdf(1 - alpha / max(1, tests)) + normal.inv_cdf(0.8)
        expected = int(np.ceil(40 * ((0.2 * z / 0.15) ** 2 - 1)))
        needed = inference.more_judgments_needed(
            judgments=40, difference=-0.15, standard_error=0.2, margin=0.1, tests=tests, alpha=alpha
        )
        assert needed == expected
    # Slightly above the baseline, only equivalence can be reached: its gap is 0.1 - 0.03.
    z = normal.inv_cdf(0.95) + normal.inv_cdf(0.8)
    needed = inference.more_judgments_needed(judgments=40, difference=0.03, standard_error=0.2, margin=0.1, tests=1)
    assert needed == int(np.ceil(40 * ((0.2 * z / 0.07) ** 2 - 1)))


def compare(bot: Rate, baseline: Rate, bot_values, base_values, **options):
    bot_values = np.asarray(bot_values, dtype=float)[:, None]
    (comparison,) = inference.compare_to_baseline([bot], bot_values, baseline, np.asarray(base_values), **options)
    return comparison


def agresti_caffo_variance(rate: Rate) -> float:
    adjusted = (rate.judged_human + 1) / (rate.judgments + 2)
    return rate.design_effect * adjusted * (1 - adjusted) / (rate.judgments + 2)


def test_with_one_evaluator_the_difference_has_the_agresti_caffo_variance_scaled_by_the_design_effect():
    bot, baseline = rate(10, 3, design_effect=2.0), rate(20, 10)
    comparison = compare(bot, baseline, [0.3, 0.1, 0.5], [0.5, 0.5, 0.5], min_judgments=10)
    assert comparison.difference == pytest.approx(-0.2)
    assert comparison.standard_error == pytest.approx(
        sqrt(agresti_caffo_variance(bot) + agresti_caffo_variance(baseline))
    )


def test_the_bootstrap_variance_of_the_difference_needs_two_evaluators_each_and_two_replicates():
    bot_values, base_values = [0.2, 0.4, 0.3, 0.5], [0.5, 0.5, 0.6, 0.4]
    bootstrap = np.var(np.subtract(bot_values, base_values), ddof=1)
    both = compare(rate(10, 3, evaluators=2), rate(20, 10, evaluators=2), bot_values, base_values)
    assert both.standard_error == pytest.approx(sqrt(bootstrap))
    floor = sqrt(agresti_caffo_variance(rate(10, 3)) + agresti_caffo_variance(rate(20, 10)))
    one_bot_evaluator = compare(rate(10, 3, evaluators=1), rate(20, 10, evaluators=2), bot_values, base_values)
    one_control_evaluator = compare(rate(10, 3, evaluators=2), rate(20, 10, evaluators=1), bot_values, base_values)
    assert one_bot_evaluator.standard_error == one_control_evaluator.standard_error == pytest.approx(floor)
    one_replicate = compare(
        rate(10, 3, evaluators=2), rate(20, 10, evaluators=2), [0.2, NAN, NAN, 0.5], [0.5, 0.5, NAN, NAN]
    )
    assert one_replicate.standard_error == pytest.approx(floor)
    two_replicates = compare(
        rate(10, 3, evaluators=2), rate(20, 10, evaluators=2), [0.2, 0.9, NAN, 0.5], [0.5, 0.5, NAN, NAN]
    )
    assert two_replicates.standard_error == pytest.approx(sqrt(np.var([-0.3, 0.4], ddof=1)))


@pytest.mark.parametrize(("judgments", "human", "values"), [(10, 0, [0.0] * 4), (10, 10, [1.0] * 4)])
def test_a_bot_at_0_or_100_percent_keeps_the_floor_when_the_bootstrap_sees_no_spread(judgments, human, values):
    bot, baseline = rate(judgments, human, evaluators=2), rate(20, 10, evaluators=2)
    comparison = compare(bot, baseline, values, [0.5, 0.5, 0.5, 0.51])
    floor = agresti_caffo_variance(bot) + agresti_caffo_variance(baseline)
    assert comparison.standard_error == pytest.approx(sqrt(floor))
    spread = compare(bot, baseline, values, [0.0, 1.0, 0.0, 1.0])
    assert spread.standard_error == pytest.approx(sqrt(np.var(np.subtract(values, [0.0, 1.0, 0.0, 1.0]), ddof=1)))


def test_a_bot_is_tested_from_exactly_the_minimum_judgments():
    values = [0.2, 0.4, 0.3, 0.5]
    at = compare(rate(30, 9, evaluators=2), rate(30, 15, evaluators=2), values, [0.5] * 4, min_judgments=30)
    below = compare(rate(29, 9, evaluators=2), rate(30, 15, evaluators=2), values, [0.5] * 4, min_judgments=30)
    assert at.p_less is not None and at.p_equivalent is not None
    assert (below.p_less, below.p_equivalent, below.verdict) == (None, None, Verdict.NOT_ENOUGH_DATA)
    assert below.more_judgments >= 1


def test_without_a_rate_the_comparison_names_only_the_missing_judgments():
    missing = compare(rate(0, 0), rate(20, 10), [NAN] * 3, [0.5] * 3, min_judgments=30)
    assert missing == inference.Comparison(None, None, None, None, None, None, None, None, Verdict.NOT_ENOUGH_DATA, 30)
    no_control = compare(rate(40, 10), rate(0, 0), [0.25] * 3, [NAN] * 3, min_judgments=30)
    assert (no_control.verdict, no_control.more_judgments) == (Verdict.NOT_ENOUGH_DATA, None)


def test_an_untested_bot_needs_at_least_the_judgments_it_lacks():
    # Far below the baseline, the power formula alone would ask for no more judgments.
    comparison = compare(rate(5, 0), rate(200, 100), [0.0] * 3, [0.5] * 3, min_judgments=30)
    assert (comparison.verdict, comparison.more_judgments) == (Verdict.NOT_ENOUGH_DATA, 25)


def test_the_difference_interval_uses_the_confidence_and_stays_within_minus_one_and_one():
    bot, baseline = rate(10, 3), rate(20, 10)
    comparison = compare(bot, baseline, [0.3] * 3, [0.5] * 3, confidence=0.5, min_judgments=10)
    z = NormalDist().inv_cdf(0.75)
    assert comparison.high - comparison.low == pytest.approx(2 * z * comparison.standard_error)
    extreme = compare(rate(2, 0), rate(2, 2), [0.0] * 3, [1.0] * 3, min_judgments=1)
    assert (extreme.low, extreme.difference) == (-1.0, -1.0) and extreme.high < 1.0
    above = compare(rate(2, 2), rate(2, 0), [1.0] * 3, [0.0] * 3, min_judgments=1)
    assert (above.high, above.difference) == (1.0, 1.0)


def test_a_p_value_exactly_at_alpha_gives_no_verdict():
    bot, baseline = rate(100, 30), rate(100, 50)
    comparison = compare(bot, baseline, [0.3] * 3, [0.5] * 3, min_judgments=1, margin=0.0)
    assert comparison.verdict == Verdict.DISTINGUISHABLE
    at_alpha = compare(bot, baseline, [0.3] * 3, [0.5] * 3, min_judgments=1, margin=0.0, alpha=comparison.p_less_holm)
    assert at_alpha.verdict == Verdict.NOT_ENOUGH_DATA
    equivalent = compare(rate(100, 50), rate(100, 50), [0.5] * 3, [0.5] * 3, min_judgments=1, margin=0.3)
    assert equivalent.verdict == Verdict.INDISTINGUISHABLE
    at = compare(
        rate(100, 50), rate(100, 50), [0.5] * 3, [0.5] * 3, min_judgments=1, margin=0.3, alpha=equivalent.p_equivalent
    )
    assert at.verdict != Verdict.INDISTINGUISHABLE


def test_ranks_of_nothing_and_of_a_bot_no_replicate_drew():
    assert inference.ranks_with_intervals([], np.zeros((3, 0))) == []
    rates = [Rate(4, 2, 3, 0.75, 0.5, 0.9, 1.0, None), Rate(4, 2, 1, 0.25, 0.1, 0.45, 1.0, None)]
    replicates = np.array([[0.7, NAN], [0.8, NAN], [0.75, NAN]])
    assert inference.ranks_with_intervals(rates, replicates) == [Rank(1, 1, 1), Rank(2, 1, 2)]


def test_rank_intervals_follow_the_confidence():
    rates = [Rate(4, 2, 2, 0.5, 0.1, 0.9, 1.0, None), Rate(4, 2, 2, 0.5, 0.1, 0.9, 1.0, None)]
    replicates = np.array([[0.6, 0.4]] * 97 + [[0.4, 0.6]] * 3)  # the first bot is second in 3 replicates of 100
    assert inference.ranks_with_intervals(rates, replicates)[0] == Rank(1, 1, 2)
    assert inference.ranks_with_intervals(rates, replicates, confidence=0.5)[0] == Rank(1, 1, 1)


def test_means_without_ratings_or_without_two_resampled_means():
    counts = np.array([[0.0, 2.0], [0.0, 1.0], [0.0, 0.0]])
    totals = np.array([[0.0, 6.0], [0.0, 4.0], [0.0, 0.0]])
    # Replicates that draw only the third evaluator have no mean: one replicate with a mean gives no interval.
    one = np.array([[0.0, 0.0, 3.0], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0]], dtype=np.float32)
    nobody, rated = inference.clustered_means(counts, totals, one)
    assert nobody == Mean(0, 0, None, None, None)
    assert rated == Mean(3, 2, pytest.approx(10 / 3), None, None)
    two = np.array([[0.0, 0.0, 3.0], [2.0, 1.0, 0.0], [1.0, 1.0, 1.0]], dtype=np.float32)
    _nobody, rated = inference.clustered_means(counts, totals, two)
    assert rated.low == pytest.approx(3.2 + 0.025 * (10 / 3 - 3.2)) and rated.high == pytest.approx(10 / 3)


def test_mean_intervals_follow_the_confidence():
    counts = np.array([[2.0], [2.0], [2.0], [2.0], [2.0]])
    totals = np.array([[2.0], [4.0], [6.0], [8.0], [10.0]])
    weights = inference.bootstrap_weights(5, replicates=800, seed=3)
    (wide,) = inference.clustered_means(counts, totals, weights)
    (narrow,) = inference.clustered_means(counts, totals, weights, confidence=0.5)
    assert wide.low < narrow.low < narrow.estimate == 3.0 < narrow.high < wide.high


@pytest.mark.parametrize("human", [0, 20])
def test_a_baseline_at_0_or_100_percent_keeps_the_floor_when_the_bootstrap_sees_no_spread(human):
    bot, baseline = rate(20, 10, evaluators=2), rate(20, human, evaluators=2)
    base_values = [human / 20] * 4
    comparison = compare(bot, baseline, [0.5, 0.5, 0.5, 0.51], base_values)
    floor = agresti_caffo_variance(bot) + agresti_caffo_variance(baseline)
    assert comparison.standard_error == pytest.approx(sqrt(floor))


def test_a_bot_without_judgments_does_not_stop_the_comparison_of_the_next():
    bots = [rate(0, 0), rate(40, 10, evaluators=2)]
    values = np.array([[NAN, 0.2], [NAN, 0.3], [NAN, 0.25]])
    first, second = inference.compare_to_baseline(bots, values, rate(40, 20, evaluators=2), np.array([0.5] * 3))
    assert first.difference is None and second.difference == pytest.approx(-0.25)
    assert second.p_less is not None


def test_one_tested_bot_is_one_test_for_the_judgments_it_needs_and_the_holm_values_are_its_own():
    bot, baseline = rate(40, 18, evaluators=2), rate(40, 20, evaluators=2)
    values, base = [0.3, 0.6, 0.45, 0.5], [0.5, 0.45, 0.55, 0.5]
    for alpha in (0.05, 0.2):
        comparison = compare(bot, baseline, values, base, min_judgments=30, alpha=alpha)
        assert comparison.verdict == Verdict.NOT_ENOUGH_DATA
        assert (comparison.p_less_holm, comparison.p_equivalent_holm) == (comparison.p_less, comparison.p_equivalent)
        assert comparison.more_judgments == inference.more_judgments_needed(
            judgments=40,
            difference=comparison.difference,
            standard_error=comparison.standard_error,
            margin=0.1,
            tests=1,
            alpha=alpha,
        )


def test_a_bot_at_exactly_the_minimum_that_no_test_can_settle_asks_for_nothing_more():
    # Judged human far more often than humans: neither verdict can be reached, and the minimum is met.
    comparison = compare(rate(30, 29, evaluators=2), rate(30, 6, evaluators=2), [0.9, 1.0, 0.95], [0.2] * 3)
    assert (comparison.verdict, comparison.more_judgments) == (Verdict.NOT_ENOUGH_DATA, None)


def test_an_arena_rank_counts_only_intervals_strictly_above():
    assert inference.arena_ranks([0.5, 0.2], [0.6, 0.5]) == [1, 1]
    assert inference.arena_ranks([0.5, 0.2], [0.6, 0.49]) == [1, 2]


def test_a_bot_no_replicate_drew_does_not_stop_the_ranks_of_the_next():
    rates = [Rate(4, 2, 1, 0.25, 0.1, 0.45, 1.0, None), Rate(4, 2, 3, 0.75, 0.5, 0.9, 1.0, None)]
    replicates = np.array([[NAN, 0.7], [NAN, 0.8], [NAN, 0.75]])
    assert inference.ranks_with_intervals(rates, replicates) == [Rank(2, 1, 2), Rank(1, 1, 1)]


def test_the_rank_interval_tails_are_a_half_of_what_the_confidence_leaves_each():
    rates = [Rate(4, 2, 2, 0.5, 0.1, 0.9, 1.0, None), Rate(4, 2, 2, 0.5, 0.1, 0.9, 1.0, None)]
    replicates = np.array([[0.6, 0.4]] * 80 + [[0.4, 0.6]] * 20)  # second in 20 replicates of 100
    assert inference.ranks_with_intervals(rates, replicates, confidence=0.5)[0] == Rank(1, 1, 1)
    assert inference.ranks_with_intervals(rates, replicates, confidence=0.7)[0] == Rank(1, 1, 2)


def test_a_mean_with_an_interval_reports_its_ratings_and_evaluators():
    counts = np.array([[2.0], [2.0], [2.0], [2.0], [2.0]])
    totals = np.array([[2.0], [4.0], [6.0], [8.0], [10.0]])
    (mean,) = inference.clustered_means(counts, totals, inference.bootstrap_weights(5, replicates=200, seed=3))
    assert (mean.ratings, mean.evaluators, mean.estimate) == (10, 5, 3.0) and mean.low < 3.0 < mean.high


def test_holm_never_adjusts_a_p_value_above_one():
    assert inference.holm([0.6, 0.7]) == [1.0, 1.0]


def test_two_resampled_rates_give_their_sample_variance_and_one_evaluators_draw_counts():
    n = np.array([[1.0], [1.0]])
    h = np.array([[1.0], [0.0]])
    # Replicate 1 draws the first evaluator once (a denominator of exactly 1), replicate 2 both once.
    weights = np.array([[1.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    (rate,), replicates = inference.clustered_rates(n, h, weights)
    assert replicates[:, 0].tolist() == [1.0, 0.5]
    assert rate.variance == pytest.approx(np.var([1.0, 0.5], ddof=1))
