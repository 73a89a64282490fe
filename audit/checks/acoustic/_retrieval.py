"""Query-by-example retrieval: every token queries all the others (mAP, MRR, recall@k).

Tied scores: mAP takes each tie as one threshold (precision at its end, scikit-learn's
convention, as the same-different AP does); MRR and recall@k are their expected values when the
tied items are put in random order. So identical vectors score chance on every figure: never
above it, and never below what some ordering of the ties could give (counting every tie against
the query had put MRR at 1/23 for 5 relevant tokens among 23 tied, below the worst ordering's 1/19).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from audit.checks.acoustic._base import BLOCK_ROWS, settle
from audit.core.errors import AuditError

RETRIEVAL_KS = (1, 5, 10)
# Above this share of a block's scores reaching a row's lowest relevant score, ranks are
# counted with one full pass per relevant slot instead of binning the candidates.
CANDIDATE_SHARE = 0.15
# Above this many relevant tokens per query (the largest word in a block), rows are sorted.
SORT_ABOVE_SLOTS = 24
DEFAULT_MAX_QUERIES = 20_000   # QbE queries scored at most (a seeded sample above): each costs a pass over all tokens
# A block's cells: queries x tokens for the scores (a few float32 copies, ~10 bytes a cell) and
# queries x its largest word's tokens for the per-relevant-token arrays (~100 bytes a cell): at
# most about 200 and 400 MB whatever the input (one word of 90,000 among 100,000 tokens took
# 6.7 GB in blocks of 1024 queries).
SCORE_CELLS = 16 << 20
SLOT_CELLS = 4 << 20


@dataclass(frozen=True)
class Retrieval:
    mean_average_precision: float
    mean_reciprocal_rank: float
    recall_at: dict[str, float]     # "1", "5", "10" -> mean share of relevant tokens in the top k
    queries: int
    # the most recall@k can be: mean over queries of min(k, relevant) / relevant (a perfect ranking
    # of a word with 5 other tokens scores recall@1 = 0.2); empty in results written before it
    recall_ceiling: dict[str, float] = field(default_factory=dict)
    # Added later (defaults for results written before): every token with another token of its
    # word queries (queries_total = queries), or a seeded uniform sample of them above max_queries.
    queries_total: int | None = None
    sampled: bool = False


# ----------------------------------------------------------------------------- query by example
def query_ranks(unit: np.ndarray, label_index: np.ndarray, block_rows: int = BLOCK_ROWS):
    """Yield (queries, relevant scores, their ranks, valid mask) block by block.

    A relevant item's rank is the number of other tokens scoring at least as high as it
    (itself included), so ties rank it last among its equals. Queries are taken in order of
    their word's token count, so a block's width (its largest word) stays homogeneous.
    """
    for queries, scores, thresholds, valid in _query_blocks(unit, label_index, block_rows):
        yield queries, thresholds, _count_at_least(scores, thresholds), valid


def _query_blocks(unit: np.ndarray, label_index: np.ndarray, block_rows: int, chosen: np.ndarray | None = None):
    """Yield (queries, their scores against every token (themselves -inf), relevant scores
    (inf where no slot), valid mask) block by block, as :func:`query_ranks` takes them
    (``chosen``: only these tokens query; every token is still a candidate)."""
    n = len(label_index)
    order = np.argsort(label_index, kind="stable")
    counts = np.bincount(label_index)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    pool = np.arange(n) if chosen is None else np.sort(np.asarray(chosen))
    by_size = pool[np.argsort(counts[label_index[pool]], kind="stable")]
    total = len(by_size)
    start = 0
    while start < total:
        # Fewer rows when the tokens or the block's largest word are many (the last word of a
        # block is its largest): memory stays bounded whatever the word sizes.
        rows = max(1, min(block_rows, SCORE_CELLS // n))
        rows = max(1, min(rows, SLOT_CELLS // int(counts[label_index[by_size[min(start + rows, total) - 1]]])))
        queries = by_size[start:start + rows]
        start += rows
        words = label_index[queries]
        width = int(counts[words].max())
        slots = np.arange(width)[None, :]
        inside = slots < counts[words][:, None]
        relevant = np.where(inside, order[np.minimum(starts[words][:, None] + slots, n - 1)], -1)
        scores = settle(unit[queries] @ unit.T)
        scores[np.arange(len(queries)), queries] = -np.inf   # a query never retrieves itself
        valid = inside & (relevant != queries[:, None])
        thresholds = np.where(valid, np.take_along_axis(scores, np.maximum(relevant, 0), axis=1), np.inf)
        yield queries, scores, thresholds, valid


def _count_at_least(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each row r and slot k: how many scores[r] are >= thresholds[r, k] (inf slots: 0)."""
    return _rank_counts(scores, thresholds, above=False)[0]


def _rank_counts(scores: np.ndarray, thresholds: np.ndarray, *, above: bool = True):
    """For each row r and slot k: how many scores[r] are >= thresholds[r, k] and, with ``above``,
    how many are > it (else None); inf slots: 0. Both from one pass over the candidates."""
    shape = thresholds.shape
    if shape[1] > SORT_ABOVE_SLOTS:
        # Words with many tokens: sorting each row's scores that reach its lowest threshold (the
        # only ones any threshold counts) beats one pass per relevant token, and sorting them all.
        lowest = thresholds.min(axis=1)
        at_least = np.zeros(shape, dtype=np.int64)
        higher = np.zeros(shape, dtype=np.int64) if above else None
        for row in range(len(scores)):
            if not np.isfinite(lowest[row]):
                continue                                   # no relevant slot: every count is 0
            ordered = np.sort(scores[row][scores[row] >= lowest[row]])
            needles = np.argsort(thresholds[row])    # searched in order: numpy's search narrows as keys rise
            keys = thresholds[row][needles]
            at_least[row, needles] = len(ordered) - np.searchsorted(ordered, keys, side="left")
            if above:
                higher[row, needles] = len(ordered) - np.searchsorted(ordered, keys, side="right")
        return at_least, higher
    order = np.argsort(thresholds, axis=1, kind="stable")
    ascending = np.take_along_axis(thresholds, order, axis=1)
    reached = scores >= ascending[:, :1]    # only these can reach any threshold of the row
    candidates = int(np.count_nonzero(reached))
    at_least = np.zeros(shape, dtype=np.int64)
    higher = np.zeros(shape, dtype=np.int64) if above else None
    if candidates > CANDIDATE_SHARE * scores.size:
        # Poorly separated words: one comparison pass over the block per relevant slot.
        for slot in range(shape[1]):
            if np.isfinite(thresholds[:, slot]).any():
                column = thresholds[:, slot:slot + 1]
                at_least[:, slot] = np.count_nonzero(scores >= column, axis=1)
                if above:
                    higher[:, slot] = at_least[:, slot] - np.count_nonzero(scores == column, axis=1)
        return at_least, higher
    # Well separated words: few scores reach the lowest threshold; bin just those.
    rows, cols = np.nonzero(reached)
    values = scores[rows, cols]
    width = ascending.shape[1] + 1
    # Scores >= (or >) the k-th smallest threshold are those that reach (pass) more than k thresholds.
    for counts, compare in ((at_least, np.greater_equal), (higher, np.greater)):
        if counts is None:
            continue
        passed = np.zeros(len(values), dtype=np.int64)    # thresholds of its row each value reaches
        for slot in range(ascending.shape[1]):
            passed += compare(values, ascending[rows, slot])
        histogram = np.bincount(rows * width + passed, minlength=len(scores) * width).reshape(len(scores), width)
        np.put_along_axis(counts, order, np.cumsum(histogram[:, ::-1], axis=1)[:, ::-1][:, 1:], axis=1)
    return at_least, higher


def _relevant_at_least(thresholds: np.ndarray, relevant_count: np.ndarray) -> np.ndarray:
    """For each relevant item: how many relevant items of its query score at least as high."""
    order = np.argsort(thresholds, axis=1, kind="stable")       # ascending, invalid (inf) last
    ascending = np.take_along_axis(thresholds, order, axis=1)
    slots = np.arange(thresholds.shape[1])[None, :]
    new_value = np.ones(thresholds.shape, dtype=bool)
    new_value[:, 1:] = ascending[:, 1:] != ascending[:, :-1]
    first_equal = np.maximum.accumulate(np.where(new_value, slots, 0), axis=1)
    out = np.empty(thresholds.shape, dtype=np.int64)
    np.put_along_axis(out, order, relevant_count[:, None] - first_equal, axis=1)
    return out


def expected_reciprocal_rank(above: np.ndarray, tied: np.ndarray, relevant_tied: np.ndarray) -> np.ndarray:
    """1 / rank of the first relevant item, its expected value when ties are ordered at random.

    Per query: ``above`` items score higher than its best relevant item (none relevant),
    ``tied`` score the same (that item included), ``relevant_tied`` of those are relevant. The
    first relevant one lands at ``above + J``, J the smallest of ``relevant_tied`` positions
    drawn at random among ``tied``: P(J = 1) = r / g, P(J = j + 1) = P(J = j) (g - j - r + 1) / (g - j).
    """
    above, tied, r = (np.asarray(a, dtype=np.int64) for a in (above, tied, relevant_tied))
    out = 1.0 / (above + 1.0)                      # no irrelevant item tied: the first is next
    for q in np.flatnonzero(tied > r):
        g, k, a = int(tied[q]), int(r[q]), int(above[q])
        j = np.arange(1, g - k + 2, dtype=np.float64)
        ratios = (g - j[:-1] - k + 1) / (g - j[:-1])
        chance = (k / g) * np.r_[1.0, np.cumprod(ratios)]
        out[q] = float(np.sum(chance / (a + j)))
    return out


def retrieval(unit: np.ndarray, label_index: np.ndarray, ks=RETRIEVAL_KS,
              block_rows: int = BLOCK_ROWS, *, max_queries: int | None = None, seed: int = 0) -> Retrieval:
    """Each token queries all the others: mAP, MRR and recall@k over the queries (ties: see the module).

    Every query costs a pass over all tokens, so above ``max_queries`` possible queries (tokens
    with another token of their word) a seeded uniform sample of that many queries is taken: the
    means are then unbiased estimates (every token stays a candidate)."""
    counts = np.bincount(label_index)
    possible = np.flatnonzero(counts[label_index] > 1)
    chosen, sampled = None, False
    if max_queries is not None and len(possible) > max_queries:
        chosen = np.random.default_rng(seed).choice(possible, size=max_queries, replace=False)
        sampled = True
    ap_sum = rr_sum = 0.0
    recall_sums = np.zeros(len(ks))
    ceiling_sums = np.zeros(len(ks))
    queries_scored = 0
    for queries, scores, thresholds, valid in _query_blocks(unit, label_index, block_rows, chosen):
        has_relevant = valid.any(axis=1)
        if not has_relevant.any():
            continue
        ranks, above = _rank_counts(scores, thresholds)   # scoring at least as high (itself included); higher
        tied = ranks - above                                         # at its score, itself included
        relevant_count = valid.sum(axis=1)
        at_least = _relevant_at_least(thresholds, relevant_count)
        precision = np.where(valid, at_least / np.maximum(ranks, 1), 0.0)
        ap = precision.sum(axis=1)[has_relevant] / relevant_count[has_relevant]
        relevant_scores = np.where(valid, thresholds, -np.inf)
        top = np.argmax(relevant_scores, axis=1)                   # each query's best relevant item
        rows = np.arange(len(queries))
        relevant_tied = (valid & (thresholds == relevant_scores[rows, top][:, None])).sum(axis=1)
        rr = expected_reciprocal_rank(above[rows, top], tied[rows, top], relevant_tied)[has_relevant]
        ap_sum += ap.sum()
        rr_sum += rr.sum()
        for slot, k in enumerate(ks):
            # Each relevant item is in the top k with probability (k - above) / tied, clipped to [0, 1].
            inside = np.where(valid, np.clip((k - above) / np.maximum(tied, 1), 0.0, 1.0), 0.0)
            recall_sums[slot] += (inside.sum(axis=1)[has_relevant] / relevant_count[has_relevant]).sum()
            ceiling_sums[slot] += (np.minimum(k, relevant_count[has_relevant]) / relevant_count[has_relevant]).sum()
        queries_scored += int(has_relevant.sum())
    if not queries_scored:
        raise AuditError("no token has another token of its word, so retrieval cannot be scored.")
    return Retrieval(mean_average_precision=ap_sum / queries_scored, mean_reciprocal_rank=rr_sum / queries_scored,
                     recall_at={str(k): float(v / queries_scored) for k, v in zip(ks, recall_sums)},
                     queries=queries_scored,
                     recall_ceiling={str(k): float(v / queries_scored) for k, v in zip(ks, ceiling_sums)},
                     queries_total=int(len(possible)), sampled=sampled)
