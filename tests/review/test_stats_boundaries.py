"""review.stats at its edges (issue 16): refused votes, pairs compared once or never, witnesses never compared,
no replicates or one, the defaults, the exact interval read from the replicates, and sparse votes whose bootstrap
replicates need the exact fit."""

import warnings

import numpy as np
import pytest

from review import stats

FIXED_WINS = np.array([[0, 7, 9, 3], [4, 0, 6, 2], [1, 5, 0, 1], [6, 8, 9, 0]], dtype=float)
# Few votes: most resamples move far from the full-data fit, so the chord steps do not converge on their own.
SPARSE_WINS = np.array([[0, 1, 0, 0], [0, 0, 2, 0], [1, 0, 0, 1], [0, 0, 0, 0]], dtype=float)


@pytest.mark.parametrize(
    ("winners", "losers"),
    [([0, 1], [1]), ([0, 2], [1, 2]), ([1], [1])],
)
def test_votes_that_do_not_pair_up_or_beat_themselves_are_refused(winners, losers):
    with pytest.raises(ValueError, match=r"^winners and losers must pair up, and nobody beats itself$"):
        stats.pair_counts(3, winners, losers)


def test_no_votes_give_no_pairs():
    counts = stats.pair_counts(3, [], [])
    assert (counts.items, len(counts.first), counts.votes) == (3, 0, 0)


def test_a_pair_compared_once_counts_and_a_pair_never_compared_does_not():
    counts = stats.pair_counts(3, [2], [0])
    assert (counts.first.tolist(), counts.second.tolist()) == ([0], [2])
    assert (counts.first_wins.tolist(), counts.second_wins.tolist()) == ([0.0], [1.0])


def test_a_witness_never_compared_gets_neither_an_interval_nor_a_rank():
    wins = FIXED_WINS.copy()
    wins[:, 3] = wins[3, :] = 0  # the last witness was never compared
    counts = stats.pair_counts_from_matrix(wins)
    table = stats.strength_table(counts, replicates=50)
    assert table.ranks[3] is None
    assert all(rank is not None for rank in table.ranks[:3])
    assert stats.bootstrap_strengths(counts, replicates=5).shape == (5, 4)


def test_the_win_rates_of_pairs_never_compared_raise_no_numpy_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rates = stats.win_rate_matrix(stats.pair_counts_from_matrix(np.zeros((2, 2))))
    assert rates == [[None, None], [None, None]]


def test_newton_converges_in_a_handful_of_steps(monkeypatch):
    counts = stats.pair_counts_from_matrix(FIXED_WINS)
    exact = stats.bradley_terry(counts, ridge=0.05)
    monkeypatch.setattr(stats, "_MAX_ITERATIONS", 6)
    np.testing.assert_allclose(stats.bradley_terry(counts, ridge=0.05), exact, atol=1e-10)


def test_the_fit_starts_from_the_given_strengths(monkeypatch):
    counts = stats.pair_counts_from_matrix(FIXED_WINS)
    exact = stats.bradley_terry(counts)
    monkeypatch.setattr(stats, "_MAX_ITERATIONS", 1)
    np.testing.assert_allclose(stats.bradley_terry(counts, initial=exact), exact, atol=1e-12)
    assert not np.allclose(stats.bradley_terry(counts), exact, atol=1e-3)


def test_the_fit_accepts_integer_starting_strengths():
    counts = stats.pair_counts_from_matrix(FIXED_WINS)
    np.testing.assert_allclose(stats.bradley_terry(counts, initial=[0, 0, 0, 0]), stats.bradley_terry(counts))


def test_without_any_comparison_every_replicate_is_the_fit():
    no_votes = stats.pair_counts(3, [], [])
    fit = np.array([0.5, 0.0, -0.5])
    np.testing.assert_array_equal(stats.bootstrap_strengths(no_votes, replicates=3, fit=fit), np.tile(fit, (3, 1)))
    assert stats.bootstrap_strengths(stats.pair_counts_from_matrix(FIXED_WINS), replicates=0).shape == (0, 4)


@pytest.mark.parametrize("replicates", [1, 2])
def test_one_compared_pair_and_a_single_replicate_are_resampled(replicates):
    counts = stats.pair_counts(2, [0] * 6 + [1] * 3, [1] * 6 + [0] * 3)
    fit = stats.bradley_terry(counts)
    boot = stats.bootstrap_strengths(counts, replicates=replicates, seed=1)
    assert boot.shape == (replicates, 2)
    assert not np.allclose(boot, fit)


def test_the_bootstrap_defaults_to_seed_zero():
    counts = stats.pair_counts_from_matrix(FIXED_WINS)
    default = stats.bootstrap_strengths(counts, replicates=20)
    np.testing.assert_array_equal(default, stats.bootstrap_strengths(counts, replicates=20, seed=0))
    assert not np.array_equal(default, stats.bootstrap_strengths(counts, replicates=20, seed=1))


def test_on_sparse_votes_each_replicate_is_still_the_exact_fit_of_its_resample():
    counts = stats.pair_counts_from_matrix(SPARSE_WINS)
    boot = stats.bootstrap_strengths(counts, replicates=40, ridge=0.5, seed=2)
    for start, rng, size in stats.resamples(counts, replicates=40, seed=2):
        first, second = stats.resample_counts(counts, rng, size)
        for row in range(size):
            resampled = stats.PairCounts(counts.items, counts.first, counts.second, first[row], second[row])
            np.testing.assert_allclose(boot[start + row], stats.bradley_terry(resampled, ridge=0.5), atol=1e-5)


@pytest.mark.parametrize(
    ("cells", "pairs_of", "sizes"),
    [
        (1, FIXED_WINS, [1, 1, 1]),  # fewer cells than pairs: one replicate a block all the same
        (4, np.array([[0, 2], [1, 0]]), [4, 4, 1]),  # one pair: four replicates a block
    ],
)
def test_replicates_are_split_into_blocks_of_at_most_the_cells_allowed(monkeypatch, cells, pairs_of, sizes):
    monkeypatch.setattr(stats, "_CHUNK_CELLS", cells)
    counts = stats.pair_counts_from_matrix(pairs_of)
    blocks = stats.resamples(counts, replicates=sum(sizes), seed=0)
    assert [size for _, _, size in blocks] == sizes


def test_the_table_reports_its_anchor_and_replicates_and_repeats():
    counts = stats.pair_counts_from_matrix(FIXED_WINS)
    table = stats.strength_table(counts, anchor=2, replicates=30)
    assert (table.anchor, table.replicates) == (2, 30)
    again = stats.strength_table(counts, anchor=2, replicates=30)
    np.testing.assert_array_equal(table.low, again.low)
    np.testing.assert_array_equal(table.high, again.high)
    default = stats.strength_table(counts, replicates=30)
    np.testing.assert_array_equal(default.low, stats.strength_table(counts, replicates=30, seed=0).low)
    assert not np.array_equal(default.low, stats.strength_table(counts, replicates=30, seed=1).low)


def test_the_table_fits_with_its_ridge_and_reads_the_interval_at_both_tails():
    counts = stats.pair_counts_from_matrix(FIXED_WINS)
    table = stats.strength_table(counts, replicates=40, ridge=0.5, seed=4, confidence=0.8)
    np.testing.assert_allclose(table.strength, stats.bradley_terry(counts, ridge=0.5))
    boot = stats.bootstrap_strengths(counts, replicates=40, ridge=0.5, seed=4)
    np.testing.assert_allclose(table.low, np.percentile(boot, 10, axis=0))
    np.testing.assert_allclose(table.high, np.percentile(boot, 90, axis=0))


def test_without_replicates_the_interval_is_the_estimate():
    counts = stats.pair_counts_from_matrix(FIXED_WINS)
    table = stats.strength_table(counts, replicates=0)
    np.testing.assert_array_equal(table.low, table.strength)
    np.testing.assert_array_equal(table.high, table.strength)
    assert table.replicates == 0


def test_the_fit_sums_to_zero_even_after_a_capped_step():
    # Tens of thousands of lopsided votes: the first Newton steps exceed the cap of 4. The capped step no longer sums
    # to zero, and the Hessian's extra 1/items term damps the way back a hundredfold: the strengths came back shifted
    # by a common constant (Σθ ≈ −8 after the hundred iterations).
    wins = np.array(
        [
            [0, 78577, 1, 125653, 55694],
            [0, 0, 0, 96231, 44095],
            [1, 1, 0, 61172, 0],
            [0, 1, 0, 0, 0],
            [1, 0, 0, 59088, 0],
        ],
        dtype=float,
    )
    theta = stats.bradley_terry(stats.pair_counts_from_matrix(wins))
    assert theta.sum() == pytest.approx(0, abs=1e-9)
    np.testing.assert_allclose(theta, [12.790, 1.744, 12.538, -18.943, -8.130], atol=1e-3)


def penalised_gradient(counts, theta, ridge):
    wins, expected = np.zeros(counts.items), np.zeros(counts.items)
    p = 1 / (1 + np.exp(-(theta[counts.first] - theta[counts.second])))
    np.add.at(wins, counts.first, counts.first_wins)
    np.add.at(wins, counts.second, counts.second_wins)
    np.add.at(expected, counts.first, counts.totals * p)
    np.add.at(expected, counts.second, counts.totals * (1 - p))
    return wins - expected - ridge * theta


@pytest.mark.parametrize(
    "wins",
    [
        pytest.param(
            [[0, 0, 13720, 173311], [0, 0, 2, 0], [1, 0, 0, 0], [0, 99231, 2, 0]],
            # Known, not fixed yet: the hundred capped steps stall here (gradient ≈ 0.96 at witnesses 1 and 2); the
            # fit without the cap converges. See docs/testing.md, review/stats.py.
            marks=pytest.mark.xfail(strict=True, reason="capped Newton steps stall on these votes"),
        ),
        [
            [0, 78577, 1, 125653, 55694],
            [0, 0, 0, 96231, 44095],
            [1, 1, 0, 61172, 0],
            [0, 1, 0, 0, 0],
            [1, 0, 0, 59088, 0],
        ],
    ],
)
def test_on_lopsided_votes_the_capped_newton_steps_still_reach_the_optimum(wins):
    counts = stats.pair_counts_from_matrix(np.array(wins, dtype=float))
    theta = stats.bradley_terry(counts)
    assert np.abs(penalised_gradient(counts, theta, stats.RIDGE)).max() < 1e-6
