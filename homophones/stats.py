"""Summary statistics for the homophone check: similarity and rank summaries, and a
Mann-Whitney U test with a rank-biserial effect size and its bootstrap 95% interval."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RANK_CUTOFF = 10
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_BLOCK_VALUES = 1 << 22   # resample counts held at once (values per sample x resamples)


@dataclass(frozen=True)
class SimilarityStats:
    """Cosine similarities of a set of pairs: mean, population std (ddof=0), median, n.
    NaN (``null`` in JSON) when n is 0."""

    mean: float
    std: float
    median: float
    n: int


@dataclass(frozen=True)
class RankStats:
    """Directed ranks (query -> partner, 1 = nearest; both directions of every pair count).

    ``share_within_cutoff``: share of ranks <= ``cutoff``; ``median_share_of_vocabulary``:
    median rank / ``candidates`` (the words a rank can range over: valid words minus the query).
    """

    n: int
    median: float
    mean: float
    cutoff: int
    share_within_cutoff: float
    median_share_of_vocabulary: float
    candidates: int


@dataclass(frozen=True)
class ComparisonTest:
    """Are homophone similarities larger than another group's? One-sided Mann-Whitney U.

    ``effect_size`` is the rank-biserial correlation 2U/(n1 n2) - 1 (Cliff's delta): +1 when
    every homophone pair is more similar than every other pair, 0 for no difference, -1 for the
    reverse. ``ci_low``/``ci_high``: percentile bootstrap 95% interval over ``resamples``
    resamplings of both groups.
    """

    against: str
    test: str
    alternative: str
    statistic: float
    p_value: float
    effect_size: float
    ci_low: float
    ci_high: float
    resamples: int
    n_homophone: int
    n_other: int


def similarity_stats(values) -> SimilarityStats:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not len(values):
        return SimilarityStats(math.nan, math.nan, math.nan, 0)
    return SimilarityStats(float(values.mean()), float(values.std()), float(np.median(values)), int(len(values)))


def rank_stats(ranks, candidates: int, cutoff: int = RANK_CUTOFF) -> RankStats:
    ranks = np.asarray(ranks, dtype=np.float64)
    ranks = ranks[np.isfinite(ranks)]
    if not len(ranks):
        return RankStats(0, math.nan, math.nan, cutoff, math.nan, math.nan, candidates)
    median = float(np.median(ranks))
    return RankStats(int(len(ranks)), median, float(ranks.mean()), cutoff, float(np.mean(ranks <= cutoff)),
                     median / candidates if candidates else math.nan, candidates)


def _u_statistics(first: np.ndarray, second: np.ndarray, first_counts: np.ndarray,
                  second_counts: np.ndarray) -> np.ndarray:
    """Mann-Whitney U of ``first`` over ``second`` for weighted copies of both samples.

    ``first_counts`` (B x n1) and ``second_counts`` (B x n2, in sorted order of ``second``) say
    how often each value occurs in each of B samples: U = sum over first values of (second
    values below it + half of those equal to it), O(B * n) without re-ranking each sample.
    """
    ordered = np.sort(second)
    below = np.searchsorted(ordered, first, side="left")
    up_to = np.searchsorted(ordered, first, side="right")
    cumulative = np.zeros((second_counts.shape[0], len(ordered) + 1))
    np.cumsum(second_counts, axis=1, out=cumulative[:, 1:])
    less, less_or_equal = cumulative[:, below], cumulative[:, up_to]
    return (first_counts * (0.5 * (less + less_or_equal))).sum(axis=1)


EXACT_MAX_PAIRS = 10_000   # n1 * n2 up to which the p-value is exact (no ties): ~n1^2 n2^2 / 4 steps
EXACT_TEST = "mann-whitney-u (exact)"
APPROXIMATE_TEST = "mann-whitney-u (normal approximation, tie and continuity corrected)"


def mann_whitney_greater(first: np.ndarray, second: np.ndarray) -> tuple[float, float, str]:
    """U of ``first``, the one-sided p-value (first > second) and the test's name.

    Without ties and with ``n1 * n2 <= EXACT_MAX_PAIRS`` the p-value is exact (U's null
    distribution, as scipy's ``mannwhitneyu(method='exact')``): the normal approximation is poor
    in the tail of small samples (3 against 3 pairs: 0.040, below the smallest attainable 0.05;
    10 against 10: 9.1e-5 against 5.4e-6 exact). Otherwise the normal approximation with tie and
    continuity correction, as ``method='asymptotic'``. Computed here so that a plain audit does not
    pay scipy.stats' import time."""
    n1, n2 = len(first), len(second)
    u = float(_u_statistics(first, second, np.ones((1, n1)), np.ones((1, n2)))[0])
    n = n1 + n2
    _, ties = np.unique(np.concatenate([first, second]), return_counts=True)
    if n1 * n2 <= EXACT_MAX_PAIRS and not (ties > 1).any():
        return u, _exact_greater(u, n1, n2), EXACT_TEST
    variance = n1 * n2 / 12 * ((n + 1) - float((ties ** 3 - ties).sum()) / (n * (n - 1)))
    if variance <= 0:
        return u, math.nan, APPROXIMATE_TEST
    z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(variance)
    return u, 0.5 * math.erfc(z / math.sqrt(2)), APPROXIMATE_TEST


def _exact_greater(u: float, n1: int, n2: int) -> float:
    """P(U >= u) when no value is tied, all orderings equally likely: U's distribution for
    samples of i and j values follows from where the largest of all i + j values lies: in the
    first sample (probability i / (i + j)) it is above all j others, U = U(i - 1, j) + j; else
    U = U(i, j - 1). Probabilities throughout (a convex combination at each step: no overflow,
    no cancellation)."""
    previous = [np.ones(1)] * (n2 + 1)             # i = 0: U = 0
    for i in range(1, n1 + 1):
        current = [np.ones(1)]                     # j = 0: U = 0
        for j in range(1, n2 + 1):
            dist = np.zeros(i * j + 1)
            dist[j:] = (i / (i + j)) * previous[j]                  # previous[j] has (i - 1) j + 1 values
            dist[:len(current[j - 1])] += (j / (i + j)) * current[j - 1]
            current.append(dist)
        previous = current
    # at most 1: the whole distribution can sum to 1 + 1 ulp (1 against 5 values: 1.0000000000000002)
    return float(min(1.0, previous[n2][math.ceil(u - 1e-9):].sum()))


def _resample_counts(n: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of n values is drawn in each of ``resamples`` draws of n with replacement."""
    draws = rng.integers(0, n, size=(resamples, n)) + n * np.arange(resamples)[:, None]
    return np.bincount(draws.ravel(), minlength=n * resamples).reshape(resamples, n).astype(np.float64)


def compare(homophone, other, against: str, rng: np.random.Generator,
            resamples: int = BOOTSTRAP_RESAMPLES) -> ComparisonTest:
    """One-sided Mann-Whitney U (homophone > other) with a bootstrap interval for the effect."""
    first = np.asarray(homophone, dtype=np.float64)
    second = np.asarray(other, dtype=np.float64)
    first, second = first[np.isfinite(first)], second[np.isfinite(second)]
    n1, n2 = len(first), len(second)
    if n1 < 2 or n2 < 2:
        nan = math.nan
        return ComparisonTest(against, APPROXIMATE_TEST, "greater", nan, nan, nan, nan, nan, resamples, n1, n2)
    u, p_value, name = mann_whitney_greater(first, second)
    # Resampling with replacement = multinomial counts over the original values, drawn in
    # blocks of resamples so the count matrices stay bounded (one block for usual sizes).
    block = max(1, BOOTSTRAP_BLOCK_VALUES // max(n1, n2))
    boot = np.empty(resamples)
    for start in range(0, resamples, block):
        size = min(block, resamples - start)
        first_counts = _resample_counts(n1, size, rng)
        second_counts = _resample_counts(n2, size, rng)
        boot[start:start + size] = 2 * _u_statistics(first, second, first_counts, second_counts) / (n1 * n2) - 1
    low, high = np.percentile(boot, [2.5, 97.5])
    return ComparisonTest(against, name, "greater", u, p_value, 2 * u / (n1 * n2) - 1, float(low), float(high),
                          resamples, n1, n2)
