"""audit.corpora.librispeech (LibriSpeech layout, counts, cache) and support.synthetic (known counts)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from audit.corpora.librispeech import SUBSETS, LibriSpeechCorpus, count_matrix, find_librispeech_dir, parse_subsets
from audit.core.errors import AuditError
from support.synthetic import design_counts, synthetic_words, write_corpus


def _write_transcript(root: Path, subset: str, speaker: int, chapter: int, lines: list[str]) -> Path:
    folder = root / "LibriSpeech" / subset / str(speaker) / str(chapter)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{speaker}-{chapter}.trans.txt"
    body = "".join(f"{speaker}-{chapter}-{i:04d} {text}\n" for i, text in enumerate(lines))
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def tiny_root(tmp_path) -> Path:
    """Two subsets written by hand; the counts below are counted by eye."""
    _write_transcript(tmp_path, "dev-clean", 84, 121123, ["GO DO YOU HEAR", "BUT IN LESS THAN FIVE MINUTES"])
    path = _write_transcript(tmp_path, "dev-clean", 84, 121550, ["DON'T GO", "", "THE DOG'S BONE GO"])
    path.write_text(path.read_text(encoding="utf-8") + "\n  \n", encoding="utf-8")   # blank lines at the end
    _write_transcript(tmp_path, "test-other", 1688, 142285, ["THERE'S IRON THEY SAY IN ALL OUR BLOOD"])
    return tmp_path


def test_counts_by_hand(tiny_root):
    corpus = LibriSpeechCorpus(tiny_root)
    assert corpus.subset_names() == ("dev-clean", "test-other")
    counts = corpus.count()
    dev = counts.subset("dev-clean")
    # Lowercased, apostrophes kept, blank lines skipped; an utterance without words still counts.
    assert dev.as_dict() == {"go": 3, "do": 1, "you": 1, "hear": 1, "but": 1, "in": 1, "less": 1, "than": 1,
                             "five": 1, "minutes": 1, "don't": 1, "the": 1, "dog's": 1, "bone": 1}
    assert (dev.transcripts, dev.utterances, dev.tokens) == (2, 5, 16)
    assert counts.subset("test-other").as_dict()["there's"] == 1
    assert list(dev.words) == sorted(dev.words)


def test_root_may_be_the_librispeech_folder(tiny_root):
    assert find_librispeech_dir(tiny_root) == tiny_root / "LibriSpeech"
    assert find_librispeech_dir(tiny_root / "LibriSpeech") == tiny_root / "LibriSpeech"


def test_utterances_with_audio(tiny_root):
    chapter = tiny_root / "LibriSpeech" / "dev-clean" / "84" / "121123"
    (chapter / "84-121123-0001.flac").write_bytes(b"fLaC")
    utterances = list(LibriSpeechCorpus(tiny_root).utterances("dev-clean"))
    assert [u.id for u in utterances] == ["84-121123-0000", "84-121123-0001", "84-121550-0000", "84-121550-0001",
                                          "84-121550-0002"]
    assert utterances[3].words == ()
    assert utterances[0].words == ("go", "do", "you", "hear") and utterances[0].audio is None
    assert utterances[1].audio == chapter / "84-121123-0001.flac"
    assert utterances[2].speaker == "84" and utterances[2].chapter == "121550"


def test_count_matrix_matches_plain_sums():
    counts = {"a": {"x": 2, "y": 1}, "b": {"y": 5, "z": 7}}
    types, matrix = count_matrix(counts)
    assert types == ("x", "y", "z")
    assert matrix.tolist() == [[2, 0], [1, 5], [0, 7]]


def test_parse_subsets():
    assert parse_subsets("all") == SUBSETS
    assert parse_subsets("test-other, train-clean-100") == ("train-clean-100", "test-other")
    with pytest.raises(AuditError, match="unknown LibriSpeech subset"):
        parse_subsets("train-clean-101")


# ------------------------------------------------------------------------------ cache
def test_cache_is_used_and_keyed_by_content(tiny_root, tmp_path, monkeypatch):
    import audit.corpora.librispeech as corpora

    cache = tmp_path / "cache"
    corpus = LibriSpeechCorpus(tiny_root)
    first = corpus.count(cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 2

    def must_not_count(*args, **kwargs):
        raise AssertionError("counted again although the cache is valid")

    monkeypatch.setattr(corpora, "_count_contents", must_not_count)
    cached = corpus.count(cache_dir=cache)
    assert cached.subset("dev-clean").as_dict() == first.subset("dev-clean").as_dict()
    assert cached.subset("dev-clean").utterances == 5
    monkeypatch.undo()

    # Same size, same time stamp, one word changed: the content key still changes.
    path = tiny_root / "LibriSpeech" / "dev-clean" / "84" / "121550" / "84-121550.trans.txt"
    stat = path.stat()
    path.write_text(path.read_text().replace("BONE", "BONY"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    changed = corpus.count(cache_dir=cache).subset("dev-clean").as_dict()
    assert changed["bony"] == 1 and "bone" not in changed


def test_damaged_cache_is_recounted(tiny_root, tmp_path):
    cache = tmp_path / "cache"
    corpus = LibriSpeechCorpus(tiny_root)
    expected = corpus.count(cache_dir=cache).subset("dev-clean").as_dict()
    for entry in cache.glob("*.npz"):
        entry.write_bytes(b"not an npz archive")
    assert corpus.count(cache_dir=cache).subset("dev-clean").as_dict() == expected


# ------------------------------------------------------------------------------ bad input
def test_not_librispeech_layout(tmp_path):
    (tmp_path / "texts").mkdir()
    with pytest.raises(AuditError, match="not in LibriSpeech layout"):
        LibriSpeechCorpus(tmp_path)
    with pytest.raises(AuditError, match="no such folder"):
        LibriSpeechCorpus(tmp_path / "absent")


def test_empty_subset(tiny_root):
    (tiny_root / "LibriSpeech" / "train-clean-100").mkdir()
    with pytest.raises(AuditError, match="train-clean-100 .* is empty"):
        LibriSpeechCorpus(tiny_root).count()


def test_chapter_without_transcript(tiny_root):
    (tiny_root / "LibriSpeech" / "dev-clean" / "84" / "999").mkdir()
    with pytest.raises(AuditError, match="has no transcript 84-999.trans.txt"):
        LibriSpeechCorpus(tiny_root).count()


def test_unreadable_and_malformed_transcripts(tiny_root):
    chapter = tiny_root / "LibriSpeech" / "dev-clean" / "84" / "121123"
    path = chapter / "84-121123.trans.txt"
    path.unlink()
    path.symlink_to(chapter / "nowhere")
    with pytest.raises(AuditError, match="cannot be read"):
        LibriSpeechCorpus(tiny_root).count()
    path.unlink()
    path.write_bytes(b"84-121123-0000 CAF\xe9\n")
    with pytest.raises(AuditError, match="not UTF-8"):
        LibriSpeechCorpus(tiny_root).count()
    path.write_text("84-121123-0000 FINE\n99-1-0001 WRONG CHAPTER\n", encoding="utf-8")
    with pytest.raises(AuditError, match="line 2: the utterance id '99-1-0001'"):
        LibriSpeechCorpus(tiny_root).count()


# ------------------------------------------------------------------------------ synthetic
def test_synthetic_words_are_distinct_and_normalised():
    words = synthetic_words(5000)
    assert len(set(words)) == 5000
    assert all(w == w.lower() and len(w.split()) == 1 for w in words)
    assert sum("'" in w for w in words) == len(range(3, 5000, 7))


def test_synthetic_corpus_reads_back_to_its_plan(tmp_path):
    plan = design_counts(seed=3, shared_words=30, tail_words=60, max_min_count=6,
                         subsets=("train-clean-100", "dev-other"))
    synthetic = write_corpus(tmp_path, plan, seed=3, utterance_words=(2, 9), utterances_per_chapter=7)
    counts = LibriSpeechCorpus(tmp_path).count()
    assert counts.names == ("train-clean-100", "dev-other")
    for subset in counts.subsets:
        assert subset.as_dict() == plan[subset.name] == synthetic.counts[subset.name]
        assert subset.utterances == synthetic.utterances[subset.name]
    # Independent truth: re-read the files with plain Python.
    text = Counter()
    for path in (tmp_path / "LibriSpeech" / "dev-other").rglob("*.trans.txt"):
        for line in path.read_text(encoding="utf-8").splitlines():
            text.update(word.lower() for word in line.split()[1:])
    assert text == Counter(plan["dev-other"])


def test_design_markers_occur_in_one_subset_at_every_count():
    plan = design_counts(seed=0, shared_words=5, tail_words=0, max_min_count=4,
                         subsets=("dev-clean", "test-clean", "test-other"),
                         marker_subsets=("dev-clean", "test-clean"))
    in_subsets = Counter(w for counts in plan.values() for w in counts)
    markers = {w for w, n in in_subsets.items() if n == 1}
    assert len(markers) == 2 * 4
    for subset in ("dev-clean", "test-clean"):
        assert sorted(plan[subset][w] for w in markers if w in plan[subset]) == [1, 2, 3, 4]
    assert all(plan["test-other"][w] >= 4 for w in plan["test-other"])   # shared words only


def test_write_corpus_rejects_unnormalised_words(tmp_path):
    with pytest.raises(AuditError, match="not normalised"):
        write_corpus(tmp_path, {"dev-clean": {"Word": 2}})
    with pytest.raises(AuditError, match="no words"):
        write_corpus(tmp_path, {"dev-clean": {"word": 0}})


def test_transcripts_are_listed_in_numeric_order(tmp_path):
    for speaker, chapter in ((10, 5), (9, 12), (9, 100)):
        _write_transcript(tmp_path, "dev-clean", speaker, chapter, ["A"])
    corpus = LibriSpeechCorpus(tmp_path)
    names = [p.name for p in corpus.transcript_files("dev-clean")]
    assert names == ["9-12.trans.txt", "9-100.trans.txt", "10-5.trans.txt"]
    assert [str(p) for p in corpus.transcript_files("dev-clean")] == corpus._transcript_paths("dev-clean")


def test_settled_files_are_trusted_by_stat_and_a_write_still_recounts(tiny_root, tmp_path, monkeypatch):
    import audit.corpora.librispeech as corpora

    monkeypatch.setattr(corpora, "_RACY_SECONDS", -3600.0)   # treat the files just written as settled
    cache = tmp_path / "cache"
    corpus = LibriSpeechCorpus(tiny_root)
    corpus.count(cache_dir=cache)
    assert len(list(cache.glob("*-stat-*.txt"))) == 2

    def must_not_read(*args, **kwargs):
        raise AssertionError("read the transcripts although their stat key is known")

    with monkeypatch.context() as patch:
        patch.setattr(corpora, "_read_bytes", must_not_read)
        assert corpus.count(cache_dir=cache).subset("dev-clean").as_dict()["go"] == 3
    path = tiny_root / "LibriSpeech" / "dev-clean" / "84" / "121123" / "84-121123.trans.txt"
    stat = path.stat()
    path.write_text(path.read_text().replace("HEAR", "HEAD"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))   # ctime still moves on
    changed = corpus.count(cache_dir=cache).subset("dev-clean").as_dict()
    assert changed["head"] == 1 and "hear" not in changed


def test_recent_files_are_not_trusted_by_stat(tiny_root, tmp_path):
    cache = tmp_path / "cache"
    LibriSpeechCorpus(tiny_root).count(cache_dir=cache)
    assert list(cache.glob("*-stat-*.txt")) == []     # just written: the content key is used


def test_a_non_standard_subset_folder_is_read(tmp_path):
    # The embedded eSpeak corpus uses its own subset name; it must read like any other subset.
    chapter = tmp_path / "LibriSpeech" / "train-espeak" / "7" / "1"
    chapter.mkdir(parents=True)
    (chapter / "7-1.trans.txt").write_text("7-1-0000 ATE EIGHT\n7-1-0001 EIGHT IT'S\n", encoding="utf-8")
    corpus = LibriSpeechCorpus(tmp_path)
    assert corpus.subset_names() == ("train-espeak",)
    counts = corpus.count().subset("train-espeak")
    assert dict(zip(counts.words, counts.counts.tolist())) == {"ate": 1, "eight": 2, "it's": 1}
    with pytest.raises(AuditError, match="not in"):
        corpus.count(["train-clean-100"])
