"""review.stats against references: choix and a direct scipy MLE for Bradley–Terry, the krippendorff package for
alpha (review's units through leaderboard.agreement), exact per-replicate fits for the vectorised bootstrap, and
simulations with known truth."""

import choix
import krippendorff
import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import kendalltau

from leaderboard import agreement
from review import stats


def _simulated_counts(strengths, votes_per_pair, seed=0):
    rng = np.random.default_rng(seed)
    items = len(strengths)
    first, second = np.triu_indices(items, k=1)
    p = 1 / (1 + np.exp(-(strengths[first] - strengths[second])))
    first_wins = rng.binomial(votes_per_pair, p)
    wins = np.zeros((items, items))
    wins[first, second] = first_wins
    wins[second, first] = votes_per_pair - first_wins
    return wins


def _direct_mle(wins, ridge):
    """The penalised log-likelihood maximised by a general-purpose optimiser, as written on paper."""
    items = wins.shape[0]

    def negative(theta):
        difference = theta[:, None] - theta[None, :]
        return -(wins * -np.logaddexp(0, -difference)).sum() + ridge / 2 * (theta**2).sum()

    return minimize(negative, np.zeros(items), method="BFGS", options={"gtol": 1e-10}).x


FIXED_WINS = np.array(
    [
        [0, 7, 9, 3],
        [4, 0, 6, 2],
        [1, 5, 0, 1],
        [6, 8, 9, 0],
    ],
    dtype=float,
)


def test_bradley_terry_matches_a_direct_mle_on_fixed_data():
    counts = stats.pair_counts_from_matrix(FIXED_WINS)
    theta = stats.bradley_terry(counts, ridge=0.01)
    np.testing.assert_allclose(theta, _direct_mle(FIXED_WINS, 0.01), atol=1e-5)
    assert theta.sum() == pytest.approx(0, abs=1e-9)


def test_bradley_terry_matches_choix_without_ridge():
    counts = stats.pair_counts_from_matrix(FIXED_WINS)
    theta = stats.bradley_terry(counts, ridge=0.0)
    reference = choix.ilsr_pairwise_dense(FIXED_WINS, alpha=0.0, tol=1e-12, max_iter=10_000)
    np.testing.assert_allclose(theta, reference - reference.mean(), atol=1e-6)


def test_bradley_terry_matches_choix_on_votes_listed_one_by_one():
    winners, losers = [], []
    for i in range(4):
        for j in range(4):
            winners += [i] * int(FIXED_WINS[i, j])
            losers += [j] * int(FIXED_WINS[i, j])
    counts = stats.pair_counts(4, winners, losers)
    # choix's opt_pairwise penalises alpha·Σθ², ours ridge/2·Σθ².
    reference = choix.opt_pairwise(4, list(zip(winners, losers, strict=True)), alpha=0.005, tol=1e-10)
    np.testing.assert_allclose(stats.bradley_terry(counts, ridge=0.01), reference, atol=1e-5)


def test_an_undefeated_witness_gets_a_finite_strength():
    wins = np.array([[0, 10], [0, 0]], dtype=float)
    theta = stats.bradley_terry(stats.pair_counts_from_matrix(wins))
    assert np.isfinite(theta).all()
    assert theta[0] > theta[1] + 3


def test_each_bootstrap_replicate_is_the_exact_fit_of_its_resample():
    wins = _simulated_counts(np.linspace(-1, 1, 6), 40)
    counts = stats.pair_counts_from_matrix(wins)
    boot = stats.bootstrap_strengths(counts, replicates=20, seed=3)
    for start, rng, size in stats.resamples(counts, replicates=20, seed=3):
        first, second = stats.resample_counts(counts, rng, size)
        for row in range(size):
            resampled = stats.PairCounts(counts.items, counts.first, counts.second, first[row], second[row])
            np.testing.assert_allclose(boot[start + row], stats.bradley_terry(resampled), atol=1e-5)


def test_the_bootstrap_does_not_depend_on_how_replicates_are_split_into_blocks(monkeypatch):
    counts = stats.pair_counts_from_matrix(_simulated_counts(np.linspace(-1, 1, 6), 40))
    whole = stats.bootstrap_strengths(counts, replicates=30, seed=1)
    np.testing.assert_array_equal(whole, stats.bootstrap_strengths(counts, replicates=30, seed=1))
    assert len(stats.resamples(counts, replicates=30, seed=1)) == 1
    monkeypatch.setattr(stats, "_CHUNK_CELLS", len(counts.first) * 4)
    assert len(stats.resamples(counts, replicates=30, seed=1)) == 8
    blocks = stats.bootstrap_strengths(counts, replicates=30, seed=1)
    assert np.isfinite(blocks).all()
    assert np.std(blocks, axis=0) == pytest.approx(np.std(whole, axis=0), rel=0.5)


def test_bootstrap_intervals_cover_the_truth_about_as_often_as_they_claim():
    truth = np.linspace(-1.5, 1.5, 5)
    truth -= truth[0]
    covered = 0
    trials = 60
    for seed in range(trials):
        counts = stats.pair_counts_from_matrix(_simulated_counts(truth, 30, seed=seed))
        table = stats.strength_table(counts, anchor=0, replicates=300, seed=seed)
        covered += int(table.low[3] <= truth[3] <= table.high[3])
    assert covered / trials > 0.85


def test_strength_table_anchors_the_human_at_zero_and_does_not_rank_it():
    counts = stats.pair_counts_from_matrix(FIXED_WINS)
    table = stats.strength_table(counts, anchor=3, replicates=200)
    assert table.strength[3] == 0
    assert table.ranks[3] is None
    assert table.ranks[0] == 1
    assert all(rank is not None for index, rank in enumerate(table.ranks) if index != 3)


def test_ranks_follow_the_leaderboard_rule_on_well_separated_witnesses():
    counts = stats.pair_counts_from_matrix(_simulated_counts(np.array([2.0, 0.0, -2.0]), 400))
    table = stats.strength_table(counts, replicates=300)
    assert table.ranks == [1, 2, 3]


def test_unranked_baselines_neither_get_a_rank_nor_push_others_down():
    counts = stats.pair_counts_from_matrix(_simulated_counts(np.array([3.0, 0.0, -3.0]), 400))
    table = stats.strength_table(counts, unranked=frozenset({0}), replicates=200)
    assert table.ranks == [None, 1, 2]


def test_ranking_recovers_the_true_order_from_simulated_votes():
    truth = np.linspace(-2, 2, 10)
    counts = stats.pair_counts_from_matrix(_simulated_counts(truth, 100, seed=7))
    tau = kendalltau(stats.bradley_terry(counts), truth).statistic
    assert tau >= 0.9


def test_win_rate_matrix_has_none_where_never_compared():
    wins = np.array([[0, 3, 0], [1, 0, 0], [0, 0, 0]], dtype=float)
    rates = stats.win_rate_matrix(stats.pair_counts_from_matrix(wins))
    assert rates[0][1] == 0.75
    assert rates[1][0] == 0.25
    assert rates[0][2] is None


def review_alpha(unit_values):
    """Transcript review's agreement: the leaderboard's alpha, given units as the lists of their values."""
    return agreement.alpha(agreement.table_from_units(unit_values), "nominal")


def review_alpha_interval(unit_values):
    return agreement.alpha_with_interval(agreement.table_from_units(unit_values), "nominal")


def test_nominal_alpha_matches_the_krippendorff_package():
    rng = np.random.default_rng(5)
    coders, units = 5, 40
    truth = rng.integers(0, 2, units)
    data = np.where(rng.random((coders, units)) < 0.8, truth, 1 - truth).astype(float)
    data[rng.random((coders, units)) < 0.3] = np.nan
    reference = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    unit_values = [[int(v) for v in data[:, u] if not np.isnan(v)] for u in range(units)]
    assert review_alpha(unit_values) == pytest.approx(reference, abs=1e-12)


def test_nominal_alpha_with_three_categories_matches_the_package():
    data = np.array(
        [[1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5], [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5]]
    )
    reference = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    unit_values = [[v for v in data[:, u] if not np.isnan(v)] for u in range(data.shape[1])]
    assert review_alpha(unit_values) == pytest.approx(reference, abs=1e-12)


def test_alpha_interval_contains_the_estimate_and_narrows_with_more_units():
    rng = np.random.default_rng(2)

    def units(count):
        truth = rng.integers(0, 2, count)
        return [["h" if (t if rng.random() < 0.85 else 1 - t) else "b" for _ in range(3)] for t in truth]

    small = review_alpha_interval(units(30))
    large = review_alpha_interval(units(600))
    assert small.low <= small.alpha <= small.high
    assert large.high - large.low < (small.high - small.low) / 2


def test_alpha_is_none_without_pairable_values_or_variation():
    assert review_alpha([["bot"], ["human"]]) is None
    assert review_alpha([["bot", "bot"], ["bot", "bot"]]) is None


def test_strike_rule_stops_only_past_the_limit():
    assert not stats.reviewer_stopped(strikes=2, limit=2)
    assert stats.reviewer_stopped(strikes=3, limit=2)
    assert stats.chance_random_reviewer_escapes(gold_answered=10, limit=2) == pytest.approx(56 / 1024)
