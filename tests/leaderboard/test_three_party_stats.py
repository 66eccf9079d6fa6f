"""Three-party statistics against references on fixed data, and a simulation with known truth."""

import numpy as np
import pytest
from scipy.stats import binomtest

from leaderboard.three_party_stats import binomial_test_half, cluster_bootstrap_interval, per_interrogator, win_rate


@pytest.mark.parametrize(("wins", "games"), [(0, 1), (3, 10), (5, 10), (7, 10), (23, 100), (73, 100), (40, 41)])
def test_binomial_test_matches_scipy(wins, games):
    assert binomial_test_half(wins, games) == pytest.approx(binomtest(wins, games, 0.5).pvalue, rel=1e-9)


def test_per_interrogator_sums_games_and_wins():
    wins, games = per_interrogator([("a", True), ("b", False), ("a", False), ("a", True)])
    assert wins.tolist() == [2, 0] and games.tolist() == [3, 1]


def test_one_game_per_interrogator_gives_the_ordinary_bootstrap_close_to_wald():
    # 60 wins in 100 games, each by a different interrogator: the cluster bootstrap is the plain bootstrap,
    # whose 95% interval is the Wald interval 0.6 ± 1.96 * sqrt(0.6 * 0.4 / 100) = (0.504, 0.696) within noise.
    outcomes = [(i, i < 60) for i in range(100)]
    score = win_rate(outcomes, margin=0.1, rounds=4000)
    assert score.rate == 0.6 and score.games == 100 and score.interrogators == 100
    assert score.low == pytest.approx(0.504, abs=0.015)
    assert score.high == pytest.approx(0.696, abs=0.015)


def test_clustered_interrogators_widen_the_interval():
    # The same 50 wins in 100 games, but each of 10 interrogators either always or never picks the bot.
    independent = win_rate([(i, i % 2 == 0) for i in range(100)], margin=0.1)
    clustered = win_rate([(i // 10, (i // 10) % 2 == 0) for i in range(100)], margin=0.1)
    assert independent.rate == clustered.rate == 0.5
    assert clustered.high - clustered.low > 2 * (independent.high - independent.low)


def test_verdicts_on_fixed_data():
    many = 2000
    assert win_rate([(i, i % 2 == 0) for i in range(many)], margin=0.05).verdict == "indistinguishable"
    assert win_rate([(i, i % 4 != 0) for i in range(400)], margin=0.05).verdict == "above_chance"
    assert win_rate([(i, i % 5 == 0) for i in range(400)], margin=0.05).verdict == "below_chance"
    assert win_rate([(i, i % 2 == 0) for i in range(20)], margin=0.05).verdict == "inconclusive"
    assert win_rate([], margin=0.1) is None


def test_cluster_bootstrap_covers_the_true_rate_when_interrogators_differ():
    """Known truth: interrogators' own rates vary around 0.4; the 95% interval covers 0.4 about 95% of the time."""
    rng = np.random.default_rng(11)
    truth, covered, runs = 0.4, 0, 300
    for run in range(runs):
        own = rng.beta(4, 6, size=40)  # mean 4 / (4 + 6) = 0.4, with a wide spread between interrogators
        games = rng.integers(1, 8, size=40).astype(float)
        wins = rng.binomial(games.astype(int), own).astype(float)
        low, high = cluster_bootstrap_interval(wins, games, rounds=600, seed=run)
        covered += low <= truth <= high
    assert 0.88 <= covered / runs <= 0.99
