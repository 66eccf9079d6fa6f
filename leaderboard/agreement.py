"""Agreement between judges of the same unit, with no Django import: Krippendorff's alpha with a bootstrap interval.

Agreement is only measured on units judged by several people (a transcript reviewed by several judges). A bot judged
in different chats is not such a unit: each "rating" is of a different chat, so an alpha over bots says how far apart
the bots are, not how much evaluators agree, and the leaderboard no longer shows one.

`alpha(data, level)` takes a judges × units table (NaN or None where a judge did not judge a unit): nominal for
verdicts (coded 0/1), interval for 1–5 ratings. `alpha_with_interval` adds a percentile interval from resampling units
(Hayes & Krippendorff 2007 resample pairs of values; resampling whole units keeps each unit's judges together).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Level = Literal["nominal", "interval"]


@dataclass(frozen=True)
class Agreement:
    alpha: float | None
    low: float | None
    high: float | None
    units: int  # units with at least two values
    values: int  # values in those units


def _table(data: Sequence[Sequence[float | None]] | np.ndarray) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float)


def _coincidences(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values present, the coincidence matrix (values × values) and, per unit, its contribution (for resampling)."""
    values = np.unique(table[np.isfinite(table)])
    per_unit = np.zeros((table.shape[1], values.size, values.size))
    for unit in range(table.shape[1]):
        column = table[:, unit]
        column = column[np.isfinite(column)]
        if column.size < 2:
            continue
        counts = np.array([(column == v).sum() for v in values], dtype=float)
        per_unit[unit] = (np.outer(counts, counts) - np.diag(counts)) / (column.size - 1)
    return values, per_unit.sum(axis=0), per_unit


def _alpha_from(coincidences: np.ndarray, delta: np.ndarray) -> float | None:
    totals = coincidences.sum(axis=1)
    n = totals.sum()
    if n < 2:
        return None
    expected = (np.outer(totals, totals) * delta).sum() / (n * (n - 1))
    if expected <= 1e-12:
        return None
    observed = (coincidences * delta).sum() / n
    return float(1 - observed / expected)


def _nan_if_none(value: float | None) -> float:
    return np.nan if value is None else value


def _delta(values: np.ndarray, level: Level) -> np.ndarray:
    if level == "nominal":
        return (values[:, None] != values[None, :]).astype(float)
    return (values[:, None] - values[None, :]) ** 2


def alpha(data: Sequence[Sequence[float | None]] | np.ndarray, level: Level = "nominal") -> float | None:
    """Krippendorff's alpha; None when undefined (fewer than two pairable values, or no variation)."""
    table = _table(data)
    if table.size == 0:
        return None
    values, coincidences, _units = _coincidences(table)
    return _alpha_from(coincidences, _delta(values, level))


def alpha_with_interval(
    data: Sequence[Sequence[float | None]] | np.ndarray,
    level: Level = "nominal",
    *,
    replicates: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Agreement:
    """Alpha with a percentile interval over `replicates` resamples of the pairable units (fixed seed)."""
    table = _table(data)
    if table.size == 0:
        return Agreement(None, None, None, 0, 0)
    pairable = np.isfinite(table).sum(axis=0) >= 2
    table = table[:, pairable]
    values, coincidences, per_unit = _coincidences(table)
    delta = _delta(values, level)
    estimate = _alpha_from(coincidences, delta)
    units = table.shape[1]
    count = int(np.isfinite(table).sum())
    if estimate is None or units < 2:
        return Agreement(estimate, None, None, units, count)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, units, size=(replicates, units))
    weights = np.stack([np.bincount(row, minlength=units) for row in draws]).astype(float)
    resampled = np.einsum("ru,uij->rij", weights, per_unit)
    alphas = np.array([_nan_if_none(_alpha_from(matrix, delta)) for matrix in resampled], dtype=float)
    finite = alphas[np.isfinite(alphas)]
    if finite.size < 2:
        return Agreement(estimate, None, None, units, count)
    tail = (1 - confidence) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return Agreement(estimate, float(low), float(high), units, count)
