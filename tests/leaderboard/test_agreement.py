"""Krippendorff's alpha for units judged by several people, cross-checked against the krippendorff package."""

import krippendorff
import numpy as np
import pytest

from leaderboard import agreement

VERDICTS = [
    [1, 1, 0, 0, 1, np.nan, 1, 0],
    [1, 1, 0, 1, 1, 0, np.nan, 0],
    [np.nan, 1, 0, 0, 1, 0, 1, np.nan],
]
RATINGS = [
    [5, 4, 2, 1, 3, np.nan, 4],
    [4, 4, 1, 2, 3, 2, np.nan],
    [5, 3, 2, np.nan, 2, 1, 5],
]


@pytest.mark.parametrize(("data", "level"), [(VERDICTS, "nominal"), (RATINGS, "interval"), (RATINGS, "nominal")])
def test_alpha_matches_the_krippendorff_package(data, level):
    expected = krippendorff.alpha(reliability_data=np.array(data, dtype=float), level_of_measurement=level)
    assert agreement.alpha(data, level) == pytest.approx(expected, abs=1e-12)


def test_alpha_is_none_without_pairable_values_or_variation():
    assert agreement.alpha([[1, None], [None, 0]]) is None
    assert agreement.alpha([[1, 1], [1, 1]]) is None
    assert agreement.alpha([]) is None


def test_alpha_interval_brackets_the_estimate_and_counts_only_pairable_units():
    data = [row + [row[0]] * 0 for row in RATINGS]
    data[0].append(3)  # a unit with one value: not pairable
    data[1].append(None)
    data[2].append(None)
    result = agreement.alpha_with_interval(data, "interval", replicates=500, seed=1)
    assert result.alpha == pytest.approx(agreement.alpha(RATINGS, "interval"))
    assert result.units == 7 and result.values == 18
    assert result.low < result.alpha < result.high
    perfect = agreement.alpha_with_interval([[1, 0, 1, 0], [1, 0, 1, 0]], "nominal", replicates=200)
    assert (perfect.alpha, perfect.low, perfect.high) == (1.0, 1.0, 1.0)
