"""The homophone statistics against scipy, from scratch (issue 18): Mann-Whitney U and its
one-sided p on small and tied samples, the degenerate all-tied case, and the bootstrap
interval recomputed with scipy on the very same resampling draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from homophones.stats import (APPROXIMATE_TEST, BOOTSTRAP_RESAMPLES, EXACT_MAX_PAIRS, EXACT_TEST, compare,
                              mann_whitney_greater)


@pytest.mark.parametrize("first, second", [([2.0], [1.0]), ([1.0], [2.0]), ([1.0, 3.0], [2.0]),
                                           ([1.0, 2.0], [2.0]),     # tied, with a variance of 0.5 (< 1)
                                           ([1.0, 2.0], [2.0, 3.0]), ([0.5, 0.5, 0.7], [0.5, 0.1]),
                                           ([3.0, 1.0, 2.0, 2.0], [2.0, 2.0, 0.0])])
def test_u_and_p_equal_scipy_on_small_and_tied_samples(first, second):
    u, p, name = mann_whitney_greater(np.array(first), np.array(second))
    tied = len(set(first + second)) < len(first + second)
    expected = mannwhitneyu(first, second, alternative="greater", method="asymptotic" if tied else "exact")
    assert u == expected.statistic and name == (APPROXIMATE_TEST if tied else EXACT_TEST)
    assert p == pytest.approx(expected.pvalue, rel=1e-12)


@pytest.mark.parametrize("n1, n2, shift", [(3, 3, 1.0), (3, 3, 0.0), (10, 10, 1.5), (4, 9, 0.3), (1, 7, 0.0),
                                           (12, 30, 0.5), (25, 400, 0.2), (100, 100, 0.1)])
def test_without_ties_the_p_value_is_exact_as_scipy_computes_it(n1, n2, shift):
    """The normal approximation was used at every size: 3 against 3 pairs, all homophones above,
    gave p = 0.040, below the smallest p the exact test can give (1 / C(6, 3) = 0.05)."""
    rng = np.random.default_rng(n1 * 1000 + n2)
    first, second = rng.normal(shift, 1, n1), rng.normal(0, 1, n2)
    u, p, name = mann_whitney_greater(first, second)
    expected = mannwhitneyu(first, second, alternative="greater", method="exact")
    assert (u, name) == (expected.statistic, EXACT_TEST)
    assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    u, p, _ = mann_whitney_greater(np.array([0.9, 0.8, 0.7]), np.array([0.1, 0.2, 0.3]))
    assert u == 9 and p == pytest.approx(0.05)
    # U = 0: p is the whole distribution, which sums to 1 + 1 ulp for 1 against 5: never above 1
    u, p, _ = mann_whitney_greater(np.array([0.0]), np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert u == 0 and p == 1.0 == mannwhitneyu([0.0], [1, 2, 3, 4, 5], alternative="greater", method="exact").pvalue


def test_past_the_exact_size_or_with_ties_the_normal_approximation_as_scipy():
    rng = np.random.default_rng(5)
    first, second = rng.normal(0.3, 1, 101), rng.normal(0, 1, 100)      # 101 * 100 > EXACT_MAX_PAIRS
    assert len(first) * len(second) > EXACT_MAX_PAIRS
    u, p, name = mann_whitney_greater(first, second)
    expected = mannwhitneyu(first, second, alternative="greater", method="asymptotic")
    assert (u, name) == (expected.statistic, APPROXIMATE_TEST) and p == pytest.approx(expected.pvalue, rel=1e-12)
    tied = np.round(first[:10], 0), np.round(second[:10], 0)
    u, p, name = mann_whitney_greater(*tied)
    expected = mannwhitneyu(*tied, alternative="greater", method="asymptotic")
    assert name == APPROXIMATE_TEST and p == pytest.approx(expected.pvalue, rel=1e-12)


def test_all_values_tied_has_no_p_value():
    u, p, _ = mann_whitney_greater(np.array([0.3, 0.3]), np.array([0.3, 0.3, 0.3]))
    assert u == 3.0 and math.isnan(p)
    test = compare([0.3, 0.3], [0.3, 0.3, 0.3], "random", np.random.default_rng(0))
    assert math.isnan(test.p_value) and test.effect_size == 0.0


def test_fewer_than_two_values_on_a_side_is_no_test():
    test = compare([0.9, float("nan")], [0.1, 0.2, 0.3], "control", np.random.default_rng(0), resamples=50)
    assert (test.n_homophone, test.n_other, test.resamples, test.against) == (1, 3, 50, "control")
    assert all(math.isnan(v) for v in (test.statistic, test.p_value, test.effect_size, test.ci_low, test.ci_high))


def bootstrap_by_scipy(first, second, seed, resamples, block):
    """The interval from scratch: per block of resamples, n1 then n2 draws with replacement; the
    second group's draws index it in sorted order (the counts are exchangeable, so this is the
    same bootstrap, and it lets the code count each resample's U without re-sorting)."""
    rng = np.random.default_rng(seed)
    second_sorted = np.sort(second)
    effects = []
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        draws_first = rng.integers(0, len(first), size=(size, len(first)))
        draws_second = rng.integers(0, len(second), size=(size, len(second)))
        effects += [2 * mannwhitneyu(first[a], second_sorted[b]).statistic / (len(first) * len(second)) - 1
                    for a, b in zip(draws_first, draws_second)]
    assert len(effects) == resamples
    return np.percentile(effects, [2.5, 97.5])


@pytest.mark.parametrize("block_values, block", [(50, 5), (3, 1), (9 * 61, 61)])
def test_bootstrap_in_several_blocks_equals_scipy_block_by_block(monkeypatch, block_values, block):
    import homophones.stats as stats

    monkeypatch.setattr(stats, "BOOTSTRAP_BLOCK_VALUES", block_values)
    data = np.random.default_rng(3)
    first, second = np.round(data.normal(0.5, 0.2, 9), 1), np.round(data.normal(0.3, 0.2, 7), 1)
    test = compare(first, second, "random", np.random.default_rng(1), resamples=130)
    low, high = bootstrap_by_scipy(first, second, 1, 130, block)
    assert (test.ci_low, test.ci_high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))


def test_names_of_the_test_and_its_direction_on_every_path():
    for first, second, name in (([0.9, 0.8], [0.1, 0.2], EXACT_TEST), ([0.9, 0.8], [0.1, 0.8], APPROXIMATE_TEST),
                                ([0.9], [0.1, 0.2], APPROXIMATE_TEST)):
        test = compare(first, second, "random", np.random.default_rng(0), resamples=20)
        assert (test.test, test.alternative, test.against) == (name, "greater", "random")


def test_two_values_on_each_side_are_a_test():
    test = compare([0.9, 0.8], [0.1, 0.2], "control", np.random.default_rng(0), resamples=20)
    assert test.statistic == 4.0 and test.effect_size == 1.0 and not math.isnan(test.p_value)
    assert (test.n_homophone, test.n_other) == (2, 2)
    test = compare([0.9, 0.8, 0.7], [0.1, 0.2], "control", np.random.default_rng(0), resamples=20)
    assert test.statistic == 6.0 and not math.isnan(test.ci_low)


def test_missing_values_given_as_none_are_left_out():
    from homophones.stats import rank_stats, similarity_stats

    assert rank_stats([3, None, 12], candidates=100).n == 2
    assert similarity_stats([0.5, None]).n == 1 and similarity_stats([0.5, None]).mean == 0.5
    test = compare([0.9, None, 0.8], [0.1, 0.2, None], "random", np.random.default_rng(0), resamples=20)
    assert (test.n_homophone, test.n_other, test.statistic) == (2, 2, 4.0)


@pytest.mark.parametrize("seed", [0, 7])
def test_bootstrap_interval_equals_scipy_on_the_same_draws(seed):
    data = np.random.default_rng(100 + seed)
    first = np.round(data.normal(0.5, 0.2, 9), 1)     # rounded: ties inside and across the groups
    second = np.round(data.normal(0.3, 0.2, 7), 1)
    resamples = 200
    test = compare(first, second, "random", np.random.default_rng(seed), resamples=resamples)
    # the same stream, drawn the documented way: n1 draws with replacement per resample, then n2;
    # the second group's draws index it in sorted order (the counts are exchangeable, so this is
    # the same bootstrap, and it lets the U of each resample be counted without re-sorting)
    rng = np.random.default_rng(seed)
    second_sorted = np.sort(second)
    draws_first = rng.integers(0, len(first), size=(resamples, len(first)))
    draws_second = rng.integers(0, len(second), size=(resamples, len(second)))
    effects = [2 * mannwhitneyu(first[a], second_sorted[b]).statistic / (len(first) * len(second)) - 1
               for a, b in zip(draws_first, draws_second)]
    low, high = np.percentile(effects, [2.5, 97.5])
    assert test.ci_low == pytest.approx(low, abs=1e-12) and test.ci_high == pytest.approx(high, abs=1e-12)
    assert test.resamples == resamples and BOOTSTRAP_RESAMPLES == 1000
    u = mannwhitneyu(first, second).statistic
    assert test.statistic == u and test.effect_size == pytest.approx(2 * u / 63 - 1)
