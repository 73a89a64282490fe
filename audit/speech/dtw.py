"""Dynamic time warping of MFCC frame sequences, batched across pairs.

The cost of aligning two spoken words is the classic DTW of 001's baseline: the local cost of
two frames is their cosine distance (1 - cosine), steps are diagonal, horizontal and vertical
with weight 1, and the accumulated cost of the best path is divided by the number of cells on
that path (path-length normalisation), so it is the mean frame distance along the alignment.
``1 - cost`` is then the mean cosine similarity of the aligned frames: 1 for identical words.

Many pairs are aligned at once: their cost matrices are padded into one (pairs x A x B) array
and the recurrence runs over the A + B - 1 anti-diagonals, each a handful of numpy operations
over every pair and every cell of the diagonal. Padding cells never feed the cells inside a
pair's own (la x lb) corner, so each pair's answer is read at its own corner.

The frame store the segments come from is :mod:`audit.speech.frames`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:   # for the annotation only: the kernel itself needs no store
    from audit.speech.frames import FrameStore

DEFAULT_DTW_PAIRS = 50_000
PAIR_BATCH = 2048
# Tie order among predecessors: diagonal, then same row (j - 1), then same column (i - 1),
# the order librosa.sequence.dtw tries its default steps in.
_STEPS = ((1, 1), (0, 1), (1, 0))


def unit_frames(frames: np.ndarray) -> np.ndarray:
    """Frames scaled to unit length; an all-zero frame stays zero (distance 1 to everything)."""
    norms = np.linalg.norm(frames.astype(np.float64), axis=1, keepdims=True)
    return (frames / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def dtw_costs(unit: np.ndarray, offsets: np.ndarray, first: np.ndarray, second: np.ndarray, *,
              batch: int = PAIR_BATCH) -> np.ndarray:
    """Path-length-normalised DTW cost (mean cosine distance on the path) of each segment pair.

    ``unit`` holds unit-length frames (see :func:`unit_frames`); segment s is
    ``unit[offsets[s]:offsets[s + 1]]``.
    """
    first, second = np.asarray(first, np.int64), np.asarray(second, np.int64)
    lengths = np.diff(offsets)
    out = np.empty(len(first))
    # Batches of pairs of similar size waste less padding.
    order = np.lexsort((lengths[second], lengths[first]))
    for start in range(0, len(order), batch):
        chunk = order[start:start + batch]
        out[chunk] = _dtw_batch(unit, offsets, lengths, first[chunk], second[chunk])
    return out


def _padded(unit, offsets, lengths, segments) -> np.ndarray:
    width = int(lengths[segments].max())
    slots = np.arange(width)[None, :]
    rows = offsets[segments][:, None] + np.minimum(slots, lengths[segments][:, None] - 1)
    return np.where((slots < lengths[segments][:, None])[..., None], unit[rows], 0.0).astype(np.float32)


def _dtw_batch(unit, offsets, lengths, first, second) -> np.ndarray:
    a, b = _padded(unit, offsets, lengths, first), _padded(unit, offsets, lengths, second)
    pairs, rows, cols = len(first), a.shape[1], b.shape[1]
    local = 1.0 - np.einsum("pik,pjk->pij", a, b, dtype=np.float64)
    # Accumulated cost and path length, with a border row and column: cell (i, j) is [i+1, j+1].
    cost = np.full((pairs, rows + 1, cols + 1), np.inf)
    cost[:, 0, 0] = 0.0
    steps = np.zeros((pairs, rows + 1, cols + 1), dtype=np.int32)
    for diagonal in range(rows + cols - 1):
        i = np.arange(max(0, diagonal - cols + 1), min(rows - 1, diagonal) + 1)
        j = diagonal - i
        candidates = np.stack([cost[:, i + 1 - di, j + 1 - dj] for di, dj in _STEPS])
        lengths_before = np.stack([steps[:, i + 1 - di, j + 1 - dj] for di, dj in _STEPS])
        choice = np.argmin(candidates, axis=0)[None]
        cost[:, i + 1, j + 1] = local[:, i, j] + np.take_along_axis(candidates, choice, 0)[0]
        steps[:, i + 1, j + 1] = np.take_along_axis(lengths_before, choice, 0)[0] + 1
    end = (np.arange(pairs), lengths[first], lengths[second])
    return cost[end] / steps[end]


def dtw_similarity(segments: "FrameStore", first, second) -> np.ndarray:
    """1 - normalised DTW cost: the mean cosine similarity of the aligned frames."""
    return 1.0 - dtw_costs(unit_frames(segments.frames), segments.offsets, first, second)
