"""Same-different AP of held-out speakers, split as Kamper's samediff splits it: SW and SWDP.

- SW: every pair of tokens, the same-word pairs positive (what ``audit acoustic`` reports);
- SWDP: same word, different speakers positive, different-word pairs negative, same-word
  same-speaker pairs left out. eSpeak's voices say a word almost identically every time, so
  same-speaker pairs are easy and SWDP is the honest figure.

Pairs are :func:`audit.checks.acoustic.choose_pairs`'s (all pairs when they fit in the budget,
else all or a uniform half-budget sample of the same-word pairs plus a uniform weighted sample
of the different-word pairs); dropping the same-speaker same-word pairs from that weighted
sample leaves an unbiased estimate of the SWDP curve. Scores: cosine of the embeddings, or
minus the DTW cost of the MFCC frames (seed 001's baseline), on the same kind of pairs.
Torch-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from audit.checks.acoustic import average_precision, choose_pairs, pair_counts, unit_rows
from audit.speech.dtw import dtw_costs, unit_frames


@dataclass(frozen=True)
class HeldOutAP:
    sw_ap: float                    # all same-word pairs positive
    swdp_ap: float                  # same word, different speaker positive; same-speaker same-word pairs left out
    sw_chance: float                # share of same-word pairs among all pairs
    swdp_chance: float              # share of SWDP pairs among SWDP and different-word pairs
    tokens: int
    words: int
    speakers: int
    pairs_total: int
    same_pairs_total: int
    swdp_pairs_total: int
    pairs_scored: int
    sampled: bool
    score: str                      # "cosine" or "-dtw-cost"


def group_pair_count(groups: np.ndarray) -> int:
    counts = np.unique(groups, return_counts=True)[1].astype(np.int64)
    return int(np.sum(counts * (counts - 1) // 2))


def held_out_pairs(labels: np.ndarray, speakers: np.ndarray, *, sample_pairs: int, seed: int):
    """(i, j, same word, same speaker, weights, sampled, label_index, speaker_index)."""
    _, label_index = np.unique(np.asarray(labels), return_inverse=True)
    _, speaker_index = np.unique(np.asarray(speakers), return_inverse=True)
    i, j, same, weights, sampled = choose_pairs(label_index, sample_pairs, seed)
    return i, j, same, speaker_index[i] == speaker_index[j], weights, sampled, label_index, speaker_index


def held_out_ap(scores: np.ndarray, same: np.ndarray, same_speaker: np.ndarray, weights: np.ndarray, *,
                label_index: np.ndarray, speaker_index: np.ndarray, sampled: bool, score: str) -> HeldOutAP:
    total, same_total = pair_counts(label_index)
    swsp_total = group_pair_count(label_index.astype(np.int64) * (int(speaker_index.max()) + 1) + speaker_index)
    swdp_total = same_total - swsp_total
    # One sort serves both curves: the SWDP subset of a sorted array sorts in linear time.
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    scores, same, same_speaker, weights = scores[order], same[order], same_speaker[order], weights[order]
    sw = average_precision(scores, same, weights)[0]
    keep = ~(same & same_speaker)
    swdp = average_precision(scores[keep], same[keep], weights[keep])[0] if swdp_total else math.nan
    different = total - same_total
    return HeldOutAP(sw_ap=sw, swdp_ap=swdp, sw_chance=same_total / total if total else math.nan,
                     swdp_chance=swdp_total / (swdp_total + different) if swdp_total + different else math.nan,
                     tokens=len(label_index), words=int(label_index.max()) + 1 if len(label_index) else 0,
                     speakers=int(speaker_index.max()) + 1 if len(speaker_index) else 0, pairs_total=total,
                     same_pairs_total=same_total, swdp_pairs_total=swdp_total, pairs_scored=len(scores),
                     sampled=sampled, score=score)


def pair_cosines(embeddings: np.ndarray, i: np.ndarray, j: np.ndarray, block_rows: int = 1024) -> np.ndarray:
    """Cosine of each pair, read off blocks of the similarity matrix (a gather of rows is slower)."""
    unit = unit_rows(np.asarray(embeddings, np.float32))
    out = np.empty(len(i), np.float32)
    for start in range(0, len(unit), block_rows):
        rows = np.flatnonzero((i >= start) & (i < start + block_rows))
        if len(rows):
            block = unit[start:start + block_rows] @ unit.T
            out[rows] = block[i[rows] - start, j[rows]]
    return out


def embedding_ap(embeddings: np.ndarray, labels: np.ndarray, speakers: np.ndarray, *, sample_pairs: int,
                 seed: int) -> HeldOutAP:
    """SW and SWDP AP of cosine between the embeddings of the given (held-out) tokens."""
    i, j, same, same_speaker, weights, sampled, label_index, speaker_index = held_out_pairs(
        labels, speakers, sample_pairs=sample_pairs, seed=seed)
    return held_out_ap(pair_cosines(embeddings, i, j), same, same_speaker, weights, label_index=label_index,
                       speaker_index=speaker_index, sampled=sampled, score="cosine")


def dtw_ap(frames: np.ndarray, offsets: np.ndarray, labels: np.ndarray, speakers: np.ndarray, *,
           sample_pairs: int, seed: int) -> HeldOutAP:
    """The same for minus the DTW cost of the MFCC frames (``frames[offsets[s]:offsets[s + 1]]``)."""
    i, j, same, same_speaker, weights, sampled, label_index, speaker_index = held_out_pairs(
        labels, speakers, sample_pairs=sample_pairs, seed=seed)
    scores = -dtw_costs(unit_frames(frames), offsets, i, j)
    return held_out_ap(scores, same, same_speaker, weights, label_index=label_index, speaker_index=speaker_index,
                       sampled=sampled, score="-dtw-cost")
