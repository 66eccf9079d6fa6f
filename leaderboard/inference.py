"""Inference that respects who judged what, with no Django import (shared by every way of judging).

An evaluator judges many chats, and a lenient evaluator says "human" more often to every partner: judgments are
clustered by evaluator, not independent. Everything here therefore starts from per-evaluator tallies (judgments and
human verdicts of each evaluator for each partner) and resamples evaluators, not judgments (the cluster bootstrap;
Davison & Hinkley 1997, §3.8; Field & Welsh 2007). The replicates are one matrix product: bootstrap weights
(replicates × evaluators) times the tallies (evaluators × partners), so 1,000 replicates over 5,000 evaluators and
100 bots take a fraction of a second.

From the replicates:
- each rate's interval is Wilson's score interval at the effective sample size n / deff, where the design effect deff
  is the bootstrap variance over the binomial variance, never below 1 (Kish 1965; Korn & Graubard 1998). It stays
  inside [0, 1], is Wilson's own interval when judgments are independent, and behaves at 0 % and 100 %;
- each bot is compared with the human baseline on the same replicates (the same evaluators judge both, so their
  correlation is kept): the difference with its interval, a one-sided test that the bot is judged human less often,
  and Schuirmann's two one-sided tests (TOST) of equivalence within ±margin, Holm-corrected across bots;
- ranks follow Chatbot Arena (Chiang et al. 2024): 1 + the number of bots whose interval lies entirely above, with a
  bootstrap interval of each bot's rank;
- rating means get percentile intervals of the same replicates: inside the 1–5 scale by construction.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from math import ceil, sqrt
from statistics import NormalDist

import numpy as np

from .stats import CONFIDENCE, wilson_interval

REPLICATES = 1000
ALPHA = 0.05
POWER = 0.8
DEFAULT_MARGIN = 0.10
DEFAULT_MIN_JUDGMENTS = 30
MORE_JUDGMENTS_CAP = 10_000_000  # beyond this "about N more" says nothing more useful (and fits a database integer)
_NORMAL = NormalDist()


@lru_cache(maxsize=2)
def bootstrap_weights(evaluators: int, *, replicates: int = REPLICATES, seed: int = 0) -> np.ndarray:
    """Replicates × evaluators: how many times each evaluator is drawn when `evaluators` are drawn with replacement.

    A fixed seed makes a recompute of the same judgments give the same figures. The last ones are kept (read-only):
    drawing 5,000,000 is a tenth of a second, and the next recompute of a competition usually draws the same.
    """
    if evaluators == 0:
        return np.zeros((replicates, 0), dtype=np.float32)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, evaluators, size=(replicates, evaluators))
    draws += np.arange(replicates)[:, None] * evaluators
    counts = np.bincount(draws.ravel(), minlength=replicates * evaluators).reshape(replicates, evaluators)
    # float32: the products below are exact for counts under 2**24 and take half the time of float64.
    weights = counts.astype(np.float32)
    weights.flags.writeable = False
    return weights


@dataclass(frozen=True)
class Rate:
    """A judged-human rate: human verdicts / judgments, with the n behind it and a clustered 95% interval."""

    judgments: int
    evaluators: int
    judged_human: int
    estimate: float | None
    low: float | None
    high: float | None
    design_effect: float
    variance: float | None  # the bootstrap variance of the estimate (None without at least two evaluators)


def ratio_replicates(weights: np.ndarray, pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """For each (totals, counts) pair of evaluators × partners arrays: replicates × partners of Σ totals / Σ counts
    over the drawn evaluators, NaN where a replicate drew no count.

    One matrix product serves all pairs, and an array given more than once is multiplied once: when every judgment
    rates every criterion, each criterion's counts are the judgments themselves.
    """
    unique: list[np.ndarray] = []

    def position(array: np.ndarray) -> int:
        for index, known in enumerate(unique):
            if known.shape == array.shape and np.array_equal(known, array):
                return index
        unique.append(array)
        return len(unique) - 1

    positions = [(position(np.asarray(totals)), position(np.asarray(counts))) for totals, counts in pairs]
    if not unique:
        return []
    stacked = np.hstack([array.astype(weights.dtype, copy=False) for array in unique])
    products = np.split((weights @ stacked).astype(float), len(unique), axis=1)
    ratios = []
    for numerator_at, denominator_at in positions:
        numerator, denominator = products[numerator_at], products[denominator_at]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios.append(np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan))
    return ratios


def clustered_rates(
    judgments: np.ndarray,
    human: np.ndarray,
    weights: np.ndarray,
    *,
    confidence: float = CONFIDENCE,
    replicates: np.ndarray | None = None,
) -> tuple[list[Rate], np.ndarray]:
    """Rates of each partner (column) from evaluators × partners tallies, and their replicates × partners values.

    A partner with no judgments gets estimate None; with one evaluator the clustering cannot be estimated and the
    interval is Wilson's (deff 1).
    """
    judgments = np.asarray(judgments, dtype=float)
    human = np.asarray(human, dtype=float)
    if replicates is None:
        (replicates,) = ratio_replicates(weights, [(human, judgments)])
    variances = _column_variances(replicates)
    rates = []
    for column, (n, successes, evaluators) in enumerate(_column_totals(judgments, human)):
        if n == 0:
            rates.append(Rate(0, 0, 0, None, None, None, 1.0, None))
            continue
        p = successes / n
        variance = variances[column] if evaluators >= 2 else None
        binomial = p * (1 - p) / n
        deff = max(1.0, variance / binomial) if variance is not None and binomial > 0 else 1.0
        interval = wilson_interval(successes / deff, n / deff, confidence=confidence)
        rates.append(Rate(n, evaluators, successes, p, interval.low, interval.high, deff, variance))
    return rates, replicates


def _column_totals(counts: np.ndarray, totals: np.ndarray) -> list[tuple[int, float, int]]:
    """Per column of evaluators × columns tallies: the count, the total and the evaluators with a count (the sums
    taken once over the whole array: a column of a row-major array is slow to read on its own)."""
    return list(
        zip(
            counts.sum(axis=0).astype(int).tolist(),
            totals.sum(axis=0).tolist(),
            np.count_nonzero(counts, axis=0).tolist(),
            strict=True,
        )
    )


def _finite_columns(replicates: np.ndarray, reduce) -> list:
    """reduce(values) of each column's finite replicates: one call for the columns with no NaN, one per other."""
    finite = np.isfinite(replicates)
    complete = finite.all(axis=0)
    results: list = [None] * replicates.shape[1]
    if complete.any():
        for column, value in zip(np.flatnonzero(complete), reduce(replicates[:, complete]), strict=True):
            results[column] = value
    for column in np.flatnonzero(~complete):
        values = replicates[finite[:, column], column]
        results[column] = reduce(values[:, None])[0] if values.size else None
    return results


def _column_variances(replicates: np.ndarray) -> list[float | None]:
    """The variance of each column's finite replicates; None with fewer than two."""

    def variance(values: np.ndarray) -> list:
        return values.var(axis=0, ddof=1) if len(values) >= 2 else [None] * values.shape[1]

    return [None if value is None else float(value) for value in _finite_columns(replicates, variance)]


# Each bot against the human baseline.


class Verdict(StrEnum):
    DISTINGUISHABLE = "distinguishable"
    INDISTINGUISHABLE = "indistinguishable"
    NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True)
class Comparison:
    """A bot's judged-human rate minus the human baseline's, and what the tests say about it."""

    difference: float | None
    low: float | None
    high: float | None
    standard_error: float | None
    p_less: float | None  # one-sided: the bot is judged human less often than humans
    p_equivalent: float | None  # TOST: the difference lies within ±margin
    p_less_holm: float | None
    p_equivalent_holm: float | None
    verdict: Verdict
    more_judgments: int | None  # about how many more judgments of this bot a verdict needs (None: no estimate)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (Holm 1979); None entries are not tests and keep None."""
    indexed = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    count = len(indexed)
    for step, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (count - step) * p))
        adjusted[i] = running
    return adjusted


def one_sided_less_p(difference: float, standard_error: float) -> float:
    """p of H0: difference ≥ 0 against H1: difference < 0, by the normal approximation."""
    if standard_error <= 0:
        return 0.0 if difference < 0 else 1.0
    return _NORMAL.cdf(difference / standard_error)


def tost_p(difference: float, standard_error: float, margin: float) -> float:
    """Schuirmann's TOST: the larger of the two one-sided p-values against |difference| ≥ margin."""
    if standard_error <= 0:
        return 0.0 if -margin < difference < margin else 1.0
    p_above_lower = 1 - _NORMAL.cdf((difference + margin) / standard_error)
    p_below_upper = _NORMAL.cdf((difference - margin) / standard_error)
    return max(p_above_lower, p_below_upper)


def _difference_variance(bot: Rate, baseline: Rate, bot_replicates: np.ndarray, base_replicates: np.ndarray) -> float:
    """The bootstrap variance of the difference (the evaluators' correlation kept), never below the variance of two
    independent Agresti–Caffo proportions scaled by their design effects: at 0 % or 100 % the bootstrap sees no
    spread at all, and with one evaluator it cannot see the clustering."""
    floor = 0.0
    for rate in (bot, baseline):
        adjusted = (rate.judged_human + 1) / (rate.judgments + 2)
        floor += rate.design_effect * adjusted * (1 - adjusted) / (rate.judgments + 2)
    both = np.isfinite(bot_replicates) & np.isfinite(base_replicates)
    if bot.evaluators < 2 or baseline.evaluators < 2 or both.sum() < 2:
        return floor
    bootstrap = float(np.var(bot_replicates[both] - base_replicates[both], ddof=1))
    if bot.estimate in (0.0, 1.0) or baseline.estimate in (0.0, 1.0):
        return max(bootstrap, floor)
    return bootstrap


def more_judgments_needed(
    *, judgments: int, difference: float, standard_error: float, margin: float, tests: int, alpha: float = ALPHA
) -> int | None:
    """About how many more judgments of the bot either test needs to reach its verdict with 80% power.

    Assumes the difference stays where it is and every standard error shrinks as 1/√n as judgments of the bot and of
    the control chats grow together (their share is fixed by the competition). The level is Bonferroni's α/tests,
    which Holm never asks more than. None when neither test can get there (the bot is judged human more often than
    humans by more than the margin, or exactly as often with no margin).
    """
    z = _NORMAL.inv_cdf(1 - alpha / max(1, tests)) + _NORMAL.inv_cdf(POWER)
    gaps = [gap for gap in (-difference, margin - abs(difference)) if gap > 0]
    if not gaps or judgments == 0:
        return None
    scale = (standard_error * z / max(gaps)) ** 2
    return min(MORE_JUDGMENTS_CAP, max(0, ceil(judgments * (scale - 1))))


def compare_to_baseline(
    bots: Sequence[Rate],
    bot_replicates: np.ndarray,
    baseline: Rate,
    baseline_replicates: np.ndarray,
    *,
    margin: float = DEFAULT_MARGIN,
    min_judgments: int = DEFAULT_MIN_JUDGMENTS,
    alpha: float = ALPHA,
    confidence: float = CONFIDENCE,
) -> list[Comparison]:
    """Each bot (column of bot_replicates) against the baseline, Holm-corrected across the bots that are tested.

    A bot is tested once it has `min_judgments`; before that, and while no control chat is judged, it has no verdict.
    The verdict: *indistinguishable within ±margin* when the Holm-adjusted TOST rejects, else *distinguishable* when the
    Holm-adjusted one-sided test rejects, else *not enough data yet* with about how many more judgments it needs.
    """
    z = _NORMAL.inv_cdf(0.5 + confidence / 2)
    raw = []
    for column, bot in enumerate(bots):
        if bot.estimate is None or baseline.estimate is None:
            raw.append(None)
            continue
        difference = bot.estimate - baseline.estimate
        variance = _difference_variance(bot, baseline, bot_replicates[:, column], baseline_replicates)
        raw.append((difference, sqrt(variance)))
    tested = [value is not None and bot.judgments >= min_judgments for value, bot in zip(raw, bots, strict=True)]
    p_less = [one_sided_less_p(*value) if ok else None for value, ok in zip(raw, tested, strict=True)]
    p_equivalent = [tost_p(*value, margin) if ok else None for value, ok in zip(raw, tested, strict=True)]
    p_less_holm = holm(p_less)
    p_equivalent_holm = holm(p_equivalent)
    tests = max(1, sum(tested))
    comparisons = []
    for index, (value, bot) in enumerate(zip(raw, bots, strict=True)):
        if value is None:
            missing = max(0, min_judgments - bot.judgments)
            comparisons.append(
                Comparison(None, None, None, None, None, None, None, None, Verdict.NOT_ENOUGH_DATA, missing or None)
            )
            continue
        difference, standard_error = value
        if p_equivalent_holm[index] is not None and p_equivalent_holm[index] < alpha:
            verdict, more = Verdict.INDISTINGUISHABLE, None
        elif p_less_holm[index] is not None and p_less_holm[index] < alpha:
            verdict, more = Verdict.DISTINGUISHABLE, None
        else:
            verdict = Verdict.NOT_ENOUGH_DATA
            more = more_judgments_needed(
                judgments=bot.judgments,
                difference=difference,
                standard_error=standard_error,
                margin=margin,
                tests=tests,
                alpha=alpha,
            )
            if bot.judgments < min_judgments:
                more = max(more or 0, min_judgments - bot.judgments)
        comparisons.append(
            Comparison(
                difference=difference,
                low=max(-1.0, difference - z * standard_error),
                high=min(1.0, difference + z * standard_error),
                standard_error=standard_error,
                p_less=p_less[index],
                p_equivalent=p_equivalent[index],
                p_less_holm=p_less_holm[index],
                p_equivalent_holm=p_equivalent_holm[index],
                verdict=verdict,
                more_judgments=more,
            )
        )
    return comparisons


# Ranks.


@dataclass(frozen=True)
class Rank:
    rank: int
    low: int  # the bootstrap interval of the rank
    high: int


def arena_ranks(lows: Sequence[float], highs: Sequence[float]) -> list[int]:
    """Chatbot Arena's rule: 1 + the number of others whose interval lies entirely above this one's."""
    return [1 + sum(1 for other_low in lows if other_low > high) for high in highs]


def ranks_with_intervals(
    rates: Sequence[Rate], replicates: np.ndarray, *, confidence: float = CONFIDENCE
) -> list[Rank]:
    """Ranks of the given rates (all of them ranked) and the central `confidence` interval of each bootstrap rank.

    In each replicate a bot's rank is 1 + the number of bots with a strictly higher rate (a replicate in which a bot
    drew no judgment leaves it out of that bot's interval). The interval is widened to hold the Arena rank: with very
    few evaluators the bootstrap sees less uncertainty than the intervals do (one evaluator: none at all).
    """
    if not rates:
        return []
    ranks = arena_ranks([rate.low for rate in rates], [rate.high for rate in rates])
    values = np.where(np.isfinite(replicates), replicates, -np.inf)
    above = (values[:, None, :] > values[:, :, None]).sum(axis=2) + 1  # replicates × bots
    tail = (1 - confidence) / 2
    intervals = []
    for column, rank in enumerate(ranks):
        drawn = above[np.isfinite(replicates[:, column]), column]
        if drawn.size == 0:
            intervals.append(Rank(rank, 1, len(rates)))
            continue
        low = int(np.quantile(drawn, tail, method="lower"))
        high = int(np.quantile(drawn, 1 - tail, method="higher"))
        intervals.append(Rank(rank, min(low, rank), max(high, rank)))
    return intervals


# Rating summaries.


@dataclass(frozen=True)
class Mean:
    ratings: int
    evaluators: int
    estimate: float | None
    low: float | None
    high: float | None


def clustered_means(
    counts: np.ndarray,
    totals: np.ndarray,
    weights: np.ndarray,
    *,
    confidence: float = CONFIDENCE,
    replicates: np.ndarray | None = None,
) -> list[Mean]:
    """Mean rating of each column from evaluators × columns counts and sums, with a percentile cluster-bootstrap
    interval. The interval lies inside the scale (every replicate is a mean of ratings on it); there is none with
    fewer than two ratings or fewer than two evaluators (nothing to say how much the mean would vary). `replicates`:
    the ratio replicates when already computed (ratio_replicates)."""
    counts = np.asarray(counts, dtype=float)
    totals = np.asarray(totals, dtype=float)
    if replicates is None:
        (replicates,) = ratio_replicates(weights, [(totals, counts)])
    tail = (1 - confidence) / 2

    def interval(values: np.ndarray) -> list:
        return np.quantile(values, [tail, 1 - tail], axis=0).T if len(values) >= 2 else [None] * values.shape[1]

    bounds = _finite_columns(replicates, interval)
    means = []
    for (n, total, evaluators), bound in zip(_column_totals(counts, totals), bounds, strict=True):
        if n == 0:
            means.append(Mean(0, 0, None, None, None))
            continue
        estimate = float(total / n)
        if n < 2 or evaluators < 2 or bound is None:
            means.append(Mean(n, evaluators, estimate, None, None))
            continue
        low, high = bound
        means.append(Mean(n, evaluators, estimate, float(min(low, estimate)), float(max(high, estimate))))
    return means
