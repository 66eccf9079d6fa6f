"""The statistics of transcript review, with no Django import.

Bradley–Terry strengths from pairwise "which witness sounds more human?" votes (maximum likelihood with a small
ridge, Newton's method on the collapsed win counts), their bootstrap intervals (every replicate at once, by
Poisson resampling of the win counts and chord-Newton steps warm-started at the full-data fit), ranks with the
main leaderboard's rule, a win-rate matrix, and the strike rule of gold items. Agreement (Krippendorff's alpha) is the
main leaderboard's, `leaderboard.agreement`. Everything takes plain numbers and is cross-checked in tests against
`choix` and a direct scipy MLE.
"""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from math import comb

import numpy as np
from scipy import sparse

from leaderboard.inference import arena_ranks
from leaderboard.stats import Interval

CONFIDENCE = 0.95
# A ridge of 0.01 on the log-strengths: it keeps a witness that won (or lost) every comparison at a finite
# strength, and moves well-measured strengths by far less than their standard error.
RIDGE = 0.01
BOOTSTRAP_REPLICATES = 1000
_NEWTON_TOLERANCE = 1e-9
_CHORD_TOLERANCE = 1e-5  # in log-strength: under a thousandth of a typical 95% interval's width
_MAX_ITERATIONS = 100
_CHUNK_CELLS = 1_000_000  # replicates × pairs per vectorised block: about 50 MB of arrays per block in flight
_THREADS = 2


@dataclass(frozen=True)
class PairCounts:
    """Collapsed pairwise votes: for each compared pair (first[k], second[k]), how often each side won."""

    items: int
    first: np.ndarray
    second: np.ndarray
    first_wins: np.ndarray
    second_wins: np.ndarray

    @property
    def totals(self) -> np.ndarray:
        return self.first_wins + self.second_wins

    @property
    def votes(self) -> int:
        return int(self.totals.sum())


@dataclass(frozen=True)
class StrengthTable:
    """Log-strengths relative to the anchor (the human witness when there is one), their intervals and ranks."""

    strength: np.ndarray
    low: np.ndarray
    high: np.ndarray
    ranks: list[int | None]
    anchor: int | None
    replicates: int


def pair_counts(items: int, winners: Sequence[int], losers: Sequence[int]) -> PairCounts:
    """Collapse votes (winner, loser) into one row per unordered pair that was compared."""
    winners = np.asarray(winners, dtype=np.int64)
    losers = np.asarray(losers, dtype=np.int64)
    if winners.shape != losers.shape or (winners == losers).any():
        raise ValueError("winners and losers must pair up, and nobody beats itself")
    return pair_counts_from_matrix(np.bincount(winners * items + losers, minlength=items * items).reshape(items, items))


def pair_counts_from_matrix(wins: np.ndarray) -> PairCounts:
    """From a square matrix whose [i, j] is how often i beat j."""
    wins = np.asarray(wins, dtype=np.float64)
    items = wins.shape[0]
    first, second = np.triu_indices(items, k=1)
    first_wins = wins[first, second]
    second_wins = wins[second, first]
    compared = (first_wins + second_wins) > 0
    return PairCounts(
        items=items,
        first=first[compared],
        second=second[compared],
        first_wins=first_wins[compared],
        second_wins=second_wins[compared],
    )


def win_matrix(counts: PairCounts) -> np.ndarray:
    """[i, j] = how often i beat j."""
    wins = np.zeros((counts.items, counts.items))
    wins[counts.first, counts.second] = counts.first_wins
    wins[counts.second, counts.first] = counts.second_wins
    return wins


def win_rate_matrix(counts: PairCounts) -> list[list[float | None]]:
    """[i][j] = the share of i's comparisons with j that i won; None where they were never compared."""
    wins = win_matrix(counts)
    totals = wins + wins.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = wins / totals
    return [
        [None if totals[i, j] == 0 else float(rates[i, j]) for j in range(counts.items)] for i in range(counts.items)
    ]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # tanh is an order of magnitude faster than scipy's expit on large arrays, and as accurate; the dtype is kept.
    return x.dtype.type(0.5) + x.dtype.type(0.5) * np.tanh(x.dtype.type(0.5) * x)


def _incidence(counts: PairCounts) -> np.ndarray:
    """pairs × items: +1 at the pair's first item, -1 at its second."""
    incidence = np.zeros((len(counts.first), counts.items))
    rows = np.arange(len(counts.first))
    incidence[rows, counts.first] = 1.0
    incidence[rows, counts.second] = -1.0
    return incidence


def _hessian(counts: PairCounts, theta: np.ndarray, ridge: float) -> np.ndarray:
    """The negative Hessian of the penalised log-likelihood: a weighted graph Laplacian plus the ridge."""
    p = _sigmoid(theta[counts.first] - theta[counts.second])
    weight = counts.totals * p * (1 - p)
    hessian = np.zeros((counts.items, counts.items))
    np.add.at(hessian, (counts.first, counts.second), -weight)
    np.add.at(hessian, (counts.second, counts.first), -weight)
    hessian[np.diag_indices(counts.items)] = -hessian.sum(axis=1) + ridge
    # Plus 1/items everywhere: the Laplacian is singular along the all-ones direction (strengths are defined up to a
    # constant); the iterates keep Σθ = 0, where this term acts as zero and makes the system solvable without ridge.
    return hessian + 1.0 / counts.items


def bradley_terry(counts: PairCounts, *, ridge: float = RIDGE, initial: np.ndarray | None = None) -> np.ndarray:
    """Maximum (ridge-penalised) likelihood log-strengths θ, P(i beats j) = σ(θi − θj); they sum to zero.

    Maximises Σ wins·log σ(θi − θj) − ridge/2·Σθ² with Newton's method: the objective is strictly concave, and from
    zero Newton converges in a handful of steps (each a solve with the items × items Hessian).
    """
    theta = np.zeros(counts.items) if initial is None else np.array(initial, dtype=np.float64)
    if len(counts.first) == 0:
        return theta
    incidence = _incidence(counts)
    first_of, second_of = incidence > 0, incidence < 0
    totals = counts.totals
    wins = counts.first_wins @ first_of + counts.second_wins @ second_of
    for _ in range(_MAX_ITERATIONS):
        p = _sigmoid(incidence @ theta)
        expected = (totals * p) @ first_of + (totals * (1 - p)) @ second_of
        gradient = wins - expected - ridge * theta
        step = np.linalg.solve(_hessian(counts, theta, ridge), gradient)
        # Far from the optimum (a witness that nearly always wins) a full Newton step can overshoot; capping it
        # keeps the iteration stable, and near the optimum the cap never binds. A capped step no longer sums to zero:
        # re-centre, since the optimum sums to zero and the Hessian's 1/items term would only slowly bring it back.
        theta += np.clip(step, -4.0, 4.0)
        theta -= theta.mean()
        if np.abs(step).max() < _NEWTON_TOLERANCE:
            break
    return theta


def resamples(counts: PairCounts, *, replicates: int, seed: int) -> list[tuple[int, np.random.Generator, int]]:
    """The bootstrap's blocks of replicates: (first replicate, its own random generator, how many).

    Each block draws from its own stream spawned from the seed, so the result is the same whichever thread fits it.
    """
    chunk = max(1, _CHUNK_CELLS // max(1, len(counts.first)))
    starts = range(0, replicates, chunk)
    streams = np.random.SeedSequence(seed).spawn(len(starts))
    return [
        (start, np.random.default_rng(stream), min(chunk, replicates - start))
        for start, stream in zip(starts, streams, strict=True)
    ]


def resample_counts(counts: PairCounts, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """size × pairs win counts, each cell redrawn as Poisson(observed count)."""
    pairs = len(counts.first)
    first_wins = rng.poisson(counts.first_wins, size=(size, pairs)).astype(np.float64)
    second_wins = rng.poisson(counts.second_wins, size=(size, pairs)).astype(np.float64)
    return first_wins, second_wins


def bootstrap_strengths(
    counts: PairCounts,
    *,
    replicates: int = BOOTSTRAP_REPLICATES,
    ridge: float = RIDGE,
    seed: int = 0,
    fit: np.ndarray | None = None,
) -> np.ndarray:
    """replicates × items log-strengths, one row per bootstrap resample of the votes.

    Each replicate redraws every win count as Poisson(observed count) (the Poisson bootstrap: the votes resampled
    with replacement, each vote's multiplicity Poisson(1), summed per cell). A block of replicates is fitted at once:
    chord-Newton steps from the full-data fit, reusing its Hessian (the replicates' Hessians differ from it by the
    sampling noise, so each step shrinks the error by about that factor). A replicate that has not converged after
    the chord steps is finished with exact Newton on its own. Blocks run on two threads: numpy's random draws and
    array arithmetic release the GIL.
    """
    theta_hat = bradley_terry(counts, ridge=ridge) if fit is None else fit
    if len(counts.first) == 0 or replicates == 0:
        return np.tile(theta_hat, (replicates, 1))
    pairs = len(counts.first)
    # Sparse pairs × items selectors sum a per-pair count into per-item totals; the dense signed incidence turns
    # strengths into per-pair differences and back in one matrix product each (BLAS beats gathers here).
    rows = np.arange(pairs)
    first_of = sparse.csr_array((np.ones(pairs), (rows, counts.first)), shape=(pairs, counts.items))
    second_of = sparse.csr_array((np.ones(pairs), (rows, counts.second)), shape=(pairs, counts.items))
    incidence = _incidence(counts)
    inverse = np.linalg.inv(_hessian(counts, theta_hat, ridge))
    result = np.empty((replicates, counts.items))

    def fit_block(block: tuple[int, np.random.Generator, int]) -> None:
        start, rng, size = block
        first_wins, second_wins = resample_counts(counts, rng, size)
        totals = first_wins + second_wins
        wins = (first_of.T @ first_wins.T + second_of.T @ second_wins.T).T
        # Expected wins = Σ_first N·p + Σ_second N·(1 − p) = (N·p) @ incidence + Σ_second N.
        expected_base = (second_of.T @ totals.T).T
        theta = np.tile(theta_hat, (size, 1))
        converged = np.zeros(size, dtype=bool)
        for _ in range(_MAX_ITERATIONS // 4):
            # The win probabilities in single precision (4× faster to compute); the sums stay in double, so the
            # rounding (~1e-7 per pair) moves the strengths by far less than the tolerance.
            p_first = _sigmoid((theta @ incidence.T).astype(np.float32))
            expected = (totals * p_first) @ incidence + expected_base
            step = (wins - expected - ridge * theta) @ inverse
            theta += step
            converged = np.abs(step).max(axis=1) < _CHORD_TOLERANCE
            if converged.all():
                break
        for row in np.flatnonzero(~converged):
            resampled = PairCounts(counts.items, counts.first, counts.second, first_wins[row], second_wins[row])
            theta[row] = bradley_terry(resampled, ridge=ridge, initial=theta[row])
        result[start : start + size] = theta

    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        list(pool.map(fit_block, resamples(counts, replicates=replicates, seed=seed)))
    return result


def strength_table(
    counts: PairCounts,
    *,
    anchor: int | None = None,
    unranked: frozenset[int] = frozenset(),
    replicates: int = BOOTSTRAP_REPLICATES,
    ridge: float = RIDGE,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> StrengthTable:
    """Strengths relative to the anchor item (0 for the anchor itself; the mean otherwise), percentile intervals
    of the bootstrap replicates, and ranks: 1 + the number of items whose interval lies entirely above.

    The anchor (the human witness) is in the same scale but gets no rank: it is the reference, not a competitor; nor
    do the `unranked` items (baseline bots), which, as on the main leaderboard, do not push competitors down either.
    """
    theta = bradley_terry(counts, ridge=ridge)
    boot = bootstrap_strengths(counts, replicates=replicates, ridge=ridge, seed=seed, fit=theta)
    if anchor is not None:
        theta = theta - theta[anchor]
        boot = boot - boot[:, [anchor]]
    tail = (1 - confidence) / 2 * 100
    if replicates:
        low, high = np.percentile(boot, [tail, 100 - tail], axis=0)
    else:
        low, high = theta.copy(), theta.copy()
    compared = np.zeros(counts.items, dtype=bool)
    compared[counts.first] = True
    compared[counts.second] = True
    intervals = [
        Interval(estimate=float(theta[i]), low=float(low[i]), high=float(high[i]))
        if compared[i] and i != anchor and i not in unranked
        else None
        for i in range(counts.items)
    ]
    return StrengthTable(
        strength=theta, low=low, high=high, ranks=_ranks_of(intervals), anchor=anchor, replicates=replicates
    )


def _ranks_of(intervals: list[Interval | None]) -> list[int | None]:
    """The main leaderboard's rank rule (1 + the number surely better); a witness without an interval has no rank."""
    present = [interval for interval in intervals if interval is not None]
    ranks = iter(arena_ranks([i.low for i in present], [i.high for i in present]))
    return [next(ranks) if interval is not None else None for interval in intervals]


def win_probability(strength_difference: float) -> float:
    """P(a witness beats another) from the difference of their log-strengths."""
    return float(_sigmoid(np.asarray(strength_difference)))


# Gold items and strikes.


def reviewer_stopped(*, strikes: int, limit: int) -> bool:
    """The declared rule: a reviewer's items stop counting once their strikes exceed the limit."""
    return strikes > limit


def chance_random_reviewer_escapes(*, gold_answered: int, limit: int, guess_right: float = 0.5) -> float:
    """P(a reviewer who guesses fails at most `limit` of `gold_answered` gold items): how leaky the rule is."""
    wrong = 1 - guess_right
    return sum(
        comb(gold_answered, k) * wrong**k * guess_right ** (gold_answered - k)
        for k in range(min(limit, gold_answered) + 1)
    )
