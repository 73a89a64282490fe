"""The homophone check's own decisions (homophones/check.py), each against a rule written out
here (issue 18): which pairs are found or missing and why, which control pairs are kept, which
pairs and ranks the verdict's evidence reads, and how random pairs are drawn.

Truth: pair lists and vocabularies built by hand (the expected coverage is written out), the
control construction as its docstring states it (a single random cycle, each pair taking the
next pair's partner, draws that are homophones of the query dropped) applied by brute force to
a given visiting order, rank summaries recomputed with numpy from the per-pair table, and
frequencies of random pairs against the uniform distribution over distinct words.
"""

from __future__ import annotations

import math
from itertools import permutations

import numpy as np
import pytest

from audit.core.vectors import Vectors
from homophones import check
from homophones.check import MAX_LISTED_MISSING, MissingPair, PairCoverage, _control_targets, _random_similarities
from homophones.pairs import HomophonePair, PairSet

FILLERS = [f"filler{i}" for i in range(30)]


def hand_vectors(words, special: dict[str, np.ndarray], seed=3, dim=6):
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((len(words), dim))
    for i, w in enumerate(words):
        if w in special:
            matrix[i] = special[w]
    return Vectors(words, matrix)


# ------------------------------------------------------------------------------ found and missing pairs
PAIRS = PairSet("hand", "built by hand", (
    HomophonePair("ate", "eight"),                            # found
    HomophonePair("grey", "gray", spelling_variant=True),     # found, a spelling variant
    HomophonePair("meat", "meet"),                            # meet absent
    HomophonePair("sea", "see"),                              # both absent
    HomophonePair("knight", "night"),                         # knight's vector is zero
    HomophonePair("pair", "pear"),                            # pair NaN, pear zero
    HomophonePair("hole", "whole"),                           # hole absent, whole zero: absence is named
    HomophonePair("rain", "reign"),                           # found
    HomophonePair("colour", "color", spelling_variant=True),  # color absent: a missing variant
), variant_source="by hand", excluded={"abbreviations": 2, "letters": 1})
VOCABULARY = ["ate", "eight", "grey", "gray", "meat", "knight", "night", "pair", "pear", "whole", "rain", "reign",
              "colour"] + FILLERS
ZERO, NAN = np.zeros(6), np.full(6, np.nan)


# per test, not per module: mutmut maps a function to the tests that call it, and a module
# fixture's call would be mapped to the first test using it alone
@pytest.fixture
def hand_result():
    vectors = hand_vectors(VOCABULARY, {"knight": ZERO, "pair": NAN, "pear": ZERO, "whole": ZERO})
    return check(vectors, PAIRS, k=2, bootstrap_resamples=1)


def test_coverage_names_every_missing_pair_and_why(hand_result):
    assert hand_result.pairs == PairCoverage(
        source="hand", description="built by hand", total=9, found=3, missing=6, spelling_variants_found=1,
        evidence_pairs=2, variant_source="by hand", excluded_from_source={"abbreviations": 2, "letters": 1},
        missing_pairs=[MissingPair("meat", "meet", "not in the vocabulary: meet"),
                       MissingPair("sea", "see", "not in the vocabulary: sea, see"),
                       MissingPair("knight", "night", "zero or non-finite vector: knight"),
                       MissingPair("pair", "pear", "zero or non-finite vector: pair, pear"),
                       MissingPair("hole", "whole", "not in the vocabulary: hole"),
                       MissingPair("colour", "color", "not in the vocabulary: color")])
    assert [(row.word1, row.word2) for row in hand_result.pair_table] == [("ate", "eight"), ("grey", "gray"),
                                                                          ("rain", "reign")]


def test_the_list_of_missing_pairs_stops_at_its_limit():
    absent = tuple(HomophonePair(f"gone{i}a", f"gone{i}b") for i in range(MAX_LISTED_MISSING + 1))
    pairs = PairSet("many", "many missing", (HomophonePair("ate", "eight"),) + absent)
    result = check(hand_vectors(["ate", "eight"] + FILLERS, {}), pairs, k=2, bootstrap_resamples=1)
    assert result.pairs.missing == MAX_LISTED_MISSING + 1 and result.pairs.found == 1
    assert result.pairs.missing_pairs == [MissingPair(p.word1, p.word2, f"not in the vocabulary: {p.word1}, {p.word2}")
                                          for p in absent[:MAX_LISTED_MISSING]]


# ------------------------------------------------------------------------------ the verdict's evidence
def summary(ranks, candidates, cutoff=10):
    ranks = np.asarray(ranks, dtype=float)
    return (len(ranks), float(np.median(ranks)), float(ranks.mean()), cutoff, float(np.mean(ranks <= cutoff)),
            float(np.median(ranks)) / candidates, candidates)


def test_the_evidence_reads_the_found_pairs_that_are_not_spelling_variants(hand_result):
    evidence = hand_result.evidence
    plain = [row for row in hand_result.pair_table if not row.spelling_variant]
    assert [(r.word1, r.word2) for r in plain] == [("ate", "eight"), ("rain", "reign")]
    assert evidence.pairs == 2
    usable = len(VOCABULARY) - 4      # knight, pair, pear and whole have no usable vector
    ranks = [r.rank_1_to_2 for r in plain] + [r.rank_2_to_1 for r in plain]
    h = evidence.homophone
    assert (h.n, h.median, h.mean, h.cutoff, h.share_within_cutoff, h.median_share_of_vocabulary,
            h.candidates) == pytest.approx(summary(ranks, usable - 1))
    every = [r.rank_1_to_2 for r in hand_result.pair_table] + [r.rank_2_to_1 for r in hand_result.pair_table]
    assert hand_result.homophone_rank.n == 6 and hand_result.homophone_rank.mean == pytest.approx(np.mean(every))
    # no word is shared between pairs, so every pair keeps a control pair: both directions of the
    # two plain pairs are evidence, the variant's are not
    assert evidence.control.n == 4 and hand_result.control_rank.n == 6
    assert evidence.control.candidates == usable - 1
    assert evidence.lift == evidence.homophone.share_within_cutoff - evidence.control.share_within_cutoff


def test_the_lift_is_the_share_minus_the_controls_share():
    # pairs with identical vectors: every homophone rank is 1 (share 1); the controls are other pairs' words
    words, special = [], {}
    rng = np.random.default_rng(11)
    pairs = []
    for i in range(12):
        base = rng.standard_normal(6)
        words += [f"w{i}a", f"w{i}b"]
        special[f"w{i}a"], special[f"w{i}b"] = base, base
        pairs.append(HomophonePair(f"w{i}a", f"w{i}b"))
    result = check(hand_vectors(words + [f"f{i}" for i in range(60)], special),
                   PairSet("same", "identical pairs", tuple(pairs)), k=2, bootstrap_resamples=1)
    evidence = result.evidence
    assert evidence.homophone.share_within_cutoff == 1.0 and evidence.control.share_within_cutoff < 1.0
    assert evidence.lift == pytest.approx(1.0 - evidence.control.share_within_cutoff)
    assert evidence.lift > 0


# ------------------------------------------------------------------------------ control pairs
class GivenOrder:
    """A stand-in random generator whose permutation is the order given (the visiting order)."""

    def __init__(self, order):
        self.order = np.asarray(order)

    def permutation(self, n):
        assert n == len(self.order)
        return self.order.copy()


def expected_controls(left, right, order):
    """The documented rule, by brute force: visiting the pairs in ``order``, each takes the next's
    partner (cyclically); pair i is then (left[i], right[j]) forward and (right[i], left[j])
    backward, j the pair it took from; it is dropped when either is one word twice or a listed
    homophone pair."""
    n = len(left)
    took_from = {order[k]: order[(k + 1) % n] for k in range(n)}
    listed = {frozenset((a, b)) for a, b in zip(left, right)}
    kept = []
    for i in range(n):
        j = took_from[i]
        forward, backward = (left[i], right[j]), (right[i], left[j])
        if forward[0] == forward[1] or backward[0] == backward[1]:
            continue
        if frozenset(forward) in listed or frozenset(backward) in listed:
            continue
        kept.append((i, right[j], left[j]))
    return kept


def controls(left, right, order):
    found = [HomophonePair(f"x{a}", f"x{b}") for a, b in zip(left, right)]
    control = _control_targets(found, np.asarray(left), np.asarray(right), GivenOrder(order))
    return list(zip(control.pair.tolist(), control.right.tolist(), control.left_of.tolist()))


# word rows shared between pairs, so that each way a draw can be related to its query occurs
SHARED = [
    # left, right: pair 0 = (0, 1), pair 1 = (1, 2) shares word 1, pair 2 = (3, 0) shares word 0, ...
    ([0, 1, 3, 4, 5], [1, 2, 0, 6, 4]),
    ([0, 2, 4, 6], [1, 3, 5, 0]),
    ([0, 0, 2, 3, 5], [1, 2, 3, 4, 1]),
]


@pytest.mark.parametrize("left, right", SHARED)
def test_control_pairs_follow_the_cycle_and_drop_related_draws(left, right):
    for order in permutations(range(len(left))):
        order = list(order)
        expected = expected_controls(left, right, order)
        assert controls(left, right, order) == expected, order


def test_each_way_of_being_related_alone_drops_the_draw():
    # order = identity: pair i takes pair i+1's partner
    cases = {
        "same forward": ([0, 2, 4], [1, 0, 5]),      # pair 0 (0, 1) takes 0 from pair 1 (2, 0)
        "same backward": ([0, 1, 4], [1, 5, 6]),     # pair 0 (0, 1) gives back pair 1's left word, 1
        "listed forward": ([0, 2, 0], [1, 3, 3]),    # pair 0 (0, 1) takes 3, and (0, 3) is pair 2
        "listed backward": ([0, 2, 1], [1, 3, 2]),   # pair 0's 1 takes pair 1's left 2, and (1, 2) is pair 2
    }
    for label, (left, right) in cases.items():
        order = list(range(len(left)))
        kept = controls(left, right, order)
        assert 0 not in [i for i, _, _ in kept], label
        assert kept == expected_controls(left, right, order), label


def test_control_pairs_are_one_cycle_through_every_pair():
    n = 40
    left, right = np.arange(n), np.arange(n, 2 * n)
    for seed in range(5):
        control = _control_targets([HomophonePair(f"a{i}", f"b{i}") for i in range(n)], left, right,
                                   np.random.default_rng(seed))
        assert control.pair.tolist() == list(range(n))
        took_from = dict(zip(control.pair.tolist(), (control.right - n).tolist()))
        assert (control.left_of == left[(control.right - n)]).all()
        seen, i = [], 0
        while i not in seen:
            seen.append(i)
            i = took_from[i]
        assert len(seen) == n, "the pairs do not form a single cycle"


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_pairs_have_no_control(n):
    control = _control_targets([HomophonePair("a", "b")] * n, np.arange(n), np.arange(n, 2 * n),
                               np.random.default_rng(0))
    assert len(control.pair) == len(control.right) == len(control.left_of) == 0
    assert control.pair.dtype == np.int64


def test_two_pairs_swap_partners():
    control = _control_targets([HomophonePair("a", "b"), HomophonePair("c", "d")], np.array([0, 2]),
                               np.array([1, 3]), np.random.default_rng(0))
    assert control.pair.tolist() == [0, 1] and control.right.tolist() == [3, 1] and control.left_of.tolist() == [2, 0]


# ------------------------------------------------------------------------------ random pairs
ANGLES = np.radians([0.0, 50.0, 110.0, 200.0])


def circle(words_angles, extra=None):
    words = [w for w, _ in words_angles]
    matrix = np.array([[math.cos(a), math.sin(a)] for _, a in words_angles])
    if extra:
        for word, row in extra.items():
            words.append(word)
            matrix = np.vstack([matrix, row])
    return Vectors(words, matrix)


def test_random_pairs_are_distinct_words_drawn_uniformly():
    vectors = circle([(f"w{i}", a) for i, a in enumerate(ANGLES)], extra={"zero": np.zeros(2)})
    count = 60000
    sims = _random_similarities(vectors, count, np.random.default_rng(4))
    assert len(sims) == count and np.isfinite(sims).all()     # the zero vector is never drawn
    # (the vectors are float32: cosines agree with the exact ones to ~1e-7, so 5 decimals tell them apart)
    expected = {}
    for i in range(4):
        for j in range(i + 1, 4):
            expected[round(math.cos(ANGLES[i] - ANGLES[j]), 5)] = 1 / 6
    assert len(expected) == 6                                  # six distinct pairs, six distinct cosines
    values, counts = np.unique(np.round(sims, 5), return_counts=True)
    assert set(values.tolist()) == set(expected)              # never a word with itself (cosine 1)
    sd = math.sqrt(count * (1 / 6) * (5 / 6))
    for value, seen in zip(values.tolist(), counts.tolist()):
        assert abs(seen - count / 6) < 5 * sd, (value, seen)


def test_two_usable_words_give_only_their_pair_and_one_gives_none():
    two = circle([("a", 0.0), ("b", math.pi / 3)], extra={"z": np.zeros(2)})
    sims = _random_similarities(two, 50, np.random.default_rng(1))
    np.testing.assert_allclose(sims, np.full(50, 0.5))
    one = circle([("a", 0.0)], extra={"z": np.zeros(2)})
    assert len(_random_similarities(one, 50, np.random.default_rng(1))) == 0


def test_when_every_draw_is_related_no_control_pair_is_kept():
    # (a, b) and (b, a): each pair's draw is its own query word, so both are dropped
    control = _control_targets([HomophonePair("a", "b"), HomophonePair("b", "a")], np.array([0, 1]),
                               np.array([1, 0]), np.random.default_rng(0))
    assert len(control.pair) == len(control.right) == len(control.left_of) == 0
    assert control.pair.dtype == np.int64      # an index array, even empty
