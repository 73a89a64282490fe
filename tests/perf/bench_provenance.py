"""Time `audit provenance`'s comparison on a Speech2Vec-size vocabulary (40,000 words, 50-d).

Run: ``.venv/bin/python tests/perf/bench_provenance.py [--words 40000] [--references 3]``.

Reference-model training is excluded (it depends on the corpus, not on this code). The audited
embedding and the text references are synthetic: one shared structure plus per-"seed" noise and
rotation, so the measures have something to find. The baseline, timed in the same run, is the
straightforward per-pair implementation a researcher would write with the usual libraries
(sklearn brute-force cosine kNN, Python set Jaccard, scipy ``spearmanr`` and
``orthogonal_procrustes``), recomputing each embedding's part for every pair. Goal: the
provenance comparison under 60 s on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np


def synthetic_family(words: int, dim: int, members: int, seed: int):
    from audit.checks.provenance.resemblance import ReferenceInfo
    from audit.core.results import InputInfo
    from audit.core.vectors import Vectors

    rng = np.random.default_rng(seed)
    base = rng.standard_normal((words, dim)).astype(np.float32)
    names = [f"w{i}" for i in range(words)]
    out = []
    for member in range(members):
        noise = rng.standard_normal((words, dim)).astype(np.float32)
        rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        vectors = Vectors(names, (base + 0.6 * noise) @ rotation.astype(np.float32))
        out.append((ReferenceInfo(f"text-{member}", "text", InputInfo.of(vectors), member), vectors))
    return out


def baseline_pair(first, second, params) -> tuple[float, float, float]:
    """The obvious per-pair implementation with sklearn/scipy, on the same samples and split."""
    from scipy.linalg import orthogonal_procrustes
    from scipy.stats import spearmanr
    from sklearn.neighbors import NearestNeighbors

    # The same seeded samples as audit.checks.provenance.resemblance: drawn over the shared words in sorted order.
    order_by_word = np.argsort(np.array(first.words))
    first, second = first.take(order_by_word), second.take(order_by_word)
    rng = np.random.default_rng(params.seed)
    n = len(first)
    queries = np.sort(rng.choice(n, params.knn_queries, replace=False))
    sample = np.sort(rng.choice(n, params.rsa_words, replace=False))
    order = rng.permutation(n)
    neighbour_sets = []
    for vectors in (first, second):
        model = NearestNeighbors(n_neighbors=params.k + 1, metric="cosine", algorithm="brute").fit(vectors.matrix)
        _, found = model.kneighbors(vectors.matrix[queries])
        neighbour_sets.append([set(row[row != q][:params.k]) for row, q in zip(found, queries)])
    knn = float(np.mean([len(a & b) / len(a | b) for a, b in zip(*neighbour_sets)]))
    upper = np.triu_indices(len(sample), 1)
    cos = [(v.unit[sample] @ v.unit[sample].T)[upper] for v in (first, second)]
    rsa = float(spearmanr(cos[0], cos[1]).statistic)
    centred = []
    for vectors in (first, second):
        c = vectors.unit - vectors.unit.mean(axis=0)
        centred.append(c / np.linalg.norm(c, axis=1, keepdims=True))
    fit, test = order[: n // 2], order[n // 2:]
    rotation, _ = orthogonal_procrustes(centred[0][fit], centred[1][fit])
    mapped = centred[0][test] @ rotation
    cosines = np.einsum("ij,ij->i", mapped, centred[1][test]) / np.linalg.norm(mapped, axis=1)
    return knn, rsa, float(cosines.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=40000)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--references", type=int, default=3)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    from audit.checks.provenance.resemblance import ResemblanceParams, judge

    params = ResemblanceParams()
    family = synthetic_family(args.words, args.dim, args.references + 1, seed=0)
    audited, references = family[0][1], family[1:]
    start = time.perf_counter()
    result = judge(audited, {"text": references}, params=params)
    ours = time.perf_counter() - start
    comparisons = len(references) + len(references) * (len(references) - 1) // 2
    print(f"vocabulary {args.words:,} x {args.dim}; audited + {len(references)} references = {comparisons} "
          f"pairwise comparisons; k={params.k}, {params.knn_queries} kNN queries, {params.rsa_words} RSA words")
    print(f"audit provenance comparison: {ours:.1f} s  (goal < 60 s)  verdict {result.verdict}")
    text = result.family("text")
    for m in text.measures:
        print(f"  {m.measure:18s} audited {m.audited:.4f}  band {m.band_low:.4f}-{m.band_high:.4f}")
    if args.skip_baseline:
        return
    start = time.perf_counter()
    members = [audited] + [v for _, v in references]
    check = None
    for i, j in itertools.combinations(range(len(members)), 2):
        scores = baseline_pair(members[i], members[j], params)
        check = check or scores
    baseline = time.perf_counter() - start
    print(f"baseline (sklearn/scipy per pair): {baseline:.1f} s; ratio baseline / ours = {baseline / ours:.2f}x")
    first = text.audited_pairs[0]
    print(f"  same numbers? audited vs text-0: ours knn {first.knn_overlap:.4f} rsa {first.rsa_spearman:.4f} "
          f"procrustes {first.procrustes_cosine:.4f}; baseline {check[0]:.4f} {check[1]:.4f} {check[2]:.4f}")


if __name__ == "__main__":
    main()
