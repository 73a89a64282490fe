"""Spearman's edges, each decided by hand (issue 18): two pairs are defined (rho = +-1), fewer
are not; a NaN or inf on either side is NaN; a constant side is NaN without a warning; shapes
must match; inputs are read as numbers; average ranks by hand and against scipy."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats

from benchmarks.spearman import average_ranks, spearman


def test_two_pairs_are_enough_and_give_plus_or_minus_one():
    assert spearman([1.0, 2.0], [3.0, 4.0]) == 1.0
    assert spearman([1.0, 2.0], [4.0, 3.0]) == -1.0
    assert spearman([5.0, 1.0, 3.0], [2.0, 0.0, 1.0]) == 1.0
    assert math.isnan(spearman([1.0], [1.0])) and math.isnan(spearman([], []))


@pytest.mark.parametrize("first, second", [([1.0, float("nan"), 3.0], [1.0, 2.0, 3.0]),
                                           ([1.0, 2.0, 3.0], [1.0, 2.0, float("nan")]),
                                           ([float("inf"), 2.0, 3.0], [1.0, 2.0, 3.0]),
                                           ([1.0, 2.0, 3.0], [1.0, -float("inf"), 3.0]),
                                           ([1.0, None, 3.0], [1.0, 2.0, 3.0])])
def test_a_non_finite_value_on_either_side_is_nan(first, second):
    assert math.isnan(spearman(first, second))


def test_a_constant_side_is_nan_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(spearman([1.0, 2.0, 3.0], [4.0, 4.0, 4.0]))
        assert math.isnan(spearman([7.0, 7.0], [1.0, 2.0]))


@pytest.mark.parametrize("first, second", [([1.0, 2.0, 3.0], [1.0, 2.0]), ([[1.0, 2.0]], [[1.0, 2.0]]),
                                           ([[1.0], [2.0]], [1.0, 2.0])])
def test_shapes_must_match_and_be_one_dimensional(first, second):
    with pytest.raises(ValueError, match="^spearman needs two 1-d arrays of the same length$"):
        spearman(first, second)


def test_values_are_read_as_numbers():
    # "10" sorts after "9" as a number, before it as text
    np.testing.assert_array_equal(average_ranks(["10", "9", "9", "2"]), [4.0, 2.5, 2.5, 1.0])
    assert spearman(["10", "9", "2"], [3, 2, 1]) == 1.0
    assert spearman([3, 1, 2], ["30", "10", "20"]) == 1.0


def test_average_ranks_by_hand():
    np.testing.assert_array_equal(average_ranks([10, 20, 20, 30, 20]), [1.0, 3.0, 3.0, 3.0 + 2.0, 3.0])
    np.testing.assert_array_equal(average_ranks([3.5, 1.0, 2.0]), [3.0, 1.0, 2.0])
    np.testing.assert_array_equal(average_ranks([2.0, 2.0]), [1.5, 1.5])
    assert average_ranks([]).shape == (0,)


def test_average_ranks_and_rho_equal_scipy_on_tie_heavy_data():
    rng = np.random.default_rng(18)
    for _ in range(20):
        x = rng.integers(0, 6, size=40).astype(float)
        y = x + rng.integers(0, 4, size=40)
        np.testing.assert_array_equal(average_ranks(x), scipy.stats.rankdata(x))
        assert spearman(x, y) == pytest.approx(scipy.stats.spearmanr(x, y).statistic, abs=1e-12)
