"""reproductions.forged_release: the suspected recipe re-enacted on the offline corpus; the audit
traces it to all subsets at count 5, contradicts its claims, and finds it non-phonetic."""

from __future__ import annotations

import pytest

from audit.checks.findings import EmbeddingEvidence, findings
from audit.checks.vocab import provenance
from audit.core.claims import load_claims
from audit.core.loaders import load
from audit.corpora.librispeech import SUBSETS, LibriSpeechCorpus
from audit.corpora.offline import build_offline_corpus
from homophones import check, load_pairs
from reproductions.forged_release import CLAIMED_SUBSETS, ForgedRecipe, build_forged_release

PAIRS = load_pairs("paper-307")


@pytest.fixture(scope="module")
def forged(tmp_path_factory):
    words = [w for p in PAIRS.pairs[:60] for w in (p.word1, p.word2)]
    root = build_offline_corpus(tmp_path_factory.mktemp("corpus"), source="lee", seed=1, extra_words=words,
                                extra_repeats=8)
    vectors, claims = build_forged_release(root, tmp_path_factory.mktemp("release"), ForgedRecipe(dim=24, epochs=3))
    return root, load(vectors), load_claims(claims)


def test_the_forged_vocabulary_is_all_subsets_at_five(forged):
    root, vectors, claims = forged
    result = provenance(vectors, LibriSpeechCorpus(root).count())
    assert result.best.exact and result.unique
    assert set(result.best.subsets) == set(SUBSETS) and result.best.min_count == 5
    claim = claims.for_name("released")
    assert claim.kind == "speech" and claim.subsets == CLAIMED_SUBSETS and claim.min_count == 5 and claim.dim == 24
    finding = {f.key: f for f in findings([EmbeddingEvidence("released", "released", {"vocab": result},
                                                             claim)]).findings}["vocabulary"]
    assert finding.status == "supported" and "contradicting the claim" in finding.sentence


def test_the_forged_release_is_not_phonetic(forged):
    _, vectors, _ = forged
    result = check(vectors, PAIRS, bootstrap_resamples=50)
    assert result.pairs.found >= 40
    assert result.verdict == "non-phonetic", result.verdict_reason


def test_an_existing_vectors_file_of_the_user_is_replaced_only_by_ours(forged, tmp_path):
    root, _, _ = forged
    (tmp_path / "vectors.txt").symlink_to(tmp_path / "elsewhere.txt")
    from audit.core.errors import AuditError
    with pytest.raises(AuditError, match="symbolic link"):
        build_forged_release(root, tmp_path, ForgedRecipe(dim=8, epochs=1))
