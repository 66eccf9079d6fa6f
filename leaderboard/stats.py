"""The statistics behind the leaderboard, with no Django import.

The database hands over sufficient statistics (counts, sums, sums of squares); these functions turn them into
estimates with their uncertainty. Everything takes plain numbers so it is unit-tested without a database and
cross-checked against statsmodels, scipy and the `krippendorff` package.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import sqrt
from statistics import NormalDist

from scipy.special import stdtrit

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class UnitSums:
    """The values one unit (e.g. one bot) received from its coders: how many, their sum, their sum of squares."""

    count: int
    total: float
    total_sq: float


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


def weighted_proportion_interval(
    weighted_successes: float, sum_weights: float, sum_weights_sq: float, *, confidence: float = CONFIDENCE
) -> tuple[Interval | None, float]:
    """Wilson interval for a weighted proportion, using Kish's effective sample size (Σw)² / Σw².

    Returns the interval and the effective n. With all weights equal this is exactly `wilson_interval`.
    """
    if sum_weights <= 0 or sum_weights_sq <= 0:
        return None, 0.0
    effective_n = sum_weights * sum_weights / sum_weights_sq
    p = weighted_successes / sum_weights
    return wilson_interval(p * effective_n, effective_n, confidence=confidence), effective_n


def mean_t_interval(n: int, total: float, total_sq: float, *, confidence: float = CONFIDENCE) -> Interval | None:
    """Mean with a Student-t interval from n, Σx and Σx². One value gives a mean but no width (low = high = mean)."""
    if n <= 0:
        return None
    mean = total / n
    if n == 1:
        return Interval(estimate=mean, low=mean, high=mean)
    variance = max(0.0, (total_sq - n * mean * mean) / (n - 1))
    # stdtrit is the quantile of Student's t as a bare ufunc: scipy.stats.t.ppf gives the same value at 100× the cost.
    half_width = float(stdtrit(n - 1, 0.5 + confidence / 2)) * sqrt(variance / n)
    return Interval(estimate=mean, low=mean - half_width, high=mean + half_width)


def krippendorff_alpha_interval_from_sums(units: Iterable[UnitSums]) -> float | None:
    """Krippendorff's alpha with the interval metric, from per-unit sums.

    With δ²(a, b) = (a − b)², the sum of squared differences over the ordered pairs of m values is
    2(mΣx² − (Σx)²), so observed and expected disagreement need only each unit's (m, Σx, Σx²):
    D_o = 1/n Σ_u 2(m_uΣx²_u − (Σx_u)²)/(m_u − 1) and D_e = 2(nΣx² − (Σx)²)/(n(n − 1)) over the n pairable
    values (units with at least two values). alpha = 1 − D_o/D_e. None when undefined (fewer than two pairable
    values, or no variation at all).
    """
    n = 0
    total = 0.0
    total_sq = 0.0
    observed = 0.0
    for unit in units:
        if unit.count < 2:
            continue
        n += unit.count
        total += unit.total
        total_sq += unit.total_sq
        observed += 2 * (unit.count * unit.total_sq - unit.total * unit.total) / (unit.count - 1)
    if n < 2:
        return None
    expected = 2 * (n * total_sq - total * total) / (n * (n - 1))
    if expected <= 1e-12:
        return None
    return 1 - (observed / n) / expected


def krippendorff_alpha_interval(reliability_data: Sequence[Sequence[float | None]]) -> float | None:
    """Krippendorff's alpha (interval metric) from a coders × units table; None marks a missing value."""
    unit_count = max((len(row) for row in reliability_data), default=0)
    units = []
    for unit_index in range(unit_count):
        values = [row[unit_index] for row in reliability_data if unit_index < len(row) and row[unit_index] is not None]
        units.append(UnitSums(count=len(values), total=sum(values), total_sq=sum(v * v for v in values)))
    return krippendorff_alpha_interval_from_sums(units)


def honest_ranks(intervals: Sequence[Interval | None]) -> list[int | None]:
    """Rank = 1 + the number of others whose interval lies entirely above this one; ties share a rank.

    A bot without data (None) has no rank: an interval of [0, 1] would otherwise put it first.
    """
    ranks: list[int | None] = []
    for own in intervals:
        if own is None:
            ranks.append(None)
            continue
        above = sum(1 for other in intervals if other is not None and other.low > own.high)
        ranks.append(1 + above)
    return ranks


def leaderboard_sort_key(interval: Interval | None, name: str) -> tuple:
    """Order by the lower bound, then the rate (both descending); bots without data last."""
    if interval is None:
        return (1, 0.0, 0.0, name)
    return (0, -interval.low, -interval.estimate, name)
