"""audit.checks.findings: the four conclusions from typed results, each flipping to
"not supported" when its evidence is removed or reversed, "not tested" when it is absent."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import numpy as np
import pytest

from audit.checks.findings import EmbeddingEvidence, FindingsResult, findings
from audit.checks.vocab import provenance as vocab_provenance
from audit.core.claims import Claim
from audit.core.results import load_result
from audit.core.vectors import Vectors
from homophones import check, load_pairs

PAIRS = load_pairs("paper-307")


def homophone_result(phonetic: bool, seed: int):
    rng = np.random.default_rng(seed)
    words, rows = [], []
    for pair in PAIRS.pairs[:60]:
        base = rng.standard_normal(16)
        words += [pair.word1, pair.word2]
        rows += [base, base + 0.01 * rng.standard_normal(16)] if phonetic else [base, rng.standard_normal(16)]
    words += [f"filler{i}" for i in range(200)]
    rows += list(rng.standard_normal((200, 16)))
    return check(Vectors(words, np.array(rows)), PAIRS, bootstrap_resamples=20)


COUNTS = {"train-clean-100": {"a": 9, "b": 6, "c": 2}, "train-clean-360": {"a": 5, "d": 7},
          "train-other-500": {"a": 3, "c": 4, "e": 8, "f": 1, "h": 4, "i": 3, "j": 2}, "dev-clean": {"g": 5}}


def vocab_result(vocabulary):
    return vocab_provenance(sorted(vocabulary), COUNTS, max_min_count=8)


def bench(scores: dict[str, float], claims: dict[str, float] | None = None):
    rows = tuple(SimpleNamespace(name=n, spearman=v, paper_claim=(claims or {}).get(n), found=50, pairs=60)
                 for n, v in scores.items())
    return SimpleNamespace(results=rows)


def verdict(value: str):
    return SimpleNamespace(verdict=value)


CLAIM = Claim(name="released", kind="speech", corpus="librispeech", subsets=("train-clean-100", "train-clean-360"),
              min_count=5, benchmark_set="speech2vec-paper")
CLAIMED = {"MEN": 0.62, "SimLex-999": 0.28, "WS-353": 0.56}
# all subsets at count >= 5 (a: 17, e: 8, d: 7, b: 6, c: 6, g: 5): not the claimed clean subsets at 5 (a, b, d)
ALL_AT_5 = {"a", "b", "c", "d", "e", "g"}


def scenario(**changes):
    """The reality check's situation, with one piece changed per keyword."""
    parts = {
        "released_homophones": homophone_result(False, 1), "reproduction_homophones": homophone_result(True, 2),
        "vocab": vocab_result(ALL_AT_5),
        "released_bench": bench({"MEN": 0.55, "SimLex-999": 0.25, "WS-353": 0.50}, CLAIMED),
        "reproduction_bench": bench({"MEN": 0.05, "SimLex-999": 0.01, "WS-353": 0.03}),
        "init_bench": bench({"MEN": 0.04, "SimLex-999": 0.02, "WS-353": 0.00}),
        "text_bench": [bench({"MEN": 0.50, "SimLex-999": 0.22, "WS-353": 0.48}),
                       bench({"MEN": 0.58, "SimLex-999": 0.27, "WS-353": 0.52})],
        "released_provenance": verdict("text-like"), "reproduction_provenance": verdict("neither"),
        "claim": CLAIM}
    parts.update(changes)
    released = {"homophones": parts["released_homophones"], "vocab": parts["vocab"],
                "benchmarks": parts["released_bench"], "provenance": parts["released_provenance"]}
    embeddings = [
        EmbeddingEvidence("released", "released", {k: v for k, v in released.items() if v is not None},
                          parts["claim"]),
        EmbeddingEvidence("reproduction", "reproduction",
                          {k: v for k, v in {"homophones": parts["reproduction_homophones"],
                                             "benchmarks": parts["reproduction_bench"],
                                             "provenance": parts["reproduction_provenance"]}.items() if v is not None}),
        EmbeddingEvidence("random init", "random-init",
                          {"benchmarks": parts["init_bench"]} if parts["init_bench"] is not None else {}),
    ] + [EmbeddingEvidence(f"text {i}", "text-model", {"benchmarks": b}) for i, b in enumerate(parts["text_bench"])]
    return {f.key: f for f in findings(embeddings).findings}


def test_the_reality_check_situation_supports_all_four():
    result = scenario()
    assert {k: f.status for k, f in result.items()} == dict.fromkeys(
        ("homophones", "vocabulary", "benchmarks", "provenance"), "supported")
    assert "is non-phonetic" in result["homophones"].sentence and "reproduction is phonetic" in result["homophones"].sentence
    vocabulary = result["vocabulary"]
    assert vocabulary.numbers["found_min_count"] == 5 and "contradicting the claim" in vocabulary.sentence
    assert set(vocabulary.numbers["found_subsets"].split(" + ")) == set(COUNTS)
    bench = result["benchmarks"].numbers
    assert bench["benchmarks"] == 3 and bench["claimed"] == pytest.approx(np.mean(list(CLAIMED.values())))
    assert bench["reproduction"] == pytest.approx(0.03) and bench["random_init"] == pytest.approx(0.02)


@pytest.mark.parametrize("key, change", [
    ("homophones", {"reproduction_homophones": homophone_result(False, 3)}),   # the reproduction is not phonetic
    ("homophones", {"released_homophones": homophone_result(True, 4)}),        # the release is phonetic
    ("vocabulary", {"vocab": vocab_result({"a", "b", "d"})}),                  # the claimed clean subsets at 5
    ("vocabulary", {"vocab": vocab_result({"a", "b", "zz"})}),                 # no exact candidate
    ("benchmarks", {"reproduction_bench": bench({"MEN": 0.60, "SimLex-999": 0.27, "WS-353": 0.55})}),
    ("benchmarks", {"released_bench": bench({"MEN": 0.05, "SimLex-999": 0.0, "WS-353": 0.02}, CLAIMED)}),
    ("provenance", {"released_provenance": verdict("neither")}),
    ("provenance", {"reproduction_provenance": verdict("text-like")}),
])
def test_a_finding_flips_when_its_evidence_is_reversed(key, change):
    result = scenario(**change)
    assert result[key].status == "not supported", result[key].sentence
    others = {k: f.status for k, f in result.items() if k != key}
    assert set(others.values()) == {"supported"}


@pytest.mark.parametrize("key, change", [
    ("homophones", {"reproduction_homophones": None}),
    ("vocabulary", {"vocab": None}),
    ("benchmarks", {"init_bench": None}),
    ("benchmarks", {"text_bench": []}),
    ("benchmarks", {"claim": dataclasses.replace(CLAIM, benchmark_set=None)}),
    ("provenance", {"released_provenance": None}),
])
def test_a_finding_without_its_evidence_is_not_tested(key, change):
    result = scenario(**change)
    assert result[key].status == "not tested"


def test_the_numbers_are_the_sentence_numbers_and_the_result_round_trips():
    homophones = scenario()["homophones"]
    assert f"{100 * homophones.numbers['released_share']:.1f}%" in homophones.sentence
    embeddings = [EmbeddingEvidence("released", "released", {"vocab": vocab_result(ALL_AT_5)}, CLAIM)]
    result = findings(embeddings)
    again = load_result(result.to_dict())
    assert isinstance(again, FindingsResult) and again == result
    # through JSON text, each number keeps its kind (True == 1.0 in Python: compare the types too;
    # a count comes back as a float, the field's number type)
    vocabulary = next(f for f in load_result(json.loads(result.to_json())).findings if f.key == "vocabulary")
    original = next(f for f in result.findings if f.key == "vocabulary")
    assert vocabulary.numbers["exact"] is True and vocabulary.numbers["unique"] is True
    kinds = {k: float if type(v) is int else type(v) for k, v in original.numbers.items()}
    assert {k: type(v) for k, v in vocabulary.numbers.items()} == kinds and bool in kinds.values()


def test_a_union_field_reads_each_json_value_as_its_own_kind():
    from audit.core.results import _decode

    kind = float | bool | str | None
    assert [_decode(kind, v) for v in (True, False, 2, 0.5, "x", "True", None)] == [True, False, 2.0, 0.5, "x", "True",
                                                                                    None]
    assert [type(_decode(kind, v)) for v in (True, 2, "x")] == [bool, float, str]


def test_the_provenance_sentence_quotes_the_text_band():
    def judged(verdict_value, knn):
        measure = SimpleNamespace(measure="knn_overlap", audited=knn, band_low=0.25, band_high=0.35)
        return SimpleNamespace(verdict=verdict_value, families=[SimpleNamespace(family="text", measures=[measure])])
    finding = scenario(released_provenance=judged("text-like", 0.3),
                       reproduction_provenance=judged("neither", 0.02))["provenance"]
    assert finding.status == "supported"
    assert "released text-like (kNN overlap 0.300)" in finding.sentence
    assert "reproduction neither (kNN overlap 0.020)" in finding.sentence
    assert "0.250 to 0.350" in finding.sentence
    assert finding.numbers["released_knn_overlap"] == 0.3 and finding.numbers["reproduction_knn_overlap"] == 0.02



# ------------------------------------------------------------------------------ the genuine acoustic embedding
def with_acoustic(phonetic: bool | None = True, provenance: str | None = "neither", reproduction: bool = True):
    """A release (non-phonetic, text-like), a reproduction (phonetic, neither) unless left out, and a
    genuine acoustic word embedding (role acoustic-model) with the given verdicts (None: no result)."""
    embeddings = [EmbeddingEvidence("released", "released", {"homophones": homophone_result(False, 1),
                                                             "provenance": verdict("text-like")}, CLAIM)]
    if reproduction:
        embeddings.append(EmbeddingEvidence("reproduction", "reproduction", {"homophones": homophone_result(True, 2),
                                                                             "provenance": verdict("neither")}))
    acoustic = {}
    if phonetic is not None:
        acoustic["homophones"] = homophone_result(phonetic, 5)
    if provenance is not None:
        acoustic["provenance"] = verdict(provenance)
    embeddings.append(EmbeddingEvidence("awe", "acoustic-model", acoustic))
    result = findings(embeddings)
    return result, {f.key: f for f in result.findings}


def test_a_genuine_acoustic_embedding_is_the_positive_control_named_with_its_numbers():
    result, found = with_acoustic()
    assert found["homophones"].status == "supported" and found["provenance"].status == "supported"
    homophones = found["homophones"]
    share = homophones.numbers["acoustic_share"]
    assert homophones.numbers["acoustic_verdict"] == "phonetic"
    assert homophones.sentence.endswith(f"reproduction is phonetic with "
                                        f"{100 * homophones.numbers['reproduction_share']:.1f}% "
                                        f"({homophones.numbers['reproduction_pairs']} pairs) and awe, a genuine "
                                        f"acoustic word embedding, is phonetic with {100 * share:.1f}% "
                                        f"({homophones.numbers['acoustic_pairs']} pairs).")
    assert "genuine acoustic word embedding" in homophones.rule
    assert found["provenance"].sentence == ("Model provenance against text models trained on the corpus calls released "
                                            "text-like, reproduction neither and awe, a genuine acoustic word "
                                            "embedding, neither.")
    assert found["provenance"].numbers == {"released_verdict": "text-like", "reproduction_verdict": "neither",
                                           "acoustic_verdict": "neither"}
    assert result.roles["awe"] == "acoustic-model"
    assert result.labels == {"released": "released embedding under audit", "reproduction": "reproduction",
                             "acoustic-model": "genuine acoustic word embedding"}
    assert load_result(result.to_dict()) == result


@pytest.mark.parametrize("change, key", [({"phonetic": False}, "homophones"),
                                         ({"provenance": "text-like"}, "provenance")])
def test_a_check_that_calls_the_genuine_acoustic_embedding_non_phonetic_or_text_like_supports_nothing(change, key):
    """The known case: a genuine acoustic word embedding is phonetic and not text-like. When a check
    says otherwise, its finding about the release is not supported, whatever the release and the
    reproduction show, and the sentence shows the control's verdict."""
    _, found = with_acoustic(**change)
    assert found[key].status == "not supported"
    wrong = "non-phonetic" if key == "homophones" else "text-like"
    assert f"awe, a genuine acoustic word embedding, {'is ' if key == 'homophones' else ''}{wrong}" in found[key].sentence
    other = "provenance" if key == "homophones" else "homophones"
    assert found[other].status == "supported"


def test_without_a_reproduction_the_genuine_acoustic_embedding_is_the_comparison():
    _, found = with_acoustic(reproduction=False)
    assert found["homophones"].status == "supported" and found["provenance"].status == "supported"
    assert "reproduction_verdict" not in found["homophones"].numbers
    assert "; awe, a genuine acoustic word embedding, is phonetic with" in found["homophones"].sentence
    assert found["provenance"].sentence == ("Model provenance against text models trained on the corpus calls released "
                                            "text-like and awe, a genuine acoustic word embedding, neither.")
    _, found = with_acoustic(phonetic=False, provenance="text-like", reproduction=False)
    assert found["homophones"].status == "not supported" and found["provenance"].status == "not supported"
    # an acoustic embedding without the result is no comparison: not tested, naming the missing reproduction
    _, found = with_acoustic(phonetic=None, provenance=None, reproduction=False)
    assert found["homophones"].status == "not tested" and "a reproduction" in found["homophones"].sentence
    assert found["provenance"].status == "not tested" and "a reproduction" in found["provenance"].sentence


def test_without_an_acoustic_embedding_the_sentences_and_rules_read_as_before():
    found = scenario()
    homophones = found["homophones"]
    numbers = homophones.numbers
    assert homophones.sentence == (f"released (claimed kind: speech) is {numbers['released_verdict']}: "
                                   f"{100 * numbers['released_share']:.1f}% of its homophone ranks "
                                   f"({numbers['released_pairs']} pairs) are within 10; reproduction is phonetic with "
                                   f"{100 * numbers['reproduction_share']:.1f}% ({numbers['reproduction_pairs']} pairs).")
    assert homophones.rule == ("supported when the release (claimed speech) is non-phonetic and a reproduction "
                               "trained on speech is phonetic; not tested when a verdict is inconclusive (too few "
                               "pairs, or between the patterns); the verdicts come from the homophone rank rule")
    assert list(numbers) == ["released_verdict", "released_share", "released_pairs", "reproduction_verdict",
                             "reproduction_share", "reproduction_pairs"]
    assert found["provenance"].sentence == ("Model provenance against text models trained on the corpus calls released "
                                            "text-like and reproduction neither.")
    assert found["provenance"].rule == ("supported when model provenance calls the release text-like and the "
                                        "reproduction not text-like")


def test_the_acoustic_role_is_used_by_no_other_finding():
    """Vocabulary and benchmarks are about the release, the reproduction and the text models: adding a
    genuine acoustic embedding with benchmark scores changes neither."""
    plain = scenario()
    embeddings = [EmbeddingEvidence("released", "released", {"vocab": vocab_result(ALL_AT_5)}, CLAIM),
                  EmbeddingEvidence("awe", "acoustic-model", {"benchmarks": bench({"MEN": 0.9, "WS-353": 0.9})})]
    found = {f.key: f for f in findings(embeddings).findings}
    assert found["vocabulary"].status == plain["vocabulary"].status == "supported"
    assert found["benchmarks"].status == "not tested"
    assert "a reproduction" in found["benchmarks"].sentence


def test_old_findings_without_labels_still_read():
    result = findings([EmbeddingEvidence("released", "released", {"vocab": vocab_result(ALL_AT_5)}, CLAIM)])
    data = result.to_dict()
    del data["labels"]
    again = load_result(data)
    assert again.labels == {} and again.roles == {"released": "released"}
