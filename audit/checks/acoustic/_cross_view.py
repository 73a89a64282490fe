"""Cross-view word discrimination (001): acoustic embeddings of spoken tokens against
acoustically grounded written-word embeddings (AGWEs) in the same space.

Three figures, all by cosine:

- ``average_precision``: 001's cross-view AP. Every (token, written word) pair is a trial,
  positive when the token is a spoken instance of the word; AP of the pairs sorted by cosine
  (one threshold for all pairs, ties as one threshold). Chance is 1 / words. Large inputs score
  every positive pair plus a seeded uniform sample of negative pairs weighted back to their
  population count, as the same-different AP samples its pairs;
- ``acoustic_to_written``: each token ranks the written words (the anchor is acoustic, 001's
  type P/N similarities); its AP is 1 / the rank of its own word; the mean over tokens;
- ``written_to_acoustic``: each written word ranks the tokens (the written word is the anchor,
  001's type A); AP over the word's tokens; the mean over words.

Ranks count ties against the query (a tie is one threshold, as in the mAP of query-by-example
retrieval and scikit-learn's ranking AP). Only the audited words
that the written embedding has are used (matched by exact spelling, else lowercased), and only
the tokens of those words; the others are counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from audit.checks.acoustic._base import BLOCK_ROWS, settle
from audit.checks.acoustic._retrieval import _count_at_least, _relevant_at_least
from audit.checks.acoustic._same_different import DEFAULT_SAMPLE_PAIRS, average_precision
from audit.core.errors import AuditError
from audit.core.results import InputInfo
from audit.core.vectors import Vectors

MATCH = "exact spelling, else lowercased"
MISSING_EXAMPLES = 10
PAIR_CHUNK = 1 << 18


@dataclass(frozen=True)
class CrossView:
    written: InputInfo                  # the written-word (AGWE) embedding file
    match: str                          # how the tokens' words meet the written words
    words: int                          # audited words with a written embedding
    words_missing: int                  # audited words without one (their tokens are left out)
    missing_examples: tuple[str, ...]
    tokens: int                         # tokens scored
    tokens_missing: int
    average_precision: float            # pooled over (token, written word) pairs: 001's cross-view AP
    chance: float                       # share of positive pairs: 1 / words
    pairs_total: int
    pairs_scored: int
    sampled: bool
    acoustic_to_written: float          # mean AP, each token ranking the written words
    written_to_acoustic: float          # mean AP, each written word ranking the tokens


def match_written(words: np.ndarray, written: Vectors) -> np.ndarray:
    """Row of each word in ``written`` (-1: none, or a zero / non-finite row)."""
    index = written.key_to_index
    rows = np.array([index.get(str(w), index.get(str(w).lower(), -1)) for w in words], dtype=np.int64)
    valid = written.valid
    rows[(rows >= 0) & ~valid[np.maximum(rows, 0)]] = -1
    return rows


def cross_view(unit: np.ndarray, label_index: np.ndarray, words: np.ndarray, written: Vectors, *,
               sample_pairs: int = DEFAULT_SAMPLE_PAIRS, seed: int = 0, block_rows: int = BLOCK_ROWS) -> CrossView:
    """Cross-view AP of unit token embeddings (word ``words[label_index]``) against ``written``."""
    if written.dim != unit.shape[1]:
        raise AuditError(f"the written-word embedding {written.source.path or 'given'} has dimension "
                         f"{written.dim} but the acoustic embeddings have {unit.shape[1]}; cross-view scores "
                         "need both in one space.")
    rows = match_written(words, written)
    covered = np.flatnonzero(rows >= 0)
    if len(covered) < 2:
        raise AuditError(f"the written-word embedding has {len(covered)} of the {len(words):,} audited words; "
                         "cross-view AP needs at least 2.")
    new_label = np.full(len(words), -1, dtype=np.int64)
    new_label[covered] = np.arange(len(covered))
    keep = new_label[label_index] >= 0
    tokens, token_word = unit[keep], new_label[label_index[keep]]
    written_unit = np.ascontiguousarray(written.unit[rows[covered]], dtype=np.float32)
    pooled_ap, total, scored, sampled = _pooled_ap(tokens, token_word, written_unit, sample_pairs, seed)
    missing = words[rows < 0]
    return CrossView(written=InputInfo.of(written), match=MATCH, words=len(covered), words_missing=len(missing),
                     missing_examples=tuple(str(w) for w in missing[:MISSING_EXAMPLES]), tokens=int(keep.sum()),
                     tokens_missing=int((~keep).sum()), average_precision=pooled_ap, chance=1 / len(covered),
                     pairs_total=total, pairs_scored=scored, sampled=sampled,
                     acoustic_to_written=_acoustic_to_written(tokens, token_word, written_unit, block_rows),
                     written_to_acoustic=_written_to_acoustic(tokens, token_word, written_unit, block_rows))


def _pooled_ap(tokens, token_word, written_unit, sample_pairs: int, seed: int):
    """(AP, pairs in all, pairs scored, sampled) of the (token, written word) trials."""
    n, k = len(tokens), len(written_unit)
    total = n * k
    if total <= sample_pairs:
        t, w = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
        weights, sampled = np.ones(total), False
    else:
        # Every positive pair (one per token) when it fits in half the budget, else a uniform
        # sample; negatives: a uniform token and a uniform other word (each token has k - 1).
        rng = np.random.default_rng(seed)
        positives = np.arange(n) if n <= sample_pairs // 2 else rng.integers(0, n, size=sample_pairs // 2)
        negatives = sample_pairs - len(positives)
        neg_t = rng.integers(0, n, size=negatives)
        neg_w = rng.integers(0, k - 1, size=negatives)
        neg_w = neg_w + (neg_w >= token_word[neg_t])     # skip the token's own word
        t, w = np.r_[positives, neg_t], np.r_[token_word[positives], neg_w]
        weights = np.r_[np.full(len(positives), n / len(positives)), np.full(negatives, n * (k - 1) / negatives)]
        sampled = True
    scores = np.empty(len(t), dtype=np.float32)
    for start in range(0, len(t), PAIR_CHUNK):   # bounded memory: (chunk x dim) rows at a time
        stop = start + PAIR_CHUNK
        scores[start:stop] = np.einsum("ij,ij->i", tokens[t[start:stop]], written_unit[w[start:stop]])
    settle(scores)
    ap, _, _ = average_precision(scores, token_word[t] == w, weights)
    return ap, total, len(t), sampled


def _acoustic_to_written(tokens, token_word, written_unit, block_rows: int) -> float:
    """Mean over tokens of 1 / (written words scoring at least its own word's score)."""
    reciprocal = 0.0
    for start in range(0, len(tokens), block_rows):
        scores = settle(tokens[start:start + block_rows] @ written_unit.T)
        own = scores[np.arange(len(scores)), token_word[start:start + block_rows]]
        reciprocal += float(np.sum(1.0 / np.count_nonzero(scores >= own[:, None], axis=1)))
    return reciprocal / len(tokens)


def _written_to_acoustic(tokens, token_word, written_unit, block_rows: int) -> float:
    """Mean over written words of the AP of ranking every token, the word's own tokens relevant.

    The rank counting is QbE retrieval's (:mod:`._retrieval`): each relevant token's score is a
    threshold, and a block of words is counted at once; words go in order of their token count
    so a block's width stays homogeneous.
    """
    n = len(tokens)
    order = np.argsort(token_word, kind="stable")
    counts = np.bincount(token_word, minlength=len(written_unit))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    by_size = np.argsort(counts, kind="stable")
    by_size = by_size[counts[by_size] > 0]
    total = 0.0
    for start in range(0, len(by_size), block_rows):
        words = by_size[start:start + block_rows]
        scores = settle(written_unit[words] @ tokens.T)
        slots = np.arange(int(counts[words].max()))[None, :]
        inside = slots < counts[words][:, None]
        relevant = np.where(inside, order[np.minimum(starts[words][:, None] + slots, n - 1)], 0)
        thresholds = np.where(inside, np.take_along_axis(scores, relevant, axis=1), np.inf)
        at_least = _count_at_least(scores, thresholds)
        relevant_at_least = _relevant_at_least(thresholds, counts[words])
        precision = np.where(inside, relevant_at_least / np.maximum(at_least, 1), 0.0)
        total += float(np.sum(precision.sum(axis=1) / counts[words]))
    return total / len(by_size) if len(by_size) else math.nan
