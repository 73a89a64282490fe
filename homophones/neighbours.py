"""One pass over the vocabulary for many query words: k nearest neighbours and target ranks.

The homophone check needs, for every homophone word, its k nearest neighbours and the rank of
its partner and of a control word. ``Vectors.nearest`` and ``Vectors.ranks`` each score every
query against the whole vocabulary again (and ``nearest``'s ``argpartition`` over full rows
dominates at 400k words), so this module scores each query once: it walks the vocabulary in
chunks of rows, multiplies each chunk by all query vectors into one reused buffer (bounded
memory, cache-sized), counts the words above each target's similarity and keeps a running
top-k that only admits words at least as similar as the current k-th best. The chunks are
shared out among one thread per core (every step is a whole-chunk numpy call that releases the
GIL; BLAS is held to one thread meanwhile), each with its own buffers, counts and top-k,
merged at the end. Which chunks exist does not depend on the number of threads, so neither
does the result.

Semantics match ``Vectors.ranks``/``nearest``: the query itself and invalid rows never count
or appear; rank = 1 + the number of words more similar than the target. Two differences, both
written down: a word counts as more similar only when its cosine exceeds the target's by more
than :data:`TIE_TOLERANCE` (the target's cosine is computed in float64, the chunk scores in
float32, so exact ties such as identical homophone vectors must not depend on rounding), and
neighbour ties are broken by the word itself, not the row, so the answer does not depend on the
vocabulary order.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from audit.core.vectors import Vectors

# float32 dot products of unit vectors carry rounding error of about dim * 6e-8 at worst;
# 1e-5 covers 300 dimensions with room to spare and is far below any meaningful cosine gap.
TIE_TOLERANCE = 1e-5
DEFAULT_BLOCK_BYTES = 64 * 1024 * 1024
MAX_QUERIES_PER_PASS = 4096
# Rows per chunk: a multiple of 8 (the counting reads 8 comparison bytes as one uint64) and
# at most 8 * 255, so no byte lane of those sums can overflow; small enough that a few hundred
# queries' scores stay in the cache, large enough that the matrix product is efficient.
MAX_CHUNK_ROWS = 8 * 255
SCAN_WORKERS = min(os.cpu_count() or 1, 4)


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
        ranks[part], neighbours[part] = _scan_pass(vectors, queries[part], targets[part], k, block_bytes)
    # Report float64 cosines (as pair_similarities does) rather than the float32 chunk scores,
    # whose last bits depend on where a row sits in the matrix.
    found = neighbours >= 0
    similarities[found] = vectors.pair_similarities(np.broadcast_to(queries[:, None], neighbours.shape)[found],
                                                    neighbours[found])
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
    unit, valid = vectors.unit, vectors.valid
    thresholds = _thresholds(vectors, queries, targets)
    query_rows = np.ascontiguousarray(unit[queries])
    chunk_rows = int(np.clip(block_bytes // (4 * max(1, len(queries))), 8, MAX_CHUNK_ROWS)) // 8 * 8
    bounds = [*range(0, len(vectors), chunk_rows), len(vectors)]
    chunks = list(zip(bounds[:-1], bounds[1:]))
    query_positions = np.arange(len(queries))
    any_invalid = not valid.all()

    def work(my_chunks):
        # Scores are (queries x chunk) so that each query's scores are one contiguous row.
        buffer = np.empty((len(queries), chunk_rows), dtype=np.float32)
        mask = np.empty((len(queries), chunk_rows), dtype=bool)
        better = np.zeros(targets.shape, dtype=np.int64)
        top = _TopK(len(queries), k, vectors.words)
        for chunk_start, chunk_end in my_chunks:
            width = chunk_end - chunk_start
            padded = -(-width // 8) * 8
            scores = buffer[:, :padded]
            np.matmul(query_rows, unit[chunk_start:chunk_end].T, out=buffer[:, :width])
            scores[:, width:] = -np.inf   # padding never counts or enters the top-k
            if any_invalid:
                scores[:, :width][:, ~valid[chunk_start:chunk_end]] = -np.inf
            inside = (queries >= chunk_start) & (queries < chunk_end)
            scores[query_positions[inside], queries[inside] - chunk_start] = -np.inf  # never count the query itself
            for slot in range(targets.shape[1]):
                better[:, slot] += _count_above(scores, thresholds[:, slot], mask[:, :padded])
            top.update(scores, chunk_start)
        return better, top

    workers = min(SCAN_WORKERS, len(chunks))
    if workers <= 1:
        parts = [work(chunks)]
    else:
        with _one_blas_thread(), ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(work, [chunks[i::workers] for i in range(workers)]))
    better, top = parts[0]
    for other_better, other_top in parts[1:]:
        better += other_better
        top.merge(other_top)
    ranks = np.where(np.isfinite(thresholds), better + 1, np.nan)
    return ranks, top.rows


def _one_blas_thread():
    """BLAS held to one thread while the scan's own threads run (each would otherwise start
    its own BLAS threads on the same cores: 1.4x slower, measured)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:   # pragma: no cover - scikit-learn brings it
        return nullcontext()
    return threadpool_limits(1, user_api="blas")


def _count_above(scores: np.ndarray, thresholds: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per row, how many scores exceed that row's threshold (rows of a multiple of 8 and at
    most 8 * 255 columns). The comparison bytes are summed 8 at a time as uint64 words (each
    byte lane holds at most 255), then the 8 lanes are added: two whole-array numpy calls,
    faster than a per-row count_nonzero and with the GIL released throughout."""
    np.greater(scores, thresholds[:, None], out=mask)
    lanes = mask.view(np.uint64).sum(axis=1, dtype=np.uint64)
    return lanes.view(np.uint8).reshape(len(scores), 8).sum(axis=1, dtype=np.int64)


class _TopK:
    """Running k best (similarity, word) per query, ties broken by the word's text."""

    def __init__(self, n_queries: int, k: int, words):
        self.k, self.words = k, words
        self.rows = np.full((n_queries, k), -1, dtype=np.int64)
        self.sims = np.full((n_queries, k), -np.inf, dtype=np.float32)

    def update(self, scores: np.ndarray, offset: int) -> None:
        # Admit only words at least as similar as the current k-th best (a tie may still win on
        # the word), so after the first chunk very few candidates reach the sort below.
        kth = np.maximum(self.sims[:, -1], np.finfo(np.float32).min)  # never admit -inf (self, invalid)
        unseeded = np.flatnonzero(self.sims[:, -1] == -np.inf)
        if len(unseeded) and scores.shape[1] > self.k:  # seed with this chunk's own k-th best
            depth = self.k - 1
            kth[unseeded] = np.maximum(kth[unseeded], -np.partition(-scores[unseeded], depth, axis=1)[:, depth])
        # Only rows whose best score reaches their k-th best can admit a word: a row maximum
        # (no mask written) finds them, so after the first chunks the comparison below runs
        # on a few rows instead of all (2x faster per chunk, measured). flatnonzero + divmod is
        # several times faster than a 2-D nonzero on a sparse mask.
        rows = np.flatnonzero(scores.max(axis=1) >= kth)
        if not len(rows):
            return
        candidates = scores[rows]
        position, local = np.divmod(np.flatnonzero(candidates >= kth[rows, None]), scores.shape[1])
        self._admit(rows[position], local + offset, candidates[position, local])

    def merge(self, other: "_TopK") -> None:
        """Fold in the k best of a scan over other rows (the same queries)."""
        query, slot = np.nonzero(other.rows >= 0)
        self._admit(query, other.rows[query, slot], other.sims[query, slot])

    def _admit(self, query: np.ndarray, rows: np.ndarray, sims: np.ndarray) -> None:
        """Merge candidate (query, row, similarity) triples with the k held per query."""
        if not len(query):
            return
        changing = np.unique(query)
        held_query, held_slot = np.nonzero(self.rows[changing] >= 0)
        held_query = changing[held_query]
        query = np.concatenate([held_query, query])
        rows = np.concatenate([self.rows[held_query, held_slot], rows])
        sims = np.concatenate([self.sims[held_query, held_slot], sims])
        order = np.lexsort((-sims, query))
        query, rows, sims = query[order], rows[order], sims[order]
        tied = (query[1:] == query[:-1]) & (sims[1:] == sims[:-1])
        if tied.any():   # equal similarities: order those by the word itself (rare; costs Python time)
            text = np.array([self.words[r] for r in rows])
            order = np.lexsort((text, -sims, query))
            query, rows, sims = query[order], rows[order], sims[order]
        slot = np.arange(len(query)) - np.searchsorted(query, query, side="left")
        keep = slot < self.k
        self.rows[query[keep], slot[keep]] = rows[keep]
        self.sims[query[keep], slot[keep]] = sims[keep]
