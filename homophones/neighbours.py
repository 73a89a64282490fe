"""One pass over the vocabulary for many query words: k nearest neighbours and target ranks.

The homophone check needs, for every homophone word, its k nearest neighbours and the rank of
its partner and of a control word. ``Vectors.nearest`` and ``Vectors.ranks`` each score every
query against the whole vocabulary again (and ``nearest``'s ``argpartition`` over full rows
dominates at 400k words), so this module scores each query once: it walks the vocabulary in
chunks of rows, multiplies each chunk by all query vectors into one reused buffer (bounded
memory, cache-sized), counts the words above each target's similarity and keeps a running
top-k that only admits words at least as similar as the current k-th best.

Semantics match ``Vectors.ranks``/``nearest``: the query itself and invalid rows never count
or appear; rank = 1 + the number of words more similar than the target. Two differences, both
written down: a word counts as more similar only when its cosine exceeds the target's by more
than :data:`TIE_TOLERANCE` (the target's cosine is computed in float64, the chunk scores in
float32, so exact ties such as identical homophone vectors must not depend on rounding), and
neighbour ties are broken by the word itself, not the row, so the answer does not depend on the
vocabulary order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.vectors import Vectors

# float32 dot products of unit vectors carry rounding error of about dim * 6e-8 at worst;
# 1e-5 covers 300 dimensions with room to spare and is far below any meaningful cosine gap.
TIE_TOLERANCE = 1e-5
DEFAULT_BLOCK_BYTES = 64 * 1024 * 1024
MAX_QUERIES_PER_PASS = 4096
# Rows per chunk: enough that one matrix product is efficient, few enough that the score
# buffer stays in the last-level cache for small query sets.
MIN_CHUNK_ROWS, MAX_CHUNK_ROWS = 1024, 32768


@dataclass(frozen=True)
class NeighbourScan:
    """``ranks[i, j]``: rank of ``targets[i, j]`` for query ``i`` (NaN where no target);
    ``neighbours`` / ``similarities``: the k nearest rows of each query, best first
    (-1 / NaN where fewer than k words exist)."""

    ranks: np.ndarray
    neighbours: np.ndarray
    similarities: np.ndarray


def scan(vectors: Vectors, queries: np.ndarray, targets: np.ndarray, k: int, *,
         block_bytes: int = DEFAULT_BLOCK_BYTES) -> NeighbourScan:
    """Ranks of ``targets`` (shape: queries x slots, -1 = empty slot) and k nearest neighbours.

    Every query row must be valid (the caller filters); invalid targets get NaN.
    """
    queries = np.asarray(queries, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64).reshape(len(queries), -1)
    ranks = np.full(targets.shape, np.nan)
    neighbours = np.full((len(queries), k), -1, dtype=np.int64)
    similarities = np.full((len(queries), k), np.nan)
    for start in range(0, len(queries), MAX_QUERIES_PER_PASS):
        part = slice(start, start + MAX_QUERIES_PER_PASS)
        ranks[part], neighbours[part], similarities[part] = _scan_pass(
            vectors, queries[part], targets[part], k, block_bytes)
    return NeighbourScan(ranks, neighbours, similarities)


def _thresholds(vectors: Vectors, queries: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Cosine each word must beat to outrank the target; +inf for empty or invalid slots."""
    rows = np.repeat(queries, targets.shape[1])
    flat = targets.ravel()
    usable = (flat >= 0) & (flat != rows)
    cosine = np.full(flat.shape, np.nan)
    cosine[usable] = vectors.pair_similarities(rows[usable], flat[usable])
    thresholds = np.where(np.isfinite(cosine), cosine + TIE_TOLERANCE, np.inf)
    return thresholds.reshape(targets.shape).astype(np.float32)


def _scan_pass(vectors, queries, targets, k, block_bytes):
    unit, valid, words = vectors.unit, vectors.valid, vectors.words
    thresholds = _thresholds(vectors, queries, targets)
    query_matrix = np.ascontiguousarray(unit[queries].T)
    chunk_rows = int(np.clip(block_bytes // (4 * max(1, len(queries))), MIN_CHUNK_ROWS, MAX_CHUNK_ROWS))
    buffer = np.empty((chunk_rows, len(queries)), dtype=np.float32)
    better = np.zeros(targets.shape, dtype=np.int64)
    top = _TopK(len(queries), k, words)
    query_positions = np.arange(len(queries))
    any_invalid = not valid.all()
    for chunk_start in range(0, len(vectors), chunk_rows):
        chunk_end = min(chunk_start + chunk_rows, len(vectors))
        scores = buffer[:chunk_end - chunk_start]
        np.matmul(unit[chunk_start:chunk_end], query_matrix, out=scores)
        if any_invalid:
            scores[~valid[chunk_start:chunk_end]] = -np.inf
        inside = (queries >= chunk_start) & (queries < chunk_end)
        scores[queries[inside] - chunk_start, query_positions[inside]] = -np.inf  # never count the query itself
        for slot in range(targets.shape[1]):
            better[:, slot] += np.count_nonzero(scores > thresholds[:, slot], axis=0)
        top.update(scores, chunk_start)
    ranks = np.where(np.isfinite(thresholds), better + 1, np.nan)
    return ranks, *top.result()


class _TopK:
    """Running k best (similarity, word) per query, ties broken by the word's text."""

    def __init__(self, n_queries: int, k: int, words):
        self.k, self.words = k, words
        self.rows = np.full((n_queries, k), -1, dtype=np.int64)
        self.sims = np.full((n_queries, k), -np.inf, dtype=np.float32)

    def update(self, scores: np.ndarray, offset: int) -> None:
        # Admit only words at least as similar as the current k-th best (ties may win on the
        # word), so after the first chunk very few candidates reach the sort below.
        kth = self.sims[:, -1]
        admit = (scores >= kth) & (scores > -np.inf)
        if np.count_nonzero(admit) > 8 * self.k * scores.shape[1]:  # typically the first chunk only
            depth = min(self.k, len(scores)) - 1
            kth = np.maximum(kth, -np.partition(-scores, depth, axis=0)[depth])
            admit = (scores >= kth) & (scores > -np.inf)
        local, query = np.nonzero(admit)
        if not len(local):
            return
        held_query, held_slot = np.nonzero(self.rows >= 0)
        query = np.concatenate([held_query, query])
        rows = np.concatenate([self.rows[held_query, held_slot], local + offset])
        sims = np.concatenate([self.sims[held_query, held_slot], scores[local, query[len(held_query):]]])
        text = np.array([self.words[r] for r in rows])
        order = np.lexsort((text, -sims, query))
        query, rows, sims = query[order], rows[order], sims[order]
        first = np.searchsorted(query, query, side="left")
        slot = np.arange(len(query)) - first
        keep = slot < self.k
        self.rows[query[keep], slot[keep]] = rows[keep]
        self.sims[query[keep], slot[keep]] = sims[keep]

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        sims = np.where(self.rows >= 0, self.sims.astype(np.float64), np.nan)
        return self.rows.copy(), sims
