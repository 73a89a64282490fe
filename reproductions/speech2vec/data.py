"""Training data from a frame store: vocabulary, padded frames, skip-gram pairs, batches.

word2vec conventions: words below ``min_count`` are removed from the sentences before the
window is applied; frequent words are subsampled each epoch with keep probability
``(sqrt(f / t) + 1) * t / f`` (``f`` the word's share of the tokens, ``t`` the rate); every
remaining neighbour within ``window`` words of the same utterance forms a (centre, context)
pair. The random draws of an epoch come from ``(seed, epoch)`` alone, so a resumed run sees
exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.core.errors import AuditError
from audit.speech.frames import FrameStore


@dataclass(frozen=True, eq=False)
class TrainingData:
    words: tuple[str, ...]         # the vocabulary (count >= min_count), most frequent first
    counts: np.ndarray             # tokens per vocabulary word
    frames: np.ndarray             # float32 (N, max_frames, n_mfcc), normalised, zero-padded
    lengths: np.ndarray            # int64 (N,), 1..max_frames
    word_index: np.ndarray         # int64 (N,) index into words
    utterance_ids: np.ndarray      # int64 (N,)
    speakers: np.ndarray           # str (N,)
    mean: np.ndarray               # the normalisation applied (zeros/ones for none)
    std: np.ndarray

    def __len__(self) -> int:
        return len(self.word_index)


def prepare(store: FrameStore, *, min_count: int, max_frames: int, normalization: str = "cmvn",
            lowercase: bool = True) -> TrainingData:
    spelled = np.char.lower(store.vocabulary) if lowercase else store.vocabulary
    names, merged = np.unique(spelled, return_inverse=True)
    token_words = merged[store.word_ids]
    counts = np.bincount(token_words, minlength=len(names))
    kept_words = np.flatnonzero(counts >= min_count)
    if not len(kept_words):
        raise AuditError(f"no word occurs at least {min_count} times in the corpus.")
    kept_words = kept_words[np.lexsort((names[kept_words], -counts[kept_words]))]
    new_index = np.full(len(names), -1, dtype=np.int64)
    new_index[kept_words] = np.arange(len(kept_words))
    keep = new_index[token_words] >= 0
    rows = np.flatnonzero(keep)
    lengths = np.minimum(np.diff(store.offsets)[rows], max_frames)
    frame_index = store.offsets[rows][:, None] + np.arange(max_frames)[None, :]
    valid = np.arange(max_frames)[None, :] < lengths[:, None]
    padded = np.zeros((len(rows), max_frames, store.frames.shape[1]), dtype=np.float32)
    padded[valid] = store.frames[frame_index[valid]]
    if normalization == "cmvn":
        mean = padded[valid].mean(axis=0, dtype=np.float64)
        std = padded[valid].std(axis=0, dtype=np.float64) + 1e-8
        padded[valid] = (padded[valid] - mean) / std
    else:
        mean, std = np.zeros(padded.shape[-1]), np.ones(padded.shape[-1])
    return TrainingData(words=tuple(str(w) for w in names[kept_words]), counts=counts[kept_words],
                        frames=padded, lengths=lengths.astype(np.int64),
                        word_index=new_index[token_words[rows]], utterance_ids=store.utterance_ids[rows].astype(np.int64),
                        speakers=store.speakers[store.speaker_ids[rows]], mean=mean, std=std)


def keep_probabilities(counts: np.ndarray, rate: float) -> np.ndarray:
    """word2vec's subsampling: keep probability per word (1 when ``rate`` is 0)."""
    if rate <= 0:
        return np.ones(len(counts))
    share = counts / counts.sum()
    return np.minimum(1.0, (np.sqrt(share / rate) + 1.0) * rate / share)


def epoch_pairs(data: TrainingData, *, window: int, subsample: float, seed: int, epoch: int):
    """(centres, contexts): instance indices of this epoch's skip-gram pairs, in corpus order."""
    rng = np.random.default_rng([seed, epoch, 0])
    keep = rng.random(len(data)) < keep_probabilities(data.counts, subsample)[data.word_index]
    kept = np.flatnonzero(keep)
    utterances = data.utterance_ids[kept]
    centres, contexts = [], []
    for distance in range(1, window + 1):
        same = utterances[:-distance] == utterances[distance:]
        left, right = kept[:-distance][same], kept[distance:][same]
        centres += [left, right]
        contexts += [right, left]
    return np.concatenate(centres), np.concatenate(contexts)


def epoch_batches(data: TrainingData, centres: np.ndarray, contexts: np.ndarray, *, batch_size: int,
                  seed: int, epoch: int, bucket_by_length: bool = True) -> list[np.ndarray]:
    """Positions into the pair arrays, one array per batch, in training order.

    With bucketing, pairs are sorted by (centre length, context length) with random ties and
    cut into batches, whose order is then shuffled: each batch is padded only to its own
    longest word, not to ``max_frames``.
    """
    rng = np.random.default_rng([seed, epoch, 1])
    if bucket_by_length:
        order = np.lexsort((rng.random(len(centres)), data.lengths[contexts], data.lengths[centres]))
    else:
        order = rng.permutation(len(centres))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]
