"""The acoustic check: every instance-level metric of one set of token embeddings, one result."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from audit.checks.acoustic._base import DEFAULT_SEED, unit_rows
from audit.checks.acoustic._clustering import KMEANS_MAX_ITER, Clustering, clustering
from audit.checks.acoustic._dtw_baseline import DtwBaseline, dtw_same_different
from audit.checks.acoustic._instances import InstanceSet, make_instances
from audit.checks.acoustic._knn import KNN_KS, KNN_TEST_FRACTION, KnnClassification, knn_classification
from audit.checks.acoustic._retrieval import DEFAULT_MAX_QUERIES, RETRIEVAL_KS, Retrieval, retrieval
from audit.checks.acoustic._cross_view import CrossView, cross_view
from audit.checks.acoustic._same_different import (DEFAULT_SAMPLE_PAIRS, SameDiff, SameDifferent, choose_pairs,
                                                   cosine_of_pairs, pair_counts, samediff_cosine,
                                                   samediff_from_pairs, same_different_cosine,
                                                   same_different_from_scores)
from audit.core.errors import AuditError, ParameterError, check_seed
from audit.core.results import InputInfo, Result, result_type, today
from audit.core.vectors import Vectors


@dataclass(frozen=True)
class AcousticParameters:
    sample_pairs: int
    dtw_pairs: int
    retrieval_ks: tuple[int, ...]
    knn_ks: tuple[int, ...]
    knn_test_fraction: float
    kmeans_max_iter: int
    drop_singletons: bool
    # Added later (defaults for results written before them):
    keep_singletons: bool = False            # single-token words kept as different-word partners
    speakers: tuple[str, ...] | None = None  # only these speakers' tokens were audited (None: all)
    max_queries: int | None = None           # QbE queries at most (a seeded sample above; None: every token)


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
    # Added after the first release; None when read from a result written before them.
    samediff: SameDiff | None = None         # Kamper's samediff on the same pairs as same_different
    cross_view: CrossView | None = None      # only with a written-word embedding (--agwe)

    def summary_rows(self) -> list[tuple[str, object, object]]:
        """(metric, value, chance or reference) rows for a table."""
        sd, rt, cl, kn = self.same_different, self.retrieval, self.clustering, self.knn
        rows = [("same-different AP (cosine)", sd.average_precision, sd.chance)]
        rows += self._samediff_rows()
        if self.dtw is not None:
            rows.append(("same-different AP (MFCC DTW)", self.dtw.same_different.average_precision,
                         self.dtw.same_different.chance))
        rows += [("QbE mAP", rt.mean_average_precision, None), ("QbE MRR", rt.mean_reciprocal_rank, None)]
        rows += [(f"QbE recall@{k}" + (f" (at most {rt.recall_ceiling[k]:.3f})" if k in rt.recall_ceiling else ""),
                  v, None) for k, v in rt.recall_at.items()]
        rows += [("k-means silhouette (cosine)", cl.silhouette_kmeans, None),
                 ("word silhouette (cosine)", cl.silhouette_words, None),
                 ("k-means ARI", cl.adjusted_rand, 0.0), ("k-means AMI", cl.adjusted_mutual_info, 0.0)]
        rows += [(f"kNN accuracy k={k} ({kn.split} split)", v, None) for k, v in kn.accuracy.items()]
        rows += self._cross_view_rows()
        return rows

    def _samediff_rows(self) -> list[tuple[str, object, object]]:
        """SW breakeven, SWSP and SWDP, best F1. A random ranking keeps precision at the share of
        same-word pairs, so that share is the chance AP and breakeven of every variant; the
        chance F1 is that of calling every pair the same word."""
        if self.samediff is None:
            return []
        kamper, chance = self.samediff, self.same_different.chance
        rows = [("precision-recall breakeven (SW)", kamper.sw.precision_recall_breakeven, chance)]
        for name, variant in (("SWSP", kamper.swsp), ("SWDP", kamper.swdp)):
            if variant is not None:
                rows += [(f"{name} AP (same word, {'same' if name == 'SWSP' else 'different'} speaker)",
                          variant.average_precision, chance),
                         (f"{name} precision-recall breakeven", variant.precision_recall_breakeven, chance)]
        f1 = kamper.best_f1
        rows.append((f"best F1 (cosine >= {f1.threshold:.3f}: precision {f1.precision:.3f}, recall {f1.recall:.3f})",
                     f1.f1, 2 * chance / (1 + chance)))
        return rows

    def _cross_view_rows(self) -> list[tuple[str, object, object]]:
        if self.cross_view is None:
            return []
        cv = self.cross_view
        return [("cross-view AP (token x written word pairs)", cv.average_precision, cv.chance),
                ("cross-view mAP, acoustic -> written", cv.acoustic_to_written, None),
                ("cross-view mAP, written -> acoustic", cv.written_to_acoustic, None)]


# ----------------------------------------------------------------------------- the check
def audit_instances(instances: InstanceSet, *, frames=None, written: Vectors | None = None,
                    sample_pairs: int = DEFAULT_SAMPLE_PAIRS, dtw_pairs: int = 50_000, seed: int = DEFAULT_SEED,
                    drop_singletons: bool = False, keep_singletons: bool = False, speakers=None,
                    max_queries: int | None = DEFAULT_MAX_QUERIES,
                    knn_test_fraction: float = KNN_TEST_FRACTION,
                    kmeans_max_iter: int = KMEANS_MAX_ITER) -> AcousticResult:
    """Every instance-level metric; ``frames`` (:class:`audit.speech.frames.FrameStore`) adds the DTW baseline.

    The DTW baseline scores ``dtw_pairs`` pairs of the frame store's segments of the audited
    words (a DTW pair costs thousands of times a cosine, hence its own, smaller budget).
    ``written`` (an embedding of written words in the same space, 001's AGWEs) adds the
    cross-view scores, on at most ``sample_pairs`` (token, written word) pairs.

    Words with a single token have no same-word pair: refused unless ``drop_singletons`` leaves
    them out or ``keep_singletons`` keeps them as different-word partners (Kamper's samediff keeps
    them, as does the AWE trainer's per-epoch figure; they query nothing in retrieval). ``speakers``
    keeps only those speakers' tokens (the trainer's held-out speakers, say).
    """
    for name, budget in (("sample_pairs", sample_pairs), ("dtw_pairs", dtw_pairs)):
        if budget < 2:
            raise ParameterError(name, f"is {budget:,}; a pair budget must be at least 2.")
    if max_queries is not None and max_queries < 1:
        raise ParameterError("max_queries", f"is {max_queries:,}; at least one query is needed.")
    check_seed(seed)
    if drop_singletons and keep_singletons:
        raise ParameterError("keep_singletons", "is on with drop_singletons; choose one.")
    kept_speakers = None
    if speakers is not None:
        instances, kept_speakers = _only_speakers(instances, speakers)
    instances, dropped = _handle_singletons(instances, drop_singletons, keep_singletons)
    words, label_index = np.unique(instances.labels, return_inverse=True)
    if len(words) < 2:
        raise AuditError("the instances hold fewer than 2 distinct words, so no metric can tell words apart.")
    unit = unit_rows(instances.embeddings)
    seconds: dict[str, float] = {}
    from audit.core.progress import bar
    shown = bar(total=6 + (frames is not None) + (written is not None), desc="acoustic metrics", unit="metric")

    def timed(name, fn, *args, **kwargs):
        shown.set_postfix_str(name)
        start = time.perf_counter()
        value = fn(*args, **kwargs)
        seconds[name] = round(time.perf_counter() - start, 3)
        shown.update(1)
        return value

    seeds = _metric_seeds(seed)
    speaker_index = None if instances.speakers is None else np.unique(instances.speakers, return_inverse=True)[1]
    # One set of scored pairs for both same-different evaluations (as same_different_cosine draws them).
    i, j, same, weights, sampled, scores = timed("pairs", _scored_pairs, unit, label_index, sample_pairs,
                                                 int(seeds[0]))
    total, same_total = pair_counts(label_index)
    sd = timed("same_different", same_different_from_scores, scores, same, weights, total=total,
               same_total=same_total, sampled=sampled, score="cosine")
    kamper = timed("samediff", samediff_from_pairs, scores, i, j, same, weights, label_index, speaker_index,
                   sampled=sampled, score="cosine")
    rt = timed("retrieval", retrieval, unit, label_index, max_queries=max_queries, seed=int(seeds[5]))
    cl = timed("clustering", clustering, unit, label_index, seed=int(seeds[1]), max_iter=kmeans_max_iter)
    kn = timed("knn", knn_classification, unit, label_index, instances.speakers, seed=int(seeds[2]),
               test_fraction=knn_test_fraction)
    dtw = None
    if frames is not None:
        dtw = timed("dtw", dtw_same_different, frames, sample_pairs=dtw_pairs, seed=int(seeds[3]), words=words)
    cv = None
    if written is not None:
        cv = timed("cross_view", cross_view, unit, label_index, words, written, sample_pairs=sample_pairs,
                   seed=int(seeds[4]))
    shown.close()
    n_speakers = None if instances.speakers is None else int(len(np.unique(instances.speakers)))
    params = AcousticParameters(sample_pairs=sample_pairs, dtw_pairs=dtw_pairs, retrieval_ks=RETRIEVAL_KS,
                                knn_ks=KNN_KS, knn_test_fraction=knn_test_fraction, kmeans_max_iter=kmeans_max_iter,
                                drop_singletons=drop_singletons, keep_singletons=keep_singletons,
                                speakers=kept_speakers, max_queries=max_queries)
    return AcousticResult(input=instances.input, tokens=instances.tokens, words=int(len(words)),
                          speakers=n_speakers, singletons_dropped=dropped, seed=seed, parameters=params,
                          same_different=sd, retrieval=rt, clustering=cl, knn=kn, dtw=dtw,
                          seconds=seconds, date=today(), samediff=kamper, cross_view=cv)


def _scored_pairs(unit, label_index, sample_pairs: int, seed: int):
    """The pairs of :func:`choose_pairs` with their cosines, most alike first.

    Sorted once here (stably, as every curve sorts), so each evaluation's own stable sort
    meets sorted input and costs linear time, and yields exactly the order it would have made.
    """
    i, j, same, weights, sampled = choose_pairs(label_index, sample_pairs, seed)
    scores = cosine_of_pairs(unit, i, j)
    order = np.argsort(-scores.astype(np.float64), kind="stable")
    return i[order], j[order], same[order], weights[order], sampled, scores[order]


def _metric_seeds(seed: int) -> np.ndarray:
    """One independent stream per metric: same-different, clustering, kNN, DTW, cross-view, the
    QbE query sample (the earlier ones as before each later one was added: a Generator's first
    draws do not depend on how many follow)."""
    return np.random.default_rng(seed).integers(0, 2**31 - 1, size=6)


def same_different_ap(embeddings: np.ndarray, labels: np.ndarray, *, sample_pairs: int = DEFAULT_SAMPLE_PAIRS,
                      seed: int = DEFAULT_SEED) -> SameDifferent:
    """Only the cosine same-different measure of :func:`audit_instances`, on the same pairs (the
    same labels order and seed stream), for callers that need it often: the reproduction
    records it every epoch. Words with a single token are kept (they add different-word pairs
    only); ``audit_instances`` refuses them unless told to drop them."""
    _, label_index = np.unique(np.asarray(labels), return_inverse=True)
    return same_different_cosine(unit_rows(np.asarray(embeddings, dtype=np.float32)), label_index,
                                 sample_pairs=sample_pairs, seed=int(_metric_seeds(seed)[0]))


def samediff(embeddings: np.ndarray, labels: np.ndarray, speakers: np.ndarray | None = None, *,
             sample_pairs: int = DEFAULT_SAMPLE_PAIRS, seed: int = DEFAULT_SEED) -> SameDiff:
    """Only Kamper's samediff of :func:`audit_instances` (SW, SWSP, SWDP, best F1), on the same
    pairs and seed stream, for callers that need it often (a trainer's per-epoch SWDP AP)."""
    _, label_index = np.unique(np.asarray(labels), return_inverse=True)
    speaker_index = None if speakers is None else np.unique(np.asarray(speakers).astype(str), return_inverse=True)[1]
    return samediff_cosine(unit_rows(np.asarray(embeddings, dtype=np.float32)), label_index, speaker_index,
                           sample_pairs=sample_pairs, seed=int(_metric_seeds(seed)[0]))


def _only_speakers(instances: InstanceSet, speakers) -> tuple[InstanceSet, tuple[str, ...]]:
    """The tokens of the given speakers (each must have some)."""
    wanted = tuple(dict.fromkeys(str(s) for s in speakers))
    if not wanted:
        raise ParameterError("speakers", "is empty; name at least one speaker.")
    if instances.speakers is None:
        raise ParameterError("speakers", "names speakers, but the instances file has no 'speakers' array.")
    present = set(np.unique(instances.speakers).tolist())
    missing = [s for s in wanted if s not in present]
    if missing:
        known = sorted(present)
        raise ParameterError("speakers", f"names {len(missing)} speaker(s) the instances do not have (e.g. "
                             f"{missing[0]!r}); they have {len(known)}: {', '.join(map(repr, known[:8]))}"
                             f"{', ...' if len(known) > 8 else ''}.")
    keep = np.isin(instances.speakers, wanted)
    kept = make_instances(instances.embeddings[keep], instances.labels[keep], instances.speakers[keep],
                          info=instances.input)
    return kept, tuple(sorted(wanted))


def _handle_singletons(instances: InstanceSet, drop: bool, keep: bool = False) -> tuple[InstanceSet, int]:
    words, counts = np.unique(instances.labels, return_counts=True)
    single = words[counts < 2]
    if not len(single) or keep:
        return instances, 0
    if not drop:
        raise ParameterError("drop_singletons", f"is off, but {len(single)} word(s) have a single token "
                             f"(e.g. {str(single[0])!r}), so they have no same-word pair; turn it on to leave "
                             "them out (or keep them as different-word partners, as Kamper's samediff does).")
    keep = ~np.isin(instances.labels, single)
    speakers = None if instances.speakers is None else instances.speakers[keep]
    kept = make_instances(instances.embeddings[keep], instances.labels[keep], speakers, info=instances.input)
    return kept, int((~keep).sum())
