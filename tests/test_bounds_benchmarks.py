"""Benchmark files are read line by line within bounds (a reviewer's 1 MB file with one
1,000,000-character word took 4.25 GB, as fixed-width word arrays; a sparse 2 GB file took 4.5 GB
before its first line was refused)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from audit.core.errors import AuditError
from benchmarks import REGISTRY, load_benchmark, parse_pairs
from benchmarks import datasets
from support.memory import peak_traced_bytes


@pytest.fixture(autouse=True)
def _fresh_cache():
    datasets._load_cached.cache_clear()
    datasets._last_wins.cache_clear()
    yield
    datasets._load_cached.cache_clear()
    datasets._last_wins.cache_clear()


def _mc30(folder: Path, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "EN-MC-30.txt"
    path.write_bytes(data)
    return path


def test_one_long_word_does_not_widen_every_word(tmp_path):
    """20,000 pairs and one 4,000-character word: a fixed-width array is 20,001 x 4,000 x 4 bytes
    (320 MB per side); the words are kept as they are."""
    data = b"".join(b"w%d v%d %d\n" % (i, i, i % 10) for i in range(20_000)) + b"x" * 4000 + b" y 1\n"
    _mc30(tmp_path, data)
    box = {}
    peak = peak_traced_bytes(lambda: box.setdefault("bench", load_benchmark("MC-30", tmp_path)))
    bench = box["bench"]
    assert len(bench) == 20_001 and bench.left[-1] == "x" * 4000 and bench.right[0] == "v0"
    assert peak < 40 * 2**20, f"{peak / 2**20:.0f} MB"


def test_a_line_past_the_cap_is_refused_by_number(tmp_path):
    data = b"a b 1\n" * 500 + b"x" * 1_000_000 + b" y 1\n"
    path = _mc30(tmp_path, data)
    with pytest.raises(AuditError, match=r"line 501: the line is longer than 4,096 bytes") as info:
        load_benchmark("MC-30", tmp_path)
    assert str(path) in str(info.value) and len(str(info.value)) < 300


def test_a_file_past_the_size_cap_is_refused_before_it_is_read(tmp_path):
    path = _mc30(tmp_path, b"")
    os.truncate(path, 2 * 2**30)      # sparse: 2 GB of NUL bytes on one line
    peak = peak_traced_bytes(lambda: pytest.raises(AuditError, load_benchmark, "MC-30", tmp_path))
    with pytest.raises(AuditError, match=r"is 2\.0 GB; benchmark files are read up to 8 MB"):
        load_benchmark("MC-30", tmp_path)
    assert peak < 2**20


def test_one_byte_past_the_size_cap_is_shown_in_bytes(tmp_path):
    # a re-reviewer's case: 8 MiB + 1 byte read "is 8.0 MB; benchmark files are read up to 8 MB"
    path = _mc30(tmp_path, b"")
    os.truncate(path, 8 * 2**20 + 1)
    with pytest.raises(AuditError, match=r"is 8,388,609 bytes; benchmark files are read up to 8 MB"):
        load_benchmark("MC-30", tmp_path)


def test_the_first_bad_line_is_refused_without_reading_the_rest(tmp_path):
    """A bad first line is named even though the file goes on (here to bytes that are not UTF-8),
    and the rest is not read into memory."""
    data = b"only-one-field\n" + b"a b 1\n" * 1_000_000 + b"\xff\xfe c 1\n"
    _mc30(tmp_path, data)
    box = {}

    def load():
        with pytest.raises(AuditError) as info:
            load_benchmark("MC-30", tmp_path)
        box["message"] = str(info.value)
    peak = peak_traced_bytes(load)
    assert "line 1: expected 'word1 word2 score', found 1 fields" in box["message"]
    assert peak < 2**20, f"{peak / 2**20:.1f} MB"


def test_bad_utf8_names_its_line(tmp_path):
    _mc30(tmp_path, b"a b 1\n\xff b 2\n")
    with pytest.raises(AuditError, match=r"is not UTF-8 text \(line 2\)"):
        load_benchmark("MC-30", tmp_path)


def test_a_long_score_is_shown_short(tmp_path):
    _mc30(tmp_path, b"a b " + b"z" * 4000 + b"\n")
    with pytest.raises(AuditError, match=r"is not a number") as info:
        load_benchmark("MC-30", tmp_path)
    assert len(str(info.value)) < 300


def test_the_real_files_read_as_their_text(word_sim_dir):
    """The 13 registered files: the same pairs as parsing their whole text, and their checksums."""
    for spec in REGISTRY.specs():
        text = (word_sim_dir / spec.file).read_bytes().decode("utf-8")
        for lowercase in (True, False):
            bench = load_benchmark(spec.name, word_sim_dir, lowercase=lowercase)
            left, right, scores = parse_pairs(text)
            if lowercase:
                left, right = [w.lower() for w in left], [w.lower() for w in right]
            assert bench.pairs() == list(zip(left, right, scores)), spec.name
            assert bench.checksum_ok, spec.name


def test_the_cli_says_one_sentence_and_exits_2(tmp_path, run_cli):
    _mc30(tmp_path / "dd", b"a b 1\n" + b"x" * 10_000 + b" y 1\n")
    vectors = tmp_path / "v.txt"
    vectors.write_text("2 3\na 1 0 0\nb 0 1 0\n")
    code, out, err = run_cli("benchmarks", vectors, "--data-dir", tmp_path / "dd", "--only", "MC-30")
    assert code == 2 and "Traceback" not in err
    assert "line 2: the line is longer than 4,096 bytes" in err and len(err.strip().splitlines()) == 1
