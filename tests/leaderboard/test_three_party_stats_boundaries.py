"""Three-party scores at their edges: no games, a verdict exactly at each limit, and every option passed on."""

import numpy as np
import pytest
from scipy.stats import binomtest

from leaderboard.three_party_stats import (
    WinRate,
    binomial_test_half,
    cluster_bootstrap_interval,
    per_interrogator,
    win_rate,
)


def one_interrogator(wins: int, games: int) -> list[tuple[str, bool]]:
    """Every resample of a single interrogator is that interrogator: the interval is the rate itself."""
    return [("only", index < wins) for index in range(games)]


def test_no_games_give_no_score_the_widest_interval_and_no_evidence():
    assert win_rate([], margin=0.1) is None
    assert cluster_bootstrap_interval(np.array([]), np.array([])) == (0.0, 1.0)
    assert binomial_test_half(0, 0) == 1.0


def test_a_fixed_score_reports_every_figure():
    assert win_rate(one_interrogator(3, 4), margin=0.2) == WinRate(
        games=4,
        wins=3,
        interrogators=1,
        rate=0.75,
        low=0.75,
        high=0.75,
        p_value=0.625,
        equivalence_low=0.75,
        equivalence_high=0.75,
        margin=0.2,
        verdict="above_chance",
    )


@pytest.mark.parametrize(
    ("wins", "games", "margin", "verdict"),
    [
        (1, 2, 0.0, "inconclusive"),  # exactly 50% with no margin: neither equivalent nor off chance
        (1, 2, 0.01, "indistinguishable"),
        (3, 4, 0.25, "above_chance"),  # the interval ends exactly on 50% + margin: not inside it
        (3, 4, 0.26, "indistinguishable"),
        (1, 4, 0.25, "below_chance"),  # ... and exactly on 50% - margin
        (1, 4, 0.26, "indistinguishable"),
    ],
)
def test_the_verdict_at_and_just_inside_each_limit(wins, games, margin, verdict):
    assert win_rate(one_interrogator(wins, games), margin=margin).verdict == verdict


def test_the_intervals_are_the_bootstrap_at_the_confidence_and_at_one_minus_twice_alpha():
    # 37 interrogators with 5 or 6 games each: resamples with another seed or count give other quantiles.
    outcomes = [(i % 37, (i * 7919) % 11 < 6) for i in range(200)]
    wins, games = per_interrogator(outcomes)
    for other in ({"seed": 0, "rounds": 300}, {"seed": 7, "rounds": 2000}):
        assert cluster_bootstrap_interval(wins, games, confidence=0.6, **other) != cluster_bootstrap_interval(
            wins, games, confidence=0.6, rounds=300, seed=7
        )
    score = win_rate(outcomes, margin=0.1, confidence=0.8, alpha=0.2, rounds=300, seed=7)
    assert (score.low, score.high) == cluster_bootstrap_interval(wins, games, confidence=0.8, rounds=300, seed=7)
    equivalence = cluster_bootstrap_interval(wins, games, confidence=0.6, rounds=300, seed=7)
    assert (score.equivalence_low, score.equivalence_high) == equivalence
    assert score.low < score.equivalence_low and score.equivalence_high < score.high


def test_the_bootstrap_is_reproducible_from_its_seed_and_the_default_seed_is_zero():
    wins, games = per_interrogator([(i // 2, i % 3 == 0) for i in range(40)])
    default = cluster_bootstrap_interval(wins, games, rounds=200)
    assert default == cluster_bootstrap_interval(wins, games, rounds=200, seed=0)
    assert default != cluster_bootstrap_interval(wins, games, rounds=200, seed=1)
    assert win_rate([(i // 2, i % 3 == 0) for i in range(40)], margin=0.1, rounds=200).low == default[0]


@pytest.mark.parametrize(("wins", "games"), [(2, 6), (10, 30), (1, 3), (3, 6)])
def test_the_binomial_test_where_the_smaller_tail_is_a_third_or_half_of_the_games(wins, games):
    assert binomial_test_half(wins, games) == pytest.approx(binomtest(wins, games, 0.5).pvalue, rel=1e-9)


@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_the_interval_is_the_central_percentile_interval_of_the_resampled_rates(confidence):
    wins, games = per_interrogator([(i % 37, (i * 7919) % 11 < 6) for i in range(200)])
    draws = np.random.default_rng(3).integers(0, 37, size=(500, 37))
    rates = wins[draws].sum(axis=1) / games[draws].sum(axis=1)
    tail = (1 - confidence) / 2
    expected = tuple(np.quantile(rates, [tail, 1 - tail]))
    assert cluster_bootstrap_interval(wins, games, confidence=confidence, rounds=500, seed=3) == expected
