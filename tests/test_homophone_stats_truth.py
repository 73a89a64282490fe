"""The homophone statistics against scipy, from scratch (issue 18): Mann-Whitney U and its
one-sided p on small and tied samples, the degenerate all-tied case, and the bootstrap
interval recomputed with scipy on the very same resampling draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from homophones.stats import BOOTSTRAP_RESAMPLES, compare, mann_whitney_greater


@pytest.mark.parametrize("first, second", [([2.0], [1.0]), ([1.0], [2.0]), ([1.0, 3.0], [2.0]),
                                           ([1.0, 2.0], [2.0, 3.0]), ([0.5, 0.5, 0.7], [0.5, 0.1]),
                                           ([3.0, 1.0, 2.0, 2.0], [2.0, 2.0, 0.0])])
def test_u_and_p_equal_scipy_on_small_and_tied_samples(first, second):
    u, p = mann_whitney_greater(np.array(first), np.array(second))
    expected = mannwhitneyu(first, second, alternative="greater", method="asymptotic")
    assert u == expected.statistic
    assert p == pytest.approx(expected.pvalue, rel=1e-12)


def test_all_values_tied_has_no_p_value():
    u, p = mann_whitney_greater(np.array([0.3, 0.3]), np.array([0.3, 0.3, 0.3]))
    assert u == 3.0 and math.isnan(p)
    test = compare([0.3, 0.3], [0.3, 0.3, 0.3], "random", np.random.default_rng(0))
    assert math.isnan(test.p_value) and test.effect_size == 0.0


def test_fewer_than_two_values_on_a_side_is_no_test():
    test = compare([0.9, float("nan")], [0.1, 0.2, 0.3], "control", np.random.default_rng(0), resamples=50)
    assert (test.n_homophone, test.n_other, test.resamples, test.against) == (1, 3, 50, "control")
    assert all(math.isnan(v) for v in (test.statistic, test.p_value, test.effect_size, test.ci_low, test.ci_high))


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
