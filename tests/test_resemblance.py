"""The three resemblance measures, the bands and the verdict, against independent truth."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes
from scipy.stats import rankdata, spearmanr

from audit.core.errors import AuditError
from audit.checks.provenance.resemblance import (DECISION_RULE, Contest, FamilyComparison, FamilySpread, PairScores,
                                                 ProvenanceResult, ReferenceInfo, ResemblanceParams, _judge_measure,
                                                 _spread, closest_reference, compare, contests, jaccard_rows, judge,
                                                 procrustes_fit, shared_vocabulary, spearman_of_ranks, verdict_of)
from audit.core.results import InputInfo, load_result
from audit.core.vectors import Vectors


def words(n: int) -> list[str]:
    return [f"w{i:05d}" for i in range(n)]


def random_vectors(n: int, dim: int, seed: int) -> Vectors:
    return Vectors(words(n), np.random.default_rng(seed).standard_normal((n, dim)))


def rotation(dim: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    return q


# ------------------------------------------------------------------------------ building blocks
def test_jaccard_rows_matches_python_sets():
    rng = np.random.default_rng(1)
    first = np.array([rng.choice(30, 6, replace=False) for _ in range(50)])
    second = np.array([rng.choice(30, 6, replace=False) for _ in range(50)])
    expected = [len(set(a) & set(b)) / len(set(a) | set(b)) for a, b in zip(first, second)]
    np.testing.assert_allclose(jaccard_rows(first, second), expected)


def test_spearman_of_ranks_matches_scipy_with_ties():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 20, 500).astype(float)   # many ties
    y = x + rng.normal(0, 5, 500)
    assert spearman_of_ranks(rankdata(x), rankdata(y)) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)


def test_procrustes_fit_matches_scipy_and_handles_unequal_dimensions():
    rng = np.random.default_rng(3)
    source, target = rng.standard_normal((200, 8)), rng.standard_normal((200, 8))
    np.testing.assert_allclose(procrustes_fit(source, target), orthogonal_procrustes(source, target)[0], atol=1e-10)
    wide = procrustes_fit(rng.standard_normal((200, 5)), rng.standard_normal((200, 9)))
    assert wide.shape == (5, 9)
    np.testing.assert_allclose(wide @ wide.T, np.eye(5), atol=1e-10)   # orthonormal rows: norms kept


def test_shared_vocabulary_is_sorted_and_skips_unusable_rows():
    a = Vectors(["c", "a", "b", "z"], np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=float))
    b = Vectors(["b", "z", "c", "y"], np.ones((4, 2)))
    assert shared_vocabulary([a, b]) == ["b", "c"]     # z is a zero row in a


# ------------------------------------------------------------------------------ the measures
def test_measures_match_a_brute_force_computation():
    n, k = 40, 4
    a, b = random_vectors(n, 6, 10), random_vectors(n, 6, 11)
    params = ResemblanceParams(k=k, knn_queries=None, rsa_words=n)
    scores = compare(a, b, params)

    def cosines(v):
        unit = v.matrix / np.linalg.norm(v.matrix, axis=1, keepdims=True)
        return unit @ unit.T

    ca, cb = cosines(a), cosines(b)
    jaccards = []
    for i in range(n):
        top_a = set(np.argsort(-np.where(np.arange(n) == i, -np.inf, ca[i]))[:k])
        top_b = set(np.argsort(-np.where(np.arange(n) == i, -np.inf, cb[i]))[:k])
        jaccards.append(len(top_a & top_b) / len(top_a | top_b))
    upper = np.triu_indices(n, 1)
    assert scores.knn_overlap == pytest.approx(np.mean(jaccards), abs=1e-12)
    assert scores.rsa_spearman == pytest.approx(spearmanr(ca[upper], cb[upper]).statistic, abs=1e-6)
    assert scores.shared_words == n


def test_a_rotated_copy_scores_one_and_an_unrelated_embedding_scores_near_zero():
    a = random_vectors(3000, 20, 20)
    rotated = Vectors(a.words, a.matrix @ rotation(20, 21))
    same = compare(a, rotated, ResemblanceParams(knn_queries=500, rsa_words=300))
    assert same.knn_overlap == pytest.approx(1.0)
    assert same.rsa_spearman == pytest.approx(1.0, abs=1e-6)
    assert same.procrustes_cosine == pytest.approx(1.0, abs=1e-5)
    other = compare(a, random_vectors(3000, 20, 22), ResemblanceParams(knn_queries=500, rsa_words=300))
    assert other.knn_overlap < 0.01          # chance: about k / n = 0.003
    assert abs(other.rsa_spearman) < 0.05
    assert abs(other.procrustes_cosine) < 0.1


def test_scores_do_not_depend_on_vocabulary_order_scale_or_extra_words():
    a, b = random_vectors(800, 10, 30), random_vectors(800, 10, 31)
    b = Vectors(b.words, a.matrix + 0.5 * b.matrix)         # related, not identical
    params = ResemblanceParams(knn_queries=200, rsa_words=150, seed=4)
    baseline = compare(a, b, params)
    order = np.random.default_rng(5).permutation(len(b))
    shuffled_scaled = Vectors([b.words[i] for i in order], b.matrix[order] * np.linspace(0.5, 3, len(b))[:, None])
    extra = Vectors(list(a.words) + ["only-in-a"], np.vstack([a.matrix, np.ones((1, 10))]))
    for first, second in ((a, shuffled_scaled), (extra, b)):
        again = compare(first, second, params)
        # float32 storage rounds rescaled rows differently; anything beyond that is a real change
        assert dataclasses.astuple(again)[2:] == pytest.approx(dataclasses.astuple(baseline)[2:], abs=1e-6)
    assert 0.05 < baseline.knn_overlap < 0.95


def test_the_seed_fixes_the_samples():
    a, b = random_vectors(1000, 8, 40), random_vectors(1000, 8, 41)
    b = Vectors(b.words, a.matrix + b.matrix)
    one = compare(a, b, ResemblanceParams(knn_queries=100, rsa_words=100, seed=1))
    assert compare(a, b, ResemblanceParams(knn_queries=100, rsa_words=100, seed=1)) == one
    assert compare(a, b, ResemblanceParams(knn_queries=100, rsa_words=100, seed=2)) != one


def test_too_few_shared_words_is_a_clear_error():
    a = random_vectors(50, 4, 50)
    upper = Vectors([w.upper() for w in a.words], a.matrix)
    with pytest.raises(AuditError, match="only 0 words are shared"):
        compare(a, upper)


def test_a_k_too_large_for_the_shared_words_names_k():
    """50 shared words and k = 49: the measures have their words, k does not; the error said the
    embeddings shared too few words and suggested a case mismatch."""
    from audit.core.errors import ParameterError
    a = random_vectors(50, 4, 50)
    with pytest.raises(ParameterError, match="k is 49; with 50 words shared by the embeddings it must be at most 48"):
        compare(a, random_vectors(50, 4, 51), ResemblanceParams(k=49))


# ------------------------------------------------------------------------------ bands and verdict
def test_decision_rule_on_hand_numbers():
    band = [PairScores("a", "b", 10, 0.5, 0.5, 0.5), PairScores("a", "c", 10, 0.6, 0.6, 0.6)]
    # lower edge = 0.5 - (0.6 - 0.5) - 0.1 * 0.5 = 0.35
    inside = _judge_measure("knn_overlap", band, [PairScores("x", "a", 10, 0.34, 0, 0),
                                                  PairScores("x", "b", 10, 0.38, 0, 0)], 0.1)
    assert (inside.audited, inside.lower_edge, inside.inside) == (pytest.approx(0.36), pytest.approx(0.35), True)
    outside = _judge_measure("knn_overlap", band, [PairScores("x", "a", 10, 0.34, 0, 0),
                                                   PairScores("x", "b", 10, 0.35, 0, 0)], 0.1)
    assert not outside.inside


def family_of(base: np.ndarray, name: str, seeds, noise: float):
    members = []
    for seed in seeds:
        matrix = base + noise * np.random.default_rng(seed).standard_normal(base.shape)
        vectors = Vectors(words(len(base)), matrix @ rotation(base.shape[1], seed + 1000))
        members.append((ReferenceInfo(f"{name}-{seed}", name, InputInfo.of(vectors), seed), vectors))
    return members


@pytest.fixture(scope="module")
def two_families():
    rng = np.random.default_rng(60)
    text_base, speech_base = rng.standard_normal((1500, 16)), rng.standard_normal((1500, 16))
    return text_base, speech_base, {"text": family_of(text_base, "text", [1, 2, 3], 0.6),
                                    "speech": family_of(speech_base, "speech", [4, 5, 6], 0.6)}


PARAMS = ResemblanceParams(knn_queries=400, rsa_words=300)


def test_a_new_seed_of_a_family_is_judged_into_that_family(two_families):
    text_base, speech_base, families = two_families
    text_like = family_of(text_base, "text", [99], 0.6)[0][1]
    result = judge(text_like, families, params=PARAMS)
    assert result.verdict == "text-like"
    assert result.family("text").inside and not result.family("speech").inside
    speech_like = family_of(speech_base, "speech", [98], 0.6)[0][1]
    assert judge(speech_like, families, params=PARAMS).verdict == "speech-like"
    unrelated = random_vectors(1500, 16, 97)
    result = judge(unrelated, families, params=PARAMS)
    assert result.verdict == "neither"
    assert result.reason.startswith("neither: the text family beats its rivals on ")
    assert not all(c.beats for c in result.contests if c.family == "text")
    # no family won: the nearest reference is not named (its scores may all sit at chance), but it
    # is kept in the result with its numbers
    assert "closest" not in result.reason and result.closest is not None
    assert "closest reference: " in judge(text_like, families, params=PARAMS).reason


def test_the_band_is_the_range_over_member_pairs(two_families):
    _, _, families = two_families
    result = judge(random_vectors(1500, 16, 96), {"text": families["text"]}, params=PARAMS)
    text = result.family("text")
    assert [(p.first, p.second) for p in text.band_pairs] == [("text-1", "text-2"), ("text-1", "text-3"),
                                                              ("text-2", "text-3")]
    knn = text.measure("knn_overlap")
    assert knn.band_low == min(p.knn_overlap for p in text.band_pairs)
    assert knn.band_high == max(p.knn_overlap for p in text.band_pairs)
    assert knn.audited == pytest.approx(np.mean([p.knn_overlap for p in text.audited_pairs]))


def test_result_round_trips_json_and_records_the_rule(two_families):
    text_base, _, families = two_families
    result = judge(family_of(text_base, "text", [99], 0.6)[0][1], families, params=PARAMS,
                   text_model={"dim": 16, "seeds": [1, 2, 3]})
    again = load_result(result.to_dict())
    assert isinstance(again, ProvenanceResult) and again == result
    assert result.to_dict()["kind"] == "provenance" and result.decision_rule == DECISION_RULE
    assert result.parameters == PARAMS


def test_a_family_of_one_or_two_has_no_spread():
    """Two members have one pair score: each one's best match is that score, so their spread is 0,
    the contest margin 0, and any gap, noise included, would count (Gaussian vectors were judged
    text-like against two-member families)."""
    for seeds in ([1], [1, 2]):
        members = family_of(np.ones((50, 4)), "text", seeds, 1.0)
        with pytest.raises(AuditError, match="at least 3 reference embeddings"):
            judge(random_vectors(50, 4, 0), {"text": members})


# ------------------------------------------------------------------------------ the contest between families
def hand_family(name: str, scores: dict[str, list[float]]) -> FamilyComparison:
    """A family whose audited scores per measure are given; bands are not read by the contest."""
    n = len(next(iter(scores.values())))
    pairs = [PairScores("audited", f"{name}-{i}", 100, scores["knn_overlap"][i], scores["rsa_spearman"][i],
                        scores["procrustes_cosine"][i]) for i in range(n)]
    refs = [ReferenceInfo(f"{name}-{i}", name, InputInfo("", "", "memory", 100, 4), i, recipe=f"recipe {i}")
            for i in range(n)]
    spreads = [_spread(m, pairs, []) for m in ("knn_overlap", "rsa_spearman", "procrustes_cosine")]
    return FamilyComparison(family=name, references=refs, shared_words=100, band_pairs=[], audited_pairs=pairs,
                            measures=[], inside=False, worst_margin=0.0, spreads=spreads)


def same(values: list[float]) -> dict[str, list[float]]:
    return {m: list(values) for m in ("knn_overlap", "rsa_spearman", "procrustes_cosine")}


def test_spread_is_the_best_match_and_the_spread_of_members_best_matches():
    audited = [PairScores("audited", f"m{i}", 10, 0, v, 0) for i, v in enumerate([0.2, 0.4, 0.9])]
    # members' own pairs: m0-m1 0.5, m0-m2 0.1, m1-m2 0.3 -> best matches m0 0.5, m1 0.5, m2 0.3
    band = [PairScores("m0", "m1", 10, 0, 0.5, 0), PairScores("m0", "m2", 10, 0, 0.1, 0),
            PairScores("m1", "m2", 10, 0, 0.3, 0)]
    spread = _spread("rsa_spearman", audited, band)
    assert spread == FamilySpread("rsa_spearman", pytest.approx(0.5), pytest.approx(np.std([0.2, 0.4, 0.9], ddof=1)),
                                  3, best=0.9, best_member="m2",
                                  spread=pytest.approx(np.std([0.5, 0.5, 0.3], ddof=1)))
    assert _spread("rsa_spearman", audited[:2], band[:1]).spread == 0.0      # two members: one best match


def with_spreads(family: FamilyComparison, best: float, spread: float) -> FamilyComparison:
    return dataclasses.replace(family, spreads=[FamilySpread(m, best, 0.0, 2, best=best, spread=spread)
                                                for m in ("knn_overlap", "rsa_spearman", "procrustes_cosine")])


def test_a_family_beats_a_rival_only_when_the_gap_exceeds_the_sum_of_spreads():
    # from member scores: text best 0.6, rival best 0.1, no band pairs: margin 0
    rival = hand_family("random", same([0.1, 0.05]))
    [contest] = [c for c in contests([hand_family("text", same([0.4, 0.6])), rival]) if c.measure == "knn_overlap"]
    assert contest == Contest("text", "random", "knn_overlap", pytest.approx(0.5), 0.0, True)
    # exactly at the border (binary-exact numbers): gap 0.5 == margin sqrt(0.5^2/2 + 0.5^2/2) = 0.5 does not beat
    text = with_spreads(hand_family("text", same([0.5, 0.5])), 0.5, 0.5)
    at = with_spreads(rival, 0.0, 0.5)
    assert [(c.gap, c.margin, c.beats) for c in contests([text, at])] == [(0.5, 0.5, False)] * 3
    # the rival a little lower (gap 0.5 + 2**-20) or a little tighter (margin below 0.5): beats
    assert all(c.beats for c in contests([text, with_spreads(rival, -2.0 ** -20, 0.5)]))
    assert all(c.beats for c in contests([text, with_spreads(rival, 0.0, 0.5 - 2.0 ** -20)]))
    # Welch's standard error, not the spreads in quadrature (0.707) nor the larger spread alone (0.5)
    assert all(c.beats for c in contests([text, with_spreads(rival, -0.1, 0.5)]))            # 0.6 > 0.5
    assert not any(c.beats for c in contests([text, with_spreads(rival, 0.0625, 0.5)]))      # 0.4375 < 0.5
    # more members, smaller standard error: the same gap beats
    many = dataclasses.replace(text, spreads=[dataclasses.replace(x, members=8) for x in text.spreads])
    assert [c.margin for c in contests([many, at])] == [pytest.approx(np.sqrt(0.25 / 8 + 0.25 / 2))] * 3
    assert all(c.beats for c in contests([many, at]))
    assert verdict_of([text, at]) == "neither" and verdict_of([text, with_spreads(rival, -0.1, 0.5)]) == "text-like"


def test_verdict_needs_every_rival_beaten_on_two_of_three_measures():
    text = hand_family("text", same([0.5, 0.6, 0.55]))
    shuffled = hand_family("shuffled-text", same([0.1, 0.12, 0.11]))
    random = hand_family("random", same([0.0, 0.01, 0.005]))
    assert verdict_of([text, shuffled, random]) == "text-like"
    # one measure where the shuffled corpus does as well: still text-like (2 of 3); two: not
    close = hand_family("shuffled-text", {**same([0.1, 0.12, 0.11]), "rsa_spearman": [0.5, 0.55, 0.6]})
    assert verdict_of([text, close, random]) == "text-like"
    closer = hand_family("shuffled-text", {**same([0.5, 0.6, 0.55]), "knn_overlap": [0.1, 0.12, 0.11]})
    assert verdict_of([text, closer, random]) == "neither"
    # beating one rival on all three does not make up for another rival beaten on one only
    assert verdict_of([text, closer, hand_family("random", same([-1.0, -1.0]))]) == "neither"
    speech = hand_family("speech", same([0.8, 0.85]))
    assert verdict_of([text, shuffled, random, speech]) == "speech-like"
    # only non-text families: nothing to name
    assert verdict_of([shuffled, random]) == "neither"
    # contests are only from the verdict families' side
    assert {c.family for c in contests([text, shuffled, random, speech])} == {"text", "speech"}


def test_closest_reference_is_the_best_mean_rank():
    text = hand_family("text", {"knn_overlap": [0.3, 0.2, 0.1], "rsa_spearman": [0.5, 0.7, 0.1],
                                "procrustes_cosine": [0.6, 0.5, 0.4]})
    other = hand_family("random", same([0.0, 0.0]))
    # ranks among the five: text-0 (1, 2, 1) -> 4/3; text-1 (2, 1, 2) -> 5/3
    best = closest_reference([text, other])
    assert (best.name, best.family, best.recipe) == ("text-0", "text", "recipe 0")
    assert best.mean_rank == pytest.approx(4 / 3)
    assert closest_reference([other], ["text"]) is None


def test_result_round_trips_with_contests_and_closest(two_families):
    text_base, _, families = two_families
    result = judge(family_of(text_base, "text", [99], 0.6)[0][1], families, params=PARAMS,
                   recipes=[{"window": 5}])
    assert result.contests and result.closest is not None and result.closest_text.family == "text"
    assert result.result_version == 2
    assert load_result(json.loads(result.to_json())) == result
