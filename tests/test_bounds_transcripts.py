"""LibriSpeech transcripts are size-checked before they are read (a reviewer's sparse 2 GB
transcript took 18.6 s and 4.23 GB before `audit vocab` refused it with 40 escaped NUL bytes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import audit.corpora.librispeech as corpora
from audit.core.errors import AuditError
from audit.corpora.librispeech import MAX_TRANSCRIPT_BYTES, LibriSpeechCorpus
from support.memory import peak_traced_bytes


def _corpus(root: Path, data: bytes | None = None) -> Path:
    chapter = root / "LibriSpeech" / "dev-clean" / "19" / "198"
    chapter.mkdir(parents=True)
    path = chapter / "19-198.trans.txt"
    if data is not None:
        path.write_bytes(data)
    return path


def test_the_cap_is_far_above_a_real_transcript():
    assert MAX_TRANSCRIPT_BYTES >= 16 * 2**20


@pytest.mark.parametrize("read", ["count", "utterances"])
def test_a_huge_transcript_is_refused_from_its_size(tmp_path, read):
    path = _corpus(tmp_path)
    path.write_bytes(b"")
    os.truncate(path, 2 * 2**30)      # sparse: 2 GB of NUL bytes
    corpus = LibriSpeechCorpus(tmp_path)
    call = (lambda: corpus.count(cache_dir=tmp_path / "cache")) if read == "count" \
        else (lambda: list(corpus.utterances("dev-clean")))
    box = {}

    def refused():
        with pytest.raises(AuditError) as info:
            call()
        box["message"] = str(info.value)
    peak = peak_traced_bytes(refused)
    assert peak < 2**20, f"{peak / 2**20:.0f} MB"
    assert box["message"] == (f"the transcript {path} is 2.0 GB; a LibriSpeech chapter transcript is a few KB, "
                              f"and transcripts are read up to {MAX_TRANSCRIPT_BYTES // 2**20} MB.")


def test_just_over_the_cap_is_refused_and_at_the_cap_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(corpora, "MAX_TRANSCRIPT_BYTES", 64)
    line = b"19-198-0000 A WORD\n"
    path = _corpus(tmp_path, line * 3 + b" " * (64 - 3 * len(line)))
    assert path.stat().st_size == 64
    assert LibriSpeechCorpus(tmp_path).count().subset("dev-clean").as_dict() == {"a": 3, "word": 3}
    path.write_bytes(path.read_bytes() + b" ")
    with pytest.raises(AuditError, match=r"is 65 bytes; .* read up to 0 MB"):
        LibriSpeechCorpus(tmp_path).count()


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_transcript_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    path = _corpus(tmp_path)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    with pytest.raises(AuditError, match=r"^the transcript .*19-198\.trans\.txt is not a regular file\.$"):
        LibriSpeechCorpus(tmp_path).count()


def test_a_bad_utterance_id_is_shown_short(tmp_path):
    _corpus(tmp_path, b"\x00" * 5000 + b"\n")
    with pytest.raises(AuditError, match="does not start with 19-198-<number>") as info:
        LibriSpeechCorpus(tmp_path).count()
    shown = str(info.value).split("the utterance id ")[1].split(" does not")[0]
    assert len(shown) <= 50 and shown.endswith("...'"), shown


def test_the_cli_says_one_sentence_and_exits_2(tmp_path, run_cli):
    path = _corpus(tmp_path / "corpus")
    path.write_bytes(b"")
    os.truncate(path, 2 * 2**30)
    vectors = tmp_path / "v.txt"
    vectors.write_text("2 3\na 1 0 0\nb 0 1 0\n")
    code, out, err = run_cli("vocab", vectors, "--corpus", "librispeech", "--corpus-root", tmp_path / "corpus",
                             "--counts-cache", tmp_path / "cache")
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "is 2.0 GB" in err and "\\x00" not in err


def test_a_subsets_transcripts_together_are_bounded(tmp_path, monkeypatch):
    """Each file under the per-file bound, but many of them (sparse files cost no disk) were all
    held at once while the subset was counted."""
    first = _corpus(tmp_path, b"19-198-0000 A B\n")
    for chapter in range(199, 204):
        folder = first.parent.parent / str(chapter)
        folder.mkdir()
        (folder / f"19-{chapter}.trans.txt").write_bytes(b"19-%d-0000 A B C D E F\n" % chapter)
    corpus = LibriSpeechCorpus(tmp_path)
    assert corpora.count_subset(corpus, "dev-clean").tokens == 2 + 5 * 6
    monkeypatch.setattr(corpora, "MAX_SUBSET_BYTES", 60)
    with pytest.raises(AuditError, match=r"the transcripts of dev-clean under .* pass 0 GiB \(at .*\); "
                                         r"LibriSpeech's largest subset has about 30 MB of them"):
        corpora.count_subset(corpus, "dev-clean")


def test_a_subset_too_large_is_refused_from_its_sizes_before_reading(tmp_path, monkeypatch):
    """A re-reviewer's 18 sparse 63 MB transcripts were read (1.13 GB, 3.8 s) before the subset's
    bound refused them: the sizes are known from stat first."""
    first = _corpus(tmp_path, b"19-198-0000 A B\n")
    (first.parent.parent / "199").mkdir()
    second = first.parent.parent / "199" / "19-199.trans.txt"
    second.write_bytes(b"19-199-0000 C D\n")
    monkeypatch.setattr(corpora, "MAX_SUBSET_BYTES", 20)
    read = []
    real = corpora._read_bytes
    monkeypatch.setattr(corpora, "_read_bytes", lambda path: read.append(path) or real(path))
    with pytest.raises(AuditError, match="the transcripts of dev-clean under .* pass 0 GiB"):
        corpora.count_subset(LibriSpeechCorpus(tmp_path), "dev-clean")
    assert read == []


def test_a_transcripts_byte_order_mark_is_skipped(tmp_path):
    _corpus(tmp_path, b"\xef\xbb\xbf19-198-0000 A B\n19-198-0001 B C\n")
    counts = corpora.count_subset(LibriSpeechCorpus(tmp_path), "dev-clean")
    assert counts.tokens == 4
