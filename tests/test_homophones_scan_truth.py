"""The homophone scan against independent truth (issue 16: the scan works from the raw matrix
and the row norms, with no unit-normalised copy of the matrix).

Truth here is scikit-learn's float64 cosine on the matrix as loaded, with the documented rules
applied by hand: rank = 1 + the other valid words whose cosine beats the target's by more than
TIE_TOLERANCE; neighbours by cosine, equal cosines by the word; zero and non-finite rows never
count and never appear.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from sklearn.metrics.pairwise import cosine_similarity

import audit
from audit.core.vectors import Vectors
from homophones import check
from homophones.neighbours import TIE_TOLERANCE, scan, unit_rows, unit_scale
from homophones.pairs import HomophonePair, PairSet


def _write_vec(path, words, matrix) -> None:
    """fastText-style text (header line, 4 decimals); a NaN row as the word 'nan' values."""
    lines = [f"{len(words)} {matrix.shape[1]}"]
    for word, row in zip(words, matrix):
        lines.append(word + " " + " ".join("nan" if np.isnan(x) else f"{x:.4f}" for x in row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def tied_file(tmp_path_factory):
    """300 words x 16 with: a zero row, a NaN row, a homophone pair with identical vectors (rank 1
    both ways, exact tie with nothing else), three further copies of one vector (tied
    neighbours, ordered by the word), and a target with an identical twin (a tie at the rank
    threshold, which counts in the target's favour)."""
    rng = np.random.default_rng(11)
    n, dim = 300, 16
    matrix = np.round(rng.uniform(-1, 1, size=(n, dim)), 4)
    words = [f"z{i:03d}" for i in rng.permutation(n)]
    matrix[7] = 0                     # zero row: never counts, never a neighbour
    matrix[8] = np.nan                # non-finite row, loaded with nonfinite="exclude"
    matrix[20] = matrix[21]           # identical homophones
    matrix[[40, 41, 42]] = matrix[30]  # four identical vectors: 30, 40, 41, 42
    matrix[51] = matrix[50]           # a target (50) and its twin (51)
    path = tmp_path_factory.mktemp("truth") / "tied.vec"
    _write_vec(path, words, matrix)
    pairs = [(20, 21), (30, 40), (60, 50), (70, 71), (80, 81), (90, 91), (100, 7), (110, 8)]
    pairs += [(i, i + 1) for i in range(120, 240, 2)]
    pair_set = PairSet("truth", "test pairs", tuple(HomophonePair(words[a], words[b]) for a, b in pairs))
    return path, pair_set


def _brute_force(vectors: Vectors, query: int, target: int, k: int):
    valid = np.flatnonzero(vectors.valid)
    others = valid[valid != query]
    cosine = cosine_similarity(vectors.matrix[[query]].astype(np.float64),
                               vectors.matrix[others].astype(np.float64))[0]
    target_cosine = cosine[np.searchsorted(others, target)]
    # the fixture keeps every cosine clear of the tolerance border, so float32 rounding cannot matter
    border = np.abs(cosine - (target_cosine + TIE_TOLERANCE))
    assert border.min() > 1e-6
    rank = 1 + int(np.sum(cosine > target_cosine + TIE_TOLERANCE))
    words = np.array([vectors.words[o] for o in others], dtype=object)
    order = np.lexsort((words, -cosine))
    return rank, [vectors.words[o] for o in others[order[:k]]], cosine[order[:k]]


def test_check_ranks_and_neighbours_equal_brute_force_cosine(tied_file):
    path, pairs = tied_file
    vectors = audit.load(path, nonfinite="exclude")
    assert vectors.source.zero_rows == 1 and vectors.source.nonfinite_rows == 1
    result = check(vectors, pairs, k=4, bootstrap_resamples=20)
    assert result.pairs.found == len(pairs.pairs) - 2          # the zero and the NaN words' pairs
    reasons = {m.word1: m.reason for m in result.pairs.missing_pairs}
    assert all("zero or non-finite vector" in r for r in reasons.values()) and len(reasons) == 2
    lookup = vectors.key_to_index
    for row in result.pair_table:
        first, second = lookup[row.word1], lookup[row.word2]
        rank, neighbours, _ = _brute_force(vectors, first, second, 4)
        assert (row.rank_1_to_2, row.neighbours1) == (rank, neighbours), row
        rank, neighbours, _ = _brute_force(vectors, second, first, 4)
        assert (row.rank_2_to_1, row.neighbours2) == (rank, neighbours), row
    by_pair = {(r.word1, r.word2): r for r in result.pair_table}
    identical = by_pair[(vectors.words[20], vectors.words[21])]
    assert identical.rank_1_to_2 == identical.rank_2_to_1 == 1 and identical.similarity == pytest.approx(1.0)
    copies = sorted(vectors.words[i] for i in (40, 41, 42))
    assert by_pair[(vectors.words[30], vectors.words[40])].neighbours1[:3] == copies   # tied: by the word


def test_scan_equals_brute_force_for_every_slot_chunk_size_and_thread_count(tied_file, monkeypatch):
    import homophones.neighbours as neighbours

    path, _ = tied_file
    vectors = audit.load(path, nonfinite="exclude")
    queries = np.array([30, 50, 60, 0, 299, 40])
    targets = np.array([[40, 51, 7], [51, 60, -1], [50, 51, 8], [1, -1, -1], [298, 30, 42], [30, 41, 0]])
    expected_ranks = np.full(targets.shape, np.nan)
    for i, q in enumerate(queries):
        for j, t in enumerate(targets[i]):
            if t >= 0 and vectors.valid[t]:
                expected_ranks[i, j] = _brute_force(vectors, q, t, 5)[0]
    for workers in (1, 2, 3):
        monkeypatch.setattr(neighbours, "SCAN_WORKERS", workers)
        for block_bytes in (4 * 6 * 8, 4 * 6 * 40, 64 * 2 ** 20):   # chunks of 8 and 40 rows, one chunk
            result = scan(vectors, queries, targets, k=5, block_bytes=block_bytes)
            assert np.array_equal(result.ranks, expected_ranks, equal_nan=True), (workers, block_bytes)
            for i, q in enumerate(queries):
                _, words, cosine = _brute_force(vectors, q, targets[i, 0], 5)
                assert [vectors.words[r] for r in result.neighbours[i]] == words, (workers, block_bytes, q)
                assert np.allclose(result.similarities[i], cosine, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_many_identical_vectors_in_different_chunks_are_ordered_by_the_word(seed):
    """60 copies of one vector spread over the vocabulary, 31 queries scored in chunks of 40
    rows: a copy's float32 score depends on its place in the chunk (before this scan chose by
    float64, the order of tied copies did in 11 of 20 such draws), the answer must not; 60
    near ties are more than the room kept beside the k best, so the query is scanned again."""
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((2000, 24))
    copies = rng.choice(np.arange(1, 2000), size=60, replace=False)
    matrix[copies] = matrix[0] * rng.uniform(0.5, 3.0)          # one scale for all: identical vectors
    words = [f"v{i}" for i in rng.permutation(2000)]
    vectors = Vectors(words, matrix)
    queries = np.r_[0, rng.choice(np.setdiff1d(np.arange(1, 2000), copies), 30, replace=False)]
    result = scan(vectors, queries, np.full((31, 1), copies[0]), k=6, block_bytes=4 * 31 * 40)
    assert [words[r] for r in result.neighbours[0]] == sorted(words[c] for c in copies)[:6]
    assert result.ranks[0, 0] == 1
    assert np.all(result.similarities[0] == result.similarities[0, 0])


@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply")   # Vectors.unit's own inf * 0
def test_unit_rows_are_vectors_unit_bit_for_bit():
    rng = np.random.default_rng(5)
    matrix = rng.standard_normal((500, 33)).astype(np.float32)
    matrix[3] = 0
    matrix[4, 2] = np.nan
    matrix[5, 0] = np.inf
    matrix[6] *= 1e-30                       # tiny and huge norms
    matrix[7] *= 1e30
    vectors = Vectors([f"w{i}" for i in range(500)], matrix)
    scale = unit_scale(vectors)
    out = np.empty((64, 33), dtype=np.float32)
    pieces = [unit_rows(vectors, scale, start, min(start + 64, 500), out).copy() for start in range(0, 500, 64)]
    assert np.array_equal(np.concatenate(pieces).view(np.uint32), np.asarray(vectors.unit).view(np.uint32))


def test_the_check_makes_no_unit_copy_and_its_memory_is_bounded():
    """A 400,000 x 32 matrix (51 MB): the check leaves Vectors.unit unbuilt, and its traced numpy
    allocations peak below a third of the matrix (per-word bookkeeping of the check, ~30 bytes a
    word, and per thread one chunk and one score block; a unit copy alone would be the matrix)."""
    rng = np.random.default_rng(4)
    n, dim = 400_000, 32
    words = [f"w{i}" for i in range(n - 40)] + [f"a{i}" for i in range(20)] + [f"b{i}" for i in range(20)]
    vectors = Vectors(words, rng.standard_normal((n, dim)).astype(np.float32), copy=False)
    vectors.key_to_index, vectors.valid  # noqa: B018 - built by the loaders in real use
    pairs = PairSet("memory", "test pairs", tuple(HomophonePair(f"a{i}", f"b{i}") for i in range(20)))
    tracemalloc.start()
    try:
        result = check(vectors, pairs, bootstrap_resamples=20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.pairs.found == 20
    assert "unit" not in vectors._cache
    assert peak < vectors.matrix.nbytes / 3, f"peak {peak / 1e6:.1f} MB for a {vectors.matrix.nbytes / 1e6:.0f} MB matrix"


def test_a_memory_mapped_copy_gives_the_same_result(tied_file, tmp_path):
    """--cache-dir maps the matrix back from disk: the scan reads it chunk by chunk the same way."""
    path, pairs = tied_file
    parsed = check(audit.load(path, nonfinite="exclude"), pairs, bootstrap_resamples=20).to_dict()
    audit.load(path, nonfinite="exclude", cache_dir=tmp_path)             # writes the cache
    mapped_vectors = audit.load(path, nonfinite="exclude", cache_dir=tmp_path)
    assert isinstance(mapped_vectors.matrix.base, np.memmap)
    mapped = check(mapped_vectors, pairs, bootstrap_resamples=20).to_dict()
    for result in (parsed, mapped):
        result.pop("date"), result.pop("input")
    assert mapped == parsed
