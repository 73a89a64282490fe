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

Frame store (written by the reproduction's feature step; only these keys are read):
``frames`` float32 (F, n_mfcc), ``offsets`` int64 (N + 1), ``word_ids`` int (N),
``vocabulary`` str (V); optional ``speaker_ids`` int (N), ``speakers`` str (S), and where each
segment was cut from: ``utterance_ids`` int (N), ``utterances`` str (U), ``starts``/``ends``
float (N, seconds).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audit.core.errors import AuditError

DEFAULT_DTW_PAIRS = 50_000
_STORE_KEYS = ("frames", "offsets", "word_ids", "vocabulary", "speaker_ids", "speakers", "utterance_ids",
               "utterances", "starts", "ends")
PAIR_BATCH = 2048
# Tie order among predecessors: diagonal, then same row (j - 1), then same column (i - 1),
# the order librosa.sequence.dtw tries its default steps in.
_STEPS = ((1, 1), (0, 1), (1, 0))


@dataclass(frozen=True, eq=False)
class FrameSegments:
    """Variable-length frame sequences with a word (and maybe a speaker) per sequence."""

    frames: np.ndarray              # (F, dim) float32
    offsets: np.ndarray             # (N + 1,) segment i is frames[offsets[i]:offsets[i + 1]]
    word_ids: np.ndarray            # (N,) index into vocabulary
    vocabulary: np.ndarray          # (V,) str
    speaker_ids: np.ndarray | None = None
    speakers: np.ndarray | None = None
    # Where each segment was cut from (present in the reproduction's stores; wav2vec2 needs them).
    utterance_ids: np.ndarray | None = None
    utterances: np.ndarray | None = None
    starts: np.ndarray | None = None
    ends: np.ndarray | None = None
    path: str = ""
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.word_ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def subset(self, keep: np.ndarray) -> "FrameSegments":
        """The segments where ``keep`` is true (frames are copied, offsets rebuilt)."""
        keep = np.flatnonzero(keep)
        lengths = self.lengths[keep]
        rows = np.repeat(self.offsets[keep], lengths) + _ranges(lengths)
        def pick(column):
            return None if column is None else column[keep]
        return FrameSegments(frames=self.frames[rows], offsets=np.r_[0, np.cumsum(lengths)],
                             word_ids=self.word_ids[keep], vocabulary=self.vocabulary,
                             speaker_ids=pick(self.speaker_ids), speakers=self.speakers,
                             utterance_ids=pick(self.utterance_ids), utterances=self.utterances,
                             starts=pick(self.starts), ends=pick(self.ends), path=self.path, sha256=self.sha256)


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """0..l-1 for each length, concatenated."""
    total = int(lengths.sum())
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(total) - starts


def load_frame_store(path: str | os.PathLike) -> FrameSegments:
    """Read the keys this module needs from a frame store ``.npz``; bad files raise AuditError."""
    from audit.core.datadir import sha256_file
    from audit.core.npzfile import read_npz

    path = Path(path)
    arrays = read_npz(path, what="the frame store", keys=_STORE_KEYS,
                      pickled_hint="a frame store holds numbers and plain strings only")
    missing = [k for k in ("frames", "offsets", "word_ids", "vocabulary") if k not in arrays]
    if missing:
        raise AuditError(f"{path} is not a frame store: it lacks {missing[0]!r}.")
    frames, offsets, word_ids = arrays["frames"], arrays["offsets"].astype(np.int64), arrays["word_ids"]
    if frames.ndim != 2 or offsets.ndim != 1 or len(offsets) != len(word_ids) + 1 or offsets[0] != 0 \
            or offsets[-1] != len(frames) or np.any(np.diff(offsets) < 1):
        raise AuditError(f"{path}: frames, offsets and word_ids do not describe non-empty segments.")
    if word_ids.min(initial=0) < 0 or word_ids.max(initial=0) >= len(arrays["vocabulary"]):
        raise AuditError(f"{path}: a word id is outside the vocabulary.")
    optional = {k: arrays.get(k) for k in _STORE_KEYS[4:]}
    if any(v is not None and len(v) != len(word_ids) for k, v in optional.items() if k not in ("speakers", "utterances")):
        raise AuditError(f"{path}: a per-segment column does not have one entry per segment.")
    return FrameSegments(frames=frames.astype(np.float32), offsets=offsets, word_ids=word_ids.astype(np.int64),
                         vocabulary=arrays["vocabulary"].astype(str), **optional, path=str(path),
                         sha256=sha256_file(path))


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


def dtw_similarity(segments: FrameSegments, first, second) -> np.ndarray:
    """1 - normalised DTW cost: the mean cosine similarity of the aligned frames."""
    return 1.0 - dtw_costs(unit_frames(segments.frames), segments.offsets, first, second)
