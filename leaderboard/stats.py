"""Basic interval formulas behind the leaderboard, with no Django import.

Everything takes plain numbers so it is unit-tested without a database and cross-checked against statsmodels. The
evaluator-aware inference built on them is in leaderboard.inference; agreement on multi-judge units in
leaderboard.agreement; rater quality in leaderboard.rater_quality.
"""

from dataclasses import dataclass
from math import sqrt
from statistics import NormalDist

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: float, n: float, *, confidence: float = CONFIDENCE) -> Interval | None:
    """Wilson score interval for a proportion; stays inside [0, 1] and behaves at 0 % and 100 %.

    `n` may be an effective sample size (a float) when judgments are weighted. None without data.
    """
    if n <= 0:
        return None
    p = successes / n
    z = _z(confidence)
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half_width = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return Interval(estimate=p, low=max(0.0, centre - half_width), high=min(1.0, centre + half_width))
