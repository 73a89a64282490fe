"""Query-by-example retrieval: every token queries all the others (mAP, MRR, recall@k).

Tied scores count against the query (a relevant item is ranked below every item that scores
the same), so identical vectors never flatter a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from audit.checks.acoustic._base import BLOCK_ROWS
from audit.core.errors import AuditError

RETRIEVAL_KS = (1, 5, 10)
# Above this share of a block's scores reaching a row's lowest relevant score, ranks are
# counted with one full pass per relevant slot instead of binning the candidates.
CANDIDATE_SHARE = 0.15
# Above this many relevant tokens per query (the largest word in a block), rows are sorted.
SORT_ABOVE_SLOTS = 24


@dataclass(frozen=True)
class Retrieval:
    mean_average_precision: float
    mean_reciprocal_rank: float
    recall_at: dict[str, float]     # "1", "5", "10" -> mean share of relevant tokens in the top k
    queries: int
    # the most recall@k can be: mean over queries of min(k, relevant) / relevant (a perfect ranking
    # of a word with 5 other tokens scores recall@1 = 0.2); empty in results written before it
    recall_ceiling: dict[str, float] = field(default_factory=dict)


# ----------------------------------------------------------------------------- query by example
def query_ranks(unit: np.ndarray, label_index: np.ndarray, block_rows: int = BLOCK_ROWS):
    """Yield (queries, relevant scores, their ranks, valid mask) block by block.

    A relevant item's rank is the number of other tokens scoring at least as high as it
    (itself included), so ties rank it last among its equals. Queries are taken in order of
    their word's token count, so a block's width (its largest word) stays homogeneous.
    """
    n = len(label_index)
    order = np.argsort(label_index, kind="stable")
    counts = np.bincount(label_index)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    by_size = np.argsort(counts[label_index], kind="stable")
    for start in range(0, n, block_rows):
        queries = by_size[start:start + block_rows]
        words = label_index[queries]
        width = int(counts[words].max())
        slots = np.arange(width)[None, :]
        inside = slots < counts[words][:, None]
        relevant = np.where(inside, order[np.minimum(starts[words][:, None] + slots, n - 1)], -1)
        scores = unit[queries] @ unit.T
        scores[np.arange(len(queries)), queries] = -np.inf   # a query never retrieves itself
        valid = inside & (relevant != queries[:, None])
        thresholds = np.where(valid, np.take_along_axis(scores, np.maximum(relevant, 0), axis=1), np.inf)
        yield queries, thresholds, _count_at_least(scores, thresholds), valid


def _count_at_least(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each row r and slot k: how many scores[r] are >= thresholds[r, k] (inf slots: 0)."""
    if thresholds.shape[1] > SORT_ABOVE_SLOTS:
        # Words with many tokens: sorting each row once beats one pass per relevant token.
        ordered = np.sort(scores, axis=1)
        counts = np.empty(thresholds.shape, dtype=np.int64)
        for row in range(len(scores)):
            counts[row] = scores.shape[1] - np.searchsorted(ordered[row], thresholds[row], side="left")
        return counts
    order = np.argsort(thresholds, axis=1, kind="stable")
    ascending = np.take_along_axis(thresholds, order, axis=1)
    reached = scores >= ascending[:, :1]    # only these can reach any threshold of the row
    candidates = int(np.count_nonzero(reached))
    counts = np.zeros(thresholds.shape, dtype=np.int64)
    if candidates > CANDIDATE_SHARE * scores.size:
        # Poorly separated words: one comparison pass over the block per relevant slot.
        for slot in range(thresholds.shape[1]):
            if np.isfinite(thresholds[:, slot]).any():
                counts[:, slot] = np.count_nonzero(scores >= thresholds[:, slot:slot + 1], axis=1)
        return counts
    # Well separated words: few scores reach the lowest threshold; bin just those.
    rows, cols = np.nonzero(reached)
    values = scores[rows, cols]
    passed = np.zeros(len(values), dtype=np.int64)    # thresholds of its row each value reaches
    for slot in range(ascending.shape[1]):
        passed += values >= ascending[rows, slot]
    width = ascending.shape[1] + 1
    histogram = np.bincount(rows * width + passed, minlength=len(scores) * width).reshape(len(scores), width)
    # Scores >= the k-th smallest threshold are those that reach more than k thresholds.
    at_least = np.cumsum(histogram[:, ::-1], axis=1)[:, ::-1][:, 1:]
    np.put_along_axis(counts, order, at_least, axis=1)
    return counts


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


def retrieval(unit: np.ndarray, label_index: np.ndarray, ks=RETRIEVAL_KS,
              block_rows: int = BLOCK_ROWS) -> Retrieval:
    """Each token queries all the others: mAP, MRR and recall@k over the queries."""
    ap_sum = rr_sum = 0.0
    recall_sums = np.zeros(len(ks))
    ceiling_sums = np.zeros(len(ks))
    queries_scored = 0
    for queries, thresholds, ranks, valid in query_ranks(unit, label_index, block_rows):
        has_relevant = valid.any(axis=1)
        relevant_count = valid.sum(axis=1)
        at_least = _relevant_at_least(thresholds, relevant_count)
        precision = np.where(valid, at_least / np.maximum(ranks, 1), 0.0)
        ap = precision.sum(axis=1)[has_relevant] / relevant_count[has_relevant]
        first_rank = np.where(valid, ranks, np.iinfo(np.int64).max).min(axis=1)[has_relevant]
        ap_sum += ap.sum()
        rr_sum += (1.0 / first_rank).sum()
        for slot, k in enumerate(ks):
            hits = ((ranks <= k) & valid).sum(axis=1)[has_relevant]
            recall_sums[slot] += (hits / relevant_count[has_relevant]).sum()
            ceiling_sums[slot] += (np.minimum(k, relevant_count[has_relevant]) / relevant_count[has_relevant]).sum()
        queries_scored += int(has_relevant.sum())
    if not queries_scored:
        raise AuditError("no token has another token of its word, so retrieval cannot be scored.")
    return Retrieval(mean_average_precision=ap_sum / queries_scored, mean_reciprocal_rank=rr_sum / queries_scored,
                     recall_at={str(k): float(v / queries_scored) for k, v in zip(ks, recall_sums)},
                     queries=queries_scored,
                     recall_ceiling={str(k): float(v / queries_scored) for k, v in zip(ks, ceiling_sums)})
