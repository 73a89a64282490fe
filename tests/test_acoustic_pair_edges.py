"""Same-different pairs and AP at their edges (issue 18: the mutants the first pass left alive).

Each case has truth computed without the code under test: scikit-learn's AP, a plain double
loop over token pairs, or a count by hand.
"""

from __future__ import annotations

import itertools
import math
import tracemalloc

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from audit.checks.acoustic import _same_different as sd


def all_same_word_pairs(labels):
    return sorted((a, b) for a, b in itertools.combinations(range(len(labels)), 2) if labels[a] == labels[b])


# ----------------------------------------------------------------------------- average precision
def test_unsigned_integer_scores_rank_as_numbers():
    # Negating a uint8 array wraps (-3 is 253), so the ranking must be done on a float copy.
    scores = np.array([3, 0, 200, 7, 7, 1, 90, 2], np.uint8)
    positive = np.array([1, 0, 1, 0, 1, 0, 0, 1], bool)
    ap, _, _ = sd.average_precision(scores, positive)
    assert ap == pytest.approx(average_precision_score(positive, scores.astype(float)), abs=1e-15)


def test_float32_weights_are_summed_in_float64():
    # One heavy miss on top (2**24) and many light pairs: in float32 each later weight of 3 added
    # to the running total of misses is rounded away, and the AP moves by ~1e-5 relative.
    n = 400
    scores = np.linspace(1, 0, n)
    positive = np.arange(n) % 2 == 1
    weights = np.full(n, 3.0, np.float32)
    weights[0] = 2 ** 24
    ap, _, _ = sd.average_precision(scores, positive, weights)
    truth = average_precision_score(positive, scores, sample_weight=weights.astype(np.float64))
    assert ap == pytest.approx(truth, rel=1e-12)


def test_no_pair_at_all_gives_nan_not_an_error():
    ap, recall, precision = sd.average_precision(np.zeros(0), np.zeros(0, bool))
    assert math.isnan(ap) and len(recall) == len(precision) == 0
    result = sd.same_different_from_scores(np.zeros(0, np.float32), np.zeros(0, bool), np.zeros(0), total=0,
                                           same_total=0, sampled=False, score="cosine")
    assert math.isnan(result.average_precision) and math.isnan(result.chance)
    assert result.pairs_total == 0 and result.recall == () and result.precision == ()


# ----------------------------------------------------------------------------- pair counts and pairs
def test_pair_counts_are_python_integers_equal_to_a_double_loop():
    labels = np.array([2, 0, 2, 1, 2, 0, 3, 2])
    total, same = sd.pair_counts(labels)
    assert type(total) is int and type(same) is int      # they go into JSON as counts, not 28.0
    pairs = list(itertools.combinations(labels.tolist(), 2))
    assert (total, same) == (len(pairs), sum(a == b for a, b in pairs))


def test_no_repeated_word_gives_two_empty_index_arrays():
    i, j = sd.same_word_pairs(np.arange(6))
    assert i.shape == j.shape == (0,) and i.dtype == j.dtype == np.int64


def test_all_different_words_with_sampling_scores_only_different_pairs():
    # No same-word pair: the sampled path must still index with integers and give NaN (no positive).
    n = 40
    labels = np.arange(n)
    unit = np.eye(n, dtype=np.float32)
    result = sd.same_different_cosine(unit, labels, sample_pairs=100, seed=0)
    assert result.sampled and result.same_pairs_total == 0 and result.different_pairs_scored == 100
    assert math.isnan(result.average_precision) and result.chance == 0.0


def test_same_pairs_exactly_half_the_budget_are_all_taken_once():
    # 4 tokens of word 0 (6 same-word pairs) among 20 tokens (190 pairs); budget 12: 6 is exactly
    # half, so every same-word pair is scored once, each with weight 1 (not a sample with repeats).
    labels = np.r_[np.zeros(4, int), np.arange(1, 17)]
    i, j, same, weights, sampled = sd.choose_pairs(labels, 12, seed=0)
    assert sampled and len(i) == 12
    assert sorted(zip(i[same].tolist(), j[same].tolist())) == all_same_word_pairs(labels)
    assert np.all(weights[same] == 1.0)
    assert np.all(weights[~same] == (190 - 6) / 6)


def test_a_single_same_word_pair_has_weight_one():
    labels = np.r_[0, 0, np.arange(1, 30)]
    i, j, same, weights, sampled = sd.choose_pairs(labels, 50, seed=1)
    total, same_total = sd.pair_counts(labels)
    assert sampled and same_total == 1 and same.sum() == 1
    assert (i[same][0], j[same][0]) == (0, 1) and weights[same][0] == 1.0
    assert weights[~same].sum() == pytest.approx(total - same_total)


def test_rare_different_pairs_are_drawn_uniformly():
    # 100 tokens of one word and one token of another: only 100 of the 5,050 pairs differ in word,
    # so the rejection sampler keeps ~2% of its draws and must keep drawing until it has them all.
    labels = np.r_[np.zeros(100, int), 1]
    i, j = sd.sample_pairs_uniform(labels, 5000, np.random.default_rng(0), same=False)
    assert len(i) == 5000 and np.all(labels[i] != labels[j]) and np.all(i < j) and np.all(j == 100)
    counts = np.bincount(i, minlength=100)
    # each of the 100 pairs expected 50 times: a chi-square with 99 degrees of freedom
    chi2 = float(np.sum((counts - 50.0) ** 2 / 50.0))
    assert chi2 < 160          # P(chi2_99 > 160) < 1e-4


# ----------------------------------------------------------------------------- cosines in bounded memory
def test_cosine_of_pairs_works_chunk_by_chunk():
    rng = np.random.default_rng(0)
    unit = rng.normal(size=(1000, 64)).astype(np.float32)
    i = rng.integers(0, 1000, size=200_000)
    j = rng.integers(0, 1000, size=200_000)
    tracemalloc.start()
    try:
        out = sd.cosine_of_pairs(unit, i, j, chunk=1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    truth = np.sum(unit[i].astype(np.float64) * unit[j], axis=1)
    np.testing.assert_allclose(out, truth, rtol=1e-5, atol=1e-4)
    # the output (0.8 MB) and two gathered chunks (2 x 1024 x 64 x 4 bytes); all the pairs'
    # rows at once would be 2 x 51 MB
    assert peak < 4_000_000, peak
