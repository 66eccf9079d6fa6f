"""Three-party scores, as pure functions: a bot's win rate (picked as the human), an interval that resamples
interrogators, a test against 50% and an equivalence statement with the organizer's margin.

Games by one interrogator are not independent (some interrogators are easy to fool), so the interval is a cluster
bootstrap: whole interrogators are drawn with replacement and the pooled win rate is recomputed. The test against
50% is the exact two-sided binomial test over games, reported beside the interval; with few games per interrogator
the two agree, with many the interval is the honest one. Equivalence is the two one-sided tests (TOST) at level
alpha, read off the (1 - 2 alpha) bootstrap interval: equivalent when it lies inside 50% ± margin.
"""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from math import comb

import numpy as np

CONFIDENCE = 0.95
EQUIVALENCE_ALPHA = 0.05
BOOTSTRAP_ROUNDS = 2000


@dataclass(frozen=True)
class WinRate:
    games: int
    wins: int
    interrogators: int
    rate: float
    low: float
    high: float
    p_value: float
    equivalence_low: float
    equivalence_high: float
    margin: float
    verdict: str  # "indistinguishable", "above_chance", "below_chance" or "inconclusive"


def per_interrogator(outcomes: Iterable[tuple[Hashable, bool]]) -> tuple[np.ndarray, np.ndarray]:
    """(wins, games) per interrogator from (interrogator, bot picked as human) pairs."""
    wins: dict[Hashable, int] = {}
    games: dict[Hashable, int] = {}
    for interrogator, won in outcomes:
        games[interrogator] = games.get(interrogator, 0) + 1
        wins[interrogator] = wins.get(interrogator, 0) + int(bool(won))
    keys = list(games)
    return np.array([wins[k] for k in keys], dtype=float), np.array([games[k] for k in keys], dtype=float)


def cluster_bootstrap_interval(
    wins: np.ndarray,
    games: np.ndarray,
    *,
    confidence: float = CONFIDENCE,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of the pooled win rate when interrogators (clusters) are resampled with replacement."""
    clusters = len(games)
    if clusters == 0:
        return (0.0, 1.0)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, clusters, size=(rounds, clusters))
    rates = wins[draws].sum(axis=1) / games[draws].sum(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(rates, [tail, 1 - tail])
    return float(low), float(high)


def binomial_test_half(wins: int, games: int) -> float:
    """Exact two-sided binomial test of a win rate of 50% (the symmetric case of scipy.stats.binomtest)."""
    if games == 0:
        return 1.0
    tail = min(wins, games - wins)
    if 2 * tail == games:
        return 1.0
    probability = sum(comb(games, k) for k in range(tail + 1)) / 2**games
    return min(1.0, 2 * probability)


def win_rate(
    outcomes: Iterable[tuple[Hashable, bool]],
    *,
    margin: float,
    confidence: float = CONFIDENCE,
    alpha: float = EQUIVALENCE_ALPHA,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
) -> WinRate | None:
    """A bot's three-party score; None without games."""
    wins, games = per_interrogator(outcomes)
    total = int(games.sum())
    if total == 0:
        return None
    won = int(wins.sum())
    low, high = cluster_bootstrap_interval(wins, games, confidence=confidence, rounds=rounds, seed=seed)
    eq_low, eq_high = cluster_bootstrap_interval(wins, games, confidence=1 - 2 * alpha, rounds=rounds, seed=seed)
    if 0.5 - margin < eq_low and eq_high < 0.5 + margin:
        verdict = "indistinguishable"
    elif low > 0.5:
        verdict = "above_chance"
    elif high < 0.5:
        verdict = "below_chance"
    else:
        verdict = "inconclusive"
    return WinRate(
        games=total,
        wins=won,
        interrogators=len(games),
        rate=won / total,
        low=low,
        high=high,
        p_value=binomial_test_half(won, total),
        equivalence_low=eq_low,
        equivalence_high=eq_high,
        margin=margin,
        verdict=verdict,
    )
