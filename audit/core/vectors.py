"""The one embedding object every check works on.

A :class:`Vectors` holds a vocabulary (``words``, ``key_to_index``), one float32 matrix and a
:class:`SourceInfo` saying where it came from. Arrays handed out are read-only views; every
operation returns a new object and leaves its input alone.

Cosine similarity is undefined for a zero (or non-finite) row. Such rows are *invalid*: they
are counted in ``source``, their unit-normalised row is all zeros, pair similarities involving
them are NaN, and they never appear as neighbours and never count in a rank.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

import numpy as np

from audit.core.errors import AuditError

PARALLEL_ELEMENTS = 1 << 22   # matrices above this many values are scaled in threads
# Similarity blocks are computed a few rows at a time so that the (rows x vocabulary) score
# block stays under this many bytes: 400,000 words x 160 rows x 4 bytes is about 256 MB.
DEFAULT_BLOCK_BYTES = 256 * 1024 * 1024
WORD_KEY_BLOCK = 1 << 14       # words hashed per block in word_keys
PAIR_BLOCK_VALUES = 1 << 20    # pair_similarities gathers this many values per side at a time
DUPLICATE_WORDS = "the vocabulary has duplicate words; load it with a duplicate policy."


@dataclass(frozen=True)
class SourceInfo:
    """Provenance of a loaded embedding: what was read and what the loader did to it."""

    path: str = ""
    sha256: str = ""
    format: str = "memory"
    words: int = 0
    dim: int = 0
    duplicates_dropped: int = 0
    duplicate_policy: str = "error"
    case: str = "keep"
    zero_rows: int = 0
    nonfinite_rows: int = 0
    nonfinite_policy: str = "reject"
    words_with_spaces: int = 0
    limit: int | None = None
    header_words: int | None = None
    name: str = ""        # the name it was given by (gensim-data:NAME, hf:ORG/REPO/FILE@COMMIT); "" for a path
    revision: str = ""    # the Hugging Face commit of the file; "" otherwise
    unicode_errors: str = "strict"   # what the loader did with words that are not UTF-8 (as gensim's option)
    undecodable_words: int = 0       # words whose bad bytes were replaced or dropped

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> "SourceInfo":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _scale_rows(matrix: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``matrix * scale[:, None]`` in one pass; a large matrix in one block per core, in
    threads (numpy releases the GIL), which also spreads the new array's page faults."""
    out = np.empty_like(matrix)
    workers = min(os.cpu_count() or 1, 4) if matrix.size >= PARALLEL_ELEMENTS else 1
    bounds = np.linspace(0, len(matrix), workers + 1).astype(int)

    def part(i: int) -> None:
        rows = slice(bounds[i], bounds[i + 1])
        np.multiply(matrix[rows], scale[rows, None], out=out[rows])

    if workers == 1:
        part(0)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(part, range(workers)))
    return out


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False)
class Vectors:
    """Words and their vectors: ``words[i]`` has the row ``matrix[i]``."""

    words: tuple[str, ...]
    matrix: np.ndarray
    source: SourceInfo = field(default_factory=SourceInfo)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __init__(self, words: Sequence[str], matrix: np.ndarray, source: SourceInfo | None = None, *,
                 copy: bool = True, key_to_index: Mapping[str, int] | None = None,
                 norms: np.ndarray | None = None):
        """``copy=False`` takes over ``matrix`` without copying it when it already is C-ordered
        float32 (the loaders, which own what they parsed); it becomes read-only. ``key_to_index``:
        a word -> row dict the caller already built for exactly these words and hands over (the
        loaders do, to find duplicates); ``norms``: the rows' norms computed as :attr:`norms` does
        (the loaders, which need them to find zero and non-finite rows)."""
        words = tuple(words)
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise AuditError(f"an embedding matrix must be 2-dimensional, got shape {matrix.shape}.")
        if len(words) != matrix.shape[0]:
            raise AuditError(f"{len(words)} words were given for {matrix.shape[0]} vectors.")
        matrix = np.array(matrix, dtype=np.float32, copy=True if copy else None, order="C")
        matrix.flags.writeable = False
        if source is None:
            finite = np.isfinite(matrix).all(axis=1)
            source = SourceInfo(words=len(words), dim=matrix.shape[1], nonfinite_rows=int((~finite).sum()),
                                zero_rows=int((finite & ~np.any(matrix != 0, axis=1)).sum()),
                                nonfinite_policy="exclude")
        object.__setattr__(self, "words", words)
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "_cache", {})
        if key_to_index is not None:
            if len(key_to_index) != len(words):
                raise AuditError(DUPLICATE_WORDS)
            self._cache["key_to_index"] = MappingProxyType(key_to_index)
        if norms is not None:
            if np.shape(norms) != (len(words),):
                raise AuditError(f"{np.size(norms)} norms were given for {len(words)} vectors.")
            self._cache["norms"] = _read_only(np.asarray(norms, dtype=np.float64))

    # ----------------------------------------------------------------------------- basics
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.key_to_index

    def __repr__(self) -> str:
        return f"Vectors({len(self)} words x {self.dim}, format={self.source.format!r})"

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def key_to_index(self) -> Mapping[str, int]:
        if "key_to_index" not in self._cache:
            mapping = dict(zip(self.words, range(len(self.words))))  # C-level; a dictcomp is ~3x slower
            if len(mapping) != len(self.words):
                raise AuditError(DUPLICATE_WORDS)
            self._cache["key_to_index"] = MappingProxyType(mapping)
        return self._cache["key_to_index"]

    def index(self, word: str) -> int:
        try:
            return self.key_to_index[word]
        except KeyError:
            raise AuditError(f"the word {word!r} is not in the vocabulary.") from None

    def indices(self, words: Iterable[str]) -> np.ndarray:
        """Row index per word, -1 for a word not in the vocabulary."""
        words = list(words)
        lookup = self.rows_of(words)
        return np.fromiter((lookup.get(w, -1) for w in words), dtype=np.int64, count=len(words))

    def rows_of(self, words: Iterable[str]) -> dict[str, int]:
        """The row of each of ``words`` that is in the vocabulary (the others are left out).

        Once :attr:`key_to_index` is built, read from it. Before, one pass over the vocabulary
        finds just these words (on 1,000,000 words ~0.1 s against ~0.75 s for the whole dict; a
        trainer's new Vectors each epoch pays the pass, not the dict). A word asked for that
        appears more than once is an error, as in the dict; other repeated words play no part in
        the answer. Answers are kept, so asking again for the same words costs nothing."""
        wanted = set(words)
        if "key_to_index" in self._cache:
            lookup = self.key_to_index
            return {w: lookup[w] for w in wanted if w in lookup}
        known = self._cache.setdefault("rows_of", {})      # word -> row, -1 when absent
        new = wanted.difference(known)
        if new:
            found: dict[str, int] = {}
            for row in itertools.compress(range(len(self.words)), map(new.__contains__, self.words)):
                if self.words[row] in found:
                    raise AuditError(DUPLICATE_WORDS)
                found[self.words[row]] = row
            known.update(dict.fromkeys(new, -1))
            known.update(found)
        return {w: known[w] for w in wanted if known[w] >= 0}

    def vector(self, word: str) -> np.ndarray:
        return self.matrix[self.index(word)]

    # ----------------------------------------------------------------------------- norms
    @property
    def norms(self) -> np.ndarray:
        """Euclidean norm of each row (float64 accumulation), read-only."""
        if "norms" not in self._cache:
            norms = np.sqrt(np.einsum("ij,ij->i", self.matrix, self.matrix, dtype=np.float64))
            self._cache["norms"] = _read_only(norms)
        return self._cache["norms"]

    @property
    def valid(self) -> np.ndarray:
        """True for rows whose cosine is defined (finite, non-zero norm)."""
        if "valid" not in self._cache:
            norms = self.norms
            self._cache["valid"] = _read_only(np.isfinite(norms) & (norms > 0))
        return self._cache["valid"]

    @property
    def unit(self) -> np.ndarray:
        """Rows scaled to unit length; invalid rows are all zeros. Cached, read-only."""
        if "unit" not in self._cache:
            valid = self.valid
            scale = np.zeros(len(self), dtype=np.float64)
            scale[valid] = 1.0 / self.norms[valid]
            unit = _scale_rows(self.matrix, scale.astype(np.float32))
            if not valid.all():
                unit[~valid] = 0   # NaN/inf rows (NaN * 0 is NaN)
            self._cache["unit"] = _read_only(unit)
        return self._cache["unit"]

    # ----------------------------------------------------------------------------- similarity
    def pair_similarities(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Cosine of rows ``left[i]`` and ``right[i]`` (float64); NaN where either is invalid."""
        left = np.asarray(left, dtype=np.int64)
        right = np.asarray(right, dtype=np.int64)
        sims = np.empty(len(left), dtype=np.float64)
        # Pairs in blocks of ~8 MB of float64 rows, so memory stays bounded however many pairs.
        step = max(1, PAIR_BLOCK_VALUES // max(1, self.dim))
        for start in range(0, len(left), step):
            i, j = left[start:start + step], right[start:start + step]
            a = self.matrix[i].astype(np.float64)
            b = self.matrix[j].astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                sims[start:start + step] = np.einsum("ij,ij->i", a, b) / (self.norms[i] * self.norms[j])
        sims[~(self.valid[left] & self.valid[right])] = np.nan
        return sims

    def similarity(self, first: str, second: str) -> float:
        i, j = self.index(first), self.index(second)
        return float(self.pair_similarities(np.array([i]), np.array([j]))[0])

    def _blocks(self, queries: np.ndarray, block_bytes: int):
        rows = max(1, int(block_bytes // max(1, 4 * len(self))))
        unit = self.unit
        invalid = ~self.valid
        for start in range(0, len(queries), rows):
            block = queries[start:start + rows]
            scores = unit[block] @ unit.T
            scores[:, invalid] = -np.inf
            yield start, block, scores

    def nearest(self, queries: Sequence[int] | np.ndarray, k: int = 10, *,
                exclude_self: bool = True, block_bytes: int = DEFAULT_BLOCK_BYTES
                ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most cosine-similar rows for each query row.

        Returns ``(indices, similarities)``, each of shape ``(len(queries), k)``, best first;
        ties are broken by the lower row index so the answer does not depend on BLAS order.
        Invalid rows are never returned; a query row that is itself invalid gets index -1
        and similarity NaN. Memory is bounded by ``block_bytes`` per block of queries.
        """
        queries = np.asarray(queries, dtype=np.int64)
        k = int(k)
        if k < 1:
            raise AuditError("k must be at least 1.")
        available = int(self.valid.sum()) - (1 if exclude_self else 0)
        k_eff = max(0, min(k, available))
        out_idx = np.full((len(queries), k), -1, dtype=np.int64)
        out_sim = np.full((len(queries), k), np.nan, dtype=np.float64)
        if k_eff == 0:
            return out_idx, out_sim
        for start, block, scores in self._blocks(queries, block_bytes):
            if exclude_self:
                scores[np.arange(len(block)), block] = -np.inf
            part = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff]
            part_scores = np.take_along_axis(scores, part, axis=1)
            order = np.lexsort((part, -part_scores), axis=1)
            top = np.take_along_axis(part, order, axis=1)
            top_scores = np.take_along_axis(part_scores, order, axis=1)
            good = self.valid[block]
            out_idx[start:start + len(block), :k_eff] = np.where(good[:, None], top, -1)
            out_sim[start:start + len(block), :k_eff] = np.where(good[:, None], top_scores, np.nan)
        return out_idx, out_sim

    def ranks(self, queries: Sequence[int] | np.ndarray, targets: Sequence[int] | np.ndarray, *,
              block_bytes: int = DEFAULT_BLOCK_BYTES) -> np.ndarray:
        """Rank of ``targets[i]`` among all words by cosine to ``queries[i]`` (1 = nearest).

        The query itself is excluded. The rank is 1 + the number of other valid words strictly
        more similar than the target (ties count in the target's favour), so it does not depend
        on vocabulary order. NaN where the query or the target is invalid.
        """
        queries = np.asarray(queries, dtype=np.int64)
        targets = np.asarray(targets, dtype=np.int64)
        if queries.shape != targets.shape:
            raise AuditError("queries and targets must have the same length.")
        ranks = np.full(len(queries), np.nan)
        for start, block, scores in self._blocks(queries, block_bytes):
            rows = np.arange(len(block))
            scores[rows, block] = -np.inf
            target = targets[start:start + len(block)]
            target_scores = scores[rows, target]
            better = (scores > target_scores[:, None]).sum(axis=1)
            ok = self.valid[block] & self.valid[target] & (block != target)
            ranks[start:start + len(block)] = np.where(ok, better + 1, np.nan)
        return ranks

    # ----------------------------------------------------------------------------- new objects
    def subset(self, words: Iterable[str]) -> "Vectors":
        """A new Vectors restricted to ``words`` (in the given order; unknown words are errors)."""
        rows = [self.index(w) for w in words]
        return self.take(rows)

    def take(self, rows: Sequence[int] | np.ndarray) -> "Vectors":
        rows = np.asarray(rows, dtype=np.int64)
        source = dataclasses.replace(self.source, words=len(rows))
        return Vectors([self.words[i] for i in rows], self.matrix[rows], source)

    def normalized(self) -> "Vectors":
        """A new Vectors whose rows are unit length (invalid rows become zeros)."""
        return Vectors(self.words, self.unit, self.source)


# ------------------------------------------------------------------------------ word keys
def word_keys(words) -> np.ndarray | None:
    """A 64-bit polynomial hash of each word's UTF-8 bytes, vectorised: keys that depend only on
    the words, so an order built from them does not depend on the file's row order (sorting 400k strings
    costs ~0.3 s; this ~0.05 s). None when words contain newlines or are empty. Hashed in
    blocks of words, so the temporaries stay cache-sized (whole-vocabulary temporaries of
    ~30 MB each made a first call 3x slower, on page faults alone)."""
    keys = np.empty(len(words), dtype=np.uint64)
    for start in range(0, len(words), WORD_KEY_BLOCK):
        block = _word_keys_block(words[start:start + WORD_KEY_BLOCK])
        if block is None:
            return None
        keys[start:start + len(block)] = block
    return keys


def _word_keys_block(words) -> np.ndarray | None:
    data = "\n".join(words).encode("utf-8")
    buffer = np.frombuffer(data, dtype=np.uint8)
    separators = buffer == 10
    if int(np.count_nonzero(separators)) != len(words) - 1:
        return None
    starts = np.empty(len(words), dtype=np.int64)
    starts[0] = 0
    starts[1:] = np.flatnonzero(separators) + 1
    spans = np.diff(starts, append=len(buffer) + 1)   # each word's bytes and its separator
    if np.any(spans < 2):   # an empty word
        return None
    # Position of each byte in its word (np.repeat; a cumulative sum over the bytes is 3x slower).
    position = np.arange(len(buffer), dtype=np.int64) - np.repeat(starts, spans)[:len(buffer)]
    powers = np.cumprod(np.full(int(spans.max()), 1_000_003, dtype=np.uint64), dtype=np.uint64)
    with np.errstate(over="ignore"):
        weighted = np.take(powers, position) * (buffer + np.uint64(1))
    weighted[separators] = 0
    return np.add.reduceat(weighted, starts)
