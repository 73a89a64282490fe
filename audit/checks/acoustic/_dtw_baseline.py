"""The MFCC-DTW same-different baseline (001): DTW cost ranks segment pairs of a frame store."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.checks.acoustic._same_different import (SameDifferent, choose_pairs, pair_counts,
                                                   same_different_from_scores)
from audit.core.errors import AuditError
from audit.speech.dtw import DEFAULT_DTW_PAIRS, dtw_costs, unit_frames
from audit.speech.frames import FrameStore


@dataclass(frozen=True)
class DtwBaseline:
    """Same-different AP of DTW on the MFCC frames (001's baseline)."""

    same_different: SameDifferent
    frames_path: str
    frames_sha256: str
    segments: int
    words: int
    frame_distance: str


# ------------------------------------------------------------------------------ DTW baseline
def dtw_same_different(segments: FrameStore, *, sample_pairs: int = DEFAULT_DTW_PAIRS, seed: int = 0,
                       words: np.ndarray | None = None):
    """Same-different AP of DTW (lower cost = same word) over segment pairs, as in 001's baseline.

    ``words`` restricts the segments to those words (e.g. the words of an instances file).
    Words with a single segment are left out, as in the embedding metrics.
    """
    keep = np.ones(len(segments), bool)
    if words is not None:
        wanted = np.isin(np.char.lower(segments.vocabulary.astype(str)), np.char.lower(np.asarray(words, str)))
        keep &= wanted[segments.word_ids]
    counts = np.bincount(segments.word_ids[keep], minlength=len(segments.vocabulary))
    keep &= counts[segments.word_ids] >= 2
    if not keep.any():
        raise AuditError("the frame store has no word with two segments among the words audited.")
    segments = segments.subset(keep)
    _, label_index = np.unique(segments.word_ids, return_inverse=True)
    if label_index.max() < 1:
        raise AuditError("the frame store holds segments of a single word, so DTW cannot tell words apart.")
    i, j, same, weights, sampled = choose_pairs(label_index, sample_pairs, seed)
    scores = -dtw_costs(unit_frames(segments.frames), segments.offsets, i, j)
    total, same_total = pair_counts(label_index)
    result = same_different_from_scores(scores, same, weights, total=total, same_total=same_total,
                                        sampled=sampled, score="-dtw-cost")
    return DtwBaseline(same_different=result, frames_path=segments.path, frames_sha256=segments.sha256,
                       segments=len(segments), words=int(label_index.max()) + 1,
                       frame_distance="cosine distance, path-length normalised")
