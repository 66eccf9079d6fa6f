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


@pytest.mark.parametrize(("data", "level"), [(VERDICTS, "nominal"), (RATINGS, "interval"), (RATINGS, "nominal")])
def test_every_bootstrap_replicate_is_the_alpha_of_its_resampled_units(data, level):
    # All replicates are computed at once from per-unit sums; each must equal alpha on the table it stands for.
    table = np.array(data, dtype=float)
    rng = np.random.default_rng(3)
    weights = rng.multinomial(table.shape[1], np.full(table.shape[1], 1 / table.shape[1]), size=20).astype(float)
    vectorised = agreement._alphas(weights, agreement._summarise(table, level))
    for row, value in zip(weights, vectorised, strict=True):
        resampled = table[:, np.repeat(np.arange(table.shape[1]), row.astype(int))]
        expected = krippendorff.alpha(reliability_data=resampled, level_of_measurement=level)
        assert value == pytest.approx(expected, abs=1e-12) or (np.isnan(value) and np.isnan(expected))


def test_units_given_as_lists_of_values_match_the_package_whatever_the_values():
    # Transcript review's shape: each unit is the list of the values its judges gave (verdicts, or chosen chat ids).
    units = [["bot", "bot", "human"], ["human", "human"], ["bot"], ["bot", "bot", "bot"], ["human", "bot"]]
    table = agreement.table_from_units(units)
    assert table.shape == (3, 5)
    coded = [[{"bot": 0.0, "human": 1.0}[v] for v in unit] + [np.nan] * (3 - len(unit)) for unit in units]
    expected = krippendorff.alpha(reliability_data=np.array(coded).T, level_of_measurement="nominal")
    assert agreement.alpha(table, "nominal") == pytest.approx(expected, abs=1e-12)
    chosen = [[9001, 9001], [42, 7], [7, 7, 42], [123456, 123456]]
    expected = krippendorff.alpha(reliability_data=agreement.table_from_units(chosen), level_of_measurement="nominal")
    assert agreement.alpha(agreement.table_from_units(chosen), "nominal") == pytest.approx(expected, abs=1e-12)
