"""Evaluator-aware inference, cross-checked against statsmodels and scipy on fixed cases, edge cases included."""

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import ztost

from leaderboard import inference
from leaderboard.inference import Verdict


def tallies(per_evaluator: list[list[tuple[int, int]]]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of (judgments, human verdicts) per partner column."""
    return (
        np.array([[n for n, _h in row] for row in per_evaluator], dtype=float),
        np.array([[h for _n, h in row] for row in per_evaluator], dtype=float),
    )


def rates_of(per_evaluator, replicates=2000, seed=1):
    n, h = tallies(per_evaluator)
    return inference.clustered_rates(n, h, inference.bootstrap_weights(n.shape[0], replicates=replicates, seed=seed))


def test_bootstrap_weights_draw_each_replicate_as_many_evaluators_as_there_are():
    weights = inference.bootstrap_weights(7, replicates=50, seed=3)
    assert weights.shape == (50, 7)
    assert (weights.sum(axis=1) == 7).all()
    assert (inference.bootstrap_weights(7, replicates=50, seed=3) == weights).all()


def test_one_judgment_per_evaluator_gives_wilsons_interval():
    # Independent judgments: the design effect is about 1 and the interval is Wilson's (statsmodels) within noise.
    rows = [[(1, 1)]] * 30 + [[(1, 0)]] * 70
    (rate,), _ = rates_of(rows, replicates=4000)
    low, high = proportion_confint(30, 100, alpha=0.05, method="wilson")
    assert (rate.judgments, rate.evaluators, rate.judged_human, rate.estimate) == (100, 100, 30, 0.3)
    assert rate.low == pytest.approx(low, abs=0.006)
    assert rate.high == pytest.approx(high, abs=0.006)
    assert rate.low <= low + 1e-12 and rate.high >= high - 1e-12  # deff is never below 1


def test_clustered_interval_is_wider_when_evaluators_disagree_systematically():
    # 10 evaluators say "human" to everything, 10 to nothing: 20 clusters, not 200 independent judgments.
    rows = [[(10, 10)]] * 10 + [[(10, 0)]] * 10
    (rate,), _ = rates_of(rows)
    low, high = proportion_confint(100, 200, alpha=0.05, method="wilson")
    assert rate.design_effect == pytest.approx(10, rel=0.2)
    assert rate.high - rate.low > 2.5 * (high - low)
    # The bootstrap variance is the cluster-robust (linearised) variance of a ratio, (E-1)/E of it.
    n = np.full(20, 10.0)
    h = np.array([10.0] * 10 + [0.0] * 10)
    linearised = ((h - 0.5 * n) ** 2).sum() / n.sum() ** 2
    assert rate.variance == pytest.approx(linearised, rel=0.1)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([[(0, 0)]], (0, 0, None)),  # no judgments: no rate
        ([[(1, 1)]], (1, 1, 1.0)),  # one judgment
        ([[(2, 1)]], (2, 1, 0.5)),  # two judgments by one evaluator
        ([[(1, 1)], [(1, 0)]], (2, 2, 0.5)),  # two judgments by two evaluators
    ],
)
def test_rates_with_zero_one_and_two_judgments(rows, expected):
    (rate,), _ = rates_of(rows)
    assert (rate.judgments, rate.evaluators, rate.estimate) == expected
    if rate.estimate is None:
        assert rate.low is None and rate.high is None
    else:
        low, high = proportion_confint(rate.judged_human, rate.judgments, alpha=0.05, method="wilson")
        assert rate.low <= low + 1e-12 and rate.high >= high - 1e-12
        assert 0 <= rate.low <= rate.estimate <= rate.high <= 1


@pytest.mark.parametrize("human", [0, 1])
def test_all_human_or_all_bot_verdicts_give_wilsons_interval_at_the_boundary(human):
    rows = [[(3, 3 * human)]] * 10
    (rate,), _ = rates_of(rows)
    low, high = proportion_confint(30 * human, 30, alpha=0.05, method="wilson")
    assert rate.estimate == human
    assert (rate.low, rate.high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))


def test_holm_matches_statsmodels_and_keeps_untested_entries_empty():
    p_values = [0.01, 0.04, None, 0.03, 0.005, 0.5]
    tested = [p for p in p_values if p is not None]
    expected = iter(multipletests(tested, method="holm")[1])
    assert inference.holm(p_values) == [None if p is None else pytest.approx(next(expected)) for p in p_values]
    assert inference.holm([]) == []


def test_one_sided_test_and_tost_match_statsmodels_ztost_and_scipy():
    sample = np.array([0.1, -0.05, 0.02, 0.07, -0.12, 0.04, 0.0, 0.03, -0.02, 0.06])
    mean = sample.mean()
    standard_error = sample.std(ddof=1) / np.sqrt(sample.size)
    p_tost, _lower, _upper = ztost(sample, -0.1, 0.1)
    assert inference.tost_p(mean, standard_error, 0.1) == pytest.approx(p_tost)
    assert inference.one_sided_less_p(mean, standard_error) == pytest.approx(
        scipy_stats.norm.cdf(mean / standard_error)
    )


def test_tost_and_one_sided_test_without_spread():
    assert inference.tost_p(0.02, 0.0, 0.1) == 0.0
    assert inference.tost_p(0.2, 0.0, 0.1) == 1.0
    assert inference.one_sided_less_p(-0.1, 0.0) == 0.0


def competition(bot_rows, baseline_rows, **options):
    """bot_rows / baseline_rows: per evaluator, a list of (n, human) per bot, and (n, human) of control judgments."""
    rows = [[*bots, base] for bots, base in zip(bot_rows, baseline_rows, strict=True)]
    n, h = tallies(rows)
    weights = inference.bootstrap_weights(n.shape[0], replicates=2000, seed=5)
    rates, values = inference.clustered_rates(n, h, weights)
    comparisons = inference.compare_to_baseline(rates[:-1], values[:, :-1], rates[-1], values[:, -1], **options)
    return rates, comparisons


def test_a_bot_far_below_humans_is_distinguishable_and_one_as_human_is_indistinguishable():
    evaluators = 60
    bot_rows = [[(5, 1 if e % 5 else 0), (5, 3 + (e % 3 == 0) - (e % 3 == 1))] for e in range(evaluators)]
    baseline_rows = [(5, 3 + (e % 2 == 0) - (e % 2 == 1)) for e in range(evaluators)]
    rates, (far, equal) = competition(bot_rows, baseline_rows)
    assert far.verdict == Verdict.DISTINGUISHABLE
    assert far.difference == pytest.approx(rates[0].estimate - rates[2].estimate)
    assert far.low < far.difference < far.high < 0
    assert equal.verdict == Verdict.INDISTINGUISHABLE
    assert -0.1 < equal.low < equal.difference < equal.high < 0.1
    assert far.p_less_holm == pytest.approx(
        min(1, 2 * min(far.p_less, equal.p_less)) if far.p_less < equal.p_less else far.p_less
    )


def test_few_judgments_give_no_verdict_and_say_how_many_more_are_needed():
    # A bot at 40% against a baseline at 58% with 12 judgments: neither test can decide (issue 12's example).
    bot_rows = [[(1, 1 if e < 5 else 0)] for e in range(12)] + [[(0, 0)]] * 38
    baseline_rows = [(0, 0)] * 12 + [(1, 1 if e < 22 else 0) for e in range(38)]
    rates, (comparison,) = competition(bot_rows, baseline_rows, min_judgments=10)
    assert rates[0].judgments == 12
    assert comparison.verdict == Verdict.NOT_ENOUGH_DATA
    assert comparison.p_equivalent > 0.05 and comparison.p_less > 0.05
    assert comparison.more_judgments > 12


def test_below_the_minimum_judgments_a_bot_is_not_tested():
    bot_rows = [[(1, 0)]] * 10 + [[(0, 0)]] * 10
    baseline_rows = [(0, 0)] * 10 + [(3, 3)] * 10
    _rates, (comparison,) = competition(bot_rows, baseline_rows, min_judgments=30)
    assert comparison.verdict == Verdict.NOT_ENOUGH_DATA
    assert comparison.p_less is None and comparison.p_less_holm is None
    assert comparison.more_judgments >= 20
    assert comparison.difference == pytest.approx(-1.0)


def test_without_control_chats_there_is_no_comparison():
    rates, (comparison,) = competition([[(3, 1)]] * 40, [(0, 0)] * 40, min_judgments=30)
    assert rates[-1].estimate is None
    assert comparison.difference is None and comparison.verdict == Verdict.NOT_ENOUGH_DATA


def test_more_judgments_needed_follows_the_normal_power_formula():
    # Equivalence gap 0.1 − 0.02 = 0.08 at one test: n·(SE·(z_0.95 + z_0.8)/gap)² − n.
    z = scipy_stats.norm.ppf(0.95) + scipy_stats.norm.ppf(0.8)
    needed = inference.more_judgments_needed(judgments=100, difference=0.02, standard_error=0.08, margin=0.1, tests=1)
    assert needed == int(np.ceil(100 * (0.08 * z / 0.08) ** 2 - 100))
    assert (
        inference.more_judgments_needed(judgments=100, difference=0.3, standard_error=0.05, margin=0.1, tests=1) is None
    )


def test_arena_ranks_count_the_bots_surely_better():
    assert inference.arena_ranks([0.6, 0.5, 0.1, 0.3], [0.8, 0.7, 0.2, 0.55]) == [1, 1, 4, 2]


def test_rank_intervals_cover_the_ranks_of_clearly_separated_and_tied_bots():
    rows = [[(4, 4), (4, 0), (4, 2 if e % 2 else 3), (4, 3 if e % 2 else 2)] for e in range(40)]
    n, h = tallies(rows)
    rates, values = inference.clustered_rates(n, h, inference.bootstrap_weights(40, replicates=1000, seed=2))
    ranks = inference.ranks_with_intervals(rates, values)
    assert [(r.rank, r.low, r.high) for r in ranks[:2]] == [(1, 1, 1), (4, 4, 4)]
    assert ranks[2].rank == ranks[3].rank == 2
    assert (ranks[2].low, ranks[2].high) == (2, 3) == (ranks[3].low, ranks[3].high)


def test_rating_means_stay_inside_the_scale_and_have_no_interval_below_two_ratings():
    counts = np.array([[1, 1, 2, 3], [0, 1, 0, 3], [0, 0, 0, 3]], dtype=float)
    totals = np.array([[3, 1, 8, 15], [0, 1, 0, 3], [0, 0, 0, 15]], dtype=float)
    weights = inference.bootstrap_weights(3, replicates=1000, seed=4)
    one, two_evaluators, one_evaluator, spread = inference.clustered_means(counts, totals, weights)
    assert (one.ratings, one.estimate, one.low, one.high) == (1, 3.0, None, None)
    assert (two_evaluators.estimate, two_evaluators.low, two_evaluators.high) == (1.0, 1.0, 1.0)
    assert (one_evaluator.ratings, one_evaluator.estimate, one_evaluator.low) == (2, 4.0, None)
    assert spread.estimate == pytest.approx(33 / 9)
    assert 1 <= spread.low < spread.estimate < spread.high <= 5
