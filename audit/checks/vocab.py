"""Vocabulary provenance: which corpus subsets and min count give an embedding's vocabulary?

The reality-check paper (section 3.2) found that the released Speech2Vec vocabulary is exactly
the LibriSpeech words with count >= 5 over *all* subsets, not over the claimed clean 500 h
(Table 5), and that the benchmark pairs the Speech2Vec paper reported as not found do not fit
the claimed corpus (Table 6). :func:`provenance` runs that analysis for any vocabulary and any
per-subset word counts:

* every non-empty union of the subsets (127 for LibriSpeech's 7) x every min count
  ``1..max_min_count`` is a candidate vocabulary: the words whose count summed over the union
  is at least the min count;
* for each candidate: ``shared`` (in both), ``missing`` (in the embedding, not the candidate),
  ``extra`` (in the candidate, not the embedding) and the Jaccard index; ``exact`` when
  nothing is missing or extra;
* candidates are ranked by Jaccard (highest first), then fewest differences, then fewest
  subsets, then subset order, then the lower min count; ``unique`` says whether no other
  candidate scores the same as the best one (for an exact best: no other exact candidate).

The search never builds a Python set per candidate. Counts are capped at ``max_min_count + 1``
(capping each term and the sum gives the same capped sum, so nothing is lost); word types
with the same capped counts are merged into one weighted pattern; one ``patterns x subsets``
@ ``subsets x unions`` product gives every union's capped sums, and a weighted histogram of
them per union, over all types and over the embedding's types, gives every candidate's size
and overlap by a reverse cumulative sum.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

import numpy as np

from audit.corpora.librispeech import SUBSETS, CorpusCounts, count_matrix
from audit.core.paper import paper_not_found_table, paper_vocabulary_table
from audit.core.errors import AuditError, ParameterError
from audit.core.results import InputInfo, Result, result_type, today
from audit.core.vectors import Vectors

if TYPE_CHECKING:   # the benchmarks package is imported only when Table 6 is asked for
    from benchmarks import Benchmark

CLEAN_500H = ("train-clean-100", "train-clean-360")
# The paper's Table 5 candidates: (label, subsets, min count, key of speech2vec-vocabulary.tsv).
STANDARD_CANDIDATES = (
    ("clean-100+360, all words", CLEAN_500H, 1, "libri_clean_all_words"),
    ("clean-100+360, count >= 4", CLEAN_500H, 4, "rc_reproduction_libri_clean_count_ge_4"),
    ("clean-100+360, count >= 5", CLEAN_500H, 5, "libri_clean_count_ge_5"),
    ("all 7 subsets, count >= 5", SUBSETS, 5, "libri_all_count_ge_5"),
)
EMBEDDING_ROW_KEY = "official_released_embeddings"
BENCHMARK_NORMALISATION = "benchmark words lowercased; a pair is not found when either word is not in the vocabulary"
# Table 6 counts a benchmark's pairs as `audit benchmarks` scores them by default
# (benchmarks.evaluate's ``duplicates``): a (word1, word2) pair listed twice counts once, at its
# last line, so WS-353 has 352 pairs (money/cash is listed twice), not its 353 lines.
TABLE6_DUPLICATES = "last"
_BLOCK_ROWS = 1 << 15  # rows of the capped-sum block: 32k types x 127 unions x 4 bytes = 16 MB
MAX_CANDIDATES = 5_000_000  # (union, min count) candidates searched at most: ~40 MB per int64 array of them


# ------------------------------------------------------------------------------ result types
@dataclass(frozen=True)
class SubsetInfo:
    name: str
    types: int
    tokens: int
    utterances: int
    transcripts: int
    fingerprint: str


@dataclass(frozen=True)
class CorpusInfo:
    name: str
    root: str
    normalisation: str
    subsets: tuple[SubsetInfo, ...]


@dataclass(frozen=True)
class Candidate:
    """One candidate vocabulary: the words counted at least ``min_count`` times over ``subsets``."""

    rank: int
    subsets: tuple[str, ...]
    min_count: int
    words: int
    shared: int
    missing: int
    extra: int
    jaccard: float
    exact: bool
    missing_words: tuple[str, ...] = ()
    extra_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class VocabularyRow:
    """A row of the Table 5 view; ``available`` is false when the corpus lacks a subset."""

    label: str
    subsets: tuple[str, ...]
    min_count: int | None
    available: bool
    words: int | None
    missing: int | None
    extra: int | None
    jaccard: float | None
    exact: bool | None
    paper_words: int | None
    paper_missing: int | None


@dataclass(frozen=True)
class NotFoundRow:
    """A row of the Table 6 view: pairs not found per vocabulary column, beside the paper's.

    Which count each column follows: ``pairs`` and ``not_found`` (ours) count the pairs as they were
    passed; :func:`table6_benchmarks`, which `audit vocab` and `audit all` use, passes each
    (word1, word2) pair once, its last line, as `audit benchmarks` scores them (WS-353: 352 pairs).
    ``paper_reported`` (the Speech2Vec paper) and ``paper_libri_clean`` (the reality check, all
    words of clean-100 + clean-360) are quoted from the reality-check paper's Table 6, never
    recomputed. The paper tables do not say how a repeated pair was counted; the wordvectors.org
    script (``all_wordsim.py``) and the reality check's released evaluation
    (``utils/vec_eval/my_sim.py``) score each (word1, word2) once but add 1 to "not found" for
    every *line* with a missing word. So the paper columns most likely count lines: they can differ
    from ours only on a repeated pair that is not found, i.e. WS-353's money/cash (the one repeat
    in the 13 files) would count 2 there and 1 here. Neither paper column gives a pair total.
    """

    benchmark: str
    pairs: int
    not_found: dict[str, int]
    paper_reported: int | None
    paper_libri_clean: int | None


@dataclass(frozen=True)
class CoverageTable:
    columns: tuple[str, ...]
    normalisation: str
    rows: tuple[NotFoundRow, ...]


@result_type("vocab")
@dataclass(frozen=True)
class ProvenanceResult(Result):
    input: InputInfo
    corpus: CorpusInfo
    max_min_count: int
    top: int
    examples: int
    embedding_words: int
    embedding_words_in_corpus: int
    embedding_words_not_normalised: int
    searched: int
    exact_matches: int
    tied_with_best: int
    unique: bool
    best: Candidate
    ties: tuple[Candidate, ...]
    candidates: tuple[Candidate, ...]
    table5: tuple[VocabularyRow, ...]
    table6: CoverageTable | None
    date: str


# ------------------------------------------------------------------------------ the check
def provenance(words: Vectors | Iterable[str], corpus_counts: CorpusCounts | Mapping[str, Mapping[str, int]], *,
               max_min_count: int = 20,
               benchmark_pairs: Mapping[str, Sequence[tuple]] | Iterable[Benchmark] | None = None,
               top: int = 10, examples: int = 20, corpus_name: str = "librispeech") -> ProvenanceResult:
    """Search every (union of subsets, min count) for the embedding's vocabulary.

    ``words`` is a :class:`Vectors` or any iterable of words (compared as given; the corpus
    side is normalised as :data:`audit.corpora.librispeech.NORMALISATION` says). ``corpus_counts`` is a
    :class:`CorpusCounts` or ``{subset: {word: count}}``. ``benchmark_pairs`` adds the Table 6
    view: loaded :class:`benchmarks.Benchmark` objects (:func:`table6_benchmarks`: pairs counted as
    `audit benchmarks` counts them, and the table says so), or display name ->
    ``[(word1, word2, score), ...]``, every listed pair counted as given. ``top`` candidates are
    listed, each with up to ``examples`` missing and extra words.
    """
    if max_min_count < 1:
        raise ParameterError("max_min_count", "must be at least 1.")
    if top < 1 or examples < 0:
        raise AuditError("top must be at least 1 and examples at least 0.")
    input_info, vocabulary = _vocabulary(words)
    corpus_info, names, types, matrix = _corpus(corpus_counts, corpus_name)
    unions = (1 << len(names)) - 1
    if unions * max_min_count > MAX_CANDIDATES:
        raise ParameterError("max_min_count", f"is {max_min_count:,}: with {unions:,} unions of subsets that makes "
                                              f"more than the {MAX_CANDIDATES:,} candidates searched at most "
                                              f"(memory grows with them); choose at most "
                                              f"{max(1, MAX_CANDIDATES // unions):,}.")
    in_embedding = np.fromiter(map(vocabulary.__contains__, types), dtype=bool, count=len(types))
    table = _SearchTable(names, matrix, in_embedding, len(vocabulary), max_min_count)
    order = table.ranking()
    details = _Details(names, types, matrix, in_embedding, vocabulary, examples)
    best_id = int(order[0])
    tied = table.tied_with(best_id)
    ranked = [details.candidate(table, int(i), rank) for rank, i in enumerate(order[:top], start=1)]
    rank_of = {int(i): rank for rank, i in enumerate(order, start=1)}
    ties = tuple(details.candidate(table, int(i), rank_of[int(i)]) for i in tied[:top])
    table5 = _table5(names, matrix, in_embedding, len(vocabulary))
    table6 = _table6(benchmark_pairs, details, table, best_id) if benchmark_pairs is not None else None
    return ProvenanceResult(
        input=input_info, corpus=corpus_info, max_min_count=max_min_count, top=top, examples=examples,
        embedding_words=len(vocabulary), embedding_words_in_corpus=int(in_embedding.sum()),
        embedding_words_not_normalised=sum(1 for w in vocabulary if w.lower() != w or len(w.split()) != 1),
        searched=table.size, exact_matches=int(table.exact.sum()), tied_with_best=len(tied),
        unique=len(tied) == 0, best=ranked[0], ties=ties, candidates=tuple(ranked), table5=table5, table6=table6,
        date=today())


def _vocabulary(words: Vectors | Iterable[str]) -> tuple[InputInfo, frozenset[str]]:
    if isinstance(words, Vectors):
        vocabulary = frozenset(words.words)
        info = InputInfo.of(words)
    else:
        listed = [str(w) for w in words]
        vocabulary = frozenset(listed)
        digest = hashlib.sha256("\n".join(sorted(vocabulary)).encode("utf-8")).hexdigest()
        info = InputInfo(path="", sha256=digest, format="word-list", words=len(vocabulary), dim=0, name="word list")
    if not vocabulary:
        raise AuditError("the embedding vocabulary is empty, so there is nothing to trace.")
    return info, vocabulary


def _corpus(corpus_counts, corpus_name: str):
    if isinstance(corpus_counts, CorpusCounts):
        names = corpus_counts.names
        types, matrix = corpus_counts.matrix()
        subsets = tuple(SubsetInfo(s.name, len(s.words), s.tokens, s.utterances, s.transcripts, s.fingerprint)
                        for s in corpus_counts.subsets)
        info = CorpusInfo(corpus_name, corpus_counts.root, corpus_counts.normalisation, subsets)
    else:
        names = tuple(corpus_counts.keys())
        types, matrix = count_matrix(corpus_counts)
        subsets = tuple(SubsetInfo(name, int((matrix[:, i] > 0).sum()), int(matrix[:, i].sum()), 0, 0, "")
                        for i, name in enumerate(names))
        info = CorpusInfo(corpus_name, "", "as given", subsets)
    if not names:
        raise AuditError("the corpus has no subsets to search.")
    if len(names) > 16:
        raise AuditError(f"the corpus has {len(names)} subsets; the search covers at most 16 (65,535 unions).")
    for i, name in enumerate(names):
        if matrix[:, i].sum() == 0:
            raise AuditError(f"the subset {name} has no words.")
    return info, names, types, matrix


# ------------------------------------------------------------------------------ the search
class _SearchTable:
    """Size and overlap of every (union, min count) candidate, from capped-count histograms."""

    def __init__(self, names, matrix: np.ndarray, in_embedding: np.ndarray, embedding_words: int, max_min_count: int):
        n_subsets = len(names)
        self.masks = np.arange(1, 1 << n_subsets, dtype=np.int64)       # bit i = subset column i
        self.min_counts = np.arange(1, max_min_count + 1, dtype=np.int64)
        membership = (self.masks[None, :] >> np.arange(n_subsets)[:, None]) & 1
        cap = max_min_count + 1
        # Types with the same capped counts behave alike in every candidate: search the
        # distinct count patterns (a few thousand on LibriSpeech), weighted by how many types
        # (all, and the embedding's) share each.
        patterns, inverse = _count_patterns(np.minimum(matrix, cap), cap)
        weight_all = np.bincount(inverse, minlength=len(patterns))
        weight_embedding = np.bincount(inverse[in_embedding], minlength=len(patterns))
        at_least_all = np.zeros((len(self.masks), cap + 1), dtype=np.int64)
        at_least_embedding = np.zeros_like(at_least_all)
        for start in range(0, len(patterns), _BLOCK_ROWS):
            block = patterns[start:start + _BLOCK_ROWS].astype(np.int64)
            capped = np.minimum(block @ membership, cap)                 # patterns x unions
            for weights, hist in ((weight_all, at_least_all), (weight_embedding, at_least_embedding)):
                w = np.broadcast_to(weights[start:start + _BLOCK_ROWS, None], capped.shape)
                flat = (capped + np.arange(len(self.masks)) * (cap + 1)).ravel()
                hist += np.bincount(flat, weights=w.ravel(), minlength=hist.size).astype(np.int64).reshape(hist.shape)
        at_least_all = _reverse_cumsum(at_least_all)[:, 1:cap]
        at_least_embedding = _reverse_cumsum(at_least_embedding)[:, 1:cap]
        self.names = tuple(names)
        self.words = at_least_all.ravel()                    # candidate id = union * K + (min_count - 1)
        self.shared = at_least_embedding.ravel()
        self.missing = embedding_words - self.shared
        self.extra = self.words - self.shared
        self.jaccard = self.shared / (embedding_words + self.extra)
        self.exact = (self.missing == 0) & (self.extra == 0)
        self.size = self.words.size
        self._subset_counts = np.repeat(membership.sum(axis=0), max_min_count)

    def union_and_min_count(self, candidate: int) -> tuple[int, int]:
        union, k = divmod(candidate, len(self.min_counts))
        return int(self.masks[union]), int(self.min_counts[k])

    def subsets(self, mask: int) -> tuple[str, ...]:
        return tuple(name for i, name in enumerate(self.names) if mask >> i & 1)

    def ranking(self) -> np.ndarray:
        ids = np.arange(self.size)
        union_ids, k_ids = np.divmod(ids, len(self.min_counts))
        # np.lexsort sorts by the last key first.
        return np.lexsort((k_ids, self.masks[union_ids], self._subset_counts,
                           self.missing + self.extra, -self.jaccard))

    def tied_with(self, candidate: int) -> np.ndarray:
        """Other candidates with the same overlap figures (an exact best: the other exact ones)."""
        same = ((self.shared == self.shared[candidate]) & (self.words == self.words[candidate]))
        same[candidate] = False
        ids = np.flatnonzero(same)
        order = self.ranking()
        position = np.empty(self.size, dtype=np.int64)
        position[order] = np.arange(self.size)
        return ids[np.argsort(position[ids], kind="stable")]


def _count_patterns(capped: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``capped`` (values 0..cap) and each row's pattern number."""
    n_subsets = capped.shape[1]
    if (cap + 1) ** n_subsets < 2 ** 62:
        # One int64 code per row: sorting integers is much faster than np.unique(axis=0).
        radix = (cap + 1) ** np.arange(n_subsets, dtype=np.int64)
        codes, inverse = np.unique(capped.astype(np.int64) @ radix, return_inverse=True)
        patterns = (codes[:, None] // radix[None, :]) % (cap + 1)
        return patterns, inverse.ravel()
    patterns, inverse = np.unique(capped, axis=0, return_inverse=True)
    return patterns, inverse.ravel()


def _reverse_cumsum(hist: np.ndarray) -> np.ndarray:
    """``out[:, c]`` = number of items whose capped count is at least ``c``."""
    return hist[:, ::-1].cumsum(axis=1)[:, ::-1]


class _Details:
    """Word lists for a few chosen candidates (one pass over the types each)."""

    def __init__(self, names, types, matrix, in_embedding, vocabulary, examples):
        self.names = tuple(names)
        self.types = np.array(types, dtype=object)
        self.matrix = matrix
        self.in_embedding = in_embedding
        self.examples = examples
        type_set = set(types)
        self.outside = sorted(w for w in vocabulary if w not in type_set)   # never in any candidate
        self.vocabulary = vocabulary

    def totals(self, subsets: Sequence[str]) -> np.ndarray:
        columns = [self.names.index(s) for s in subsets]
        return self.matrix[:, columns].sum(axis=1)

    def members(self, subsets: Sequence[str], min_count: int) -> np.ndarray:
        return self.totals(subsets) >= min_count

    def word_lists(self, subsets, min_count) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Missing and extra examples, the words nearest the threshold first, then alphabetical."""
        totals = self.totals(subsets)
        members = totals >= min_count
        missing_rows = np.flatnonzero(self.in_embedding & ~members)
        extra_rows = np.flatnonzero(members & ~self.in_embedding)
        missing = self._by_count(missing_rows, -totals[missing_rows]) + self.outside
        extra = self._by_count(extra_rows, totals[extra_rows])
        return tuple(missing[:self.examples]), tuple(extra[:self.examples])

    def _by_count(self, rows: np.ndarray, key: np.ndarray) -> list[str]:
        if not len(rows) or not self.examples:
            return []
        # The types are sorted, so the row number breaks ties alphabetically.
        order = np.lexsort((rows, key))[:self.examples]
        return self.types[rows[order]].tolist()

    def candidate(self, table: _SearchTable, candidate: int, rank: int) -> Candidate:
        mask, min_count = table.union_and_min_count(candidate)
        subsets = table.subsets(mask)
        missing_words, extra_words = self.word_lists(subsets, min_count)
        return Candidate(rank=rank, subsets=subsets, min_count=min_count, words=int(table.words[candidate]),
                         shared=int(table.shared[candidate]), missing=int(table.missing[candidate]),
                         extra=int(table.extra[candidate]), jaccard=float(table.jaccard[candidate]),
                         exact=bool(table.exact[candidate]), missing_words=missing_words, extra_words=extra_words)


# ------------------------------------------------------------------------------ the paper's views
def table6_benchmarks(data_dir=None, *, offline: bool = False) -> tuple[Benchmark, ...]:
    """The 13 benchmarks for the Table 6 view, read by the loader `audit benchmarks` uses, with its
    default duplicate-pair policy (:data:`TABLE6_DUPLICATES`), so that each benchmark's pair and
    not-found counts are the ``pairs`` and ``not_found`` of :func:`benchmarks.evaluate`. ``offline``:
    the copies installed packages ship instead (:func:`benchmarks.load_offline_benchmarks`)."""
    from benchmarks import load_benchmarks, load_offline_benchmarks

    if offline:
        return load_offline_benchmarks(duplicates=TABLE6_DUPLICATES)
    return load_benchmarks(data_dir, duplicates=TABLE6_DUPLICATES)


def _table5(names, matrix, in_embedding, embedding_words) -> tuple[VocabularyRow, ...]:
    paper = paper_vocabulary_table()
    official = paper.get(EMBEDDING_ROW_KEY, {})
    rows = [VocabularyRow("embedding", (), None, True, embedding_words, None, None, None, None,
                          official.get("words"), official.get("official_words_missing"))]
    for label, subsets, min_count, key in STANDARD_CANDIDATES:
        figures = paper.get(key, {})
        paper_words, paper_missing = figures.get("words"), figures.get("official_words_missing")
        if not set(subsets) <= set(names):
            rows.append(VocabularyRow(label, subsets, min_count, False, None, None, None, None, None,
                                      paper_words, paper_missing))
            continue
        columns = [names.index(s) for s in subsets]
        members = matrix[:, columns].sum(axis=1) >= min_count
        words = int(members.sum())
        shared = int((members & in_embedding).sum())
        rows.append(VocabularyRow(label, subsets, min_count, True, words, embedding_words - shared,
                                  words - shared, shared / (embedding_words + words - shared),
                                  shared == embedding_words == words, paper_words, paper_missing))
    return tuple(rows)


def _table6(benchmark_pairs, details: _Details, table: _SearchTable, best_id: int) -> CoverageTable:
    mask, best_min = table.union_and_min_count(best_id)
    vocabularies: dict[str, object] = {"embedding": details.vocabulary}
    for label, subsets, min_count, _ in STANDARD_CANDIDATES:
        if set(subsets) <= set(details.names):
            vocabularies[label] = _member_words(details, subsets, min_count)
    vocabularies["best"] = _member_words(details, table.subsets(mask), best_min)
    paper = paper_not_found_table()
    rows = []
    if isinstance(benchmark_pairs, Mapping):
        named, normalisation = benchmark_pairs.items(), BENCHMARK_NORMALISATION
    else:
        from benchmarks.datasets import DUPLICATE_POLICIES

        loaded = tuple(benchmark_pairs)
        named = [(bench.name, bench.pairs()) for bench in loaded]
        policies = sorted({DUPLICATE_POLICIES[bench.duplicates] for bench in loaded})
        normalisation = "; ".join([BENCHMARK_NORMALISATION, *policies])
    for name, pairs in named:
        pairs = [(str(p[0]).lower(), str(p[1]).lower()) for p in pairs]
        not_found = {label: sum(1 for a, b in pairs if a not in vocab or b not in vocab)
                     for label, vocab in vocabularies.items()}
        figures = paper.get(name, {})
        rows.append(NotFoundRow(name, len(pairs), not_found, figures.get("paper_reported_not_found"),
                                figures.get("libri_clean_all_words_not_found")))
    return CoverageTable(tuple(vocabularies), normalisation, tuple(rows))


def _member_words(details: _Details, subsets, min_count) -> frozenset[str]:
    return frozenset(details.types[details.members(subsets, min_count)].tolist())

