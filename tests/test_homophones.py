"""The homophone check: verdicts on known cases, the paper's arithmetic, agreement with scipy,
invariance to vocabulary order, the neighbour scan against the core helpers, JSON round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import mannwhitneyu

from audit.core.errors import AuditError
from audit.core.results import load_result
from audit.core.vectors import Vectors
from homophones import check, load_pairs
from homophones.neighbours import TIE_TOLERANCE, scan
from homophones.pairs import HomophonePair, PairSet
from homophones.stats import compare, rank_stats, similarity_stats
from homophones.verdict import (INCONCLUSIVE, NON_PHONETIC, PARTLY_PHONETIC, PHONETIC, VerdictEvidence, VerdictRule,
                                decide)


@pytest.fixture(scope="module")
def paper_pairs() -> PairSet:
    return load_pairs("paper-307")


def paper_words(pairs: PairSet) -> list[str]:
    return sorted({w for p in pairs.pairs for w in (p.word1, p.word2)})


def vectors_with(pairs: PairSet, rng, dim=40, fillers=400, spread=0.0, offset=0.0) -> Vectors:
    """Each pair's two words share one random direction (plus ``spread`` noise); ``offset``
    adds a common vector so that every pair is similar (an ill-spread space)."""
    common = rng.standard_normal(dim)
    rows, words = [], []
    for pair in pairs.pairs:
        base = rng.standard_normal(dim)
        for word in (pair.word1, pair.word2):
            words.append(word)
            rows.append(base + spread * rng.standard_normal(dim) + offset * common)
    for i in range(fillers):
        words.append(f"filler{i}")
        rows.append(rng.standard_normal(dim) + offset * common)
    return Vectors(words, np.array(rows))


# ----------------------------------------------------------------------------- verdicts
def test_identical_homophones_are_phonetic_with_rank_one(paper_pairs):
    result = check(vectors_with(paper_pairs, np.random.default_rng(0)), paper_pairs)
    assert result.verdict == PHONETIC
    assert result.pairs.found == 307 and result.pairs.missing == 0
    assert result.homophone_rank.median == 1 and result.homophone_rank.mean == 1
    assert all(r.rank_1_to_2 == 1 and r.rank_2_to_1 == 1 for r in result.pair_table)
    assert all(r.neighbours1[0] == r.word2 and r.neighbours2[0] == r.word1 for r in result.pair_table)
    assert result.homophone_similarity.mean == pytest.approx(1.0)
    ate = next(e for e in result.knn_examples if e.word == "ate")
    assert ate.neighbours[0] == "eight" and ate.paper_reproduced_rank == 1 and ate.paper_official_rank == 25099
    assert load_result(json.loads(result.to_json())).to_dict() == result.to_dict()  # paper columns, NaN included


def test_ill_spread_speech_like_space_is_phonetic(paper_pairs):
    """Like the paper's reproduction: every pair similar (random ~0.77), homophones nearly identical."""
    result = check(vectors_with(paper_pairs, np.random.default_rng(1), spread=0.15, offset=1.8), paper_pairs)
    assert 0.7 < result.random_similarity.mean < 0.85
    assert result.homophone_similarity.mean > 0.95
    assert result.verdict == PHONETIC


def test_close_but_not_nearest_homophones_are_not_phonetic():
    """Homophones more similar than random pairs (means say 'speech') but each word has a
    cluster of closer words, as related words in a text model: ranks say non-phonetic."""
    rng = np.random.default_rng(2)
    words, rows, pairs = [], [], []
    for i in range(60):
        first, second = rng.standard_normal(30), rng.standard_normal(30)
        partner = 0.55 * first + 0.45 * second
        for name, centre in ((f"a{i}", first), (f"b{i}", partner)):
            words.append(name)
            rows.append(centre)
            for j in range(15):  # close relatives of each word
                words.append(f"{name}_rel{j}")
                rows.append(centre + 0.3 * rng.standard_normal(30))
        pairs.append(HomophonePair(f"a{i}", f"b{i}"))
    result = check(Vectors(words, np.array(rows)), PairSet("test", "test", tuple(pairs)))
    assert result.homophone_similarity.mean > result.random_similarity.mean + 0.3
    assert result.test_vs_random.p_value < 1e-6
    assert result.verdict == NON_PHONETIC


@pytest.fixture(scope="module")
def text_model() -> Vectors:
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence
    from gensim.test.utils import datapath

    model = Word2Vec(LineSentence(datapath("head500.noblanks.cor")), vector_size=50, window=5, min_count=5,
                     epochs=3, workers=1, seed=1)
    return Vectors(model.wv.index_to_key, model.wv.vectors)


def test_gensim_text_model_is_non_phonetic(text_model, paper_pairs):
    result = check(text_model, paper_pairs)
    assert result.pairs.found >= 30
    assert result.verdict == NON_PHONETIC
    # A short training run leaves the space crowded: homophones even look *more* similar than
    # random pairs, which a mean-based rule would take for speech.
    assert result.homophone_similarity.mean > result.random_similarity.mean


def test_gensim_text_model_is_non_phonetic_on_cmudict_pairs(text_model):
    result = check(text_model, load_pairs("cmudict"))
    assert result.pairs.found >= 100
    assert result.verdict == NON_PHONETIC


def rule_verdict(pairs: int, share: float, lift: float, rule: VerdictRule = VerdictRule()) -> str:
    """The verdict for hand-set evidence (share and lift given exactly, control share = share - lift)."""
    from homophones.stats import RankStats

    ranks = {"n": 2 * pairs, "median": 5.0, "mean": 5.0, "cutoff": 10, "median_share_of_vocabulary": 0.1,
             "candidates": 100}
    evidence = VerdictEvidence(pairs, RankStats(share_within_cutoff=share, **ranks),
                               RankStats(share_within_cutoff=share - lift, **ranks), lift)
    return decide(evidence, rule)[0]


def below(value: float) -> float:
    """The largest float below ``value``: one side of a border, ``value`` itself the other."""
    return float(np.nextafter(value, -np.inf))


def test_verdict_rule_thresholds_are_the_documented_ones():
    rule = VerdictRule()
    assert (rule.min_pairs, rule.phonetic_min_share, rule.phonetic_min_lift, rule.non_phonetic_max_share,
            rule.non_phonetic_max_lift, rule.partly_phonetic_min_lift) == (10, 0.5, 0.3, 0.2, 0.1, 0.2)
    for words in ("share >= 0.5 and lift >= 0.3: phonetic", "share < 0.2, or share < 0.5 and lift < 0.1",
                  "share < 0.5 and lift >= 0.2: partly-phonetic"):
        assert words in rule.text


@pytest.mark.parametrize("pairs, share, lift, expected", [
    # min_pairs = 10: evidence enough or not (inconclusive = too little evidence)
    (9, 1.0, 1.0, INCONCLUSIVE), (10, 1.0, 1.0, PHONETIC),
    # phonetic share 0.5 (lift 0.35): at the border phonetic, just below it only partly
    (50, 0.5, 0.35, PHONETIC), (50, below(0.5), 0.35, PARTLY_PHONETIC),
    # phonetic lift 0.3 (share 0.6): at the border phonetic; below it chance explains the share
    (50, 0.6, 0.3, PHONETIC), (50, 0.6, below(0.3), INCONCLUSIVE),
    # non-phonetic share 0.2 (no control hits, lift = share): at 0.2 partly, below it non-phonetic
    (50, 0.2, 0.2, PARTLY_PHONETIC), (50, below(0.2), below(0.2), NON_PHONETIC),
    # non-phonetic lift 0.1 (share 0.3): below it non-phonetic, at it not (between the patterns)
    (50, 0.3, below(0.1), NON_PHONETIC), (50, 0.3, 0.1, INCONCLUSIVE),
    # ... and that lift rule needs share < 0.5: at 0.5 a small lift is inconclusive, not non-phonetic
    (50, 0.5, 0.05, INCONCLUSIVE), (50, below(0.5), 0.05, NON_PHONETIC),
    # partly-phonetic lift 0.2 (share 0.3): at the border partly, just below it inconclusive
    (50, 0.3, 0.2, PARTLY_PHONETIC), (50, 0.3, below(0.2), INCONCLUSIVE),
    # partly-phonetic needs share < 0.5: at 0.5 with a lift short of 0.3 it is inconclusive
    (50, 0.5, 0.25, INCONCLUSIVE), (50, below(0.5), 0.25, PARTLY_PHONETIC),
    # the GloVe with 40% of the paper's pairs merged: share 40.7%, control 0.6%
    (300, 0.407, 0.401, PARTLY_PHONETIC),
])
def test_verdict_rule_borders(pairs, share, lift, expected):
    assert rule_verdict(pairs, share, lift) == expected


def test_each_threshold_is_read_from_the_rule():
    """Moving one threshold moves only its border: the rule reads the fields, not constants."""
    import dataclasses

    rule = VerdictRule()
    assert rule_verdict(50, 0.3, 0.15, dataclasses.replace(rule, partly_phonetic_min_lift=0.15)) == PARTLY_PHONETIC
    assert rule_verdict(50, 0.3, 0.15, rule) == INCONCLUSIVE
    assert rule_verdict(50, 0.45, 0.35, dataclasses.replace(rule, phonetic_min_share=0.45)) == PHONETIC
    assert rule_verdict(50, 0.25, 0.2, dataclasses.replace(rule, non_phonetic_max_share=0.3)) == NON_PHONETIC
    assert rule_verdict(50, 0.3, 0.15, dataclasses.replace(rule, non_phonetic_max_lift=0.2)) == NON_PHONETIC
    assert rule_verdict(50, 0.6, 0.25, dataclasses.replace(rule, phonetic_min_lift=0.25)) == PHONETIC
    assert rule_verdict(10, 0.6, 0.5, dataclasses.replace(rule, min_pairs=11)) == INCONCLUSIVE


def test_partly_phonetic_reason_names_the_lift_and_the_shortfall():
    from homophones.stats import RankStats

    ranks = {"n": 100, "median": 40.0, "mean": 90.0, "cutoff": 10, "median_share_of_vocabulary": 0.01,
             "candidates": 4000}
    evidence = VerdictEvidence(50, RankStats(share_within_cutoff=0.4, **ranks),
                               RankStats(share_within_cutoff=0.01, **ranks), 0.39)
    verdict, reason = decide(evidence, VerdictRule())
    assert verdict == PARTLY_PHONETIC
    assert "lift 39.0 points" in reason and "fewer than the 50.0%" in reason and "40.0% of homophone ranks" in reason


def test_a_space_with_some_homophones_merged_is_partly_phonetic(paper_pairs):
    """40% of the paper's pairs share a direction (as if merged), the rest are unrelated words:
    far above the control, below the phonetic share."""
    rng = np.random.default_rng(7)
    dim, rows, words = 40, [], []
    merged = set(rng.choice(len(paper_pairs.pairs), size=int(0.4 * len(paper_pairs.pairs)), replace=False))
    seen = {}
    for index, pair in enumerate(paper_pairs.pairs):
        base = rng.standard_normal(dim)
        for word in (pair.word1, pair.word2):
            if word in seen:
                continue
            seen[word] = True
            words.append(word)
            rows.append(base + 0.05 * rng.standard_normal(dim) if index in merged else rng.standard_normal(dim))
    words += [f"filler{i}" for i in range(2000)]
    rows += list(rng.standard_normal((2000, dim)))
    result = check(Vectors(words, np.array(rows)), paper_pairs)
    share, control = result.evidence.homophone.share_within_cutoff, result.evidence.control.share_within_cutoff
    assert 0.2 <= share < 0.5 and share - control >= 0.2
    assert result.verdict == PARTLY_PHONETIC


def test_few_pairs_found_is_inconclusive(paper_pairs):
    rng = np.random.default_rng(3)
    words = ["ate", "eight", "meat", "meet"] + [f"w{i}" for i in range(50)]
    result = check(Vectors(words, rng.standard_normal((len(words), 10))), paper_pairs)
    assert result.pairs.found == 2 and result.pairs.missing == 305
    assert result.verdict == INCONCLUSIVE and "only 2" in result.verdict_reason


# ----------------------------------------------------------------------------- the paper's arithmetic
def vectors_with_cosines(pairs: list[HomophonePair], cosines: list[float]) -> Vectors:
    """Each pair in its own two dimensions, at exactly the given cosine."""
    dim = 2 * len(pairs)
    matrix = np.zeros((dim, dim))
    words = []
    for i, (pair, cosine) in enumerate(zip(pairs, cosines)):
        matrix[2 * i, 2 * i] = 1.0
        matrix[2 * i + 1, 2 * i] = cosine
        matrix[2 * i + 1, 2 * i + 1] = math.sqrt(1 - cosine ** 2)
        words += [pair.word1, pair.word2]
    return Vectors(words, matrix)


def test_paper_columns_give_the_papers_means(paper_pairs):
    official = vectors_with_cosines(list(paper_pairs.pairs), [p.paper.official_50d for p in paper_pairs.pairs])
    result = check(official, paper_pairs, bootstrap_resamples=10)
    assert result.pairs.found == 307
    # Table 1, official 50-d: 0.33 +- 0.15.
    assert round(result.homophone_similarity.mean, 2) == 0.33 and round(result.homophone_similarity.std, 2) == 0.15
    reproduced = [p for p in paper_pairs.pairs if not math.isnan(p.paper.reproduced_50d)]
    result = check(vectors_with_cosines(reproduced, [p.paper.reproduced_50d for p in reproduced]), paper_pairs,
                   bootstrap_resamples=10)
    # Appendix C: 33 pairs missing from the reproduction; Table 1: 0.95 +- 0.05.
    assert result.pairs.found == 274 and result.pairs.missing == 33
    assert round(result.homophone_similarity.mean, 2) == 0.95 and round(result.homophone_similarity.std, 2) == 0.05
    # Table 2's MEAN row is over those 274 pairs: raw 0.99, official 0.32, reproduction 0.95.
    assert round(similarity_stats([p.paper.official_50d for p in reproduced]).mean, 2) == 0.32
    assert round(similarity_stats([p.paper.raw_wav2vec for p in reproduced]).mean, 2) == 0.99


def test_rank_summary_of_the_papers_table3():
    official = [25099, 15253, 2305, 35582, 33108, 33609, 18610, 29506, 28617, 34575]
    reproduced = [1, 9, 3, 15, 1, 7, 100, 2, 1, 4]
    assert round(rank_stats(official, 37621).mean) == 25626
    stats = rank_stats(reproduced, 30787)
    assert round(stats.mean) == 14 and stats.median == 3.5 and stats.share_within_cutoff == 0.8


# ----------------------------------------------------------------------------- independent truth
@pytest.fixture(scope="module")
def small_random():
    rng = np.random.default_rng(4)
    pairs = PairSet("test", "test", tuple(HomophonePair(f"p{i}", f"q{i}") for i in range(40)))
    words = [w for p in pairs.pairs for w in (p.word1, p.word2)] + [f"w{i}" for i in range(600)]
    return Vectors(words, rng.standard_normal((len(words), 16))), pairs


def test_cosines_ranks_and_neighbours_agree_with_scipy(small_random):
    vectors, pairs = small_random
    result = check(vectors, pairs, k=4)
    matrix = vectors.matrix.astype(np.float64)
    similarity = 1 - cdist(matrix, matrix, metric="cosine")
    np.fill_diagonal(similarity, -np.inf)
    index = vectors.key_to_index
    for row in result.pair_table:
        i, j = index[row.word1], index[row.word2]
        assert row.similarity == pytest.approx(similarity[i, j], abs=1e-12)
        assert row.rank_1_to_2 == 1 + np.sum(similarity[i] > similarity[i, j])
        assert row.rank_2_to_1 == 1 + np.sum(similarity[j] > similarity[j, i])
        assert row.neighbours1 == [vectors.words[n] for n in np.argsort(-similarity[i], kind="stable")[:4]]


def test_mann_whitney_and_effect_size_agree_with_scipy():
    rng = np.random.default_rng(5)
    first, second = np.round(rng.normal(0.4, 0.2, 80), 2), np.round(rng.normal(0.3, 0.2, 60), 2)
    test = compare(first, second, "random", rng)
    expected = mannwhitneyu(first, second, alternative="greater", method="asymptotic")
    assert test.statistic == expected.statistic
    assert test.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert test.effect_size == pytest.approx(2 * expected.statistic / (80 * 60) - 1)
    assert test.ci_low < test.effect_size < test.ci_high


@pytest.mark.parametrize("words, block_bytes", [(3000, 4 * 5 * 1100),   # several short chunks
                                                (12000, 64 * 2 ** 20),     # full-width chunks
                                                (3001, 4 * 5 * 1100)])     # a last chunk padded to 8
def test_scan_matches_the_core_helpers(words, block_bytes):
    rng = np.random.default_rng(6)
    matrix = rng.standard_normal((words, 12))
    matrix[[5, 17]] = 0  # invalid rows never count and never appear
    vectors = Vectors([f"w{i}" for i in range(words)], matrix)
    queries = np.array([0, 3, words - 1, 1500, 7])
    targets = np.array([[1, 5], [4, -1], [0, 10], [1501, 2], [7, 8]])
    result = scan(vectors, queries, targets, k=5, block_bytes=block_bytes)
    indices, sims = vectors.nearest(queries, 5)
    assert np.array_equal(result.neighbours, indices)
    assert np.allclose(result.similarities, sims)
    for slot in range(2):
        usable = (targets[:, slot] >= 0) & (targets[:, slot] != queries)
        expected = vectors.ranks(queries[usable], targets[usable, slot])
        # Words within TIE_TOLERANCE of the target's cosine count as ties (in its favour), so
        # our rank may be lower than the core's by exactly the number of such words.
        cosine = vectors.unit.astype(np.float64) @ vectors.unit[queries[usable]].T.astype(np.float64)
        target_cosine = cosine[targets[usable, slot], np.arange(usable.sum())]
        near = np.abs(cosine - target_cosine) <= TIE_TOLERANCE
        near[queries[usable], np.arange(usable.sum())] = False
        near_ties = near.sum(axis=0) - 1  # minus the target itself
        ours = result.ranks[usable, slot]
        assert np.array_equal(np.isnan(ours), np.isnan(expected))  # invalid target: no rank
        ours, expected, near_ties = (a[~np.isnan(expected)] for a in (ours, expected, near_ties))
        assert np.all(ours <= expected) and np.all(expected - ours <= near_ties)
        assert np.all(np.isnan(result.ranks[~usable, slot]))


def test_shuffled_vocabulary_gives_the_same_result(small_random):
    vectors, pairs = small_random
    order = np.random.default_rng(7).permutation(len(vectors))
    shuffled = Vectors([vectors.words[i] for i in order], vectors.matrix[order])
    first, second = check(vectors, pairs, seed=3).to_dict(), check(shuffled, pairs, seed=3).to_dict()
    for volatile in ("date", "tool_version"):
        first.pop(volatile), second.pop(volatile)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_seed_is_recorded_and_controls_the_draws(small_random):
    vectors, pairs = small_random
    one, again, other = (check(vectors, pairs, seed=s, bootstrap_resamples=50) for s in (1, 1, 2))
    assert one.seed == 1 and one.random_similarity == again.random_similarity
    assert one.random_similarity != other.random_similarity


# ----------------------------------------------------------------------------- result and input handling
def test_json_round_trip_and_required_fields(small_random):
    vectors, pairs = small_random
    result = check(vectors, pairs, bootstrap_resamples=50)
    data = json.loads(result.to_json())
    assert data["kind"] == "homophones" and data["verdict"] in (PHONETIC, NON_PHONETIC, INCONCLUSIVE)
    assert data["pairs"]["source"] == "test" and data["pairs"]["found"] == 40 and data["pairs"]["missing"] == 0
    for block in ("homophone_similarity", "random_similarity"):
        assert set(data[block]) >= {"mean", "std", "n"}
    assert set(data["homophone_rank"]) >= {"median", "mean"}
    assert load_result(data).to_dict() == result.to_dict()


def test_zero_vectors_and_absent_words_are_missing_with_a_reason(paper_pairs):
    rng = np.random.default_rng(8)
    words = ["ate", "eight", "meat", "meet", "sea"] + [f"w{i}" for i in range(30)]
    matrix = rng.standard_normal((len(words), 8))
    matrix[2] = 0
    result = check(Vectors(words, matrix), paper_pairs)
    reasons = {(m.word1, m.word2): m.reason for m in result.pairs.missing_pairs}
    assert "zero or non-finite" in reasons[("meat", "meet")]
    assert reasons[("sea", "see")] == "not in the vocabulary: see"
    assert result.pairs.found == 1


@pytest.mark.parametrize("kwargs, message", [({"k": 0}, "k must"), ({"random_pairs": 0}, "random pairs"),
                                             ({"seed": -1}, "seed")])
def test_bad_parameters_are_errors(small_random, kwargs, message):
    vectors, pairs = small_random
    with pytest.raises(AuditError, match=message):
        check(vectors, pairs, **kwargs)


def test_control_pairs_never_keep_a_partner():
    from homophones.check import _control_targets

    found = [HomophonePair(f"a{i}", f"b{i}") for i in range(50)]
    left, right = np.arange(50), np.arange(50, 100)
    control = _control_targets(found, left, right, np.random.default_rng(9))
    assert len(control.pair) == 50
    assert np.all(control.right != right[control.pair]) and np.all(control.left_of != left[control.pair])
    assert sorted(control.right.tolist()) == right.tolist()  # a permutation: each partner used once


def test_scan_result_does_not_depend_on_the_number_of_threads(monkeypatch):
    import homophones.neighbours as neighbours
    rng = np.random.default_rng(8)
    vectors = Vectors([f"w{i}" for i in range(5003)], rng.standard_normal((5003, 9)))
    queries = np.array([0, 17, 4000, 5002, 2500])
    targets = np.array([[1, 2], [3, -1], [5002, 0], [4999, 17], [2501, 4000]])
    results = []
    for workers in (1, 2, 3):
        monkeypatch.setattr(neighbours, "SCAN_WORKERS", workers)
        results.append(scan(vectors, queries, targets, k=4, block_bytes=4 * 5 * 512))
    for other in results[1:]:
        assert np.array_equal(other.ranks, results[0].ranks, equal_nan=True)
        assert np.array_equal(other.neighbours, results[0].neighbours)
    # and against brute force: rank = 1 + words strictly more similar (no near ties here)
    cosine = 1 - cdist(vectors.matrix[queries], vectors.matrix, "cosine")
    cosine[np.arange(len(queries)), queries] = -np.inf
    for i, row in enumerate(targets):
        for slot, target in enumerate(row):
            if target < 0 or target == queries[i]:
                assert np.isnan(results[0].ranks[i, slot])
            else:
                assert results[0].ranks[i, slot] == 1 + np.sum(cosine[i] > cosine[i, target] + TIE_TOLERANCE)
        assert list(results[0].neighbours[i]) == list(np.argsort(-cosine[i], kind="stable")[:4])
