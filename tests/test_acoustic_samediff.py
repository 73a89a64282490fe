"""Kamper's samediff (SW / SWSP / SWDP AP and breakeven), best F1 and cross-view AP against
independent computations: a plain port of the published algorithm, scikit-learn, and toys
worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from audit.checks import acoustic
from audit.checks.acoustic import _retrieval
from audit.core.errors import AuditError
from audit.core.loaders import save_word2vec_text
from audit.core.results import load_result
from audit.core.vectors import Vectors


def kamper_swdp(swsp, swdp, dw):
    """samediff.average_precision_swdp as published (kamperh/speech_dtw), on distances, one
    position at a time: returns sw_ap, sw_prb, swdp_ap, swdp_prb."""
    distances = np.concatenate([swsp, swdp, dw])
    sw_match = np.concatenate([np.ones(len(swsp)), np.ones(len(swdp)), np.zeros(len(dw))])
    swdp_match = np.concatenate([np.zeros(len(swsp)), np.ones(len(swdp)), np.zeros(len(dw))])
    order = np.argsort(distances)
    sw_match, swdp_match = sw_match[order], swdp_match[order]
    precision = np.cumsum(sw_match) / np.arange(1, len(sw_match) + 1)
    out = []
    for match in (sw_match, swdp_match):
        ap = np.sum(precision * match) / match.sum()
        recall = np.cumsum(match) / match.sum()
        interpolated = precision.copy()
        for n in range(len(recall) - 2, -1, -1):
            interpolated[n] = max(interpolated[n], interpolated[n + 1])
        k = np.argmin(np.abs(recall - interpolated))
        out += [ap, (recall[k] + interpolated[k]) / 2]
    return out


def speaking_tokens(words=8, per_word=6, speakers=3, dim=10, seed=0):
    """Word centres plus a speaker offset: same-speaker pairs are easier, as in real speech."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(words), per_word)
    speaker = rng.integers(0, speakers, size=len(labels))
    embeddings = (rng.standard_normal((words, dim))[labels] + 0.9 * rng.standard_normal((speakers, dim))[speaker]
                  + 0.8 * rng.standard_normal((len(labels), dim)))
    return embeddings.astype(np.float32), labels, speaker


def unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


# ----------------------------------------------------------------------------- samediff
def test_samediff_equals_the_published_algorithm_on_all_pairs():
    embeddings, labels, speaker = speaking_tokens()
    result = acoustic.samediff_cosine(unit(embeddings), labels, speaker, sample_pairs=10**6)
    i, j = np.triu_indices(len(labels), 1)
    distance = 1 - np.sum(unit(embeddings)[i].astype(np.float64) * unit(embeddings)[j], axis=1)
    same, same_speaker = labels[i] == labels[j], speaker[i] == speaker[j]
    swsp, swdp, dw = distance[same & same_speaker], distance[same & ~same_speaker], distance[~same]
    sw_ap, sw_prb, swdp_ap, swdp_prb = kamper_swdp(swsp, swdp, dw)
    assert result.sw.average_precision == pytest.approx(sw_ap, abs=1e-6)
    assert result.sw.precision_recall_breakeven == pytest.approx(sw_prb, abs=1e-6)
    assert result.swdp.average_precision == pytest.approx(swdp_ap, abs=1e-6)
    assert result.swdp.precision_recall_breakeven == pytest.approx(swdp_prb, abs=1e-6)
    # SWSP: the same algorithm with the roles of the two kinds of same-word pairs swapped.
    _, _, swsp_ap, swsp_prb = kamper_swdp(swdp, swsp, dw)
    assert result.swsp.average_precision == pytest.approx(swsp_ap, abs=1e-6)
    assert result.swsp.precision_recall_breakeven == pytest.approx(swsp_prb, abs=1e-6)
    assert result.sw.average_precision == pytest.approx(skm.average_precision_score(same, -distance), abs=1e-6)
    assert (result.sw.positive_pairs_total, result.swsp.positive_pairs_total, result.swdp.positive_pairs_total) \
        == (same.sum(), (same & same_speaker).sum(), (same & ~same_speaker).sum())
    assert result.swsp.average_precision > result.swdp.average_precision   # same speaker is easier


def test_samediff_by_hand():
    # Ranked: SWSP, DW, SWDP, DW, SWDP -> precision 1, 1/2, 2/3, 2/4, 3/5 at the five pairs.
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    same = np.array([True, False, True, False, True])
    swdp = np.array([False, False, True, False, True])
    sw = acoustic.samediff_variant(scores, same, same, total=3)
    assert sw.average_precision == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    assert sw.precision_recall_breakeven == pytest.approx(2 / 3)      # recall 2/3 meets precision 2/3
    different = acoustic.samediff_variant(scores, same, swdp, total=2)
    assert different.average_precision == pytest.approx((2 / 3 + 3 / 5) / 2)
    # SWDP recall 0, 0, 1/2, 1/2, 1 against interpolated precision 1, 2/3, 2/3, 3/5, 3/5: closest at the 4th.
    assert different.precision_recall_breakeven == pytest.approx((1 / 2 + 3 / 5) / 2)
    f1 = acoustic.best_f1(scores, same)
    # Every pair called the same: the threshold sits midway to 2e-6 below the lowest score.
    assert (f1.f1, f1.threshold, f1.precision, f1.recall) == pytest.approx((0.75, 0.5 - 1e-6, 0.6, 1.0), abs=1e-12)
    assert np.isnan(acoustic.samediff_variant(scores, same, np.zeros(5, bool), total=0).average_precision)


@pytest.mark.parametrize("weighted", [False, True])
def test_best_f1_equals_sklearn(weighted):
    rng = np.random.default_rng(3)
    scores = rng.standard_normal(500)
    same = rng.random(500) < 0.2 + 0.5 * (scores > 0.8)
    weights = rng.uniform(0.5, 4, size=500) if weighted else None
    precision, recall, thresholds = skm.precision_recall_curve(same, scores, sample_weight=weights)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0)[:-1]
    best = int(np.argmax(f1))
    ours = acoustic.best_f1(scores, same, weights)
    assert ours.f1 == pytest.approx(f1[best], abs=1e-12)
    assert (ours.precision, ours.recall) == pytest.approx((precision[best], recall[best]), abs=1e-12)
    # The threshold lies midway between the lowest score called the same and the next one down,
    # and calling "same" every pair at or above it gives that F1.
    lower = scores[scores < thresholds[best]].max()
    assert ours.threshold == pytest.approx((thresholds[best] + lower) / 2, abs=1e-15)
    assert skm.f1_score(same, scores >= ours.threshold, sample_weight=weights) == pytest.approx(ours.f1, abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_best_f1_threshold_reproduces_the_f1_on_float64_cosines(seed):
    """The reviewer's check: cosines recomputed in float64 from the embeddings, thresholded at
    the reported value, give the reported F1 (the float32 boundary score, rounded above its
    float64 value, had dropped the boundary pair: F1 0.3569 against the reported 0.3620)."""
    embeddings, labels, speaker = speaking_tokens(words=6, per_word=5, seed=seed)
    result = acoustic.samediff_cosine(unit(embeddings), labels, speaker, sample_pairs=10**6)
    x = embeddings.astype(np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    i, j = np.triu_indices(len(labels), 1)
    cosine = np.sum(x[i] * x[j], axis=1)
    same = labels[i] == labels[j]
    f1 = result.best_f1
    assert skm.f1_score(same, cosine >= f1.threshold) == pytest.approx(f1.f1, abs=1e-12)


@pytest.mark.parametrize("sample_pairs", [10**6, 600])
def test_audit_samediff_uses_the_same_pairs_and_equals_the_standalone_call(sample_pairs):
    embeddings, labels, speaker = speaking_tokens(words=10, per_word=6, seed=4)
    names, speakers = np.array([f"w{x}" for x in labels]), np.array([f"spk{s}" for s in speaker])
    full = acoustic.audit_instances(acoustic.make_instances(embeddings, names, speakers),
                                    sample_pairs=sample_pairs, seed=3)
    alone = acoustic.samediff(embeddings, names, speakers, sample_pairs=sample_pairs, seed=3)
    assert alone == full.samediff and alone.sampled == (sample_pairs == 600)
    assert full.samediff.sw.average_precision == pytest.approx(full.same_different.average_precision, abs=1e-12)
    if sample_pairs == 600:   # the sampled curve: scikit-learn's weighted figures on the same pairs
        _, label_index = np.unique(names, return_inverse=True)
        seed = int(acoustic._check._metric_seeds(3)[0])
        i, j, same, weights, _ = acoustic.choose_pairs(label_index, 600, seed)
        # cosines compared at 6 decimals (acoustic.SCORE_DECIMALS), as the tool compares them
        cos = np.round(np.sum(unit(embeddings)[i] * unit(embeddings)[j], axis=1), 6)
        assert full.samediff.sw.average_precision == pytest.approx(
            skm.average_precision_score(same, cos, sample_weight=weights), abs=1e-6)
    no_speakers = acoustic.audit_instances(acoustic.make_instances(embeddings, names), sample_pairs=sample_pairs, seed=3)
    assert no_speakers.samediff.swsp is None and no_speakers.samediff.swdp is None


def test_same_speaker_pair_count_by_loops():
    labels, speakers = np.array([0, 0, 0, 1, 1, 1, 1]), np.array([0, 0, 1, 1, 1, 1, 0])
    want = sum(labels[a] == labels[b] and speakers[a] == speakers[b] for a in range(7) for b in range(a + 1, 7))
    assert acoustic.same_speaker_pair_count(labels, speakers) == want == 1 + 3


# ----------------------------------------------------------------------------- cross-view
def cross_view_data(words=6, per_word=5, dim=8, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((words, dim))
    labels = np.repeat(np.arange(words), per_word)
    tokens = centres[labels] + noise * rng.standard_normal((len(labels), dim))
    written = Vectors([f"w{k}" for k in range(words)], centres + 0.5 * rng.standard_normal((words, dim)))
    return unit(tokens), labels, np.array([f"w{k}" for k in range(words)]), written


def test_cross_view_equals_sklearn_on_all_pairs():
    tokens, labels, words, written = cross_view_data()
    result = acoustic.cross_view(tokens, labels, words, written, sample_pairs=10**6, block_rows=4)
    scores = tokens.astype(np.float64) @ written.unit.T.astype(np.float64)
    truth = labels[:, None] == np.arange(len(words))[None, :]
    assert not result.sampled and result.pairs_total == result.pairs_scored == truth.size
    assert result.average_precision == pytest.approx(skm.average_precision_score(truth.ravel(), scores.ravel()),
                                                     abs=1e-6)
    assert result.acoustic_to_written == pytest.approx(skm.label_ranking_average_precision_score(truth, scores),
                                                       abs=1e-6)
    assert result.written_to_acoustic == pytest.approx(
        skm.label_ranking_average_precision_score(truth.T, scores.T), abs=1e-6)
    assert result.chance == pytest.approx(truth.mean())


@pytest.mark.parametrize("share, sort_above", [(0.15, 24), (0.0, 99), (1.0, 99), (0.0, 0)])
def test_cross_view_rankings_with_uneven_words_and_ties_equal_sklearn(monkeypatch, share, sort_above):
    """Every rank-counting path of the retrieval kernel it shares, on integer vectors (real ties)."""
    monkeypatch.setattr(_retrieval, "CANDIDATE_SHARE", share)
    monkeypatch.setattr(_retrieval, "SORT_ABOVE_SLOTS", sort_above)
    rng = np.random.default_rng(14)
    labels = np.repeat(np.arange(6), [2, 3, 30, 4, 2, 9])
    tokens = (rng.integers(-1, 2, size=(len(labels), 5)) + 2 * np.eye(6, 5, dtype=int)[labels]).astype(np.float32)
    # Unit written rows with exact entries (one-hot, and one negated): every score is an exact integer.
    written = Vectors([f"w{k}" for k in range(6)], np.r_[np.eye(5), -np.eye(5)[:1]].astype(np.float32))
    written_unit = written.unit.astype(np.float64)
    result = acoustic.cross_view(tokens, labels, np.array([f"w{k}" for k in range(6)]), written, block_rows=4)
    scores = tokens.astype(np.float64) @ written_unit.T
    truth = labels[:, None] == np.arange(6)[None, :]
    assert result.acoustic_to_written == pytest.approx(skm.label_ranking_average_precision_score(truth, scores),
                                                       abs=1e-6)
    assert result.written_to_acoustic == pytest.approx(
        skm.label_ranking_average_precision_score(truth.T, scores.T), abs=1e-6)


def test_cross_view_by_hand_with_ties():
    # t0 -> w0 and t2 -> w1 sit on their words; t1 (a token of w0) sits on w1. Every score is 0 or 1.
    tokens = np.array([[1, 0], [0, 1], [0, 1]], dtype=np.float32)
    written = Vectors(["w0", "w1"], np.array([[1.0, 0.0], [0.0, 1.0]]))
    result = acoustic.cross_view(tokens, np.array([0, 0, 1]), np.array(["w0", "w1"]), written)
    # Pairs at 1: (t0,w0)+, (t1,w1)-, (t2,w1)+; at 0: (t0,w1)-, (t1,w0)+, (t2,w0)-.
    assert result.average_precision == pytest.approx(2 / 3 * 2 / 3 + 1 / 3 * 3 / 6)
    # Ranks of the own word: t0 1, t1 2 (a tie at 0 counts against it), t2 1.
    assert result.acoustic_to_written == pytest.approx((1 + 1 / 2 + 1) / 3)
    # w0 ranks t0 first (AP term 1) and t1 last among three tied at 0 (2 of 3); w1 ranks t2 2nd of 2 tied.
    assert result.written_to_acoustic == pytest.approx(((1 + 2 / 3) / 2 + 1 / 2) / 2)


def test_cross_view_sample_is_seeded_and_close_to_exact():
    tokens, labels, words, written = cross_view_data(words=30, per_word=10, seed=2, noise=1.5)
    exact = acoustic.cross_view(tokens, labels, words, written, sample_pairs=10**6)
    sampled = acoustic.cross_view(tokens, labels, words, written, sample_pairs=4000, seed=7)
    assert sampled.sampled and sampled.pairs_scored == 4000 and sampled.pairs_total == 300 * 30
    assert abs(sampled.average_precision - exact.average_precision) < 0.05
    assert sampled == acoustic.cross_view(tokens, labels, words, written, sample_pairs=4000, seed=7)
    assert sampled.acoustic_to_written == exact.acoustic_to_written   # rankings are never sampled


def test_cross_view_matches_words_and_counts_the_missing():
    tokens, labels, _, written = cross_view_data(words=4)
    words = np.array(["W0", "w1", "w2", "absent"])      # W0 meets w0 lowercased
    result = acoustic.cross_view(tokens, labels, words, written)
    assert (result.words, result.words_missing, result.missing_examples) == (3, 1, ("absent",))
    assert (result.tokens, result.tokens_missing) == (15, 5)
    with pytest.raises(AuditError, match="dimension 8 but the acoustic embeddings have 3"):
        acoustic.cross_view(tokens[:, :3], labels, words, written)
    with pytest.raises(AuditError, match="has 1 of the 4 audited words"):
        acoustic.cross_view(tokens, labels, np.array(["w0", "x", "y", "z"]), written)


# ----------------------------------------------------------------------------- result and command
def test_result_round_trips_and_reads_results_written_before_the_new_fields(tmp_path):
    embeddings, labels, speaker = speaking_tokens(words=5, per_word=4, dim=6, seed=5)
    written = Vectors([f"w{k}" for k in range(5)], np.random.default_rng(0).standard_normal((5, 6)))
    result = acoustic.audit_instances(acoustic.make_instances(embeddings, np.array([f"w{x}" for x in labels]),
                                                              speaker), written=written)
    assert load_result(json.loads(result.to_json())) == result and result.cross_view.words == 5
    older = result.to_dict()
    del older["samediff"], older["cross_view"]
    read = load_result(older)
    assert read.samediff is None and read.cross_view is None and read.summary_rows()[0][0] == "same-different AP (cosine)"


def test_cli_prints_samediff_and_cross_view(tmp_path, run_cli):
    embeddings, labels, speaker = speaking_tokens(words=6, per_word=5, dim=8, seed=6)
    path = tmp_path / "inst.npz"
    np.savez(path, embeddings=embeddings, labels=np.array([f"w{x}" for x in labels]),
             speakers=np.array([f"s{s}" for s in speaker]))
    agwe = tmp_path / "agwe.txt"
    save_word2vec_text(Vectors([f"w{k}" for k in range(5)], np.random.default_rng(1).standard_normal((5, 8))), agwe)
    out = tmp_path / "acoustic.json"
    code, stdout, stderr = run_cli("acoustic", path, "--agwe", agwe, "--json", out)
    assert code == 0, stderr
    saved = load_result(out)
    for text in ("SWDP AP (same word, different speaker)", "SWSP precision-recall breakeven", "best F1 (cosine >= ",
                 "cross-view AP (token x written word pairs)", "1 audited word(s) without a written embedding (e.g. w5)",
                 f"{saved.samediff.swdp.average_precision:.3f}", f"{saved.cross_view.average_precision:.3f}"):
        assert text in stdout, text
    bad = tmp_path / "bad.txt"
    bad.write_text("w0 1 2\nw1 3\n", encoding="utf-8")
    code, stdout, stderr = run_cli("acoustic", path, "--agwe", bad, "--json", tmp_path / "never.json")
    assert code == 2 and stderr.count("\n") == 1 and "Traceback" not in stderr and stdout == ""
    assert not (tmp_path / "never.json").exists()


def test_breakeven_of_identical_vectors_is_chance():
    """The reviewer's case: 24 identical vectors (4 words x 6). Every pair ties; read as one point
    at the tie's end (recall 1, precision 0.217) the breakeven was (1 + 0.217) / 2 = 0.609, near
    three times chance for an embedding that tells nothing. Pair by pair with the tie in random
    order (expected hits), precision stays at chance all the way and meets recall there."""
    labels = np.repeat(np.arange(4), 6)
    u = np.tile(np.array([[0.6, 0.8]], dtype=np.float32), (24, 1))
    result = acoustic.samediff_cosine(u, labels, np.arange(24) % 3, sample_pairs=10**6)
    chance = 4 * 15 / 276
    pairs = 276
    for variant in (result.sw, result.swsp, result.swdp):
        assert variant.average_precision == pytest.approx(chance)
        assert abs(variant.precision_recall_breakeven - chance) <= 1 / pairs


def test_breakeven_with_ties_of_one_kind_equals_the_published_algorithm():
    """Ties that hold only same-word pairs or only different-word pairs give the same curve in any
    order, so the published pair-by-pair algorithm is the truth there."""
    rng = np.random.default_rng(8)
    same = rng.random(400) < 0.3
    # Integer scores, the same-word ones even and the others odd: every tie is of one kind.
    scores = np.where(same, 2 * rng.integers(5, 40, size=400), 2 * rng.integers(0, 35, size=400) + 1).astype(float)
    swdp = same & (rng.random(400) < 0.6)
    _, sw_prb, _, swdp_prb = kamper_swdp(-scores[same & ~swdp], -scores[swdp], -scores[~same])
    sw = acoustic.samediff_variant(scores, same, same, total=int(same.sum()))
    different = acoustic.samediff_variant(scores, same, swdp, total=int(swdp.sum()))
    assert len(np.unique(scores)) < 100                                 # ties indeed
    assert sw.precision_recall_breakeven == pytest.approx(sw_prb, abs=1e-12)
    assert different.precision_recall_breakeven == pytest.approx(swdp_prb, abs=1e-12)
    # AP keeps scikit-learn's convention (a tie is one threshold), not the pair-by-pair sum.
    assert sw.average_precision == pytest.approx(skm.average_precision_score(same, scores), abs=1e-12)


def test_parallel_vectors_of_every_word_score_chance_whatever_the_float32_rounding():
    """A re-reviewer's case: every row an integer multiple of one integer vector, so every cosine is
    1; matrix products computed 1.0 or 0.99999994 by a row's position, which split the ties in
    favour of the rows' order (QbE mAP 0.280 and recall@10 0.567 against chance 0.130 and 0.435).
    Forty such inputs, each at chance on every tie-aware figure."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(6), 4)
    chance = 6 * 6 / 276
    for _ in range(40):
        base = rng.integers(1, 9, size=8).astype(np.float32)
        scales = rng.choice(np.arange(1, 40), size=6, replace=False).astype(np.float32)
        u = acoustic.unit_rows(base[None, :] * np.repeat(scales, 4)[:, None])
        rt = acoustic.retrieval(u, labels)
        assert rt.mean_average_precision == pytest.approx(3 / 23)
        assert rt.recall_at == pytest.approx({"1": 1 / 23, "5": 5 / 23, "10": 10 / 23})
        sd = acoustic.samediff_cosine(u, labels, np.arange(24) % 2, sample_pairs=10**6)
        assert sd.sw.average_precision == pytest.approx(chance)
        assert abs(sd.sw.precision_recall_breakeven - chance) <= 1 / 276
