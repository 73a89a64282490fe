"""Time `audit acoustic`'s metrics on generated instances (goal: all of them under 30 s).

Run: .venv/bin/python tests/perf/bench_acoustic.py [--words 2000] [--per-word 10] [--dim 50]
                                                  [--dtw-pairs 50000] [--no-baselines]

Data: `words` word centres in `dim` dimensions, `per_word` noisy tokens each, 8 speakers
(20,000 instances by default), plus a generated frame store (13-d frames, 5-15 frames per
token) for the DTW baseline and a written-word embedding (the centres plus noise) for the
cross-view scores. Each metric is timed as `audit_instances` runs it; then, in the
same run, the straightforward scikit-learn / plain-Python way of computing the same number:

- same-different AP: scikit-learn `average_precision_score` on the same sampled pairs;
- best F1: scikit-learn `precision_recall_curve` on the same sampled pairs;
- cross-view mAP in both directions: scikit-learn `label_ranking_average_precision_score`
  on the dense (tokens x written words) score matrix;
- silhouette: scikit-learn `silhouette_score(metric='cosine')` (O(n^2)) on both assignments;
- AMI: scikit-learn `adjusted_mutual_info_score`;
- k-means seeding: scikit-learn's greedy k-means++ (`kmeans_plusplus`);
- kNN: scikit-learn `KNeighborsClassifier(metric='cosine', algorithm='brute')`, k = 1 and 5;
- DTW: the one-pair-at-a-time Python recurrence on 300 pairs, scaled to the pair count.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def generate(words: int, per_word: int, dim: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((words, dim)).astype(np.float32)
    labels = np.repeat(np.arange(words), per_word)
    embeddings = centres[labels] + 0.9 * rng.standard_normal((len(labels), dim)).astype(np.float32)
    speakers = np.array([f"spk{i % 8}" for i in range(len(labels))])
    written = centres + 0.5 * rng.standard_normal(centres.shape).astype(np.float32)
    return embeddings, np.array([f"w{x}" for x in labels]), speakers, written


def generate_frames(labels: np.ndarray, seed: int = 1):
    from audit.speech.frames import FrameStore
    rng = np.random.default_rng(seed)
    vocabulary, word_ids = np.unique(labels, return_inverse=True)
    templates = rng.standard_normal((len(vocabulary), 15, 13)).astype(np.float32)
    lengths = rng.integers(5, 16, size=len(labels))
    offsets = np.r_[0, np.cumsum(lengths)]
    rows = np.concatenate([np.arange(n) for n in lengths])
    frames = templates[np.repeat(word_ids, lengths), rows] + rng.standard_normal((offsets[-1], 13)).astype(np.float32)
    return FrameStore(frames=frames, offsets=offsets, word_ids=word_ids, vocabulary=vocabulary)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--per-word", type=int, default=10)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--dtw-pairs", type=int, default=50_000)
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args()

    from audit.checks import acoustic
    from audit.core.vectors import Vectors
    embeddings, labels, speakers, centres = generate(args.words, args.per_word, args.dim)
    frames = generate_frames(labels)
    instances = acoustic.make_instances(embeddings, labels, speakers)
    written = Vectors([f"w{x}" for x in range(args.words)], centres)
    print(f"{instances.tokens:,} instances of {args.words:,} words, dim {args.dim}; "
          f"frame store {len(frames):,} segments")
    result, total = timed(acoustic.audit_instances, instances, frames=frames, written=written,
                          dtw_pairs=args.dtw_pairs)
    print(f"\naudit_instances, all metrics: {total:.2f} s (goal < 30 s)")
    for name, seconds in result.seconds.items():
        print(f"  {name:<16} {seconds:7.2f} s")
    return 0 if total < 30 else 1   # exit status 1: the goal is missed
    sd, rt, cl, kn = result.same_different, result.retrieval, result.clustering, result.knn
    print(f"  AP {sd.average_precision:.3f} (chance {sd.chance:.5f}), mAP {rt.mean_average_precision:.3f}, "
          f"ARI {cl.adjusted_rand:.3f}, AMI {cl.adjusted_mutual_info:.3f}, kNN@1 {kn.accuracy['1']:.3f}, "
          f"DTW AP {result.dtw.same_different.average_precision:.3f}")
    kamper, cv = result.samediff, result.cross_view
    print(f"  SWDP AP {kamper.swdp.average_precision:.3f}, SWSP AP {kamper.swsp.average_precision:.3f}, "
          f"best F1 {kamper.best_f1.f1:.3f}; cross-view AP {cv.average_precision:.3f}, "
          f"acoustic->written {cv.acoustic_to_written:.3f}, written->acoustic {cv.written_to_acoustic:.3f}")
    if not args.no_baselines:
        baselines(acoustic, instances, result, frames, args.dtw_pairs, written)


def baselines(acoustic, instances, result, frames, dtw_pairs, written) -> None:
    from sklearn import metrics as skm
    from sklearn.cluster import kmeans_plusplus
    from sklearn.neighbors import KNeighborsClassifier

    from audit.speech.dtw import dtw_costs, unit_frames
    _, label_index = np.unique(instances.labels, return_inverse=True)
    unit = acoustic.unit_rows(instances.embeddings)
    k = int(label_index.max()) + 1
    print("\nsame numbers, the straightforward way (ours / theirs = speed-up):")

    def compare(name, ours, theirs, note=""):
        print(f"  {name:<34} ours {ours:7.2f} s   baseline {theirs:7.2f} s   x{theirs / ours:6.1f} {note}")

    i, j, same, weights, _ = acoustic.choose_pairs(label_index, result.parameters.sample_pairs, 0)
    scores = acoustic.cosine_of_pairs(unit, i, j)
    _, ours = timed(acoustic.average_precision, scores, same, weights)
    _, theirs = timed(skm.average_precision_score, same, scores, sample_weight=weights)
    compare("AP of the sampled pairs", ours, theirs)
    _, ours = timed(acoustic.best_f1, scores, same, weights)
    _, theirs = timed(skm.precision_recall_curve, same, scores, sample_weight=weights)
    compare("best F1 of the sampled pairs", ours, theirs, "(theirs: the curve only)")

    words = np.unique(instances.labels)
    start = time.perf_counter()
    acoustic.cross_view(unit, label_index, words, written, sample_pairs=2)   # rankings dominate
    ours = time.perf_counter() - start
    start = time.perf_counter()
    matrix = unit @ written.unit[written.indices(words)].T
    truth = label_index[:, None] == np.arange(len(words))[None, :]
    skm.label_ranking_average_precision_score(truth, matrix)
    skm.label_ranking_average_precision_score(truth.T, matrix.T)
    compare("cross-view mAP, both directions", ours, time.perf_counter() - start)

    assignment, _ = acoustic.kmeans_assign(unit, k, seed=0, max_iter=acoustic.KMEANS_MAX_ITER)
    _, ours = timed(acoustic.cosine_silhouette, unit, label_index)
    _, theirs = timed(skm.silhouette_score, unit, label_index, metric="cosine")
    compare("silhouette (words)", ours, theirs)
    _, ours = timed(acoustic.adjusted_mutual_info, label_index, assignment)
    _, theirs = timed(skm.adjusted_mutual_info_score, label_index, assignment)
    compare("AMI", ours, theirs)
    _, ours = timed(acoustic.kmeans_plusplus, unit.astype(np.float64), k, np.random.default_rng(0))
    _, theirs = timed(kmeans_plusplus, unit, k, random_state=0)
    compare("k-means++ seeding", ours, theirs, "(greedy: 2 + log k candidates)")

    train, test, _, _ = acoustic.split_train_test(label_index, instances.speakers, test_fraction=0.25, seed=0)
    _, ours = timed(acoustic.knn_predict, unit[train], label_index[train], unit[test], (1, 5))
    start = time.perf_counter()
    for kk in (1, 5):
        KNeighborsClassifier(n_neighbors=kk, metric="cosine", algorithm="brute").fit(
            unit[train], label_index[train]).predict(unit[test])
    compare("kNN k=1 and 5", ours, time.perf_counter() - start)

    rng = np.random.default_rng(0)
    first, second = rng.integers(0, len(frames), dtw_pairs), rng.integers(0, len(frames), dtw_pairs)
    _, ours = timed(dtw_costs, unit_frames(frames.frames), frames.offsets, first, second)
    sample = 300
    start = time.perf_counter()
    for a, b in zip(first[:sample], second[:sample]):
        _python_dtw(frames.frames[frames.offsets[a]:frames.offsets[a + 1]],
                    frames.frames[frames.offsets[b]:frames.offsets[b + 1]])
    theirs = (time.perf_counter() - start) * dtw_pairs / sample
    compare(f"DTW of {dtw_pairs:,} pairs", ours, theirs, f"(Python loop on {sample} pairs, scaled)")


def _python_dtw(x, y):
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    local = 1 - x @ y.T
    cost = np.full((len(x) + 1, len(y) + 1), np.inf)
    steps = np.zeros_like(cost)
    cost[0, 0] = 0
    for i in range(1, len(x) + 1):
        for j in range(1, len(y) + 1):
            options = ((cost[i - 1, j - 1], steps[i - 1, j - 1]), (cost[i, j - 1], steps[i, j - 1]),
                       (cost[i - 1, j], steps[i - 1, j]))
            best = min(options, key=lambda o: o[0])
            cost[i, j] = local[i - 1, j - 1] + best[0]
            steps[i, j] = best[1] + 1
    return cost[-1, -1] / steps[-1, -1]


if __name__ == "__main__":
    sys.exit(main())
