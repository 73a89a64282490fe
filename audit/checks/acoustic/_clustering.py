"""Clustering: k-means with k = words on unit vectors; silhouettes, ARI and AMI against the words."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from audit.checks.acoustic._base import DEFAULT_SEED

KMEANS_MAX_ITER = 100
# Mean cosine distances below this are rounding, not distance: the rows are float32 unit vectors
# (norms 1 +- 6e-8), so identical embeddings give a(i), b(i) of about 1e-7 either way and their
# ratio, the silhouette, any value in [-1, 1] (0.660 for six copies of one vector). Taken as 0,
# identical embeddings score 0, as scikit-learn's exact distances give.
DISTANCE_FLOOR = 1e-6


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
    from sklearn.cluster import KMeans   # heavy optional dependency, loaded when clustering runs

    # float32 throughout: float64 products cost ~10x here and k-means needs no more precision.
    points = np.ascontiguousarray(unit, dtype=np.float32)
    centres = kmeans_plusplus(points, k, np.random.default_rng(seed))
    model = KMeans(n_clusters=k, init=centres, n_init=1, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        # "Number of distinct clusters found smaller than n_clusters": collapsed embeddings; the
        # silhouettes and ARI/AMI say so in the result, a warning on stderr says nothing more.
        from sklearn.exceptions import ConvergenceWarning
        warnings.simplefilter("ignore", ConvergenceWarning)
        assignment = model.fit_predict(points)
    return assignment, int(model.n_iter_)


def clustering(unit: np.ndarray, label_index: np.ndarray, *, seed: int = DEFAULT_SEED,
               max_iter: int = KMEANS_MAX_ITER) -> Clustering:
    """k-means (k = words) on unit vectors; silhouettes, ARI and AMI against the words."""
    from sklearn.metrics import adjusted_rand_score   # heavy: loaded when clustering runs

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
    scores 0, as in scikit-learn; mean distances below :data:`DISTANCE_FLOOR` count as 0.
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
        a = np.where(a < DISTANCE_FLOOR, 0.0, a)
        b = np.where(b < DISTANCE_FLOOR, 0.0, b)
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
    from scipy import sparse   # scipy's sparse and special modules cost ~0.2 s to import
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
