"""Instance-level audits of acoustic word embeddings: one vector per spoken word token.

The metrics of the acoustic-word-embedding literature (seed papers 000, 001, 003, 004):

- same-different average precision (001): every pair of tokens is scored by cosine and the
  pairs of the same word are the positives; AP is the area under that precision-recall curve.
  Chance is the share of same-word pairs. For large inputs all same-word pairs are scored and
  the different-word pairs are a seeded uniform sample, weighted back to their population
  count, so the estimate stays unbiased and is recorded as sampled;
- query-by-example retrieval (003): every token queries all the others; mean average
  precision, mean reciprocal rank and recall@k (share of the query word's other tokens in the
  top k). Tied scores count against the query (a relevant item is ranked below every item
  that scores the same), so identical vectors never flatter a model;
- clustering (003): k-means with k = number of words on the unit-normalised embeddings,
  silhouette (cosine) of the k-means clusters and of the true words, ARI and AMI against the
  words;
- kNN word classification (004): k = 1 and 5, cosine, majority vote (ties go to the smaller
  word index, as scikit-learn does), trained on some speakers and tested on held-out speakers
  when speakers are given, else on a seeded token split.

Everything works on the unit-normalised float32 embeddings in blocks of query rows, so memory
stays bounded. No torch here: this module belongs to the core.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audit.core.errors import AuditError
from audit.core.results import InputInfo, Result, result_type, today
from audit.speech.dtw import DEFAULT_DTW_PAIRS, FrameSegments, dtw_costs, unit_frames

DEFAULT_SAMPLE_PAIRS = 2_000_000
DEFAULT_SEED = 0
RETRIEVAL_KS = (1, 5, 10)
KNN_KS = (1, 5)
KNN_TEST_FRACTION = 0.25
KMEANS_MAX_ITER = 100
# Query rows per block: a block of scores is (rows x tokens) float32, ~80 MB at 20,000 tokens.
BLOCK_ROWS = 1024
CURVE_POINTS = 201
# Above this share of a block's scores reaching a row's lowest relevant score, ranks are
# counted with one full pass per relevant slot instead of binning the candidates.
CANDIDATE_SHARE = 0.15
# Above this many relevant tokens per query (the largest word in a block), rows are sorted.
SORT_ABOVE_SLOTS = 24


# ----------------------------------------------------------------------------- input
@dataclass(frozen=True)
class InstanceSet:
    """Token embeddings with their word labels (and speakers, when known)."""

    embeddings: np.ndarray          # (tokens, dim) float32
    labels: np.ndarray              # (tokens,) str
    speakers: np.ndarray | None     # (tokens,) str or None
    input: InputInfo

    @property
    def tokens(self) -> int:
        return int(self.embeddings.shape[0])


def load_instances(path: str | os.PathLike) -> InstanceSet:
    """Read an instances ``.npz`` (``embeddings``, ``labels``, optional ``speakers``), strictly."""
    from audit.core.datadir import sha256_file
    from audit.core.npzfile import read_npz

    path = Path(path)
    arrays = read_npz(path, what="the instances file",
                      pickled_hint="store labels and speakers as plain string arrays")
    info = InputInfo(path=str(path), sha256=sha256_file(path), format="instances-npz", words=0, dim=0,
                     name=path.name)
    return make_instances(arrays.get("embeddings"), arrays.get("labels"), arrays.get("speakers"),
                          info=info, what=str(path))


def make_instances(embeddings, labels, speakers=None, *, info: InputInfo | None = None,
                   what: str = "the instances") -> InstanceSet:
    """Validate arrays into an :class:`InstanceSet` (bad input raises one-sentence AuditErrors)."""
    if embeddings is None or labels is None:
        missing = [k for k, v in (("embeddings", embeddings), ("labels", labels)) if v is None]
        raise AuditError(f"{what} lacks the key(s) {', '.join(missing)}.")
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2 or not np.issubdtype(embeddings.dtype, np.number):
        raise AuditError(f"{what}: embeddings must be a numeric (tokens x dim) matrix, got shape "
                         f"{embeddings.shape} of {embeddings.dtype}.")
    n = embeddings.shape[0]
    labels = _string_column(labels, "labels", n, what)
    speakers = None if speakers is None else _string_column(speakers, "speakers", n, what)
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    norms = np.linalg.norm(embeddings, axis=1)
    bad = ~np.isfinite(norms) | (norms == 0)
    if bad.any():
        raise AuditError(f"{what}: {int(bad.sum())} embedding row(s) are zero or not finite, so their "
                         "cosine is undefined.")
    if info is None:
        info = InputInfo(path="", sha256="", format="memory", words=0, dim=0, name="in-memory")
    info = InputInfo(path=info.path, sha256=info.sha256, format=info.format,
                     words=int(len(np.unique(labels))), dim=int(embeddings.shape[1]), name=info.name)
    return InstanceSet(embeddings=embeddings, labels=labels, speakers=speakers, input=info)


def _string_column(values, key: str, n: int, what: str) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype == object:
        raise AuditError(f"{what}: {key} is an object array; store it as a plain string or integer array.")
    if values.ndim != 1 or len(values) != n:
        raise AuditError(f"{what}: {key} has shape {values.shape} but there are {n} embeddings.")
    return values.astype(str)


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class SameDifferent:
    average_precision: float
    chance: float                   # share of same-word pairs among all pairs
    pairs_total: int
    same_pairs_total: int
    same_pairs_scored: int
    different_pairs_scored: int
    sampled: bool                   # True: different (and maybe same) pairs are a weighted sample
    score: str                      # what ranks a pair: "cosine" or "-dtw-cost"
    recall: tuple[float, ...]       # precision-recall curve, at most CURVE_POINTS points
    precision: tuple[float, ...]


@dataclass(frozen=True)
class Retrieval:
    mean_average_precision: float
    mean_reciprocal_rank: float
    recall_at: dict[str, float]     # "1", "5", "10" -> mean share of relevant tokens in the top k
    queries: int


@dataclass(frozen=True)
class Clustering:
    clusters: int
    kmeans_iterations: int
    kmeans_max_iter: int
    kmeans_init: str
    silhouette_kmeans: float        # cosine silhouette of the k-means clusters (003)
    silhouette_words: float         # cosine silhouette of the true words
    adjusted_rand: float
    adjusted_mutual_info: float


@dataclass(frozen=True)
class KnnClassification:
    accuracy: dict[str, float]      # "1", "5" -> share of test tokens whose word is predicted
    split: str                      # "speakers" (held-out speakers) or "tokens" (seeded token split)
    test_fraction: float
    train_tokens: int
    test_tokens: int
    test_tokens_unseen_word: int    # test tokens whose word has no training token (not scored)
    test_speakers: tuple[str, ...]


@dataclass(frozen=True)
class DtwBaseline:
    """Same-different AP of DTW on the MFCC frames (001's baseline)."""

    same_different: SameDifferent
    frames_path: str
    frames_sha256: str
    segments: int
    words: int
    frame_distance: str


@dataclass(frozen=True)
class AcousticParameters:
    sample_pairs: int
    dtw_pairs: int
    retrieval_ks: tuple[int, ...]
    knn_ks: tuple[int, ...]
    knn_test_fraction: float
    kmeans_max_iter: int
    drop_singletons: bool


@result_type("acoustic")
@dataclass(frozen=True)
class AcousticResult(Result):
    input: InputInfo
    tokens: int
    words: int
    speakers: int | None
    singletons_dropped: int
    seed: int
    parameters: AcousticParameters
    same_different: SameDifferent
    retrieval: Retrieval
    clustering: Clustering
    knn: KnnClassification
    dtw: DtwBaseline | None
    seconds: dict[str, float]
    date: str

    def summary_rows(self) -> list[tuple[str, object, object]]:
        """(metric, value, chance or reference) rows for a table."""
        sd, rt, cl, kn = self.same_different, self.retrieval, self.clustering, self.knn
        rows = [("same-different AP (cosine)", sd.average_precision, sd.chance)]
        if self.dtw is not None:
            rows.append(("same-different AP (MFCC DTW)", self.dtw.same_different.average_precision,
                         self.dtw.same_different.chance))
        rows += [("QbE mAP", rt.mean_average_precision, None), ("QbE MRR", rt.mean_reciprocal_rank, None)]
        rows += [(f"QbE recall@{k}", v, None) for k, v in rt.recall_at.items()]
        rows += [("k-means silhouette (cosine)", cl.silhouette_kmeans, None),
                 ("word silhouette (cosine)", cl.silhouette_words, None),
                 ("k-means ARI", cl.adjusted_rand, 0.0), ("k-means AMI", cl.adjusted_mutual_info, 0.0)]
        rows += [(f"kNN accuracy k={k} ({kn.split} split)", v, None) for k, v in kn.accuracy.items()]
        return rows


# ----------------------------------------------------------------------------- the check
def audit_instances(instances: InstanceSet, *, frames=None, sample_pairs: int = DEFAULT_SAMPLE_PAIRS,
                    dtw_pairs: int = 50_000, seed: int = DEFAULT_SEED, drop_singletons: bool = False,
                    knn_test_fraction: float = KNN_TEST_FRACTION,
                    kmeans_max_iter: int = KMEANS_MAX_ITER) -> AcousticResult:
    """Every instance-level metric; ``frames`` (:class:`audit.speech.dtw.FrameSegments`) adds the DTW baseline.

    The DTW baseline scores ``dtw_pairs`` pairs of the frame store's segments of the audited
    words (a DTW pair costs thousands of times a cosine, hence its own, smaller budget).
    """
    import time

    if sample_pairs < 2 or dtw_pairs < 2:
        raise AuditError("the pair budgets (--sample-pairs, --dtw-pairs) must be at least 2.")
    instances, dropped = _handle_singletons(instances, drop_singletons)
    words, label_index = np.unique(instances.labels, return_inverse=True)
    if len(words) < 2:
        raise AuditError("the instances hold fewer than 2 distinct words, so no metric can tell words apart.")
    unit = unit_rows(instances.embeddings)
    seconds: dict[str, float] = {}

    def timed(name, fn, *args, **kwargs):
        start = time.perf_counter()
        value = fn(*args, **kwargs)
        seconds[name] = round(time.perf_counter() - start, 3)
        return value

    seeds = _metric_seeds(seed)
    sd = timed("same_different", same_different_cosine, unit, label_index, sample_pairs=sample_pairs,
               seed=int(seeds[0]))
    rt = timed("retrieval", retrieval, unit, label_index)
    cl = timed("clustering", clustering, unit, label_index, seed=int(seeds[1]), max_iter=kmeans_max_iter)
    kn = timed("knn", knn_classification, unit, label_index, instances.speakers, seed=int(seeds[2]),
               test_fraction=knn_test_fraction)
    dtw = None
    if frames is not None:
        dtw = timed("dtw", dtw_same_different, frames, sample_pairs=dtw_pairs, seed=int(seeds[3]), words=words)
    n_speakers = None if instances.speakers is None else int(len(np.unique(instances.speakers)))
    params = AcousticParameters(sample_pairs=sample_pairs, dtw_pairs=dtw_pairs, retrieval_ks=RETRIEVAL_KS, knn_ks=KNN_KS,
                                knn_test_fraction=knn_test_fraction, kmeans_max_iter=kmeans_max_iter,
                                drop_singletons=drop_singletons)
    return AcousticResult(input=instances.input, tokens=instances.tokens, words=int(len(words)),
                          speakers=n_speakers, singletons_dropped=dropped, seed=seed, parameters=params,
                          same_different=sd, retrieval=rt, clustering=cl, knn=kn, dtw=dtw,
                          seconds=seconds, date=today())


def _metric_seeds(seed: int) -> np.ndarray:
    """One independent stream per metric: same-different, clustering, kNN, DTW."""
    return np.random.default_rng(seed).integers(0, 2**31 - 1, size=4)


def same_different_ap(embeddings: np.ndarray, labels: np.ndarray, *, sample_pairs: int = DEFAULT_SAMPLE_PAIRS,
                      seed: int = DEFAULT_SEED) -> SameDifferent:
    """Only the cosine same-different measure of :func:`audit_instances`, on the same pairs (the
    same labels order and seed stream), for callers that need it often: the reproduction
    records it every epoch. Words with a single token are kept (they add different-word pairs
    only); ``audit_instances`` refuses them unless told to drop them."""
    _, label_index = np.unique(np.asarray(labels), return_inverse=True)
    return same_different_cosine(unit_rows(np.asarray(embeddings, dtype=np.float32)), label_index,
                                 sample_pairs=sample_pairs, seed=int(_metric_seeds(seed)[0]))


def _handle_singletons(instances: InstanceSet, drop: bool) -> tuple[InstanceSet, int]:
    words, counts = np.unique(instances.labels, return_counts=True)
    single = words[counts < 2]
    if not len(single):
        return instances, 0
    if not drop:
        raise AuditError(f"{len(single)} word(s) have a single token (e.g. {single[0]!r}), so they have no "
                         "same-word pair; drop them with --drop-singletons.")
    keep = ~np.isin(instances.labels, single)
    speakers = None if instances.speakers is None else instances.speakers[keep]
    kept = make_instances(instances.embeddings[keep], instances.labels[keep], speakers, info=instances.input)
    return kept, int((~keep).sum())


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix.astype(np.float64), axis=1, keepdims=True)
    return (matrix / norms).astype(np.float32)


# ----------------------------------------------------------------------------- average precision
def average_precision(scores: np.ndarray, positive: np.ndarray, weights: np.ndarray | None = None):
    """AP of ranking ``scores`` (higher = more alike) against boolean ``positive``.

    Tied scores form one threshold, exactly as ``sklearn.metrics.average_precision_score``:
    AP = sum over thresholds of (recall step) x precision. Returns (ap, recall, precision)
    with the curve in threshold order (decreasing score).
    """
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    weights = np.ones(len(scores)) if weights is None else np.asarray(weights, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(np.where(positive[order], weights[order], 0.0))
    misses = np.cumsum(np.where(positive[order], 0.0, weights[order]))
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores[order])), len(scores) - 1]
    hits, misses = hits[last_of_tie], misses[last_of_tie]
    if hits[-1] <= 0:
        return math.nan, np.zeros(0), np.zeros(0)
    precision = hits / (hits + misses)
    recall = hits / hits[-1]
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    return ap, recall, precision


def _curve(recall: np.ndarray, precision: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """At most CURVE_POINTS points of the curve, evenly spaced along the thresholds, ends kept."""
    if len(recall) <= CURVE_POINTS:
        pick = np.arange(len(recall))
    else:
        pick = np.unique(np.linspace(0, len(recall) - 1, CURVE_POINTS).round().astype(int))
    return tuple(np.round(recall[pick], 6).tolist()), tuple(np.round(precision[pick], 6).tolist())


# ----------------------------------------------------------------------------- same-different pairs
def pair_counts(label_index: np.ndarray) -> tuple[int, int]:
    """(all token pairs, same-word pairs)."""
    n = len(label_index)
    counts = np.bincount(label_index).astype(np.int64)
    return n * (n - 1) // 2, int(np.sum(counts * (counts - 1) // 2))


def same_word_pairs(label_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair (i < j) of tokens of the same word, grouped by word size."""
    order = np.argsort(label_index, kind="stable")
    counts = np.bincount(label_index)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    firsts, seconds = [], []
    for size in np.unique(counts[counts >= 2]):
        # All words of this size at once: a (words x size) matrix of token indices.
        members = order[starts[counts == size][:, None] + np.arange(size)[None, :]]
        a, b = np.triu_indices(size, 1)
        firsts.append(members[:, a].ravel())
        seconds.append(members[:, b].ravel())
    if not firsts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    i, j = np.concatenate(firsts), np.concatenate(seconds)
    return np.minimum(i, j), np.maximum(i, j)


def sample_pairs_uniform(label_index: np.ndarray, count: int, rng: np.random.Generator, *,
                         same: bool) -> tuple[np.ndarray, np.ndarray]:
    """``count`` pairs drawn uniformly (with replacement) from the same-word or different-word pairs."""
    n = len(label_index)
    if same:
        order = np.argsort(label_index, kind="stable")
        sizes = np.bincount(label_index)
        starts = np.r_[0, np.cumsum(sizes)[:-1]]
        weight = sizes * (sizes - 1) / 2.0
        word = rng.choice(len(sizes), size=count, p=weight / weight.sum())
        a = rng.integers(0, sizes[word])
        b = rng.integers(0, sizes[word] - 1)
        b = b + (b >= a)  # a second, distinct member
        i, j = order[starts[word] + a], order[starts[word] + b]
        return np.minimum(i, j), np.maximum(i, j)
    chunks_i, chunks_j, have = [], [], 0
    while have < count:
        i = rng.integers(0, n, size=2 * (count - have) + 16)
        j = rng.integers(0, n, size=len(i))
        keep = (i != j) & (label_index[i] != label_index[j])
        chunks_i.append(i[keep])
        chunks_j.append(j[keep])
        have += int(keep.sum())
    i, j = np.concatenate(chunks_i)[:count], np.concatenate(chunks_j)[:count]
    return np.minimum(i, j), np.maximum(i, j)


def choose_pairs(label_index: np.ndarray, sample_pairs: int, seed: int):
    """The pairs to score and their weights: all of them when they fit in ``sample_pairs``.

    Otherwise all same-word pairs (or a uniform sample of half the budget when they alone are
    too many) plus a uniform sample of different-word pairs, each weighted by
    population / sample so the weighted precision-recall curve estimates the full one.
    Returns (i, j, same, weights, sampled).
    """
    n = len(label_index)
    total, same_total = pair_counts(label_index)
    if total <= sample_pairs:
        i, j = np.triu_indices(n, 1)
        same = label_index[i] == label_index[j]
        return i, j, same, np.ones(len(i)), False
    rng = np.random.default_rng(seed)
    if same_total <= sample_pairs // 2:
        si, sj = same_word_pairs(label_index)
    else:
        si, sj = sample_pairs_uniform(label_index, sample_pairs // 2, rng, same=True)
    different_count = sample_pairs - len(si)
    di, dj = sample_pairs_uniform(label_index, different_count, rng, same=False)
    weights = np.r_[np.full(len(si), same_total / max(len(si), 1)),
                    np.full(len(di), (total - same_total) / different_count)]
    same = np.r_[np.ones(len(si), bool), np.zeros(len(di), bool)]
    return np.r_[si, di], np.r_[sj, dj], same, weights, True


def cosine_of_pairs(unit: np.ndarray, i: np.ndarray, j: np.ndarray, chunk: int = 1 << 18) -> np.ndarray:
    out = np.empty(len(i), dtype=np.float32)
    for start in range(0, len(i), chunk):
        stop = start + chunk
        out[start:stop] = np.einsum("ij,ij->i", unit[i[start:stop]], unit[j[start:stop]])
    return out


def same_different_from_scores(scores, same, weights, *, total: int, same_total: int, sampled: bool,
                               score: str) -> SameDifferent:
    ap, recall, precision = average_precision(scores, same, weights)
    curve_recall, curve_precision = _curve(recall, precision)
    return SameDifferent(average_precision=ap, chance=same_total / total if total else math.nan,
                         pairs_total=total, same_pairs_total=same_total, same_pairs_scored=int(same.sum()),
                         different_pairs_scored=int((~same).sum()), sampled=sampled, score=score,
                         recall=curve_recall, precision=curve_precision)


def same_different_cosine(unit: np.ndarray, label_index: np.ndarray, *, sample_pairs: int = DEFAULT_SAMPLE_PAIRS,
                          seed: int = DEFAULT_SEED) -> SameDifferent:
    i, j, same, weights, sampled = choose_pairs(label_index, sample_pairs, seed)
    total, same_total = pair_counts(label_index)
    return same_different_from_scores(cosine_of_pairs(unit, i, j), same, weights, total=total,
                                      same_total=same_total, sampled=sampled, score="cosine")


# ----------------------------------------------------------------------------- query by example
def query_ranks(unit: np.ndarray, label_index: np.ndarray, block_rows: int = BLOCK_ROWS):
    """Yield (queries, relevant scores, their ranks, valid mask) block by block.

    A relevant item's rank is the number of other tokens scoring at least as high as it
    (itself included), so ties rank it last among its equals. Queries are taken in order of
    their word's token count, so a block's width (its largest word) stays homogeneous.
    """
    n = len(label_index)
    order = np.argsort(label_index, kind="stable")
    counts = np.bincount(label_index)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    by_size = np.argsort(counts[label_index], kind="stable")
    for start in range(0, n, block_rows):
        queries = by_size[start:start + block_rows]
        words = label_index[queries]
        width = int(counts[words].max())
        slots = np.arange(width)[None, :]
        inside = slots < counts[words][:, None]
        relevant = np.where(inside, order[np.minimum(starts[words][:, None] + slots, n - 1)], -1)
        scores = unit[queries] @ unit.T
        scores[np.arange(len(queries)), queries] = -np.inf   # a query never retrieves itself
        valid = inside & (relevant != queries[:, None])
        thresholds = np.where(valid, np.take_along_axis(scores, np.maximum(relevant, 0), axis=1), np.inf)
        yield queries, thresholds, _count_at_least(scores, thresholds), valid


def _count_at_least(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each row r and slot k: how many scores[r] are >= thresholds[r, k] (inf slots: 0)."""
    if thresholds.shape[1] > SORT_ABOVE_SLOTS:
        # Words with many tokens: sorting each row once beats one pass per relevant token.
        ordered = np.sort(scores, axis=1)
        counts = np.empty(thresholds.shape, dtype=np.int64)
        for row in range(len(scores)):
            counts[row] = scores.shape[1] - np.searchsorted(ordered[row], thresholds[row], side="left")
        return counts
    order = np.argsort(thresholds, axis=1, kind="stable")
    ascending = np.take_along_axis(thresholds, order, axis=1)
    reached = scores >= ascending[:, :1]    # only these can reach any threshold of the row
    candidates = int(np.count_nonzero(reached))
    counts = np.zeros(thresholds.shape, dtype=np.int64)
    if candidates > CANDIDATE_SHARE * scores.size:
        # Poorly separated words: one comparison pass over the block per relevant slot.
        for slot in range(thresholds.shape[1]):
            if np.isfinite(thresholds[:, slot]).any():
                counts[:, slot] = np.count_nonzero(scores >= thresholds[:, slot:slot + 1], axis=1)
        return counts
    # Well separated words: few scores reach the lowest threshold; bin just those.
    rows, cols = np.nonzero(reached)
    values = scores[rows, cols]
    passed = np.zeros(len(values), dtype=np.int64)    # thresholds of its row each value reaches
    for slot in range(ascending.shape[1]):
        passed += values >= ascending[rows, slot]
    width = ascending.shape[1] + 1
    histogram = np.bincount(rows * width + passed, minlength=len(scores) * width).reshape(len(scores), width)
    # Scores >= the k-th smallest threshold are those that reach more than k thresholds.
    at_least = np.cumsum(histogram[:, ::-1], axis=1)[:, ::-1][:, 1:]
    np.put_along_axis(counts, order, at_least, axis=1)
    return counts


def _relevant_at_least(thresholds: np.ndarray, relevant_count: np.ndarray) -> np.ndarray:
    """For each relevant item: how many relevant items of its query score at least as high."""
    order = np.argsort(thresholds, axis=1, kind="stable")       # ascending, invalid (inf) last
    ascending = np.take_along_axis(thresholds, order, axis=1)
    slots = np.arange(thresholds.shape[1])[None, :]
    new_value = np.ones(thresholds.shape, dtype=bool)
    new_value[:, 1:] = ascending[:, 1:] != ascending[:, :-1]
    first_equal = np.maximum.accumulate(np.where(new_value, slots, 0), axis=1)
    out = np.empty(thresholds.shape, dtype=np.int64)
    np.put_along_axis(out, order, relevant_count[:, None] - first_equal, axis=1)
    return out


def retrieval(unit: np.ndarray, label_index: np.ndarray, ks=RETRIEVAL_KS,
              block_rows: int = BLOCK_ROWS) -> Retrieval:
    """Each token queries all the others: mAP, MRR and recall@k over the queries."""
    ap_sum = rr_sum = 0.0
    recall_sums = np.zeros(len(ks))
    queries_scored = 0
    for queries, thresholds, ranks, valid in query_ranks(unit, label_index, block_rows):
        has_relevant = valid.any(axis=1)
        relevant_count = valid.sum(axis=1)
        at_least = _relevant_at_least(thresholds, relevant_count)
        precision = np.where(valid, at_least / np.maximum(ranks, 1), 0.0)
        ap = precision.sum(axis=1)[has_relevant] / relevant_count[has_relevant]
        first_rank = np.where(valid, ranks, np.iinfo(np.int64).max).min(axis=1)[has_relevant]
        ap_sum += ap.sum()
        rr_sum += (1.0 / first_rank).sum()
        for slot, k in enumerate(ks):
            hits = ((ranks <= k) & valid).sum(axis=1)[has_relevant]
            recall_sums[slot] += (hits / relevant_count[has_relevant]).sum()
        queries_scored += int(has_relevant.sum())
    if not queries_scored:
        raise AuditError("no token has another token of its word, so retrieval cannot be scored.")
    return Retrieval(mean_average_precision=ap_sum / queries_scored, mean_reciprocal_rank=rr_sum / queries_scored,
                     recall_at={str(k): float(v / queries_scored) for k, v in zip(ks, recall_sums)},
                     queries=queries_scored)


# ----------------------------------------------------------------------------- clustering
def kmeans_plusplus(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur and Vassilvitskii 2007, one candidate per step), vectorised per step.

    scikit-learn's greedy version tries 2 + log k candidates per centre, which costs minutes
    at k = thousands of words; the plain algorithm keeps the same O(log k) guarantee.
    """
    n = len(points)
    chosen = np.empty(k, dtype=np.int64)
    chosen[0] = rng.integers(n)
    sq_norms = np.einsum("ij,ij->i", points, points)
    nearest = np.maximum(sq_norms - 2 * np.einsum("ij,j->i", points, points[chosen[0]]) + sq_norms[chosen[0]], 0)
    for c in range(1, k):
        total = nearest.sum()
        if total <= 0:  # fewer distinct points than clusters: take unchosen points in order
            chosen[c] = rng.choice(np.setdiff1d(np.arange(n), chosen[:c]))
        else:
            chosen[c] = min(int(np.searchsorted(np.cumsum(nearest), rng.random() * total, side="right")), n - 1)
        # einsum, not BLAS: a threaded gemv per step is ~10x slower on a busy 2-core machine.
        distance = np.maximum(sq_norms - 2 * np.einsum("ij,j->i", points, points[chosen[c]]) + sq_norms[chosen[c]], 0)
        np.minimum(nearest, distance, out=nearest)
    return points[chosen].copy()


def kmeans_assign(unit: np.ndarray, k: int, *, seed: int, max_iter: int) -> tuple[np.ndarray, int]:
    """Cluster index per token and the iterations run (scikit-learn's Lloyd k-means, our seeding)."""
    from sklearn.cluster import KMeans

    # float32 throughout: float64 products cost ~10x here and k-means needs no more precision.
    points = np.ascontiguousarray(unit, dtype=np.float32)
    centres = kmeans_plusplus(points, k, np.random.default_rng(seed))
    model = KMeans(n_clusters=k, init=centres, n_init=1, max_iter=max_iter, random_state=seed)
    return model.fit_predict(points), int(model.n_iter_)


def clustering(unit: np.ndarray, label_index: np.ndarray, *, seed: int = DEFAULT_SEED,
               max_iter: int = KMEANS_MAX_ITER) -> Clustering:
    """k-means (k = words) on unit vectors; silhouettes, ARI and AMI against the words."""
    from sklearn.metrics import adjusted_rand_score

    k = int(label_index.max()) + 1
    clusters, iterations = kmeans_assign(unit, k, seed=seed, max_iter=max_iter)
    return Clustering(clusters=k, kmeans_iterations=iterations, kmeans_max_iter=max_iter,
                      kmeans_init="k-means++ (1 candidate per centre)",
                      silhouette_kmeans=cosine_silhouette(unit, clusters),
                      silhouette_words=cosine_silhouette(unit, label_index),
                      adjusted_rand=float(adjusted_rand_score(label_index, clusters)),
                      adjusted_mutual_info=adjusted_mutual_info(label_index, clusters))


def cosine_silhouette(unit: np.ndarray, assignment: np.ndarray, block_rows: int = 4096) -> float:
    """Mean silhouette with cosine distance, exact, in O(tokens x clusters x dim).

    For unit rows the summed cosine distance from x to a cluster C is |C| - x . sum(C), so the
    per-cluster sums replace the (tokens x tokens) distance matrix. A token alone in its cluster
    scores 0, as in scikit-learn.
    """
    _, assignment = np.unique(assignment, return_inverse=True)
    k = int(assignment.max()) + 1
    n = len(assignment)
    if k < 2 or k >= n:
        return math.nan
    sizes = np.bincount(assignment).astype(np.float64)
    sums = np.zeros((k, unit.shape[1]))
    np.add.at(sums, assignment, unit.astype(np.float64))
    values = np.empty(n)
    for start in range(0, n, block_rows):
        rows = slice(start, min(start + block_rows, n))
        own = assignment[rows]
        distance_sums = sizes[None, :] - unit[rows].astype(np.float64) @ sums.T
        own_sum = distance_sums[np.arange(len(own)), own]
        own_size = sizes[own]
        # The token's distance to itself (1 - x.x = 0 for unit x) is left out of a(i).
        own_sum = own_sum - (1.0 - np.einsum("ij,ij->i", unit[rows], unit[rows]).astype(np.float64))
        a = np.where(own_size > 1, own_sum / np.maximum(own_size - 1, 1), 0.0)
        mean_other = distance_sums / sizes[None, :]
        mean_other[np.arange(len(own)), own] = np.inf
        b = mean_other.min(axis=1)
        denominator = np.maximum(a, b)
        s = np.where(denominator > 0, (b - a) / np.where(denominator > 0, denominator, 1), 0.0)
        values[rows] = np.where(own_size > 1, s, 0.0)
    return float(values.mean())


def adjusted_mutual_info(truth: np.ndarray, predicted: np.ndarray) -> float:
    """AMI with the arithmetic-mean normaliser, as ``sklearn.metrics.adjusted_mutual_info_score``.

    The expected mutual information depends on a cluster pair only through the two sizes, so
    it is summed over distinct (size, size) pairs times their multiplicity: thousands of
    clusters with few distinct sizes cost milliseconds instead of seconds.
    """
    from scipy import sparse
    from scipy.special import gammaln

    _, truth = np.unique(truth, return_inverse=True)
    _, predicted = np.unique(predicted, return_inverse=True)
    n = len(truth)
    a, b = np.bincount(truth).astype(np.float64), np.bincount(predicted).astype(np.float64)
    if (len(a) == len(b) == 1) or (len(a) == len(b) == n):
        return 1.0
    table = sparse.coo_matrix((np.ones(n), (truth, predicted))).tocsr()
    table.sum_duplicates()
    nij = table.data
    rows, cols = table.nonzero()
    mutual = float(np.sum(nij / n * (np.log(n * nij) - np.log(a[rows] * b[cols]))))
    entropy_a = float(-np.sum(a / n * np.log(a / n)))
    entropy_b = float(-np.sum(b / n * np.log(b / n)))
    sizes_a, mult_a = np.unique(a, return_counts=True)
    sizes_b, mult_b = np.unique(b, return_counts=True)
    expected = 0.0
    log_fact = lambda x: gammaln(x + 1)  # noqa: E731 - a named formula reads better inline
    for size_a, count_a in zip(sizes_a, mult_a):
        lo = np.maximum(1, size_a + sizes_b - n)
        hi = np.minimum(size_a, sizes_b)
        width = int((hi - lo).max()) + 1 if len(hi) else 0
        if width <= 0:
            continue
        cells = lo[:, None] + np.arange(width)[None, :]
        inside = cells <= hi[:, None]
        cells = np.where(inside, cells, 1)
        bb = sizes_b[:, None]
        log_pmf = (log_fact(size_a) + log_fact(bb) + log_fact(n - size_a) + log_fact(n - bb)
                   - log_fact(n) - log_fact(cells) - log_fact(size_a - cells) - log_fact(bb - cells)
                   - log_fact(n - size_a - bb + cells))
        term = cells / n * (np.log(n * cells) - np.log(size_a * bb)) * np.exp(log_pmf)
        expected += count_a * float(np.sum(np.where(inside, term, 0.0) * mult_b[:, None]))
    normaliser = (entropy_a + entropy_b) / 2
    denominator = normaliser - expected
    if denominator < 0:
        denominator = min(denominator, -np.finfo("float64").eps)
    else:
        denominator = max(denominator, np.finfo("float64").eps)
    return float((mutual - expected) / denominator)


# ----------------------------------------------------------------------------- kNN classification
def split_train_test(label_index: np.ndarray, speakers: np.ndarray | None, *, test_fraction: float,
                     seed: int) -> tuple[np.ndarray, np.ndarray, str, tuple[str, ...]]:
    """Boolean test mask: held-out speakers when there are 2 or more, else a seeded token split."""
    if not 0 < test_fraction < 1:
        raise AuditError(f"the kNN test fraction must be between 0 and 1, got {test_fraction}.")
    rng = np.random.default_rng(seed)
    n = len(label_index)
    if speakers is not None and len(np.unique(speakers)) >= 2:
        names = np.unique(speakers)
        held = max(1, min(len(names) - 1, round(test_fraction * len(names))))
        test_speakers = np.sort(rng.permutation(names)[:held])
        test = np.isin(speakers, test_speakers)
        return ~test, test, "speakers", tuple(test_speakers.tolist())
    held = max(1, min(n - 1, round(test_fraction * n)))
    test = np.zeros(n, bool)
    test[rng.permutation(n)[:held]] = True
    return ~test, test, "tokens", ()


def knn_predict(train_unit, train_labels, test_unit, ks=KNN_KS, block_rows: int = BLOCK_ROWS) -> dict[int, np.ndarray]:
    """Per k, the majority vote of the k most cosine-similar training tokens (ties: smaller label).

    The nearest max(ks) are found once per block, sorted by score, and every k votes on a prefix.
    """
    n_labels = int(train_labels.max()) + 1
    widest = min(max(ks), len(train_labels))
    predicted = {k: np.empty(len(test_unit), dtype=np.int64) for k in ks}
    for start in range(0, len(test_unit), block_rows):
        scores = test_unit[start:start + block_rows] @ train_unit.T
        if widest < scores.shape[1]:
            nearest = np.argpartition(-scores, widest - 1, axis=1)[:, :widest]
        else:
            nearest = np.tile(np.arange(scores.shape[1]), (len(scores), 1))
        by_score = np.argsort(-np.take_along_axis(scores, nearest, axis=1), axis=1, kind="stable")
        nearest = np.take_along_axis(nearest, by_score, axis=1)
        for k in ks:
            votes = train_labels[nearest[:, :min(k, widest)]]
            # Each neighbour's label count; the most voted label wins, the smallest index on ties.
            counts = (votes[:, :, None] == votes[:, None, :]).sum(axis=2)
            best = counts.max(axis=1, keepdims=True)
            predicted[k][start:start + block_rows] = np.where(counts == best, votes, n_labels).min(axis=1)
    return predicted


def knn_classification(unit: np.ndarray, label_index: np.ndarray, speakers: np.ndarray | None, *,
                       seed: int = DEFAULT_SEED, test_fraction: float = KNN_TEST_FRACTION,
                       ks=KNN_KS) -> KnnClassification:
    train, test, split, test_speakers = split_train_test(label_index, speakers, test_fraction=test_fraction,
                                                         seed=seed)
    seen = np.isin(label_index, np.unique(label_index[train]))
    scored = test & seen
    if not scored.any():
        raise AuditError("no held-out token has a word seen in training, so kNN accuracy is undefined.")
    predicted = knn_predict(unit[train], label_index[train], unit[scored], ks)
    accuracy = {str(k): float(np.mean(predicted[k] == label_index[scored])) for k in ks}
    return KnnClassification(accuracy=accuracy, split=split, test_fraction=test_fraction,
                             train_tokens=int(train.sum()), test_tokens=int(scored.sum()),
                             test_tokens_unseen_word=int((test & ~seen).sum()), test_speakers=test_speakers)


# ------------------------------------------------------------------------------ DTW baseline
def dtw_same_different(segments: FrameSegments, *, sample_pairs: int = DEFAULT_DTW_PAIRS, seed: int = 0,
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
