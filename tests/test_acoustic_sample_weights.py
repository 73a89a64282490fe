"""Sampled same-different AP: the weights, derived here from the pair counts alone (issue 18).

Fixtures where same-word pairs are a large share of all pairs (two words: about half), so a
wrong weight on either side moves the AP far. Truth without the code's own pair choice:

- the population counts by a plain double loop over token pairs;
- an embedding where every different-word pair has cosine exactly 0 (each word in its own
  orthogonal plane) while same-word pairs spread over [-1, 1]: whichever different-word pairs
  are drawn, they form one tie at 0, so the correctly weighted sampled AP equals the exhaustive
  AP (scikit-learn on every pair) to rounding.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from audit.checks import acoustic


def orthogonal_words(tokens_per_word, seed=0):
    """Unit rows: word w's tokens lie in the plane of axes 2w, 2w+1 at random angles."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(tokens_per_word)), tokens_per_word)
    angles = rng.uniform(0, 2 * np.pi, size=len(labels))
    unit = np.zeros((len(labels), 2 * len(tokens_per_word)))
    unit[np.arange(len(labels)), 2 * labels] = np.cos(angles)
    unit[np.arange(len(labels)), 2 * labels + 1] = np.sin(angles)
    order = rng.permutation(len(labels))          # tokens of a word are not contiguous
    return unit[order], labels[order]


def counted_pairs(labels):
    total = same = 0
    for a, b in itertools.combinations(labels.tolist(), 2):
        total += 1
        same += a == b
    return total, same


def exhaustive_ap(unit, labels):
    i, j = np.triu_indices(len(labels), 1)
    scores = np.einsum("ij,ij->i", unit[i], unit[j])
    return average_precision_score(labels[i] == labels[j], scores)


@pytest.mark.parametrize("tokens_per_word", [[30, 30, 30], [50, 30, 5], [60, 12, 12, 12]])
def test_sampled_ap_equals_the_exhaustive_ap_when_the_different_pairs_tie(tokens_per_word):
    unit, labels = orthogonal_words(tokens_per_word)
    total, same_total = counted_pairs(labels)
    assert same_total / total > 0.3                     # same-word pairs: a large share
    truth = exhaustive_ap(unit, labels)
    # every same-word pair fits in half the budget; the different-word pairs are a small sample
    budget = 2 * same_total + (total - 2 * same_total) // 2
    assert 2 * same_total < budget < total
    result = acoustic.same_different_cosine(unit.astype(np.float32), labels, sample_pairs=budget, seed=3)
    assert result.sampled
    assert (result.pairs_total, result.same_pairs_total) == (total, same_total)
    assert result.same_pairs_scored == same_total
    assert result.different_pairs_scored == budget - same_total
    assert result.chance == pytest.approx(same_total / total)
    assert result.average_precision == pytest.approx(truth, abs=1e-6)
    # the AP of the same pairs with the different ones unweighted (weight 1 each) is far off:
    # the fixture tells a wrong weight from the right one
    i, j = np.triu_indices(len(labels), 1)
    same = labels[i] == labels[j]
    scores = np.einsum("ij,ij->i", unit[i], unit[j])
    picked = np.r_[np.flatnonzero(same), np.flatnonzero(~same)[:budget - same_total]]
    assert abs(average_precision_score(same[picked], scores[picked]) - truth) > 1e-3


@pytest.mark.parametrize("budget_share", [0.5, 0.8])
def test_weights_are_population_over_sample_on_each_side(budget_share):
    unit, labels = orthogonal_words([40, 40], seed=1)
    total, same_total = counted_pairs(labels)            # 3160 pairs, 1560 same-word
    budget = int(budget_share * total)
    i, j, same, weights, sampled = acoustic.choose_pairs(labels, budget, 11)
    assert sampled and len(i) == len(j) == len(same) == len(weights) == budget
    assert np.all(i < j)
    assert np.array_equal(same, labels[i] == labels[j])   # each pair is on the side it is counted on
    n_same = int(same.sum())
    if same_total <= budget // 2:
        assert n_same == same_total
        assert len(set(zip(i[same].tolist(), j[same].tolist()))) == same_total    # every same-word pair once
    else:
        assert n_same == budget // 2                      # a sample of half the budget
    np.testing.assert_allclose(weights[same], same_total / n_same, rtol=1e-12)
    np.testing.assert_allclose(weights[~same], (total - same_total) / (budget - n_same), rtol=1e-12)
    assert weights[same].sum() == pytest.approx(same_total)
    assert weights[~same].sum() == pytest.approx(total - same_total)


def test_a_budget_holding_every_pair_scores_each_once_with_weight_one():
    unit, labels = orthogonal_words([6, 5, 3], seed=2)
    total, same_total = counted_pairs(labels)
    i, j, same, weights, sampled = acoustic.choose_pairs(labels, total, 0)
    assert not sampled and len(i) == total
    assert set(zip(i.tolist(), j.tolist())) == set(itertools.combinations(range(len(labels)), 2))
    assert int(same.sum()) == same_total and np.all(weights == 1)
    result = acoustic.same_different_cosine(unit.astype(np.float32), labels, sample_pairs=total)
    assert not result.sampled
    assert result.average_precision == pytest.approx(exhaustive_ap(unit, labels), abs=1e-6)


def test_sampled_same_side_is_uniform_over_same_word_pairs():
    """With the same-word pairs sampled, a word's share of the draws is its share of the same-word
    pairs (a 60-token word has 1770 of 1770 + 3 x 66 pairs): a weight-by-word error shows."""
    _, labels = orthogonal_words([60, 12, 12, 12], seed=4)
    total, same_total = counted_pairs(labels)
    i, j, same, weights, sampled = acoustic.choose_pairs(labels, 1200, 9)
    assert sampled and int(same.sum()) == 600
    big = np.mean(labels[i[same]] == 0)
    assert big == pytest.approx(1770 / same_total, abs=0.05)


def test_pair_counts_by_hand():
    assert acoustic.pair_counts(np.array([0, 0, 1, 2, 2, 2])) == (15, 1 + 3)
    assert acoustic.pair_counts(np.array([3])) == (0, 0)
    assert acoustic.pair_counts(np.array([0, 1, 2, 3])) == (6, 0)


def test_uniform_different_word_draws_are_valid_and_cover_every_pair():
    labels = np.array([0, 0, 1, 1, 2, 3, 3, 3])
    rng = np.random.default_rng(0)
    i, j = acoustic.sample_pairs_uniform(labels, 5000, rng, same=False)
    assert len(i) == len(j) == 5000 and np.all(i < j) and np.all(labels[i] != labels[j])
    population = {(a, b) for a, b in itertools.combinations(range(8), 2) if labels[a] != labels[b]}
    drawn = list(zip(i.tolist(), j.tolist()))
    assert set(drawn) == population                      # 5000 draws over 22 pairs: every one seen
    counts = np.array([drawn.count(p) for p in sorted(population)])
    assert counts.min() > 5000 / 22 * 0.6 and counts.max() < 5000 / 22 * 1.4   # uniform
    one = acoustic.sample_pairs_uniform(labels, 1, np.random.default_rng(1), same=False)
    assert len(one[0]) == 1


def test_uniform_same_word_draws_are_valid():
    labels = np.array([2, 0, 2, 1, 0, 2, 3])
    i, j = acoustic.sample_pairs_uniform(labels, 3000, np.random.default_rng(2), same=True)
    assert np.all(i < j) and np.all(labels[i] == labels[j])
    population = {(a, b) for a, b in itertools.combinations(range(7), 2) if labels[a] == labels[b]}
    drawn = list(zip(i.tolist(), j.tolist()))
    assert set(drawn) == population
    counts = np.array([drawn.count(p) for p in sorted(population)])
    assert counts.min() > 3000 / 4 * 0.8 and counts.max() < 3000 / 4 * 1.2


def test_cosine_of_pairs_in_chunks():
    unit, labels = orthogonal_words([5, 4], seed=6)
    i, j = np.triu_indices(len(labels), 1)
    whole = np.einsum("ij,ij->i", unit[i], unit[j])
    for chunk in (1, 3, 7, 1 << 18):
        np.testing.assert_allclose(acoustic.cosine_of_pairs(unit, i, j, chunk=chunk), whole, atol=1e-6)
    assert acoustic.cosine_of_pairs(unit, i, j).dtype == np.float32


def test_average_precision_by_hand():
    ap, recall, precision = acoustic.average_precision([0.9, 0.8, 0.7, 0.6], [True, False, True, False])
    assert ap == pytest.approx((1.0 + 2 / 3) / 2)
    np.testing.assert_allclose(recall, [0.5, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(precision, [1.0, 0.5, 2 / 3, 0.5])
    # a tie is one threshold: both pairs at 0.8 enter together
    ap, recall, precision = acoustic.average_precision([0.9, 0.8, 0.8], [False, True, False])
    assert ap == pytest.approx(1 / 3) and len(recall) == 2
    # weights count a pair that many times
    ap, _, _ = acoustic.average_precision([0.9, 0.8], [False, True], weights=[3.0, 1.0])
    assert ap == pytest.approx(1 / 4)
    ap, recall, precision = acoustic.average_precision([0.5, 0.4], [False, False])
    assert math.isnan(ap) and len(recall) == len(precision) == 0


def test_same_different_summary_fields():
    unit, labels = orthogonal_words([3, 2], seed=7)
    result = acoustic.same_different_cosine(unit.astype(np.float32), labels, sample_pairs=100)
    assert (result.pairs_total, result.same_pairs_total, result.same_pairs_scored,
            result.different_pairs_scored) == (10, 4, 4, 6)
    assert result.chance == pytest.approx(0.4) and result.score == "cosine" and not result.sampled
    assert len(result.recall) == len(result.precision) >= 2 and result.recall[-1] == 1.0
