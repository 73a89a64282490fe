"""One pass over the vocabulary for many query words: k nearest neighbours and target ranks.

The homophone check needs, for every homophone word, its k nearest neighbours and the rank of
its partner and of a control word. ``Vectors.nearest`` and ``Vectors.ranks`` each score every
query against the whole vocabulary again (and ``nearest``'s ``argpartition`` over full rows
dominates at 400k words), so this module scores each query once: it walks the vocabulary in
chunks of rows, turns each chunk into unit rows in a small reused buffer (the raw matrix times
each row's 1 / norm, exactly the arithmetic of ``Vectors.unit``, whose full-size copy is never
made: 1.2 GB at 1M x 300), multiplies it by all query vectors into one reused score buffer
(bounded memory, cache-sized), counts the words above each target's similarity and keeps a
running top-k that only admits words near or above the current k-th best. The chunks are
handed out to one thread per core as each finishes one (every step is a whole-chunk numpy call
that releases the GIL; BLAS is held to one thread meanwhile), each with its own buffers, counts
and top-k, merged at the end. Which chunks exist does not depend on the number of threads, so
neither does the result. Memory beyond the matrix: per thread one chunk of unit rows and one
(queries x chunk) score block, at most ``block_bytes`` each, whatever the vocabulary size.

Semantics match ``Vectors.ranks``/``nearest``: the query itself and invalid rows never count
or appear; rank = 1 + the number of words more similar than the target. Two differences, both
written down: a word counts as more similar only when its cosine exceeds the target's by more
than :data:`TIE_TOLERANCE` (the target's cosine is computed in float64, the chunk scores in
float32, so exact ties such as identical homophone vectors must not depend on rounding), and
neighbours are ordered by float64 cosine with equal cosines broken by the word itself, not the
row, so the answer does not depend on the vocabulary order (the float32 scores only pick the
candidates: the k best and the words within ``2 * TIE_TOLERANCE`` of the k-th).
"""

from __future__ import annotations

import os
import threading
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
# Beside each query's k best float32 scores, words within NEAR_MARGIN of the k-th are kept (at
# most NEAR_TIE_SLACK of them) and the final k are chosen by float64 cosine: a word's float32
# score is within TIE_TOLERANCE of its float64 cosine, so the true k best are all within
# 2 * TIE_TOLERANCE of the k-th best float32 score. A query with more such words (many copies of
# one vector) is scanned again alone with 8 times the room, up to MAX_NEAR_TIE_SLACK; past that
# the float32 scores decide among its near ties (documented, never met outside such inputs).
NEAR_MARGIN = np.float32(2 * TIE_TOLERANCE)
NEAR_TIE_SLACK = 32
MAX_NEAR_TIE_SLACK = 32 * 8 ** 3


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
        ranks[part], candidates, overflow = _scan_pass(vectors, queries[part], targets[part], k, block_bytes,
                                                       NEAR_TIE_SLACK)
        neighbours[part], similarities[part] = _best(vectors, queries[part], candidates, k)
        slack, again = NEAR_TIE_SLACK, np.flatnonzero(overflow) + start
        while len(again) and slack < MAX_NEAR_TIE_SLACK:   # more near ties than room: again, with more room
            slack *= 8
            no_targets = np.full((len(again), 1), -1, dtype=np.int64)
            _, candidates, overflow = _scan_pass(vectors, queries[again], no_targets, k, block_bytes, slack)
            neighbours[again], similarities[again] = _best(vectors, queries[again], candidates, k)
            again = again[overflow]
    return NeighbourScan(ranks, neighbours, similarities)


def _best(vectors: Vectors, queries: np.ndarray, candidates: np.ndarray, k: int):
    """The k best of each query's candidate rows (-1 = none) by float64 cosine (as
    pair_similarities computes it), equal cosines ordered by the word: the float32 chunk
    scores only chose the candidates, since their last bits depend on where a row sits in the
    matrix (two identical vectors could score differently)."""
    query, slot = np.nonzero(candidates >= 0)
    rows = candidates[query, slot]
    cosine = vectors.pair_similarities(queries[query], rows)
    text = np.array([vectors.words[r] for r in rows.tolist()], dtype=object)
    order = np.lexsort((text, -cosine, query))
    query, rows, cosine = query[order], rows[order], cosine[order]
    place = np.arange(len(query)) - np.searchsorted(query, query, side="left")
    keep = place < k
    neighbours = np.full((len(queries), k), -1, dtype=np.int64)
    similarities = np.full((len(queries), k), np.nan)
    neighbours[query[keep], place[keep]] = rows[keep]
    similarities[query[keep], place[keep]] = cosine[keep]
    return neighbours, similarities


def _thresholds(vectors: Vectors, queries: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Cosine each word must beat to outrank the target; +inf for empty or invalid slots."""
    rows = np.repeat(queries, targets.shape[1])
    flat = targets.ravel()
    usable = (flat >= 0) & (flat != rows)
    cosine = np.full(flat.shape, np.nan)
    cosine[usable] = vectors.pair_similarities(rows[usable], flat[usable])
    thresholds = np.where(np.isfinite(cosine), cosine + TIE_TOLERANCE, np.inf)
    return thresholds.reshape(targets.shape).astype(np.float32)


def unit_scale(vectors: Vectors) -> np.ndarray:
    """Per row, the float32 factor that turns ``matrix[i]`` into ``unit[i]``: exactly the
    arithmetic of :attr:`Vectors.unit` (1 / norm in float64, then float32; 0 for invalid rows),
    so ``matrix[rows] * unit_scale(v)[rows, None]`` equals ``v.unit[rows]`` bit for bit. 4 bytes
    per word instead of a second full-size matrix."""
    valid = vectors.valid
    scale = np.zeros(len(vectors), dtype=np.float64)
    scale[valid] = 1.0 / vectors.norms[valid]
    return scale.astype(np.float32)


def unit_rows(vectors: Vectors, scale: np.ndarray, start: int, end: int, out: np.ndarray) -> np.ndarray:
    """``vectors.unit[start:end]`` written into ``out`` (invalid rows all zeros), from the raw
    matrix and :func:`unit_scale`."""
    rows = out[:end - start]
    with np.errstate(invalid="ignore", over="ignore"):   # inf * 0 in a non-finite row, zeroed below
        np.multiply(vectors.matrix[start:end], scale[start:end, None], out=rows)
    invalid = ~vectors.valid[start:end]
    if invalid.any():
        rows[invalid] = 0
    return rows


def _scan_pass(vectors, queries, targets, k, block_bytes, slack):
    valid, dim = vectors.valid, vectors.dim
    scale = unit_scale(vectors)
    query_rows = np.ascontiguousarray(vectors.matrix[queries] * scale[queries, None])  # as unit[queries]
    # Each query's slots with a target (finite threshold) first, and the queries with the most
    # such slots first: slot s is then counted on a prefix of the score rows only (most queries
    # of the homophone check have 2 targets, a few 3 or more; no comparisons for empty slots).
    thresholds = _thresholds(vectors, queries, targets)
    finite = np.isfinite(thresholds)
    slot_order = np.argsort(~finite, axis=1, kind="stable")
    query_order = np.argsort(-finite.sum(axis=1), kind="stable")
    compact = np.take_along_axis(thresholds, slot_order, axis=1)[query_order]
    prefix = finite.sum(axis=1)[query_order]
    counted = [int(np.count_nonzero(prefix > slot)) for slot in range(targets.shape[1])]
    ordered_queries = queries[query_order]
    query_rows = query_rows[query_order]
    chunk_rows = int(np.clip(min(block_bytes // (4 * max(1, len(queries))), block_bytes // (4 * max(1, dim))),
                             8, MAX_CHUNK_ROWS)) // 8 * 8
    bounds = [*range(0, len(vectors), chunk_rows), len(vectors)]
    chunks = iter(list(zip(bounds[:-1], bounds[1:])))
    query_positions = np.arange(len(queries))
    lock = threading.Lock()

    def next_chunk():
        with lock:
            return next(chunks, None)

    def work():
        # Scores are (queries x chunk) so that each query's scores are one contiguous row. The
        # chunk's unit rows are made here from the raw matrix: no unit-normalised copy of it.
        block = np.empty((chunk_rows, dim), dtype=np.float32)
        buffer = np.empty((len(queries), chunk_rows), dtype=np.float32)
        mask = np.empty((len(queries), chunk_rows), dtype=bool)
        better = np.zeros(compact.shape, dtype=np.int64)
        top = _TopK(len(queries), k, vectors.words, slack)
        while (chunk := next_chunk()) is not None:
            chunk_start, chunk_end = chunk
            width = chunk_end - chunk_start
            padded = -(-width // 8) * 8
            scores = buffer[:, :padded]
            rows = unit_rows(vectors, scale, chunk_start, chunk_end, block)
            np.matmul(query_rows, rows.T, out=buffer[:, :width])
            scores[:, width:] = -np.inf   # padding never counts or enters the top-k
            chunk_valid = valid[chunk_start:chunk_end]
            if not chunk_valid.all():
                scores[:, :width][:, ~chunk_valid] = -np.inf
            inside = (ordered_queries >= chunk_start) & (ordered_queries < chunk_end)
            scores[query_positions[inside], ordered_queries[inside] - chunk_start] = -np.inf  # never the query itself
            for slot, n in enumerate(counted):
                if n:
                    better[:n, slot] += _count_above(scores[:n], compact[:n, slot], mask[:n, :padded])
            top.update(scores, chunk_start)
        return better, top

    # Threads take the next chunk as they finish one (a busy core does less); the chunks
    # themselves do not depend on the number of threads, so neither does the result.
    workers = max(1, min(SCAN_WORKERS, len(bounds) - 1))
    if workers <= 1:
        parts = [work()]
    else:
        with _one_blas_thread(), ThreadPoolExecutor(workers) as pool:
            parts = [f.result() for f in [pool.submit(work) for _ in range(workers)]]
    better, top = parts[0]
    for other_better, other_top in parts[1:]:
        better += other_better
        top.merge(other_top)
    # Back to the caller's order of queries and slots.
    unordered = np.empty_like(better)
    unordered[query_order] = better
    counts = np.empty_like(better)
    np.put_along_axis(counts, slot_order, unordered, axis=1)
    candidates = np.empty_like(top.rows)
    candidates[query_order] = top.rows
    overflow = np.empty_like(top.overflow)
    overflow[query_order] = top.overflow
    ranks = np.where(np.isfinite(thresholds), counts + 1, np.nan)
    return ranks, candidates, overflow


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
    """Running best (similarity, word) per query by float32 chunk score, ties broken by the word's
    text: the k best and, beside them, up to ``slack`` more words within
    ``2 * TIE_TOLERANCE`` of the k-th best (float32 rounding can put a word whose float64 cosine
    is among the k best just below the k-th float32 score; :func:`_best` decides in float64)."""

    def __init__(self, n_queries: int, k: int, words, slack: int = NEAR_TIE_SLACK):
        self.k, self.words = k, words
        self.capacity = k + slack
        self.overflow = np.zeros(n_queries, dtype=bool)   # a near tie found no room
        self.rows = np.full((n_queries, self.capacity), -1, dtype=np.int64)
        self.sims = np.full((n_queries, self.capacity), -np.inf, dtype=np.float32)

    def update(self, scores: np.ndarray, offset: int) -> None:
        # Admit only words near or above the current k-th best (within the margin), so after
        # the first chunk very few candidates reach the sort below.
        kth = np.maximum(self.sims[:, self.k - 1] - NEAR_MARGIN, np.finfo(np.float32).min)  # never admit -inf
        unseeded = np.flatnonzero(self.sims[:, self.k - 1] == -np.inf)
        if len(unseeded) and scores.shape[1] > self.k:  # seed with this chunk's own k-th best
            depth = self.k - 1
            seed = -np.partition(-scores[unseeded], depth, axis=1)[:, depth] - NEAR_MARGIN
            kth[unseeded] = np.maximum(kth[unseeded], seed)
        # Only rows whose best score reaches their threshold can admit a word: a row maximum
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
        """Fold in the candidates of a scan over other rows (the same queries)."""
        query, slot = np.nonzero(other.rows >= 0)
        self.overflow |= other.overflow
        self._admit(query, other.rows[query, slot], other.sims[query, slot])

    def _admit(self, query: np.ndarray, rows: np.ndarray, sims: np.ndarray) -> None:
        """Merge candidate (query, row, similarity) triples with those held per query."""
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
        kth = np.full(len(self.rows), -np.inf, dtype=np.float32)
        at_k = slot == self.k - 1
        kth[query[at_k]] = sims[at_k]
        near = (slot < self.k) | (sims >= kth[query] - NEAR_MARGIN)
        keep = near & (slot < self.capacity)
        self.overflow[query[near & ~keep]] = True
        self.rows[changing], self.sims[changing] = -1, -np.inf
        self.rows[query[keep], slot[keep]] = rows[keep]
        self.sims[query[keep], slot[keep]] = sims[keep]
