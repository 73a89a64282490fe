"""Instance-level acoustic metrics against independent truth: scikit-learn and hand-computed toys."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.neighbors import KNeighborsClassifier

from audit.checks import acoustic
from audit.checks.acoustic import _retrieval
from audit.core.errors import AuditError, ParameterError
from audit.core.results import load_result


def clustered_tokens(words=12, per_word=5, dim=8, noise=0.6, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((words, dim))
    labels = np.repeat(np.arange(words), per_word)
    embeddings = centres[labels] + noise * rng.standard_normal((len(labels), dim))
    shuffle = rng.permutation(len(labels))
    return embeddings[shuffle].astype(np.float32), labels[shuffle]


def unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


# ----------------------------------------------------------------------------- average precision
def test_average_precision_equals_sklearn_with_ties_and_weights():
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 6, size=300).astype(float)   # many ties
    positive = rng.random(300) < 0.3
    weights = rng.uniform(0.5, 3.0, size=300)
    ap, _, _ = acoustic.average_precision(scores, positive)
    assert ap == pytest.approx(skm.average_precision_score(positive, scores), abs=1e-12)
    ap_w, _, _ = acoustic.average_precision(scores, positive, weights)
    assert ap_w == pytest.approx(skm.average_precision_score(positive, scores, sample_weight=weights), abs=1e-12)


def test_average_precision_by_hand():
    # Ranked: + - + -  -> precision at the hits 1/1 and 2/3, AP = (1 + 2/3) / 2.
    ap, recall, precision = acoustic.average_precision([0.9, 0.8, 0.7, 0.1], [True, False, True, False])
    assert ap == pytest.approx((1 + 2 / 3) / 2)
    assert recall[-1] == 1.0 and precision[-1] == 0.5


# ----------------------------------------------------------------------------- same-different
def test_same_different_all_pairs_equals_sklearn_and_chance():
    embeddings, labels = clustered_tokens()
    u = unit(embeddings)
    result = acoustic.same_different_cosine(u, labels, sample_pairs=10**6)
    i, j = np.triu_indices(len(labels), 1)
    cos = np.sum(u[i] * u[j], axis=1)
    same = labels[i] == labels[j]
    assert not result.sampled
    assert result.pairs_total == len(i) == 60 * 59 // 2
    assert result.same_pairs_total == 12 * 10
    assert result.chance == pytest.approx(same.mean())
    assert result.average_precision == pytest.approx(skm.average_precision_score(same, cos), abs=1e-6)


def test_same_different_sample_is_weighted_sklearn_ap_and_close_to_exact():
    embeddings, labels = clustered_tokens(words=40, per_word=6, noise=1.0, seed=3)
    u = unit(embeddings)
    exact = acoustic.same_different_cosine(u, labels, sample_pairs=10**6)
    sampled = acoustic.same_different_cosine(u, labels, sample_pairs=6000, seed=5)
    assert sampled.sampled and sampled.same_pairs_scored == 40 * 15
    assert sampled.same_pairs_scored + sampled.different_pairs_scored == 6000
    # Independent recomputation of the same sample with scikit-learn's weighted AP.
    i, j, same, weights, _ = acoustic.choose_pairs(labels, 6000, 5)
    cos = np.sum(u[i] * u[j], axis=1)
    assert sampled.average_precision == pytest.approx(
        skm.average_precision_score(same, cos, sample_weight=weights), abs=1e-6)
    assert abs(sampled.average_precision - exact.average_precision) < 0.05
    again = acoustic.same_different_cosine(u, labels, sample_pairs=6000, seed=5)
    assert again.average_precision == sampled.average_precision


def test_same_word_pairs_enumerates_every_pair_once():
    labels = np.array([2, 0, 2, 1, 0, 2, 3])
    i, j = acoustic.same_word_pairs(labels)
    got = sorted(zip(i.tolist(), j.tolist()))
    want = sorted((a, b) for a in range(7) for b in range(a + 1, 7) if labels[a] == labels[b])
    assert got == want


# ----------------------------------------------------------------------------- retrieval
def retrieval_by_loops(u, labels, ks=(1, 5, 10)):
    """Reference: one query at a time with plain Python. AP counts a tie against the query (one
    threshold, as scikit-learn); MRR and recall@k are expectations over random orders of the
    ties, from P(none of the first j tied places is relevant) = C(g - j, r) / C(g, r)."""
    from math import comb
    aps, rrs, recalls = [], [], {k: [] for k in ks}
    for q in range(len(labels)):
        others = [j for j in range(len(labels)) if j != q]
        score = {j: float(u[q] @ u[j]) for j in others}
        relevant = [j for j in others if labels[j] == labels[q]]
        if not relevant:
            continue
        rank = {j: sum(score[o] >= score[j] for o in others) for j in relevant}
        aps.append(np.mean([sum(score[r] >= score[j] for r in relevant) / rank[j] for j in relevant]))
        best = max(score[j] for j in relevant)
        above = sum(score[o] > best for o in others)
        g = sum(score[o] == best for o in others)
        r = sum(score[j] == best for j in relevant)
        none_in_first = [comb(g - j, r) / comb(g, r) for j in range(g + 1)]
        rrs.append(sum((none_in_first[j - 1] - none_in_first[j]) / (above + j) for j in range(1, g + 1)))
        for k in ks:
            inside = 0.0
            for j in relevant:
                higher = sum(score[o] > score[j] for o in others)
                same = sum(score[o] == score[j] for o in others)
                inside += min(1.0, max(0.0, (k - higher) / same))
            recalls[k].append(inside / len(relevant))
    return np.mean(aps), np.mean(rrs), {k: np.mean(v) for k, v in recalls.items()}


def retrieval_by_every_order(u, labels, ks=(1, 5, 10)):
    """Truth for MRR and recall@k with ties: the mean over every order of the candidates (a
    stable sort by score of each permutation puts the ties in each order equally often)."""
    from itertools import permutations
    rrs, recalls = [], {k: [] for k in ks}
    for q in range(len(labels)):
        others = [j for j in range(len(labels)) if j != q]
        relevant = {j for j in others if labels[j] == labels[q]}
        if not relevant:
            continue
        rr, hits = [], {k: [] for k in ks}
        for order in permutations(others):
            ranked = sorted(order, key=lambda j: -float(u[q] @ u[j]))
            positions = [p + 1 for p, j in enumerate(ranked) if j in relevant]
            rr.append(1 / positions[0])
            for k in ks:
                hits[k].append(sum(p <= k for p in positions) / len(relevant))
        rrs.append(np.mean(rr))
        for k in ks:
            recalls[k].append(np.mean(hits[k]))
    return np.mean(rrs), {k: np.mean(v) for k, v in recalls.items()}


def test_retrieval_equals_loops_and_sklearn_lrap():
    embeddings, labels = clustered_tokens(words=9, per_word=4, noise=1.2, seed=2)
    u = unit(embeddings)
    result = acoustic.retrieval(u, labels, block_rows=7)
    ap, rr, rec = retrieval_by_loops(u, labels)
    assert result.mean_average_precision == pytest.approx(ap, abs=1e-6)
    assert result.mean_reciprocal_rank == pytest.approx(rr, abs=1e-6)
    for k in (1, 5, 10):
        assert result.recall_at[str(k)] == pytest.approx(rec[k], abs=1e-6)
    # scikit-learn's label ranking AP is the same quantity (a tie is one threshold).
    scores = (u @ u.T).astype(np.float64)
    np.fill_diagonal(scores, -2.0)
    truth = labels[:, None] == labels[None, :]
    np.fill_diagonal(truth, False)
    assert result.mean_average_precision == pytest.approx(
        skm.label_ranking_average_precision_score(truth, scores), abs=1e-6)


def test_retrieval_by_hand_with_ties():
    # Tokens a0, a1 identical; b0 and b1 identical to a0 too: every score ties at 1.
    u = np.array([[1, 0], [1, 0], [1, 0], [1, 0]], dtype=np.float32)
    labels = np.array([0, 0, 1, 1])
    result = acoustic.retrieval(u, labels)
    # Each query: 3 others all tied, 1 relevant: AP 1/3 (the tie is one threshold); in a random
    # order of the tie the relevant one is 1st, 2nd or 3rd: RR (1 + 1/2 + 1/3) / 3, recall@1 1/3.
    assert result.mean_average_precision == pytest.approx(1 / 3)
    assert result.mean_reciprocal_rank == pytest.approx(11 / 18)
    assert result.recall_at == pytest.approx({"1": 1 / 3, "5": 1.0, "10": 1.0})


def test_identical_tokens_score_chance_in_retrieval():
    # The reviewer's case: 24 identical tokens, 4 words x 6 (5 relevant among 23 tied per query).
    # Counting each tie against the query gave MRR 1/23, below the worst order's 1/19.
    u = np.tile(np.array([[0.6, 0.8]], dtype=np.float32), (24, 1))
    labels = np.repeat(np.arange(4), 6)
    result = acoustic.retrieval(u, labels)
    from math import comb
    rr = sum((comb(23 - j + 1, 5) - comb(23 - j, 5)) / comb(23, 5) / j for j in range(1, 20))
    assert result.mean_reciprocal_rank == pytest.approx(rr) and 1 / 19 < rr
    assert result.recall_at == pytest.approx({"1": 1 / 23, "5": 5 / 23, "10": 10 / 23})
    assert result.mean_average_precision == pytest.approx(5 / 23)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_retrieval_with_ties_equals_the_mean_over_every_order(seed):
    rng = np.random.default_rng(seed)
    labels = np.array([0, 0, 0, 1, 1, 2, 2])
    # Vectors from a few fixed directions: many exact ties between different tokens.
    u = np.array([[1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32)[rng.integers(0, 3, size=len(labels))]
    result = acoustic.retrieval(u, labels, block_rows=3)
    rr, recall = retrieval_by_every_order(u, labels)
    assert result.mean_reciprocal_rank == pytest.approx(rr, abs=1e-9)
    for k in (1, 5, 10):
        assert result.recall_at[str(k)] == pytest.approx(recall[k], abs=1e-9)
    loops = retrieval_by_loops(u, labels)
    assert loops[1] == pytest.approx(rr, abs=1e-12) and loops[2][5] == pytest.approx(recall[5], abs=1e-12)


def test_retrieval_perfect_separation():
    u = unit(np.array([[1, 0.01], [1, -0.01], [0.01, 1], [-0.01, 1]], dtype=np.float32))
    result = acoustic.retrieval(u, np.array([0, 0, 1, 1]))
    assert result.mean_average_precision == 1.0 and result.mean_reciprocal_rank == 1.0
    assert result.recall_at["1"] == 1.0


# ----------------------------------------------------------------------------- clustering
def test_cosine_silhouette_equals_sklearn():
    embeddings, labels = clustered_tokens(words=7, per_word=5, noise=1.0, seed=4)
    u = unit(embeddings)
    labels = labels.copy()
    labels[0] = 99  # a singleton cluster scores 0
    assert acoustic.cosine_silhouette(u, labels, block_rows=9) == pytest.approx(
        skm.silhouette_score(embeddings, labels, metric="cosine"), abs=1e-5)


def test_silhouette_by_hand():
    # Two clusters on the unit circle at 0/10 degrees and 90/100 degrees.
    angles = np.radians([0, 10, 90, 100])
    u = np.c_[np.cos(angles), np.sin(angles)].astype(np.float32)
    d = lambda x, y: 1 - math.cos(math.radians(x - y))  # noqa: E731
    a = d(0, 10)
    b0 = (d(0, 90) + d(0, 100)) / 2     # point at 0 degrees
    b1 = (d(10, 90) + d(10, 100)) / 2   # point at 10 degrees (same for 90, symmetric)
    want = ((b0 - a) / b0 + (b1 - a) / b1) / 2
    assert acoustic.cosine_silhouette(u, np.array([0, 0, 1, 1])) == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize("vector, copies", [([1.0, 1.0, 1.0], 6), ([0.3, -1.7, 2.2, 0.9, 0.1, -0.4, 5.0, 1.3], 20)])
def test_identical_embeddings_have_silhouette_zero_as_in_sklearn(vector, copies):
    """Every token the same vector: every distance is 0, so sklearn's silhouette is 0. The float32
    unit rows' rounding once decided it (0.660 for six copies of (1, 1, 1), the review's case)."""
    embeddings = np.tile(np.asarray(vector, dtype=np.float32), (copies, 1))
    labels = np.arange(copies) % 3
    assert skm.silhouette_score(embeddings, labels, metric="cosine") == 0.0
    assert acoustic.cosine_silhouette(unit(embeddings), labels) == 0.0
    # a cluster truly apart from two collapsed ones still counts: distances well above the floor
    apart = np.vstack([embeddings, np.tile(-np.asarray(vector, dtype=np.float32), (4, 1))])
    apart_labels = np.r_[labels, [3, 3, 3, 3]]
    assert acoustic.cosine_silhouette(unit(apart), apart_labels) == pytest.approx(
        skm.silhouette_score(apart, apart_labels, metric="cosine"), abs=1e-6)


@pytest.mark.parametrize("distance, expected", [(2e-6, 1.0), (5e-7, 0.0)])
def test_the_silhouette_distance_floor_sits_between_rounding_and_distance(distance, expected):
    """Two clusters of three copies each, their directions ``distance`` apart in cosine distance:
    2e-6 is a distance (each token's own cluster is at 0, the other at 2e-6: silhouette 1, as
    sklearn gives in float64); 5e-7 is below DISTANCE_FLOOR (1e-6), within reach of float32
    unit-row rounding, and counts as no distance (silhouette 0)."""
    angle = math.acos(1 - distance)
    rows = np.array([[1.0, 0.0]] * 3 + [[math.cos(angle), math.sin(angle)]] * 3)
    labels = np.array([0, 0, 0, 1, 1, 1])
    assert acoustic.cosine_silhouette(unit(rows.astype(np.float32)), labels) == expected
    assert skm.silhouette_score(rows, labels, metric="cosine") == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_adjusted_mutual_info_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(30), rng.integers(1, 8, size=30))
    predicted = np.where(rng.random(len(truth)) < 0.6, truth, rng.integers(0, 25, size=len(truth)))
    assert acoustic.adjusted_mutual_info(truth, predicted) == pytest.approx(
        skm.adjusted_mutual_info_score(truth, predicted), abs=1e-9)
    assert acoustic.adjusted_mutual_info(truth, truth) == pytest.approx(1.0)


def test_clustering_recovers_separated_words():
    embeddings, labels = clustered_tokens(words=6, per_word=5, noise=0.05, seed=6)
    result = acoustic.clustering(unit(embeddings), labels, seed=0)
    assert result.clusters == 6
    assert result.adjusted_rand == pytest.approx(1.0) and result.adjusted_mutual_info == pytest.approx(1.0)
    assert result.silhouette_kmeans == pytest.approx(result.silhouette_words)
    assert result.silhouette_words > 0.9


def test_clustering_metrics_equal_sklearn_on_its_own_assignment():
    embeddings, labels = clustered_tokens(words=8, per_word=4, noise=1.5, seed=7)
    u = unit(embeddings)
    result = acoustic.clustering(u, labels, seed=3)
    assert result == acoustic.clustering(u, labels, seed=3)
    assignment, _ = acoustic.kmeans_assign(u, 8, seed=3, max_iter=acoustic.KMEANS_MAX_ITER)
    assert result.silhouette_kmeans == pytest.approx(skm.silhouette_score(u, assignment, metric="cosine"), abs=1e-5)
    assert result.adjusted_rand == pytest.approx(skm.adjusted_rand_score(labels, assignment))
    assert result.adjusted_mutual_info == pytest.approx(skm.adjusted_mutual_info_score(labels, assignment))
    assert result.adjusted_rand < 1


# ----------------------------------------------------------------------------- kNN
@pytest.mark.parametrize("k", [1, 5])
def test_knn_predict_equals_sklearn(k):
    embeddings, labels = clustered_tokens(words=10, per_word=8, noise=1.5, seed=8)
    u = unit(embeddings)
    train = np.arange(len(labels)) % 4 != 0
    ours = acoustic.knn_predict(u[train], labels[train], u[~train], (k,), block_rows=5)[k]
    model = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute").fit(u[train], labels[train])
    assert np.array_equal(ours, model.predict(u[~train]))


def test_knn_vote_tie_goes_to_smaller_word():
    train = unit(np.array([[1, 0.1], [1, -0.1], [0, 1]], dtype=np.float32))
    # Neighbours of the query (k=2) are tokens of words 3 and 1: one vote each -> word 1.
    assert acoustic.knn_predict(train[:2], np.array([3, 1]), unit(np.array([[1, 0]], np.float32)), (2,))[2][0] == 1


def test_knn_split_by_speaker_holds_out_whole_speakers():
    embeddings, labels = clustered_tokens(words=5, per_word=8, noise=0.2, seed=9)
    speakers = np.array([f"s{i % 4}" for i in range(len(labels))])
    result = acoustic.knn_classification(unit(embeddings), labels, speakers, seed=1)
    assert result.split == "speakers" and len(result.test_speakers) == 1
    assert result.test_tokens == 10 and result.train_tokens == 30
    assert result.accuracy["1"] == 1.0
    tokens = acoustic.knn_classification(unit(embeddings), labels, None, seed=1)
    assert tokens.split == "tokens" and tokens.test_tokens + tokens.test_tokens_unseen_word == 10


# ----------------------------------------------------------------------------- whole check, input, JSON
def write_instances(path, embeddings, labels, speakers=None, **extra):
    arrays = {"embeddings": embeddings, "labels": np.asarray(labels).astype(str), **extra}
    if speakers is not None:
        arrays["speakers"] = np.asarray(speakers).astype(str)
    np.savez(path, **arrays)
    return path


def test_audit_instances_round_trips_json(tmp_path):
    embeddings, labels = clustered_tokens(words=6, per_word=6, noise=0.8, seed=10)
    speakers = [f"spk{i % 3}" for i in range(len(labels))]
    path = write_instances(tmp_path / "instances.npz", embeddings, [f"w{x}" for x in labels], speakers)
    result = acoustic.audit_instances(acoustic.load_instances(path), seed=4)
    assert result.tokens == 36 and result.words == 6 and result.speakers == 3
    assert result.input.sha256 and result.input.dim == 8
    assert result.same_different.average_precision > result.same_different.chance
    loaded = load_result(json.loads(result.to_json()))
    assert loaded == result
    assert acoustic.audit_instances(acoustic.load_instances(path), seed=4).same_different == result.same_different


@pytest.mark.parametrize("sample_pairs", [acoustic.DEFAULT_SAMPLE_PAIRS, 200])
def test_same_different_ap_alone_equals_the_full_audit(sample_pairs):
    """The reproduction records this every epoch: it must be what `audit acoustic` reports,
    exhaustive or on the same seeded sample."""
    embeddings, labels = clustered_tokens(words=7, per_word=6, noise=1.0, seed=12)
    labels = np.array([f"w{x}" for x in labels])
    full = acoustic.audit_instances(acoustic.make_instances(embeddings, labels), sample_pairs=sample_pairs, seed=6)
    alone = acoustic.same_different_ap(embeddings, labels, sample_pairs=sample_pairs, seed=6)
    assert alone == full.same_different and alone.sampled == (sample_pairs == 200)


def test_shuffled_token_order_gives_the_same_scores(tmp_path):
    embeddings, labels = clustered_tokens(words=6, per_word=5, noise=0.8, seed=11)
    a = acoustic.audit_instances(acoustic.make_instances(embeddings, labels))
    order = np.random.default_rng(0).permutation(len(labels))
    b = acoustic.audit_instances(acoustic.make_instances(embeddings[order], labels[order]))
    assert a.same_different.average_precision == pytest.approx(b.same_different.average_precision, abs=1e-6)
    assert a.retrieval.mean_average_precision == pytest.approx(b.retrieval.mean_average_precision, abs=1e-6)
    assert a.clustering.silhouette_words == pytest.approx(b.clustering.silhouette_words, abs=1e-6)


@pytest.mark.parametrize("case, message", [
    ("missing", "lacks the key"),
    ("length", "has shape"),
    ("pickled", "object arrays"),
    ("singleton", "single token"),
    ("zero", "zero or not finite"),
    ("text", "is not an .npz archive"),
    ("truncated", "is not a readable .npz archive"),
])
def test_bad_input_is_one_sentence(tmp_path, case, message):
    embeddings, labels = clustered_tokens(words=3, per_word=3)
    path = tmp_path / "bad.npz"
    if case == "missing":
        np.savez(path, embeddings=embeddings)
    elif case == "length":
        write_instances(path, embeddings, labels[:-1])
    elif case == "pickled":
        np.savez(path, embeddings=embeddings, labels=np.array(list(labels.astype(str)), dtype=object))
    elif case == "singleton":
        write_instances(path, embeddings, np.r_[labels[:-1], 77])
    elif case == "zero":
        embeddings[2] = 0
        write_instances(path, embeddings, labels)
    elif case == "text":   # np.load would take it for a pickle and say so
        path.write_text("a 1 2\nb 3 4\n", encoding="utf-8")
    elif case == "truncated":
        write_instances(path, embeddings, labels)
        path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(AuditError, match=message):
        acoustic.audit_instances(acoustic.load_instances(path))


def test_drop_singletons_counts_them():
    embeddings, labels = clustered_tokens(words=4, per_word=3)
    labels = np.r_[labels[:-1], 77]
    result = acoustic.audit_instances(acoustic.make_instances(embeddings, labels), drop_singletons=True)
    assert result.singletons_dropped == 1 and result.tokens == 11


def test_rank_counting_paths_agree(monkeypatch):
    rng = np.random.default_rng(12)
    scores = rng.integers(0, 20, size=(30, 50)).astype(np.float32)     # many ties
    thresholds = np.where(rng.random((30, 6)) < 0.8, scores[:, :6], np.inf)
    want = np.array([[np.sum(scores[r] >= t) for t in thresholds[r]] for r in range(30)])
    want_above = np.array([[np.sum(scores[r] > t) for t in thresholds[r]] for r in range(30)])
    assert (want > want_above).any() and (want_above > 0).any()
    for share, sort_above in ((0.0, 99), (1.0, 99), (0.0, 0)):  # full passes, candidate binning, row sort
        monkeypatch.setattr(_retrieval, "CANDIDATE_SHARE", share)
        monkeypatch.setattr(_retrieval, "SORT_ABOVE_SLOTS", sort_above)
        assert np.array_equal(_retrieval._count_at_least(scores, thresholds), want)
        at_least, above = _retrieval._rank_counts(scores, thresholds)
        assert np.array_equal(at_least, want) and np.array_equal(above, want_above)


def test_retrieval_with_uneven_word_sizes_equals_loops(monkeypatch):
    rng = np.random.default_rng(14)
    labels = np.repeat(np.arange(6), [2, 3, 30, 4, 2, 9])
    # Small integers: every dot product is exact in float32, so ties are real ties everywhere.
    u = (rng.integers(-1, 2, size=(len(labels), 5)) + 2 * np.eye(6, 5, dtype=int)[labels]).astype(np.float32)
    want = retrieval_by_loops(u, labels)
    for sort_above in (24, 0):
        monkeypatch.setattr(_retrieval, "SORT_ABOVE_SLOTS", sort_above)
        got = acoustic.retrieval(u, labels, block_rows=8)
        assert got.mean_average_precision == pytest.approx(want[0], abs=1e-6)
        assert got.mean_reciprocal_rank == pytest.approx(want[1], abs=1e-6)
        assert got.recall_at["5"] == pytest.approx(want[2][5], abs=1e-6)


def test_cli_prints_table_and_writes_json(tmp_path, run_cli):
    embeddings, labels = clustered_tokens(words=5, per_word=4, noise=0.5, seed=13)
    path = write_instances(tmp_path / "inst.npz", embeddings, labels, [f"s{i % 2}" for i in range(20)])
    out = tmp_path / "acoustic.json"
    code, stdout, stderr = run_cli("acoustic", path, "--seed", "2", "--json", out)
    assert code == 0, stderr
    assert "same-different AP (cosine)" in stdout and "kNN accuracy k=5 (speakers split)" in stdout
    saved = load_result(out)
    assert saved.seed == 2 and saved.tokens == 20 and saved.input.sha256
    assert f"{saved.same_different.average_precision:.3f}" in stdout


def test_cli_bad_input_exits_2_without_output(tmp_path, run_cli):
    path = tmp_path / "bad.npz"
    np.savez(path, embeddings=np.ones((3, 2)))
    out = tmp_path / "never.json"
    code, stdout, stderr = run_cli("acoustic", path, "--json", out)
    assert code == 2 and "lacks the key(s) labels" in stderr and "Traceback" not in stderr
    assert not out.exists()


@pytest.mark.parametrize("kwargs, parameter, words", [
    ({"sample_pairs": 1}, "sample_pairs", "is 1; a pair budget must be at least 2"),
    ({"dtw_pairs": 0}, "dtw_pairs", "is 0; a pair budget must be at least 2"),
    ({"seed": -1}, "seed", "non-negative"),
    ({"labels_last": 77}, "drop_singletons", "is off, but 1 word(s) have a single token (e.g. '77')"),
])
def test_library_errors_name_parameters_not_options(kwargs, parameter, words):
    embeddings, labels = clustered_tokens(words=4, per_word=3)
    kwargs = dict(kwargs)   # a copy: popping from the parameter itself made a second run of the case test nothing
    if "labels_last" in kwargs:
        labels = np.r_[labels[:-1], kwargs.pop("labels_last")]
    with pytest.raises(ParameterError) as caught:
        acoustic.audit_instances(acoustic.make_instances(embeddings, labels), **kwargs)
    assert caught.value.parameter == parameter and words in str(caught.value)
    assert "--" not in str(caught.value)


@pytest.mark.parametrize("argv, labels_last, message", [
    (["--sample-pairs", "1"], None, "audit: --sample-pairs is 1; a pair budget must be at least 2."),
    (["--dtw-pairs", "1"], None, "audit: --dtw-pairs is 1; a pair budget must be at least 2."),
    ([], 77, "audit: --drop-singletons is off, but 1 word(s) have a single token"),
])
def test_cli_names_the_options(tmp_path, run_cli, argv, labels_last, message):
    embeddings, labels = clustered_tokens(words=4, per_word=3)
    if labels_last is not None:
        labels = np.r_[labels[:-1], labels_last]
    path = write_instances(tmp_path / "inst.npz", embeddings, labels)
    code, stdout, stderr = run_cli("acoustic", path, *argv)
    assert code == 2 and stderr.startswith(message) and stderr.count("\n") == 1 and stdout == ""


def test_recall_at_k_is_shown_beside_the_most_it_can_be():
    """A perfect embedding showed recall@1 0.200 (5 other tokens per word: the right definition, but
    it read as poor): each recall@k comes with its ceiling, mean over queries of min(k, relevant) /
    relevant, computed by hand here."""
    labels = np.repeat(np.arange(4), [6, 6, 3, 2])
    vectors = np.eye(4)[labels] + 0.01 * np.random.default_rng(0).normal(size=(len(labels), 4))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)   # a word's tokens nearest each other
    result = acoustic.retrieval(unit, labels)
    relevant = np.array([5] * 12 + [2] * 3 + [1] * 2)
    for k in (1, 5, 10):
        assert result.recall_ceiling[str(k)] == pytest.approx(np.mean(np.minimum(k, relevant) / relevant))
        assert result.recall_at[str(k)] == pytest.approx(result.recall_ceiling[str(k)])
    assert result.recall_ceiling["1"] < 1 and result.recall_ceiling["10"] == 1.0


@pytest.mark.parametrize("scale, dtype", [(1e19, np.float32), (1e20, np.float32), (1e30, np.float64),
                                          (1e-30, np.float32), (1e-40, np.float64)])
def test_finite_embeddings_at_any_scale_are_audited_as_at_scale_one(scale, dtype, recwarn):
    """The reviewer's case: rows scaled to 1e19 or 1e-30 were refused as "zero or not finite" (their
    float32 squared norm overflowed or underflowed), with a numpy overflow warning at 1e30."""
    embeddings, labels = clustered_tokens(words=4, per_word=3, seed=5)
    want = acoustic.audit_instances(acoustic.make_instances(embeddings, labels), seed=1)
    got = acoustic.audit_instances(acoustic.make_instances(embeddings.astype(dtype) * dtype(scale), labels), seed=1)
    assert got.same_different.average_precision == pytest.approx(want.same_different.average_precision, abs=1e-6)
    assert got.retrieval.mean_reciprocal_rank == pytest.approx(want.retrieval.mean_reciprocal_rank, abs=1e-6)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("scale, message", [(1e39, "beyond float32's range"), (1e-50, "too small for float32")])
def test_float64_rows_that_float32_cannot_hold_are_named(scale, message):
    embeddings, labels = clustered_tokens(words=3, per_word=3)
    with pytest.raises(AuditError, match=message):
        acoustic.make_instances(embeddings.astype(np.float64) * scale, labels)


def test_retrieval_blocks_stay_within_their_cell_budgets(monkeypatch):
    """One frequent word (as "the" in a corpus) made blocks of 1024 queries x 90,000 relevant
    tokens: 6.7 GB for 100,000 tokens. Blocks now shrink to the budgets; the figures do not change."""
    rng = np.random.default_rng(21)
    labels = np.r_[np.zeros(300, int), np.repeat(np.arange(1, 41), 3)]
    u = unit(rng.standard_normal((len(labels), 6)).astype(np.float32) + 0.5 * np.eye(41, 6)[labels])
    want = acoustic.retrieval(u, labels)
    monkeypatch.setattr(_retrieval, "SCORE_CELLS", 420 * 50)
    monkeypatch.setattr(_retrieval, "SLOT_CELLS", 3000)
    shapes = [(len(q), thresholds.shape[1]) for q, thresholds, _, _ in acoustic.query_ranks(u, labels)]
    assert sum(rows for rows, _ in shapes) == len(labels)
    assert all(rows <= 50 and rows * width <= 3000 for rows, width in shapes)
    assert min(rows for rows, _ in shapes) < 50                     # the frequent word's blocks shrank
    got = acoustic.retrieval(u, labels)
    assert got.mean_average_precision == pytest.approx(want.mean_average_precision, abs=1e-12)
    assert got.mean_reciprocal_rank == pytest.approx(want.mean_reciprocal_rank, abs=1e-12)
    assert got.recall_at == pytest.approx(want.recall_at, abs=1e-12)
