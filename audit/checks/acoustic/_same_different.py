"""Same-different average precision: every pair of tokens scored, same-word pairs positive.

For large inputs all same-word pairs are scored and the different-word pairs are a seeded
uniform sample, weighted back to their population count, so the estimate stays unbiased.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from audit.checks.acoustic._base import DEFAULT_SEED

DEFAULT_SAMPLE_PAIRS = 2_000_000
CURVE_POINTS = 201


@dataclass(frozen=True)
class SameDifferent:
    average_precision: float
    chance: float                   # share of same-word pairs among all pairs
    pairs_total: int
    same_pairs_total: int
    same_pairs_scored: int
    different_pairs_scored: int
    sampled: bool                   # True: different (and maybe same) pairs are a weighted sample
    score: str                      # what ranks a pair: "cosine" or "-dtw-cost"
    recall: tuple[float, ...]       # precision-recall curve, at most CURVE_POINTS points
    precision: tuple[float, ...]


# ----------------------------------------------------------------------------- average precision
def average_precision(scores: np.ndarray, positive: np.ndarray, weights: np.ndarray | None = None):
    """AP of ranking ``scores`` (higher = more alike) against boolean ``positive``.

    Tied scores form one threshold, exactly as ``sklearn.metrics.average_precision_score``:
    AP = sum over thresholds of (recall step) x precision. Returns (ap, recall, precision)
    with the curve in threshold order (decreasing score).
    """
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    weights = np.ones(len(scores)) if weights is None else np.asarray(weights, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(np.where(positive[order], weights[order], 0.0))
    misses = np.cumsum(np.where(positive[order], 0.0, weights[order]))
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores[order])), len(scores) - 1]
    hits, misses = hits[last_of_tie], misses[last_of_tie]
    if hits[-1] <= 0:
        return math.nan, np.zeros(0), np.zeros(0)
    precision = hits / (hits + misses)
    recall = hits / hits[-1]
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    return ap, recall, precision


def _curve(recall: np.ndarray, precision: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """At most CURVE_POINTS points of the curve, evenly spaced along the thresholds, ends kept."""
    if len(recall) <= CURVE_POINTS:
        pick = np.arange(len(recall))
    else:
        pick = np.unique(np.linspace(0, len(recall) - 1, CURVE_POINTS).round().astype(int))
    return tuple(np.round(recall[pick], 6).tolist()), tuple(np.round(precision[pick], 6).tolist())


# ----------------------------------------------------------------------------- same-different pairs
def pair_counts(label_index: np.ndarray) -> tuple[int, int]:
    """(all token pairs, same-word pairs)."""
    n = len(label_index)
    counts = np.bincount(label_index).astype(np.int64)
    return n * (n - 1) // 2, int(np.sum(counts * (counts - 1) // 2))


def same_word_pairs(label_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair (i < j) of tokens of the same word, grouped by word size."""
    order = np.argsort(label_index, kind="stable")
    counts = np.bincount(label_index)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    firsts, seconds = [], []
    for size in np.unique(counts[counts >= 2]):
        # All words of this size at once: a (words x size) matrix of token indices.
        members = order[starts[counts == size][:, None] + np.arange(size)[None, :]]
        a, b = np.triu_indices(size, 1)
        firsts.append(members[:, a].ravel())
        seconds.append(members[:, b].ravel())
    if not firsts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    i, j = np.concatenate(firsts), np.concatenate(seconds)
    return np.minimum(i, j), np.maximum(i, j)


def sample_pairs_uniform(label_index: np.ndarray, count: int, rng: np.random.Generator, *,
                         same: bool) -> tuple[np.ndarray, np.ndarray]:
    """``count`` pairs drawn uniformly (with replacement) from the same-word or different-word pairs."""
    n = len(label_index)
    if same:
        order = np.argsort(label_index, kind="stable")
        sizes = np.bincount(label_index)
        starts = np.r_[0, np.cumsum(sizes)[:-1]]
        weight = sizes * (sizes - 1) / 2.0
        word = rng.choice(len(sizes), size=count, p=weight / weight.sum())
        a = rng.integers(0, sizes[word])
        b = rng.integers(0, sizes[word] - 1)
        b = b + (b >= a)  # a second, distinct member
        i, j = order[starts[word] + a], order[starts[word] + b]
        return np.minimum(i, j), np.maximum(i, j)
    chunks_i, chunks_j, have = [], [], 0
    while have < count:
        i = rng.integers(0, n, size=2 * (count - have) + 16)
        j = rng.integers(0, n, size=len(i))
        keep = (i != j) & (label_index[i] != label_index[j])
        chunks_i.append(i[keep])
        chunks_j.append(j[keep])
        have += int(keep.sum())
    i, j = np.concatenate(chunks_i)[:count], np.concatenate(chunks_j)[:count]
    return np.minimum(i, j), np.maximum(i, j)


def choose_pairs(label_index: np.ndarray, sample_pairs: int, seed: int):
    """The pairs to score and their weights: all of them when they fit in ``sample_pairs``.

    Otherwise all same-word pairs (or a uniform sample of half the budget when they alone are
    too many) plus a uniform sample of different-word pairs, each weighted by
    population / sample so the weighted precision-recall curve estimates the full one.
    Returns (i, j, same, weights, sampled).
    """
    n = len(label_index)
    total, same_total = pair_counts(label_index)
    if total <= sample_pairs:
        i, j = np.triu_indices(n, 1)
        same = label_index[i] == label_index[j]
        return i, j, same, np.ones(len(i)), False
    rng = np.random.default_rng(seed)
    if same_total <= sample_pairs // 2:
        si, sj = same_word_pairs(label_index)
    else:
        si, sj = sample_pairs_uniform(label_index, sample_pairs // 2, rng, same=True)
    different_count = sample_pairs - len(si)
    di, dj = sample_pairs_uniform(label_index, different_count, rng, same=False)
    weights = np.r_[np.full(len(si), same_total / max(len(si), 1)),
                    np.full(len(di), (total - same_total) / different_count)]
    same = np.r_[np.ones(len(si), bool), np.zeros(len(di), bool)]
    return np.r_[si, di], np.r_[sj, dj], same, weights, True


def cosine_of_pairs(unit: np.ndarray, i: np.ndarray, j: np.ndarray, chunk: int = 1 << 18) -> np.ndarray:
    out = np.empty(len(i), dtype=np.float32)
    for start in range(0, len(i), chunk):
        stop = start + chunk
        out[start:stop] = np.einsum("ij,ij->i", unit[i[start:stop]], unit[j[start:stop]])
    return out


def same_different_from_scores(scores, same, weights, *, total: int, same_total: int, sampled: bool,
                               score: str) -> SameDifferent:
    ap, recall, precision = average_precision(scores, same, weights)
    curve_recall, curve_precision = _curve(recall, precision)
    return SameDifferent(average_precision=ap, chance=same_total / total if total else math.nan,
                         pairs_total=total, same_pairs_total=same_total, same_pairs_scored=int(same.sum()),
                         different_pairs_scored=int((~same).sum()), sampled=sampled, score=score,
                         recall=curve_recall, precision=curve_precision)


def same_different_cosine(unit: np.ndarray, label_index: np.ndarray, *, sample_pairs: int = DEFAULT_SAMPLE_PAIRS,
                          seed: int = DEFAULT_SEED) -> SameDifferent:
    i, j, same, weights, sampled = choose_pairs(label_index, sample_pairs, seed)
    total, same_total = pair_counts(label_index)
    return same_different_from_scores(cosine_of_pairs(unit, i, j), same, weights, total=total,
                                      same_total=same_total, sampled=sampled, score="cosine")
