"""Agreement between judges of the same unit, with no Django import: Krippendorff's alpha with a bootstrap interval.
The one implementation: transcript review's agreement figures call it too.

Agreement is only measured on units judged by several people (a transcript reviewed by several judges). A bot judged
in different chats is not such a unit: each "rating" is of a different chat, so an alpha over bots says how far apart
the bots are, not how much evaluators agree, and the leaderboard no longer shows one.

`alpha(data, level)` takes a judges × units table (NaN or None where a judge did not judge a unit): nominal for
verdicts or choices, interval for 1–5 ratings. `table_from_units` builds that table from units given as the lists of
their values (transcript review's shape; values that are not numbers are coded as categories). `alpha_with_interval`
adds a percentile interval from resampling units (Hayes & Krippendorff 2007 resample pairs of values; resampling whole
units keeps each unit's judges together).

With m_u values in unit u, n_uc of them c, and n_c = Σ_u n_uc, n = Σ_c n_c, and δ the metric (δ(c, c) = 0):
alpha = 1 − (n − 1) · Σ_u Σ_ck n_uc n_uk δ(c, k) / (m_u − 1) / Σ_ck n_c n_k δ(c, k). Both sums need only per-unit
numbers (nominal: the category counts; interval: Σ values and Σ values²), so every bootstrap replicate is a weighted
sum over units: all replicates are computed at once.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse

Level = Literal["nominal", "interval"]
_BLOCK_CELLS = 2_000_000  # replicates × max(units, categories) per block of the bootstrap: about 16 MB an array


@dataclass(frozen=True)
class Agreement:
    alpha: float | None
    low: float | None
    high: float | None
    units: int  # units with at least two values
    values: int  # values in those units


@dataclass(frozen=True)
class _Units:
    """The pairable units, summarised: values per unit, each unit's disagreement sum, and what the expected
    disagreement needs (nominal: units × categories counts; interval: per-unit Σ values and Σ values²)."""

    level: Level
    values: np.ndarray
    disagreement: np.ndarray
    counts: sparse.csr_array | None = None
    sums: np.ndarray | None = None
    squares: np.ndarray | None = None


def _table(data: Sequence[Sequence[float | None]] | np.ndarray) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float)


def table_from_units(units: Sequence[Sequence[object]]) -> np.ndarray:
    """A judges × units table from units given as the lists of their values. Values that are not all numbers are coded
    0, 1, ... as categories (in the order of their text), which leaves nominal alpha unchanged."""
    units = list(units)
    numeric = all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for unit in units for v in unit)
    code = {}
    if not numeric:
        code = {value: index for index, value in enumerate(sorted({v for unit in units for v in unit}, key=str))}
    table = np.full((max((len(unit) for unit in units), default=0), len(units)), np.nan)
    for column, unit in enumerate(units):
        table[: len(unit), column] = [float(v) if numeric else code[v] for v in unit]
    return table


def _summarise(table: np.ndarray, level: Level) -> _Units:
    present = np.isfinite(table)
    values = present.sum(axis=0).astype(float)
    if level == "nominal":
        categories, codes = np.unique(table[present], return_inverse=True)
        # table[present] runs judge by judge, as np.nonzero does: the column index is each value's unit.
        counts = sparse.csr_array(
            (np.ones(codes.size), (np.nonzero(present)[1], codes)), shape=(table.shape[1], categories.size)
        )
        same = np.asarray(counts.multiply(counts).sum(axis=1)).ravel()
        return _Units(level, values, (values**2 - same) / (values - 1), counts=counts)
    filled = np.where(present, table, 0.0)
    sums, squares = filled.sum(axis=0), (filled**2).sum(axis=0)
    disagreement = 2 * (values * squares - sums**2) / (values - 1)
    return _Units(level, values, disagreement, sums=sums, squares=squares)


def _alphas(weights: np.ndarray, units: _Units) -> np.ndarray:
    """alpha for each row of unit weights (replicates × units); NaN where undefined."""
    n = weights @ units.values
    observed = weights @ units.disagreement
    if units.level == "nominal":
        totals = (units.counts.T @ weights.T).T
        expected = n**2 - (totals**2).sum(axis=1)
    else:
        sums = weights @ units.sums
        expected = 2 * (n * (weights @ units.squares) - sums**2)
    defined = (n >= 2) & (expected > 1e-12 * n * np.maximum(n - 1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(defined, 1 - (n - 1) * observed / expected, np.nan)


def _resample_weights(rng: np.random.Generator, units: int, size: int) -> np.ndarray:
    """size × units: how often each unit is drawn when `units` units are drawn with replacement, per replicate."""
    draws = rng.integers(0, units, size=(size, units)) + units * np.arange(size)[:, None]
    return np.bincount(draws.ravel(), minlength=size * units).reshape(size, units).astype(float)


def _pairable(data: Sequence[Sequence[float | None]] | np.ndarray) -> np.ndarray:
    table = _table(data)
    if table.size == 0:
        return np.empty((0, 0))
    return table[:, np.isfinite(table).sum(axis=0) >= 2]


def alpha(data: Sequence[Sequence[float | None]] | np.ndarray, level: Level = "nominal") -> float | None:
    """Krippendorff's alpha; None when undefined (fewer than two pairable values, or no variation)."""
    table = _pairable(data)
    if table.size == 0:
        return None
    estimate = float(_alphas(np.ones((1, table.shape[1])), _summarise(table, level))[0])
    return None if np.isnan(estimate) else estimate


def alpha_with_interval(
    data: Sequence[Sequence[float | None]] | np.ndarray,
    level: Level = "nominal",
    *,
    replicates: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Agreement:
    """Alpha with a percentile interval over `replicates` resamples of the pairable units (fixed seed): each replicate
    draws the units with replacement; replicates are computed a block at a time, each block at once."""
    table = _pairable(data)
    if table.size == 0:
        return Agreement(None, None, None, 0, 0)
    units = table.shape[1]
    count = int(np.isfinite(table).sum())
    summary = _summarise(table, level)
    estimate = float(_alphas(np.ones((1, units)), summary)[0])
    if np.isnan(estimate):
        return Agreement(None, None, None, units, count)
    if units < 2 or replicates < 2:
        return Agreement(estimate, None, None, units, count)
    rng = np.random.default_rng(seed)
    categories = summary.counts.shape[1] if summary.counts is not None else 1
    block = max(1, _BLOCK_CELLS // max(units, categories))
    boot = np.concatenate(
        [
            _alphas(_resample_weights(rng, units, min(block, replicates - start)), summary)
            for start in range(0, replicates, block)
        ]
    )
    finite = boot[np.isfinite(boot)]
    if finite.size < 2:
        return Agreement(estimate, None, None, units, count)
    tail = (1 - confidence) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return Agreement(estimate, float(low), float(high), units, count)
