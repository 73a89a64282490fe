"""Same-different average precision: every pair of tokens scored, same-word pairs positive.

For large inputs all same-word pairs are scored and the different-word pairs are a seeded
uniform sample, weighted back to their population count, so the estimate stays unbiased.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from audit.checks.acoustic._base import DEFAULT_SEED, settle

DEFAULT_SAMPLE_PAIRS = 2_000_000
BELOW_LOWEST = 2e-6   # the best F1's threshold when every pair is called the same: midway to this far below
                      # the lowest score
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
    with the curve in threshold order (decreasing score); NaN and an empty curve when no pair
    is positive (or there is no pair).
    """
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    weights = np.ones(len(scores)) if weights is None else np.asarray(weights, dtype=np.float64)
    if not len(scores):
        return math.nan, np.zeros(0), np.zeros(0)
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
    settle(out)
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


# ----------------------------------------------------------------------------- Kamper's samediff
# The field's reference evaluation (kamperh/speech_dtw, utils/samediff.py; Carlin et al. 2011):
# pairs sorted from most to least alike, non-interpolated average precision, the
# precision-recall breakeven, and variants that count recall over a subset of the same-word
# pairs: same speaker (SWSP) or different speakers (SWDP). As there, precision always counts
# every same-word pair as a hit: an SWSP pair ranked high is not an error under SWDP, it just
# earns no recall. Scores that tie form one threshold for AP and F1 (scikit-learn's convention);
# the breakeven follows samediff.py pair by pair, with a tie's pairs in random order: their hits
# accrue evenly through it (the expected curve), so identical vectors break even at chance.
# Kamper's argsort breaks ties arbitrarily, which only matters for exactly equal scores.
@dataclass(frozen=True)
class SameDiffVariant:
    average_precision: float            # NaN when there is no positive pair of this kind
    precision_recall_breakeven: float
    positive_pairs_total: int           # same-word pairs of this kind among all token pairs
    positive_pairs_scored: int


@dataclass(frozen=True)
class BestF1:
    """Seed 000's figure: F1 of calling "same word" every pair that scores at least ``threshold``
    (midway between the lowest score called the same and the next one)."""

    f1: float
    threshold: float                    # in the units of ``score`` (a cosine for embeddings)
    precision: float
    recall: float


@dataclass(frozen=True)
class SameDiff:
    """Kamper's samediff evaluation, on the pairs of :class:`SameDifferent` (same sample, same weights)."""

    score: str
    sampled: bool
    sw: SameDiffVariant                 # all same-word pairs: the AP equals SameDifferent's
    swsp: SameDiffVariant | None        # None when the tokens have no speakers
    swdp: SameDiffVariant | None        # the honest figure: same word, different speakers
    best_f1: BestF1


class RankedPairs:
    """Scored pairs sorted most alike first, with precision at each distinct score (a tie is one
    threshold); recall over any subset of the same-word pairs is then one cumulative sum."""

    def __init__(self, scores, same, weights=None):
        scores = np.asarray(scores, dtype=np.float64)
        self.order = np.argsort(-scores, kind="stable")
        self.weights = (np.ones(len(scores)) if weights is None else np.asarray(weights, dtype=np.float64))[self.order]
        self.last_of_tie = np.r_[np.flatnonzero(np.diff(scores[self.order])), len(scores) - 1]
        self.thresholds = scores[self.order][self.last_of_tie]
        self.passed = np.cumsum(self.weights)     # weight of the first k pairs, every k
        self.precision = self.hits_of(same) / self.passed[self.last_of_tie]
        self._same = same
        self._pair_precision = None

    def interpolated_pair_precision(self) -> np.ndarray:
        """Pair by pair (ties in random order: expected hits), the best precision from each pair on:
        samediff.py's interpolated precision, shared by every variant (precision counts all
        same-word pairs whatever the variant's recall counts)."""
        if self._pair_precision is None:
            hits, passed = self.expected_hits_per_pair(self._same)
            self._pair_precision = np.maximum.accumulate((hits / passed)[::-1])[::-1]
        return self._pair_precision

    def hits_of(self, positive) -> np.ndarray:
        """Weighted count of ``positive`` pairs scoring at least each threshold."""
        positive = np.asarray(positive, dtype=bool)[self.order]
        return np.cumsum(np.where(positive, self.weights, 0.0))[self.last_of_tie]

    def recall(self, positive) -> np.ndarray:
        found = self.hits_of(positive)
        return found / found[-1] if len(found) and found[-1] > 0 else np.full(len(found), np.nan)

    def expected_hits_per_pair(self, positive) -> tuple[np.ndarray, np.ndarray]:
        """(weighted count of ``positive`` pairs among the first k, weight of the first k) for every
        k, the pairs of a tie taken in random order: expected counts, the tie's hits accruing in
        proportion to the weight passed. Without ties: the plain cumulative counts."""
        hits = np.cumsum(np.where(np.asarray(positive, dtype=bool)[self.order], self.weights, 0.0))
        passed = self.passed
        if len(self.last_of_tie) == len(passed):       # no tie: every pair is its own threshold
            return hits, passed
        # Per tie: hits and weight before it and within it, spread over its pairs by weight passed.
        end_hits, end_weight = hits[self.last_of_tie], passed[self.last_of_tie]
        start_hits, start_weight = np.r_[0.0, end_hits[:-1]], np.r_[0.0, end_weight[:-1]]
        share = (end_hits - start_hits) / (end_weight - start_weight)
        sizes = np.diff(np.r_[-1, self.last_of_tie])
        return (np.repeat(start_hits, sizes) + (passed - np.repeat(start_weight, sizes)) * np.repeat(share, sizes),
                passed)


def samediff_curves(scores, same, recall_positive, weights=None):
    """(precision, recall, thresholds) at each distinct score, most alike first.

    Precision counts ``same`` pairs as hits; recall counts the ``recall_positive`` pairs (a
    subset of ``same``). Weights are the pairs' sampling weights.
    """
    ranked = RankedPairs(scores, same, weights)
    return ranked.precision, ranked.recall(recall_positive), ranked.thresholds


def samediff_variant(scores, same, recall_positive, weights=None, *, total: int,
                     ranked: RankedPairs | None = None) -> SameDiffVariant:
    """Non-interpolated AP and the precision-recall breakeven with recall over ``recall_positive``
    (``ranked``: the pairs already ranked, to share the work between variants)."""
    recall_positive = np.asarray(recall_positive, dtype=bool)
    scored = int(recall_positive.sum())
    if not scored:
        return SameDiffVariant(math.nan, math.nan, total, 0)
    ranked = ranked or RankedPairs(scores, same, weights)
    precision, recall = ranked.precision, ranked.recall(recall_positive)
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    # samediff.py pair by pair: interpolated precision (the best at this recall or beyond) meets
    # recall where their difference is smallest; the breakeven is their mean there. A tie's pairs
    # count in random order (expected hits), not as one point: one point at the tie's end put
    # 24 identical vectors at (1 + chance) / 2.
    found, _ = ranked.expected_hits_per_pair(recall_positive)
    pair_recall = found / found[-1]
    interpolated = ranked.interpolated_pair_precision()
    closest = int(np.argmin(np.abs(pair_recall - interpolated)))
    prb = float((pair_recall[closest] + interpolated[closest]) / 2)
    return SameDiffVariant(average_precision=ap, precision_recall_breakeven=prb, positive_pairs_total=total,
                           positive_pairs_scored=scored)


def best_f1(scores, same, weights=None, *, ranked: RankedPairs | None = None) -> BestF1:
    """The highest F1 over thresholds (a pair is called "same" when it scores at least the threshold)."""
    ranked = ranked or RankedPairs(scores, same, weights)
    precision, recall, thresholds = ranked.precision, ranked.recall(same), ranked.thresholds
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    if not len(f1) or np.all(np.isnan(f1)):
        return BestF1(math.nan, math.nan, math.nan, math.nan)
    best = int(np.nanargmax(f1))   # the first (strictest) threshold among equals
    # Reported midway to the next lower score, so "score >= threshold" reproduces the F1 from
    # scores recomputed in other arithmetic (float64 cosines of the float32 vectors differ in
    # the 8th digit); below the lowest score when every pair is called the same.
    below = thresholds[best + 1] if best + 1 < len(thresholds) else thresholds[best] - BELOW_LOWEST
    threshold = float((thresholds[best] + below) / 2)
    return BestF1(f1=float(f1[best]), threshold=threshold, precision=float(precision[best]),
                  recall=float(recall[best]))


def same_speaker_pair_count(label_index: np.ndarray, speaker_index: np.ndarray) -> int:
    """Same-word pairs spoken by the same speaker, among all token pairs."""
    groups = label_index.astype(np.int64) * (int(speaker_index.max()) + 1) + speaker_index
    counts = np.bincount(groups).astype(np.int64)
    return int(np.sum(counts * (counts - 1) // 2))


def samediff_from_pairs(scores, i, j, same, weights, label_index, speaker_index, *, sampled: bool,
                        score: str) -> SameDiff:
    """Kamper's evaluation of scored pairs (i, j); ``speaker_index`` None leaves SWSP/SWDP out."""
    _, same_total = pair_counts(label_index)
    same = np.asarray(same, dtype=bool)
    ranked = RankedPairs(scores, same, weights)     # one sort and one precision curve for every figure
    sw = samediff_variant(scores, same, same, total=same_total, ranked=ranked)
    swsp = swdp = None
    if speaker_index is not None:
        same_speaker = same & (speaker_index[np.asarray(i)] == speaker_index[np.asarray(j)])
        swsp_total = same_speaker_pair_count(label_index, speaker_index)
        swsp = samediff_variant(scores, same, same_speaker, total=swsp_total, ranked=ranked)
        swdp = samediff_variant(scores, same, same & ~same_speaker, total=same_total - swsp_total, ranked=ranked)
    return SameDiff(score=score, sampled=sampled, sw=sw, swsp=swsp, swdp=swdp,
                    best_f1=best_f1(scores, same, ranked=ranked))


def samediff_cosine(unit: np.ndarray, label_index: np.ndarray, speaker_index: np.ndarray | None = None, *,
                    sample_pairs: int = DEFAULT_SAMPLE_PAIRS, seed: int = DEFAULT_SEED) -> SameDiff:
    """Kamper's samediff of cosine scores on the pairs :func:`same_different_cosine` scores."""
    i, j, same, weights, sampled = choose_pairs(label_index, sample_pairs, seed)
    return samediff_from_pairs(cosine_of_pairs(unit, i, j), i, j, same, weights, label_index, speaker_index,
                               sampled=sampled, score="cosine")
