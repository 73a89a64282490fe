"""The Vectors object: neighbours and ranks against brute force, immutability, JSON results."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.spatial.distance import cosine

import audit
from audit.core.errors import AuditError
from audit.core.vectors import Vectors
from audit.checks.info import InfoResult, describe
from audit.core.results import load_result


@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(500, 8)).astype(np.float32)
    matrix[17] = 0  # a zero row: cosine undefined
    return audit.Vectors([f"w{i}" for i in range(500)], matrix)


def _brute_cosines(matrix, q):
    norms = np.linalg.norm(matrix.astype(np.float64), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return matrix.astype(np.float64) @ matrix[q].astype(np.float64) / (norms * norms[q])


def test_pair_similarities_agree_with_scipy(vectors):
    left, right = np.array([0, 5, 9, 17]), np.array([1, 6, 10, 3])
    sims = vectors.pair_similarities(left, right)
    for s, a, b in zip(sims[:3], left[:3], right[:3]):
        assert s == pytest.approx(1 - cosine(vectors.matrix[a], vectors.matrix[b]), abs=1e-6)
    assert np.isnan(sims[3])  # zero row


@pytest.mark.parametrize("block_bytes", [64, 10_000, 1 << 28])
def test_nearest_matches_brute_force(vectors, block_bytes):
    queries = np.array([0, 3, 250, 499])
    idx, sims = vectors.nearest(queries, k=5, block_bytes=block_bytes)
    for row, q in enumerate(queries):
        cos = _brute_cosines(vectors.matrix, q)
        cos[q] = -np.inf
        cos[17] = -np.inf
        expected = np.argsort(-cos, kind="stable")[:5]
        np.testing.assert_array_equal(idx[row], expected)
        np.testing.assert_allclose(sims[row], cos[expected], atol=1e-5)


@pytest.mark.parametrize("block_bytes", [64, 1 << 28])
def test_ranks_match_brute_force(vectors, block_bytes):
    queries = np.array([0, 1, 2, 3, 17])
    targets = np.array([10, 20, 30, 1, 5])
    ranks = vectors.ranks(queries, targets, block_bytes=block_bytes)
    for q, t, r in zip(queries[:4], targets[:4], ranks[:4]):
        cos = _brute_cosines(vectors.matrix, q)
        cos[q] = -np.inf
        cos[17] = -np.inf
        assert r == 1 + np.sum(cos > cos[t] + 1e-7) or r == 1 + np.sum(cos > cos[t])
    assert np.isnan(ranks[4])  # query is the zero row


def test_nearest_neighbour_has_rank_one(vectors):
    idx, _ = vectors.nearest([42], k=1)
    assert vectors.ranks([42], [idx[0, 0]])[0] == 1


def test_ranks_do_not_depend_on_vocabulary_order(vectors):
    perm = np.random.default_rng(0).permutation(len(vectors))
    shuffled = vectors.take(perm)
    words = ["w0", "w3", "w99"]
    partners = ["w8", "w400", "w1"]
    a = vectors.ranks(vectors.indices(words), vectors.indices(partners))
    b = shuffled.ranks(shuffled.indices(words), shuffled.indices(partners))
    np.testing.assert_array_equal(a, b)


def test_arrays_are_read_only_and_inputs_untouched():
    matrix = np.array([[3.0, 4.0], [1.0, 0.0]], dtype=np.float32)
    vectors = audit.Vectors(["a", "b"], matrix)
    matrix[0, 0] = 100  # the object keeps its own copy
    assert vectors.matrix[0, 0] == 3.0
    for array in (vectors.matrix, vectors.unit, vectors.norms):
        with pytest.raises(ValueError):
            array[0] = 0
    normalized = vectors.normalized()
    np.testing.assert_allclose(normalized.matrix[0], [0.6, 0.8])
    assert vectors.matrix[0, 0] == 3.0
    assert vectors.subset(["b"]).words == ("b",)
    with pytest.raises(AuditError, match="not in the vocabulary"):
        vectors.index("zzz")


def test_info_result_round_trips_json(vectors):
    result = describe(vectors)
    data = json.loads(result.to_json())
    assert data["kind"] == "info" and data["schema_version"] == 1
    again = load_result(data)
    assert isinstance(again, InfoResult)
    assert again == result
    assert data["source"]["zero_rows"] == 1
    assert again.valid_rows == 499


def test_taking_over_a_matrix_without_copying():
    matrix = np.arange(6, dtype=np.float32).reshape(3, 2)
    vectors = Vectors(["a", "b", "c"], matrix, copy=False, key_to_index={"a": 0, "b": 1, "c": 2})
    assert np.shares_memory(vectors.matrix, matrix) and not matrix.flags.writeable
    assert vectors.index("c") == 2
    converted = np.arange(6, dtype=np.float64).reshape(3, 2)   # not float32: copied all the same
    assert not np.shares_memory(Vectors(["a", "b", "c"], converted, copy=False).matrix, converted)
    with pytest.raises(AuditError, match="duplicate"):
        Vectors(["a", "a", "c"], matrix, key_to_index={"a": 1, "c": 2})
    with pytest.raises(AuditError, match="2 norms were given for 3 vectors"):
        Vectors(["a", "b", "c"], matrix, norms=np.ones(2))


def test_loaded_norms_and_row_counts_match_a_fresh_computation(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("a 3 4\nb 0 0\nc nan 1\nd inf 2\ne 1e-30 0\n", encoding="utf-8")
    loaded = audit.load(path, nonfinite="exclude")
    fresh = Vectors(loaded.words, loaded.matrix)
    np.testing.assert_array_equal(loaded.norms, fresh.norms)
    assert loaded.source.zero_rows == 1 and loaded.source.nonfinite_rows == 2
    assert loaded.valid.tolist() == [True, False, False, False, True]


def test_unit_rows_in_threads_match_one_pass(monkeypatch):
    import audit.core.vectors as module
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((1001, 7)).astype(np.float32)
    matrix[5] = 0
    matrix[9, 2] = np.nan
    one = Vectors([f"w{i}" for i in range(1001)], matrix).unit
    monkeypatch.setattr(module, "PARALLEL_ELEMENTS", 10)
    threaded = Vectors([f"w{i}" for i in range(1001)], matrix).unit
    assert np.array_equal(one, threaded)
    assert not threaded[5].any() and not threaded[9].any()
    expected = matrix[10] / np.linalg.norm(matrix[10].astype(np.float64))
    assert np.allclose(threaded[10], expected, rtol=1e-6)
