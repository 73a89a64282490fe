"""What the loader does after the parse (issue 18): case, duplicate and non-finite policies, the
provenance record, and the same result from a cached copy.

Truth is written out by hand for a six-line file, whose words collide under both policies:

    entry  1    2    3    4    5    6
    word   b    A    a    c    a    C
    row    1    2    3    0    5    NaN      (first value; the others are 0)

so ``c`` is the zero row and ``C`` the non-finite one. Every load is also made twice with a
cache folder: the second reads the memory-mapped copy (a different code path after the parse)
and must give the same words, rows, lookups and provenance record.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest

import audit
from audit.core.errors import AuditError
from audit.core.loaders import _distinct
from audit.core.loaders import text as text_module
from audit.core.loaders._input import Input
from audit.core.vectors import SourceInfo

WORDS = ["b", "A", "a", "c", "a", "C"]
FIRST = [1.0, 2.0, 3.0, 0.0, 5.0, math.nan]


def write_binary(path, words, first):
    """word2vec binary: the same header, then each word, a space and its float32 values."""
    data = f"{len(words)} 3\n".encode() + b"".join(
        w.encode() + b" " + np.array([v, 0, 0], np.float32).tobytes() + b"\n" for w, v in zip(words, first))
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def write(path, words, first, *, header=True, raw_lines=()):
    lines = [f"{w} {v} 0 0".encode() for w, v in zip(words, first)] + list(raw_lines)
    data = (f"{len(lines)} 3\n".encode() if header else b"") + b"\n".join(lines) + b"\n"
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def loads(path, tmp_path, **options):
    """The parse, then the same load from the cache it wrote."""
    cache = tmp_path / "cache"
    return audit.load(path, cache_dir=cache, **options), audit.load(path, cache_dir=cache, **options)


def assert_same(vectors, words, rows, source):
    assert vectors.words == tuple(words)
    expected = np.zeros((len(rows), 3), np.float32)
    expected[:, 0] = [FIRST[r] for r in rows]
    np.testing.assert_array_equal(vectors.matrix, expected)
    assert dict(vectors.key_to_index) == {w: i for i, w in enumerate(words)}
    for i, w in enumerate(words):
        assert vectors.index(w) == i
    np.testing.assert_array_equal(vectors.norms, np.abs(expected[:, 0]))
    assert vectors.source == source


# (case, duplicates, limit) -> kept entries (0-based rows, in file order), their words, entries dropped
CASES = {
    ("keep", "keep-first", None): ([0, 1, 2, 3, 5], ["b", "A", "a", "c", "C"], 1),
    ("keep", "keep-last", None): ([0, 1, 3, 4, 5], ["b", "A", "c", "a", "C"], 1),
    ("lower", "keep-first", None): ([0, 1, 3], ["b", "a", "c"], 3),
    ("lower", "keep-last", None): ([0, 4, 5], ["b", "a", "c"], 3),
    ("keep", "keep-first", 5): ([0, 1, 2, 3], ["b", "A", "a", "c"], 1),
}
# the text parser tells whether its words are distinct (a polars hash pass); for binary the loader asks a set
FORMATS = {"word2vec-text": write, "word2vec-bin": write_binary}


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("case, duplicates, limit", list(CASES))
def test_case_and_duplicate_policies_keep_the_rows_written_by_hand(tmp_path, fmt, case, duplicates, limit):
    path = tmp_path / "e.txt"
    sha = FORMATS[fmt](path, WORDS, FIRST)
    rows, words, dropped = CASES[case, duplicates, limit]
    zero = sum(FIRST[r] == 0 for r in rows)
    nonfinite = sum(math.isnan(FIRST[r]) for r in rows)
    source = SourceInfo(path=str(path), sha256=sha, format=fmt, words=len(rows), dim=3,
                        duplicates_dropped=dropped, duplicate_policy=duplicates, case=case, zero_rows=zero,
                        nonfinite_rows=nonfinite, nonfinite_policy="exclude", header_words=6, limit=limit)
    for vectors in loads(path, tmp_path, case=case, duplicates=duplicates, nonfinite="exclude", limit=limit):
        assert_same(vectors, words, rows, source)


@pytest.mark.parametrize("case, message", [
    ("keep", "the word 'a' appears more than once (entries 3 and 5); pass duplicates='keep-first' or "
             "'keep-last' to choose one."),
    ("lower", "the word 'a' appears more than once (entries 2 and 3); pass duplicates='keep-first' or "
              "'keep-last' to choose one."),
])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_duplicate_is_an_error_naming_both_entries(tmp_path, fmt, case, message):
    path = tmp_path / "e.txt"
    FORMATS[fmt](path, WORDS, FIRST)
    for _ in range(2):    # the parse, then the cached copy
        with pytest.raises(AuditError) as caught:
            audit.load(path, case=case, nonfinite="exclude", cache_dir=tmp_path / "cache")
        assert str(caught.value) == f"{path}: {message}"


def test_a_non_finite_row_is_an_error_by_default_naming_the_first(tmp_path):
    path = tmp_path / "e.txt"
    write(path, ["x", "y", "z", "w"], [1.0, math.nan, math.inf, 2.0])
    for _ in range(2):
        with pytest.raises(AuditError) as caught:
            audit.load(path, cache_dir=tmp_path / "cache")
        assert str(caught.value) == (f"{path}: the vector of 'y' (entry 2) has NaN or infinite values; 2 rows do "
                                     f"(pass nonfinite='exclude' to load them and leave them out of every "
                                     f"similarity).")


@pytest.mark.parametrize("options, words, rows, extra", [
    ({}, ["b", "A", "a", "c"], [0, 1, 2, 3], {}),
    ({"limit": 2}, ["b", "A"], [0, 1], {"limit": 2}),
    ({"unicode_errors": "replace"}, ["b", "A", "a", "c", "\ufffd"], [0, 1, 2, 3, 0],
     {"unicode_errors": "replace", "undecodable_words": 1}),
])
def test_distinct_words_from_the_cache_equal_the_parse(tmp_path, options, words, rows, extra):
    # A file whose words are distinct: the cached copy records it and skips the duplicate search.
    path = tmp_path / "e.txt"
    raw = [b"\xff 1 0 0"] if "unicode_errors" in options else []
    sha = write(path, WORDS[:4], FIRST[:4], raw_lines=raw)
    source = SourceInfo(path=str(path), sha256=sha, format="word2vec-text", words=len(words), dim=3,
                        zero_rows=sum(FIRST[r] == 0 for r in rows), header_words=4 + len(raw), **extra)
    parsed, cached = loads(path, tmp_path, **options)
    for vectors in (parsed, cached):
        assert_same(vectors, words, rows, source)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_lowercasing_distinct_words_from_the_cache(tmp_path, fmt):
    # "A" and "b" stay distinct once lowercased; the parse's and the cached copy's record of
    # distinct words are about the words as written, so lowercasing must still look them up as
    # lowercased.
    path = tmp_path / "e.txt"
    sha = FORMATS[fmt](path, ["b", "A"], [1.0, 2.0])
    source = SourceInfo(path=str(path), sha256=sha, format=fmt, words=2, dim=3, case="lower",
                        header_words=2)
    for vectors in loads(path, tmp_path, case="lower"):
        assert_same(vectors, ["b", "a"], [0, 1], source)
        assert "A" not in vectors


def test_a_cached_copy_is_mapped_not_read(tmp_path):
    # The cache's point is a repeat load in constant time: the matrix handed back is the mapped file.
    path = tmp_path / "e.txt"
    write(path, WORDS[:4], FIRST[:4])
    _, cached = loads(path, tmp_path)
    base = cached.matrix
    while base is not None and not isinstance(base, np.memmap):
        base = base.base
    assert isinstance(base, np.memmap), "the cached matrix was copied into memory"
    assert not cached.matrix.flags.writeable


@pytest.mark.parametrize("lines, options, entries", [
    # the two copies in different pieces of the parse (pieces of 64 bytes here)
    ([b"x 1 0 0"] + [f"f{i} 0 0 1".encode() for i in range(40)] + [b"x 2 0 0"], {"piece": 64}, (1, 42)),
    # one read by polars, one by the careful path (its bad byte dropped)
    ([b"x 1 0 0", b"y 3 0 0", b"x\xff 2 0 0"], {"unicode_errors": "ignore"}, (1, 3)),
    # both read by the careful path (a word with a space)
    ([b"a b 1 0 0", b"y 3 0 0", b"z 3 0 0", b"w 3 0 0", b"a b 2 0 0"], {}, (1, 5)),
])
def test_a_duplicate_is_found_whichever_path_read_each_copy(tmp_path, monkeypatch, lines, options, entries):
    options = dict(options)
    if "piece" in options:
        monkeypatch.setattr(text_module, "CHUNK_BYTES", options.pop("piece"))
    path = tmp_path / "e.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")          # GloVe text: no header
    with pytest.raises(AuditError, match=rf"appears more than once \(entries {entries[0]} and {entries[1]}\)"):
        audit.load(path, **options)
    kept = audit.load(path, duplicates="keep-last", **options)
    assert len(kept) == len(lines) - 1 and kept.source.duplicates_dropped == 1
    assert kept.index(kept.words[-1]) == len(kept) - 1


def test_distinct_words_read_by_both_paths_need_no_policy(tmp_path, monkeypatch):
    monkeypatch.setattr(text_module, "CHUNK_BYTES", 64)
    lines = [b"a b 1 0 0", b"x 1 0 0", b"x\xff 2 0 0", b"y 3 0 0"] + [f"f{i} 0 0 1".encode() for i in range(30)]
    path = tmp_path / "e.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    vectors = audit.load(path, unicode_errors="replace")
    assert vectors.words[:4] == ("a b", "x", "x\ufffd", "y") and len(vectors) == 34
    assert vectors.source.duplicates_dropped == 0
    assert [vectors.index(w) for w in vectors.words] == list(range(34))


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("words, distinct", [
    (["a b", "x", "y", "z"], True),          # "a b" is read by the careful path, the rest by polars
    (["a b", "x", "a b", "z"], False),       # a duplicate among the careful path's words
    (["a b", "x", "y", "x"], False),         # a duplicate among polars' words
])
def test_the_parse_says_whether_its_words_are_distinct(tmp_path, monkeypatch, fast, words, distinct):
    # What lets the loader skip the duplicate search (and the word -> row dict) for distinct words:
    # the text parser's polars pass, or, when polars read no line, the loader's own set.
    if not fast:      # no line goes to polars
        monkeypatch.setattr(text_module, "FAST_MAX_DIM", 0)
    path = tmp_path / "e.txt"
    write(path, words, [1.0] * len(words))
    with Input(Path(path)) as source:
        parsed = text_module.parse_text(source, header=True)
    assert parsed.words == words
    assert parsed.unique is (distinct if fast else None)
    assert _distinct(parsed) is distinct
