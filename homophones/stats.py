"""Summary statistics for the homophone check: similarity and rank summaries, and a
Mann-Whitney U test with a rank-biserial effect size and its bootstrap 95% interval."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RANK_CUTOFF = 10
BOOTSTRAP_RESAMPLES = 1000


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


def _rank_biserial(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Rank-biserial correlation along the last axis (average ranks for ties)."""
    from scipy.stats import rankdata

    n1, n2 = first.shape[-1], second.shape[-1]
    ranks = rankdata(np.concatenate([first, second], axis=-1), axis=-1)
    u_first = ranks[..., :n1].sum(axis=-1) - n1 * (n1 + 1) / 2
    return 2 * u_first / (n1 * n2) - 1


def compare(homophone, other, against: str, rng: np.random.Generator,
            resamples: int = BOOTSTRAP_RESAMPLES) -> ComparisonTest:
    """One-sided Mann-Whitney U (homophone > other) with a bootstrap interval for the effect."""
    from scipy.stats import mannwhitneyu

    first = np.asarray(homophone, dtype=np.float64)
    second = np.asarray(other, dtype=np.float64)
    first, second = first[np.isfinite(first)], second[np.isfinite(second)]
    if len(first) < 2 or len(second) < 2:
        nan = math.nan
        return ComparisonTest(against, "mann-whitney-u", "greater", nan, nan, nan, nan, nan, resamples,
                              len(first), len(second))
    test = mannwhitneyu(first, second, alternative="greater")
    effect = float(_rank_biserial(first, second))
    boot_first = first[rng.integers(0, len(first), size=(resamples, len(first)))]
    boot_second = second[rng.integers(0, len(second), size=(resamples, len(second)))]
    low, high = np.percentile(_rank_biserial(boot_first, boot_second), [2.5, 97.5])
    return ComparisonTest(against, "mann-whitney-u", "greater", float(test.statistic), float(test.pvalue), effect,
                          float(low), float(high), resamples, len(first), len(second))
