"""Krippendorff's alpha at its edges (issue 16): the defaults, when alpha and its interval are undefined, the smallest
variation that counts, the exact number of bootstrap replicates and the interval read from them."""

import warnings

import numpy as np
import pytest

from leaderboard import agreement
from leaderboard.agreement import Agreement

RATINGS = [
    [5, 4, 2, 1, 3, np.nan, 4],
    [4, 4, 1, 2, 3, 2, np.nan],
    [5, 3, 2, np.nan, 2, 1, 5],
]


def test_the_level_defaults_to_nominal():
    nominal, interval = agreement.alpha(RATINGS, "nominal"), agreement.alpha(RATINGS, "interval")
    assert nominal != pytest.approx(interval)
    assert agreement.alpha(RATINGS) == nominal
    assert agreement.alpha_with_interval(RATINGS, replicates=50).alpha == nominal
    assert agreement.alpha_with_interval(RATINGS, "nominal", replicates=50).alpha == nominal


def test_the_interval_defaults_to_a_thousand_replicates_from_seed_zero_and_repeats():
    default = agreement.alpha_with_interval(RATINGS, "interval")
    assert default == agreement.alpha_with_interval(RATINGS, "interval", replicates=1000, seed=0)
    assert default != agreement.alpha_with_interval(RATINGS, "interval", replicates=1000, seed=1)
    assert default != agreement.alpha_with_interval(RATINGS, "interval", replicates=1001, seed=0)


def test_one_unit_judged_by_two_who_disagree_has_alpha_zero_and_no_interval():
    assert agreement.alpha([[1], [0]]) == 0.0
    assert agreement.alpha_with_interval([[1], [0]]) == Agreement(0.0, None, None, 1, 2)


def test_no_pairable_unit_and_no_variation_give_no_alpha_but_still_count():
    assert agreement.alpha_with_interval([]) == Agreement(None, None, None, 0, 0)
    assert agreement.alpha_with_interval([[1, None], [None, 0]]) == Agreement(None, None, None, 0, 0)
    assert agreement.alpha_with_interval([[1, 1], [1, 1], [1, None]]) == Agreement(None, None, None, 2, 5)


def test_undefined_alphas_raise_no_numpy_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert agreement.alpha([[1, 1], [1, 1]]) is None
        assert agreement.alpha([[2.0, 2.0], [2.0, 2.0]], "interval") is None


@pytest.mark.parametrize(
    ("table", "defined"),
    [
        # Two values 0 and d: expected disagreement 2·d², against a tolerance of 1e-12 · n · (n − 1) = 2e-12.
        ([[0.0], [0.9e-6]], False),
        ([[0.0], [1.2e-6]], True),
        # Four values in two units, one of them d: expected 6·d², against 1e-12 · 4 · 3 = 12e-12.
        ([[0.0, 0.0], [0.0, 1.2e-6]], False),
        ([[0.0, 0.0], [0.0, 1.5e-6]], True),
    ],
)
def test_a_variation_within_rounding_noise_counts_as_none(table, defined):
    assert (agreement.alpha(table, "interval") is not None) is defined


def test_two_units_and_two_replicates_are_enough_for_an_interval():
    # Each unit has a disagreement of its own, so every resample has one to measure.
    result = agreement.alpha_with_interval([[1, 2], [3, 5]], "interval", replicates=2)
    assert (result.units, result.values) == (2, 4)
    assert result.low is not None and result.high is not None
    one = agreement.alpha_with_interval([[1, 2], [3, 5]], "interval", replicates=1)
    assert one == Agreement(result.alpha, None, None, 2, 4)


def fixed_draws(monkeypatch, weights):
    """Replace the bootstrap's draws with these unit weights (replicates × units)."""
    monkeypatch.setattr(agreement, "_resample_weights", lambda rng, units, size: np.array(weights, dtype=float))


def test_fewer_than_two_defined_replicates_give_no_interval(monkeypatch):
    # Unit 0 has a disagreement, unit 1 none: drawing unit 1 twice leaves nothing to measure (NaN).
    fixed_draws(monkeypatch, [[2, 0], [0, 2]])
    assert agreement.alpha_with_interval([[1, 1], [0, 1]], replicates=2) == Agreement(0.0, None, None, 2, 4)


def test_the_interval_is_read_at_the_two_tails_of_the_replicates(monkeypatch):
    # Unit 0 drawn twice: alpha −0.5; both units once: alpha 0. Linear interpolation between the two.
    fixed_draws(monkeypatch, [[2, 0], [1, 1]])
    low, high = -0.5, 0.0
    result = agreement.alpha_with_interval([[1, 1], [0, 1]], replicates=2, confidence=0.9)
    assert result.low == pytest.approx(low + 0.05 * (high - low))
    assert result.high == pytest.approx(low + 0.95 * (high - low))


@pytest.mark.parametrize(
    ("cells", "replicates", "blocks"),
    [
        (21, 10, [3, 3, 3, 1]),  # 21 cells over 7 units: blocks of 3 replicates, the last one what remains
        (6, 3, [1, 1, 1]),  # fewer cells than units: still one replicate a block
        (70_000, 10, [10]),
    ],
)
def test_the_bootstrap_draws_exactly_the_replicates_asked_for_a_block_at_a_time(monkeypatch, cells, replicates, blocks):
    drawn = []
    resample = agreement._resample_weights

    def recording(rng, units, size):
        drawn.append(size)
        return resample(rng, units, size)

    monkeypatch.setattr(agreement, "_BLOCK_CELLS", cells)
    monkeypatch.setattr(agreement, "_resample_weights", recording)
    agreement.alpha_with_interval(RATINGS, "interval", replicates=replicates)
    assert drawn == blocks


def test_nominal_blocks_are_sized_by_the_categories_when_they_outnumber_the_units(monkeypatch):
    drawn = []
    resample = agreement._resample_weights
    monkeypatch.setattr(agreement, "_BLOCK_CELLS", 10)

    def recording(rng, units, size):
        drawn.append(size)
        return resample(rng, units, size)

    monkeypatch.setattr(agreement, "_resample_weights", recording)
    # Three units, five categories: 10 // 5 = 2 replicates a block.
    agreement.alpha_with_interval([[1, 3, 5], [2, 4, 5]], "nominal", replicates=4)
    assert drawn == [2, 2]


@pytest.mark.parametrize("seed", range(10))
def test_each_resample_draws_as_many_units_as_there_are_and_can_draw_any(seed):
    weights = agreement._resample_weights(np.random.default_rng(seed), 4, 3)
    assert weights.shape == (3, 4)
    assert (weights.sum(axis=1) == 4).all()


def test_over_many_resamples_every_unit_is_drawn_about_once_each_time():
    weights = agreement._resample_weights(np.random.default_rng(0), 3, 3000)
    assert weights.mean(axis=0) == pytest.approx([1, 1, 1], abs=0.1)


def test_units_of_numbers_keep_their_values_and_other_values_are_coded_in_text_order():
    np.testing.assert_array_equal(
        agreement.table_from_units([[1, 5], [2.5, 2.5, 3]]), [[1, 2.5], [5, 2.5], [np.nan, 3]]
    )
    np.testing.assert_array_equal(agreement.table_from_units([["skip", 7], [7, 7]]), [[1, 0], [0, 0]])
    np.testing.assert_array_equal(agreement.table_from_units([[True, 2]]), [[1], [0]])
    assert agreement.table_from_units([]).shape == (0, 0)
