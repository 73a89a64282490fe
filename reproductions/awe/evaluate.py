"""Same-different AP of the held-out speakers' tokens: Kamper's samediff, SW and SWDP.

The figures are :func:`audit.checks.acoustic.samediff`'s, the ones ``audit acoustic`` reports for
the same tokens and pair budget (the field's reference evaluation: pairs ranked from most to
least alike, non-interpolated AP and the precision-recall breakeven; SW recalls every same-word
pair, SWDP only those spoken by different speakers, while precision counts every same-word pair
as a hit). eSpeak's voices say a word almost identically every time, so same-speaker pairs are
easy and SWDP is the honest figure. Scores: cosine of the embeddings, or minus the DTW cost of
the MFCC frames (seed 001's baseline), on the same kind of pairs (a DTW pair costs thousands of
cosines, hence its own, smaller budget). Torch-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from audit.checks.acoustic import SameDiff, choose_pairs, pair_counts, samediff, samediff_from_pairs
from audit.speech.dtw import dtw_costs, unit_frames


@dataclass(frozen=True)
class HeldOutAP:
    sw_ap: float                    # every same-word pair is a positive
    swdp_ap: float                  # recall over same-word pairs of different speakers (NaN: none)
    swsp_ap: float
    sw_breakeven: float             # precision-recall breakeven
    swdp_breakeven: float
    chance: float                   # share of same-word pairs among all pairs: a random ranking's precision
    tokens: int
    words: int
    speakers: int
    pairs_total: int
    same_pairs_total: int
    swdp_pairs_total: int
    pairs_scored: int
    sampled: bool
    score: str                      # "cosine" or "-dtw-cost"


def _indices(labels, speakers) -> tuple[np.ndarray, np.ndarray]:
    return (np.unique(np.asarray(labels), return_inverse=True)[1],
            np.unique(np.asarray(speakers).astype(str), return_inverse=True)[1])


def _summary(result: SameDiff, label_index: np.ndarray, speaker_index: np.ndarray, sample_pairs: int) -> HeldOutAP:
    total, same_total = pair_counts(label_index)
    return HeldOutAP(sw_ap=result.sw.average_precision, swdp_ap=result.swdp.average_precision,
                     swsp_ap=result.swsp.average_precision, sw_breakeven=result.sw.precision_recall_breakeven,
                     swdp_breakeven=result.swdp.precision_recall_breakeven,
                     chance=same_total / total if total else math.nan, tokens=len(label_index),
                     words=int(label_index.max()) + 1 if len(label_index) else 0,
                     speakers=int(speaker_index.max()) + 1 if len(speaker_index) else 0, pairs_total=total,
                     same_pairs_total=same_total, swdp_pairs_total=result.swdp.positive_pairs_total,
                     pairs_scored=min(total, sample_pairs), sampled=result.sampled, score=result.score)


def embedding_ap(embeddings: np.ndarray, labels: np.ndarray, speakers: np.ndarray, *, sample_pairs: int,
                 seed: int) -> HeldOutAP:
    """Samediff of cosine between the given (held-out) tokens, as ``audit acoustic`` scores them."""
    label_index, speaker_index = _indices(labels, speakers)
    result = samediff(embeddings, labels, speakers, sample_pairs=sample_pairs, seed=seed)
    return _summary(result, label_index, speaker_index, sample_pairs)


def dtw_ap(frames: np.ndarray, offsets: np.ndarray, labels: np.ndarray, speakers: np.ndarray, *,
           sample_pairs: int, seed: int) -> HeldOutAP:
    """The same for minus the DTW cost of the MFCC frames (``frames[offsets[s]:offsets[s + 1]]``)."""
    label_index, speaker_index = _indices(labels, speakers)
    i, j, same, weights, sampled = choose_pairs(label_index, sample_pairs, seed)
    scores = -dtw_costs(unit_frames(frames), offsets, i, j)
    result = samediff_from_pairs(scores, i, j, same, weights, label_index, speaker_index, sampled=sampled,
                                 score="-dtw-cost")
    return _summary(result, label_index, speaker_index, sample_pairs)
