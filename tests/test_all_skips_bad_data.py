"""`audit all` (issue 15 class 9): one check's bad data skips that check with its reason; the
report still comes, exit 0. A malformed instances.npz beside a reproduction's vectors skips the
acoustic check (and the instance MDS, which reads the same file); malformed transcripts under
--corpus-root skip the vocabulary check. The other checks run as usual."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit import Vectors
from audit.core.loaders import save_word2vec_text

WORDS = ["ate", "eight", "meat", "meet", "sea", "see", "tale", "tail", "know", "no", "peace", "piece"] + [
    f"filler{i}" for i in range(40)]


def _vectors(folder, seed: int = 0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    save_word2vec_text(Vectors(WORDS, rng.normal(size=(len(WORDS), 8))), folder / "vectors.txt")
    return folder / "vectors.txt"


def _good_instances(path, seed: int = 1):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.array(["ate", "eight", "meat", "meet"]), 5)
    np.savez(path, embeddings=rng.normal(size=(len(labels), 8)), labels=labels,
             speakers=np.array([f"s{i % 3}" for i in range(len(labels))]))


# Each malformed instances file and a fragment of the sentence that must give the reason.
MALFORMED_INSTANCES = {
    "truncated archive": (lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 40), "instances"),
    "not an archive": (lambda p: p.write_bytes(b"hello, not a zip file\n"), "instances"),
    "zero row": (lambda p: np.savez(p, embeddings=np.vstack([np.zeros((1, 8)), np.ones((5, 8))]),
                                   labels=np.array(["a", "a", "b", "b", "c", "c"])), "zero or not finite"),
    "no labels": (lambda p: np.savez(p, embeddings=np.ones((4, 8))), "labels"),
}


def _run(run_cli, *argv):
    code, out, err = run_cli("all", *argv)
    assert code == 0, err
    assert "Traceback" not in err
    return code, out, err


@pytest.mark.parametrize("case", sorted(MALFORMED_INSTANCES))
def test_malformed_instances_skip_the_acoustic_check(tmp_path, run_cli, case):
    write, fragment = MALFORMED_INSTANCES[case]
    bad = _vectors(tmp_path / "bad")
    write(tmp_path / "bad" / "instances.npz")
    good = _vectors(tmp_path / "good", seed=2)
    _good_instances(tmp_path / "good" / "instances.npz")
    out = tmp_path / "out"
    _run(run_cli, bad, good, "--names", "bad", "good", "--out", out)
    run = json.loads((out / "results" / "run.json").read_text())
    first, second = run["embeddings"]
    # the bad embedding: acoustic skipped with the loader's sentence, its other checks ran
    assert "acoustic" not in first["results"]
    reason = first["skipped"]["acoustic"]
    assert fragment in reason and "Traceback" not in reason and "\n" not in reason
    assert {"info", "homophones"} <= set(first["results"])
    # the good embedding is audited in full
    assert "acoustic" in second["results"] and "acoustic" not in second["skipped"]
    # the report came, with the reason on the embedding's card
    markdown = (out / "report.md").read_text()
    assert "acoustic not run" in markdown
    assert (out / "index.html").is_file()


def _corpus(root):
    from support.synthetic import write_corpus

    counts = {"train-clean-100": {"alpha": 6, "beta": 5, "gamma": 4}, "train-clean-360": {"alpha": 1, "delta": 7}}
    return write_corpus(root, counts, seed=0)


def _a_transcript(root):
    return sorted((root / "LibriSpeech" / "train-clean-100").rglob("*.trans.txt"))[0]


MALFORMED_TRANSCRIPTS = {
    "not UTF-8": (lambda p: p.write_bytes(p.read_bytes() + b"\xff\xfe bad bytes\n"), "not UTF-8"),
    "foreign utterance id": (lambda p: p.write_text(p.read_text() + "9-9-0001 ALPHA BETA\n"), "utterance id"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_TRANSCRIPTS))
def test_malformed_transcripts_skip_the_vocabulary_check(tmp_path, run_cli, case):
    pytest.importorskip("audit.checks.vocab")
    write, fragment = MALFORMED_TRANSCRIPTS[case]
    _corpus(tmp_path / "corpus")
    transcript = _a_transcript(tmp_path / "corpus")
    write(transcript)
    vectors = _vectors(tmp_path / "v")
    out = tmp_path / "out"
    _run(run_cli, vectors, "--corpus-root", tmp_path / "corpus", "--out", out,
         "--cache-dir", tmp_path / "cache")
    run = json.loads((out / "results" / "run.json").read_text())
    entry, = run["embeddings"]
    assert "vocab" not in entry["results"]
    reason = entry["skipped"]["vocab"]
    assert fragment in reason and transcript.name in reason and "\n" not in reason
    assert {"info", "homophones"} <= set(entry["results"])
    markdown = (out / "report.md").read_text()
    assert "vocab not run" in markdown and "Vocabulary provenance" not in markdown


def test_both_at_once_and_the_same_corpus_reason_for_every_embedding(tmp_path, run_cli):
    """Two embeddings, a bad instances file beside one and a bad corpus for both: one report."""
    pytest.importorskip("audit.checks.vocab")
    _corpus(tmp_path / "corpus")
    transcript = _a_transcript(tmp_path / "corpus")
    transcript.write_bytes(b"\xff" + transcript.read_bytes())
    bad = _vectors(tmp_path / "bad")
    (tmp_path / "bad" / "instances.npz").write_bytes(b"garbage")
    good = _vectors(tmp_path / "good", seed=3)
    _good_instances(tmp_path / "good" / "instances.npz")
    out = tmp_path / "out"
    _run(run_cli, bad, good, "--names", "bad", "good", "--corpus-root", tmp_path / "corpus", "--out", out,
         "--cache-dir", tmp_path / "cache")
    run = json.loads((out / "results" / "run.json").read_text())
    first, second = run["embeddings"]
    assert first["skipped"]["vocab"] == second["skipped"]["vocab"]
    assert "not UTF-8" in first["skipped"]["vocab"]
    assert "acoustic" in first["skipped"] and "acoustic" in second["results"]
