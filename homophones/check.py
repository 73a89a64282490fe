"""The homophone check (the reality-check paper's Sec. 3.1, Tables 1-3) as one pure function.

``check(vectors, pairs)`` filters the pairs to the vocabulary, compares homophone cosines with
random pairs (Table 1) and with control pairs, builds the per-pair table (Table 2/8) and the
kNN / homophone-rank table (Table 3), and gives a rank-based verdict (see
:mod:`homophones.verdict`). Everything random comes from ``seed``; the result does not depend
on the order of the vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.core.errors import AuditError, ParameterError, check_seed
from audit.core.results import InputInfo, Result, result_type, today
from audit.core.vectors import Vectors, word_keys
from homophones.neighbours import TIE_TOLERANCE, scan
from homophones.pairs import PaperColumns, PairSet, paper_table3
from homophones.stats import (BOOTSTRAP_RESAMPLES, ComparisonTest, RankStats, SimilarityStats,
                              compare, rank_stats, similarity_stats)
from homophones.verdict import VerdictEvidence, VerdictRule, decide

MAX_LISTED_MISSING = 1000
MAX_RANDOM_PAIRS = 1_000_000        # random pairs drawn at most (time and memory grow with it)
MAX_BOOTSTRAP_RESAMPLES = 100_000
KNN_EXAMPLES = 10


@dataclass(frozen=True)
class MissingPair:
    """A listed pair the check could not use, and why (``reason``)."""

    word1: str
    word2: str
    reason: str


@dataclass(frozen=True)
class PairCoverage:
    """Which pairs of the source were usable.

    ``total`` = ``found`` + ``missing``; a pair is found when both words are in the vocabulary
    with a usable (non-zero, finite) vector. ``evidence_pairs`` = found pairs that are not
    spelling variants (the verdict reads only these). ``missing_pairs`` lists the first
    ``MAX_LISTED_MISSING`` missing pairs; ``excluded_from_source`` counts entries the source
    itself dropped (CMUdict: abbreviations, letters, possessives).
    """

    source: str
    description: str
    total: int
    found: int
    missing: int
    spelling_variants_found: int
    evidence_pairs: int
    variant_source: str
    excluded_from_source: dict[str, int]
    missing_pairs: list[MissingPair]


@dataclass(frozen=True)
class PairRow:
    """One found pair (Table 2/8): our cosine, the rank of word2 among word1's neighbours
    (``rank_1_to_2``, 1 = nearest) and the reverse, each word's k nearest neighbours, and the
    paper's columns when the source has them (``paper``: raw_wav2vec, official_50d, reproduced_50d)."""

    word1: str
    word2: str
    spelling_variant: bool
    similarity: float
    rank_1_to_2: float
    rank_2_to_1: float
    neighbours1: list[str]
    neighbours2: list[str]
    paper: PaperColumns | None = None


@dataclass(frozen=True)
class KnnExample:
    """A Table 3 row: ``word``'s k nearest neighbours (self excluded) with their cosines, and
    the rank of its homophone ``partner``; the paper's values beside ours where it printed them."""

    word: str
    partner: str
    neighbours: list[str]
    similarities: list[float]
    homophone_rank: float
    paper_official_neighbours: list[str] | None = None
    paper_official_rank: int | None = None
    paper_reproduced_neighbours: list[str] | None = None
    paper_reproduced_rank: int | None = None


@dataclass(frozen=True)
class CheckParameters:
    k: int
    random_pairs: int
    control_rounds: int
    bootstrap_resamples: int
    rank_cutoff: int
    tie_tolerance: float


@result_type("homophones")
@dataclass(frozen=True)
class HomophoneResult(Result):
    """Result of :func:`check` (JSON kind ``"homophones"``).

    Top-level JSON fields:

    - ``verdict``: ``phonetic`` | ``non-phonetic`` | ``inconclusive``; ``verdict_reason``: one
      sentence; ``rule``: the thresholds and the rule in words; ``evidence``: the numbers the rule
      read (found pairs minus spelling variants: homophone and control rank summaries, lift).
    - ``pairs``: coverage (``source``, ``total``, ``found``, ``missing``, ``missing_pairs`` ...).
    - ``homophone_similarity``, ``random_similarity``, ``control_similarity``: ``{mean, std,
      median, n}`` of cosines (Table 1). Homophones: all found pairs; random: ``random_pairs``
      pairs of distinct vocabulary words drawn with ``seed``; control: each found pair's first
      word with the second word of another found pair (same list; not matched for frequency).
    - ``test_vs_random``, ``test_vs_control``: one-sided Mann-Whitney U, rank-biserial effect
      size and bootstrap 95% interval.
    - ``homophone_rank``, ``control_rank``: ``{n, median, mean, cutoff, share_within_cutoff,
      median_share_of_vocabulary, candidates}`` over both directions of all found pairs (Table 3).
    - ``pair_table``: one row per found pair (Table 2/8, with the paper's columns for paper-307);
      ``knn_examples``: Table 3 rows (the paper's ten words for paper-307).
    - ``input``, ``parameters``, ``seed``, ``date``: what was read and how.
    """

    input: InputInfo
    verdict: str
    verdict_reason: str
    rule: VerdictRule
    evidence: VerdictEvidence
    pairs: PairCoverage
    homophone_similarity: SimilarityStats
    random_similarity: SimilarityStats
    control_similarity: SimilarityStats
    test_vs_random: ComparisonTest
    test_vs_control: ComparisonTest
    homophone_rank: RankStats
    control_rank: RankStats
    pair_table: list[PairRow]
    knn_examples: list[KnnExample]
    parameters: CheckParameters
    seed: int
    date: str


def check(vectors: Vectors, pairs: PairSet, *, k: int = 3, random_pairs: int | None = None,
          seed: int = 0, bootstrap_resamples: int = BOOTSTRAP_RESAMPLES) -> HomophoneResult:
    """Audit how ``vectors`` place the homophone ``pairs``; see :class:`HomophoneResult`."""
    if k < 1:
        raise ParameterError("k", "must be at least 1.")
    if random_pairs is not None and random_pairs < 1:
        raise ParameterError("random_pairs", "must be at least 1 (the number of random pairs).")
    if random_pairs is not None and random_pairs > MAX_RANDOM_PAIRS:
        raise ParameterError("random_pairs", f"is {random_pairs:,}; at most {MAX_RANDOM_PAIRS:,} random pairs are "
                                             f"drawn (time and memory grow with the number).")
    if not 1 <= bootstrap_resamples <= MAX_BOOTSTRAP_RESAMPLES:
        raise ParameterError("bootstrap_resamples", f"must be between 1 and {MAX_BOOTSTRAP_RESAMPLES:,}.")
    check_seed(seed)
    random_stream, control_stream, boot_random, boot_control = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))
    found, coverage = _filter(vectors, pairs)
    if not found:
        raise AuditError(f"none of the {len(pairs.pairs)} {pairs.source} homophone pairs has both words in the "
                         f"vocabulary with usable vectors, so there is nothing to audit (mixed-case words? try "
                         f"a lowercased vocabulary; or another pair source).")
    usable = int(np.count_nonzero(vectors.valid))
    if k > usable - 1:
        raise ParameterError("k", f"is {k:,}, more than the {usable - 1:,} other usable words a word can have as "
                                  f"neighbours in this vocabulary.")
    left, right = _rows(vectors, found)
    similarities = vectors.pair_similarities(left, right)
    n_random = random_pairs or (len(found) or len(pairs))
    control = _control_targets(found, left, right, control_stream)
    control_sims = vectors.pair_similarities(left[control.pair], control.right) if len(control.pair) else np.array([])
    random_sims = _random_similarities(vectors, n_random, random_stream)
    ranks = _ranks(vectors, found, left, right, control, k)
    rule = VerdictRule()
    evidence = _evidence(found, ranks, control, vectors, rule)
    verdict, reason = decide(evidence, rule)
    candidates = max(0, int(vectors.valid.sum()) - 1)
    pair_rows = _pair_rows(vectors, found, similarities, ranks)
    return HomophoneResult(
        input=InputInfo.of(vectors), verdict=verdict, verdict_reason=reason, rule=rule, evidence=evidence,
        pairs=coverage, homophone_similarity=similarity_stats(similarities),
        random_similarity=similarity_stats(random_sims), control_similarity=similarity_stats(control_sims),
        test_vs_random=compare(similarities, random_sims, "random", boot_random, bootstrap_resamples),
        test_vs_control=compare(similarities, control_sims, "control", boot_control, bootstrap_resamples),
        homophone_rank=rank_stats(np.concatenate([ranks.forward, ranks.backward]), candidates, rule.rank_cutoff),
        control_rank=rank_stats(np.concatenate([ranks.control_forward, ranks.control_backward]), candidates,
                                rule.rank_cutoff),
        pair_table=pair_rows, knn_examples=_knn_examples(pairs, pair_rows, ranks, vectors),
        parameters=CheckParameters(k, n_random, 1, bootstrap_resamples, rule.rank_cutoff, TIE_TOLERANCE),
        seed=seed, date=today())


# --------------------------------------------------------------------------------- pairs
def _filter(vectors: Vectors, pairs: PairSet):
    """Found pairs (both words present with usable vectors) and the coverage record."""
    lookup = vectors.rows_of(w for pair in pairs.pairs for w in (pair.word1, pair.word2))
    valid = vectors.valid
    found, missing = [], []
    for pair in pairs.pairs:
        absent = [w for w in (pair.word1, pair.word2) if w not in lookup]
        unusable = [w for w in (pair.word1, pair.word2) if w in lookup and not valid[lookup[w]]]
        if absent:
            missing.append(MissingPair(pair.word1, pair.word2, "not in the vocabulary: " + ", ".join(absent)))
        elif unusable:
            missing.append(MissingPair(pair.word1, pair.word2, "zero or non-finite vector: " + ", ".join(unusable)))
        else:
            found.append(pair)
    variants = sum(p.spelling_variant for p in found)
    coverage = PairCoverage(pairs.source, pairs.description, len(pairs), len(found), len(missing), variants,
                            len(found) - variants, pairs.variant_source, dict(pairs.excluded),
                            missing[:MAX_LISTED_MISSING])
    return found, coverage


def _rows(vectors: Vectors, found) -> tuple[np.ndarray, np.ndarray]:
    left = vectors.indices([p.word1 for p in found])
    right = vectors.indices([p.word2 for p in found])
    return left, right


def _random_similarities(vectors: Vectors, count: int, rng: np.random.Generator) -> np.ndarray:
    """Cosines of ``count`` pairs of distinct valid words, drawn by position in an order that
    depends only on the words, so shuffling the file does not change the draw."""
    rows = _canonical_valid_rows(vectors)
    if len(rows) < 2:
        return np.array([])
    first = rng.integers(0, len(rows), size=count)
    second = rng.integers(0, len(rows) - 1, size=count)
    second = second + (second >= first)  # uniform over the other words, never the same one
    return vectors.pair_similarities(rows[first], rows[second])


def _canonical_valid_rows(vectors: Vectors) -> np.ndarray:
    keys = word_keys(vectors.words)
    order = None if keys is None else np.argsort(keys)   # distinct keys: stability is moot
    if order is None or np.any(np.diff(keys[order]) == 0):  # a hash collision: sort the words
        order = np.argsort(np.array(vectors.words, dtype=object), kind="stable")
    return order[vectors.valid[order]]


@dataclass(frozen=True)
class _Control:
    """Control pair i: ``left[pair[i]]`` with ``right``[i] (and the reverse direction with ``left_of``)."""

    pair: np.ndarray
    right: np.ndarray
    left_of: np.ndarray


def _control_targets(found, left, right, rng) -> _Control:
    """Each found pair's first word with the second word of another pair (a random cyclic
    permutation, so no pair keeps its own partner), dropping the rare draws that are themselves
    homophones of the query (a word in several pairs)."""
    n = len(found)
    if n < 2:
        empty = np.array([], dtype=np.int64)
        return _Control(empty, empty, empty)
    # A uniformly random single cycle: visit the pairs in random order, each takes the next's partner.
    order = rng.permutation(n)
    perm = np.empty(n, dtype=np.int64)
    perm[order] = np.roll(order, -1)
    related = {frozenset((a, b)) for a, b in zip(left.tolist(), right.tolist())}
    keep = [i for i in range(n) if left[i] != right[perm[i]] and right[i] != left[perm[i]]
            and frozenset((left[i], right[perm[i]])) not in related
            and frozenset((right[i], left[perm[i]])) not in related]
    keep = np.array(keep, dtype=np.int64)
    return _Control(keep, right[perm[keep]], left[perm[keep]])


# --------------------------------------------------------------------------------- ranks
@dataclass(frozen=True)
class _Ranks:
    forward: np.ndarray           # rank of word2 for query word1, per found pair
    backward: np.ndarray          # rank of word1 for query word2
    control_forward: np.ndarray   # rank of the control word for query word1, per control pair
    control_backward: np.ndarray
    neighbours: dict              # row -> (neighbour rows, similarities)


def _ranks(vectors, found, left, right, control: _Control, k: int) -> _Ranks:
    """All directed ranks and neighbour lists from one scan over the vocabulary."""
    requests = [(int(q), int(t)) for q, t in zip(left, right)] + [(int(q), int(t)) for q, t in zip(right, left)]
    requests += [(int(left[i]), int(t)) for i, t in zip(control.pair, control.right)]
    requests += [(int(right[i]), int(t)) for i, t in zip(control.pair, control.left_of)]
    queries = sorted({q for q, _ in requests})
    position = {q: i for i, q in enumerate(queries)}
    slots: dict[tuple[int, int], int] = {}
    per_query = [0] * len(queries)
    for q, t in requests:
        if (q, t) not in slots:
            slots[(q, t)] = per_query[position[q]]
            per_query[position[q]] += 1
    targets = np.full((len(queries), max(per_query, default=1)), -1, dtype=np.int64)
    for (q, t), slot in slots.items():
        targets[position[q], slot] = t
    result = scan(vectors, np.array(queries, dtype=np.int64), targets, k)

    def lookup(pairs):
        return np.array([result.ranks[position[q], slots[(q, t)]] for q, t in pairs], dtype=np.float64)

    n, m = len(found), len(control.pair)
    neighbours = {q: (result.neighbours[i], result.similarities[i]) for q, i in position.items()}
    return _Ranks(lookup(requests[:n]), lookup(requests[n:2 * n]), lookup(requests[2 * n:2 * n + m]),
                  lookup(requests[2 * n + m:]), neighbours)


def _evidence(found, ranks: _Ranks, control: _Control, vectors, rule: VerdictRule) -> VerdictEvidence:
    """Rank summaries over the found pairs that are not spelling variants."""
    is_evidence = np.array([not p.spelling_variant for p in found], dtype=bool)
    candidates = max(0, int(vectors.valid.sum()) - 1)
    homophone = rank_stats(np.concatenate([ranks.forward[is_evidence], ranks.backward[is_evidence]]),
                           candidates, rule.rank_cutoff)
    control_mask = is_evidence[control.pair] if len(control.pair) else np.array([], dtype=bool)
    control_stats = rank_stats(np.concatenate([ranks.control_forward[control_mask],
                                               ranks.control_backward[control_mask]]), candidates, rule.rank_cutoff)
    lift = homophone.share_within_cutoff - control_stats.share_within_cutoff
    return VerdictEvidence(int(is_evidence.sum()), homophone, control_stats, float(lift))


# --------------------------------------------------------------------------------- tables
def _pair_rows(vectors, found, similarities, ranks: _Ranks) -> list[PairRow]:
    lookup = vectors.rows_of(w for p in found for w in (p.word1, p.word2))

    def names(word):
        rows, _ = ranks.neighbours[lookup[word]]
        return [vectors.words[r] for r in rows if r >= 0]

    return [PairRow(p.word1, p.word2, p.spelling_variant, float(similarities[i]), float(ranks.forward[i]),
                    float(ranks.backward[i]), names(p.word1), names(p.word2), p.paper)
            for i, p in enumerate(found)]


def _knn_examples(pairs: PairSet, rows: list[PairRow], ranks: _Ranks, vectors) -> list[KnnExample]:
    """The paper's Table 3 words for paper-307; otherwise pairs spread evenly over the range of
    similarities (least to most similar), word1 as the query."""
    by_words = {(r.word1, r.word2): r for r in rows}
    chosen: list[tuple[str, str, dict | None]] = []
    if pairs.has_paper_columns:
        for paper_row in paper_table3():
            if (paper_row["word"], paper_row["partner"]) in by_words:
                chosen.append((paper_row["word"], paper_row["partner"], paper_row))
    if not chosen and rows:
        ordered = sorted(rows, key=lambda r: (r.similarity, r.word1, r.word2))
        picks = sorted({round(x) for x in np.linspace(0, len(ordered) - 1, min(KNN_EXAMPLES, len(ordered)))})
        chosen = [(ordered[i].word1, ordered[i].word2, None) for i in picks]
    lookup = vectors.rows_of(word for word, _, _ in chosen)
    examples = []
    for word, partner, paper in chosen:
        neighbour_rows, sims = ranks.neighbours[lookup[word]]
        usable = neighbour_rows >= 0
        row = by_words[(word, partner)]
        extra = {} if paper is None else dict(
            paper_official_neighbours=paper["official_neighbours"], paper_official_rank=paper["official_homophone_rank"],
            paper_reproduced_neighbours=paper["reproduced_neighbours"],
            paper_reproduced_rank=paper["reproduced_homophone_rank"])
        examples.append(KnnExample(word, partner, [vectors.words[r] for r in neighbour_rows[usable]],
                                   [float(s) for s in sims[usable]], row.rank_1_to_2, **extra))
    return examples
