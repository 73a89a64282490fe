"""audit.corpora.offline: a transcripts-only corpus in LibriSpeech's shape, built from gensim's
shipped text; its subsets give distinct vocabularies, so a vocabulary is traced to one union."""

from __future__ import annotations

from collections import Counter

import pytest

from audit.checks.vocab import provenance
from audit.corpora.librispeech import SUBSETS, LibriSpeechCorpus
from audit.corpora.offline import CLEAN_TRAINING, SUBSET_HOURS, build_offline_corpus, text_documents

EXTRA = ["ate", "eight", "meat", "meet", "sea", "see", "tiger", "jaguar", "zzyzx"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = build_offline_corpus(tmp_path_factory.mktemp("offline"), source="lee", seed=3, extra_words=EXTRA,
                                extra_repeats=6)
    return root, LibriSpeechCorpus(root).count()


def subset_counter(counts, subsets) -> Counter:
    total = Counter()
    for name in subsets:
        s = counts.subset(name)
        total.update(dict(zip(s.words, s.counts.tolist())))
    return total


def test_seven_subsets_sized_like_librispeech(corpus):
    root, counts = corpus
    assert counts.names == SUBSETS
    tokens = {name: counts.subset(name).tokens for name in SUBSETS}
    total = sum(tokens.values())
    assert total >= 60_000                                   # the Lee corpora plus the extra sentences
    assert max(tokens, key=tokens.get) == "train-other-500"  # the largest, as in LibriSpeech
    for name in ("train-clean-100", "train-clean-360", "train-other-500"):
        share = SUBSET_HOURS[name] / sum(SUBSET_HOURS.values())
        assert abs(tokens[name] / total - share) < 0.03, (name, tokens[name] / total, share)
    assert all(tokens[name] > 0 for name in SUBSETS)


def test_each_subset_has_its_own_speakers(corpus):
    root, _ = corpus
    speakers = {name: {p.name for p in (root / "LibriSpeech" / name).iterdir()} for name in SUBSETS}
    for a in SUBSETS:
        for b in SUBSETS:
            if a < b:
                assert not speakers[a] & speakers[b]


def test_extra_words_are_covered_in_the_clean_training_subsets(corpus):
    _, counts = corpus
    clean = subset_counter(counts, CLEAN_TRAINING)
    for word in EXTRA:
        assert clean[word] >= 6, word
    assert subset_counter(counts, ["dev-clean", "test-clean", "dev-other", "test-other"])["zzyzx"] == 0


def test_all_subsets_at_five_is_traced_exactly_and_uniquely(corpus):
    """The reality check's finding (b) on this corpus: a vocabulary made from all subsets at
    count >= 5 is found as exactly that, and the claimed clean training subsets do not give it."""
    _, counts = corpus
    everything = subset_counter(counts, SUBSETS)
    vocabulary = sorted(w for w, c in everything.items() if c >= 5)
    result = provenance(vocabulary, counts)
    assert result.best.exact and result.unique
    assert set(result.best.subsets) == set(SUBSETS) and result.best.min_count == 5
    clean = subset_counter(counts, CLEAN_TRAINING)
    assert {w for w, c in clean.items() if c >= 5} != set(vocabulary)


def test_same_parameters_reuse_the_folder_and_a_seed_changes_the_deal(corpus, tmp_path):
    root, _ = corpus
    manifest = (root / "manifest.json").stat().st_mtime_ns
    build_offline_corpus(root, source="lee", seed=3, extra_words=EXTRA, extra_repeats=6)
    assert (root / "manifest.json").stat().st_mtime_ns == manifest
    other = build_offline_corpus(tmp_path / "other", source="lee", seed=4, extra_words=EXTRA, extra_repeats=6)
    assert LibriSpeechCorpus(other).count().subset("dev-clean").tokens != corpus[1].subset("dev-clean").tokens


def test_a_folder_with_foreign_subsets_is_refused(tmp_path):
    (tmp_path / "LibriSpeech" / "my-notes").mkdir(parents=True)
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    from audit.core.errors import AuditError
    with pytest.raises(AuditError, match="did not write"):
        build_offline_corpus(tmp_path, source="lee")
    assert (tmp_path / "LibriSpeech" / "my-notes").is_dir()


def test_lee_documents_are_lowercase_ascii_words():
    documents = text_documents("lee")
    assert len(documents) > 300
    words = {w for d in documents for w in d}
    assert all(w == w.lower() and w.isascii() and w[0].isalpha() for w in words)
