"""Loaders: round trips with files written by gensim or numpy, tricky words, every bad input."""

from __future__ import annotations

import bz2
import gzip
import pickle

import time

import numpy as np
import pytest
from gensim.models import KeyedVectors

import audit
from audit.core.errors import AuditError
from audit.core.loaders import detect_format, save_npz, save_word2vec_text

TRICKY = ['"', "nan", "NaN", "null", "NULL", "NA", "None", "true", "#", "1e5", "'", "it's", "café", "日本"]


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(300)] + TRICKY
    matrix = rng.normal(size=(len(words), 6)).astype(np.float32)
    return words, matrix


def _keyed(words, matrix):
    kv = KeyedVectors(matrix.shape[1])
    kv.add_vectors(words, matrix)
    return kv


def _check_same(vectors, words, matrix, fmt):
    assert list(vectors.words) == list(words)
    assert vectors.source.format == fmt
    assert vectors.matrix.dtype == np.float32
    assert np.abs(vectors.matrix - matrix).max() <= 1e-6
    assert vectors.source.sha256 and len(vectors.source.sha256) == 64


def test_word2vec_text_written_by_gensim(tmp_path, reference):
    words, matrix = reference
    path = tmp_path / "vectors.txt"
    _keyed(words, matrix).save_word2vec_format(str(path))
    _check_same(audit.load(path), words, matrix, "word2vec-text")


def test_word2vec_binary_written_by_gensim(tmp_path, reference):
    words, matrix = reference
    path = tmp_path / "vectors.bin"
    _keyed(words, matrix).save_word2vec_format(str(path), binary=True)
    _check_same(audit.load(path), words, matrix, "word2vec-bin")


def test_glove_text_without_header(tmp_path, reference):
    words, matrix = reference
    path = tmp_path / "glove.txt"
    _keyed(words, matrix).save_word2vec_format(str(path), write_header=False)
    _check_same(audit.load(path), words, matrix, "glove-text")
    # gensim reads the same file with no_header=True: identical words and values.
    kv = KeyedVectors.load_word2vec_format(str(path), no_header=True)
    assert list(kv.index_to_key) == words


@pytest.mark.parametrize("compress,suffix", [(gzip.compress, "gz"), (bz2.compress, "bz2")])
def test_compressed_text(tmp_path, reference, compress, suffix):
    words, matrix = reference
    plain = tmp_path / "v.txt"
    _keyed(words, matrix).save_word2vec_format(str(plain))
    packed = tmp_path / f"v.txt.{suffix}"
    packed.write_bytes(compress(plain.read_bytes()))
    kind = "gzip" if suffix == "gz" else "bz2"
    _check_same(audit.load(packed), words, matrix, f"word2vec-text+{kind}")


def test_npz_written_by_numpy(tmp_path, reference):
    words, matrix = reference
    path = tmp_path / "v.npz"
    np.savez(path, words=np.array(words), matrix=matrix)
    _check_same(audit.load(path), words, matrix, "npz")


def test_gensim_native_needs_allow_pickle(tmp_path, reference):
    words, matrix = reference
    path = tmp_path / "v.kv"
    _keyed(words, matrix).save(str(path))
    with pytest.raises(AuditError, match="pickle"):
        audit.load(path)
    _check_same(audit.load(path, allow_pickle=True), words, matrix, "gensim")


def test_pickled_dict_needs_allow_pickle(tmp_path, reference):
    words, matrix = reference
    path = tmp_path / "v.pkl"
    path.write_bytes(pickle.dumps({w: m for w, m in zip(words, matrix)}))
    with pytest.raises(AuditError, match="can run arbitrary code"):
        audit.load(path)
    _check_same(audit.load(path, allow_pickle=True), words, matrix, "pickle")


def test_our_writers_round_trip(tmp_path, reference):
    words, matrix = reference
    vectors = audit.Vectors(words, matrix)
    save_word2vec_text(vectors, tmp_path / "a.txt")
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "a.txt"))
    assert list(kv.index_to_key) == words
    assert np.abs(kv.vectors - matrix).max() < 1e-5
    save_npz(vectors, tmp_path / "a.npz")
    _check_same(audit.load(tmp_path / "a.npz"), words, matrix, "npz")


def test_format_is_detected_from_content_not_extension(tmp_path, reference):
    words, matrix = reference
    path = tmp_path / "misleading.bin"
    _keyed(words, matrix).save_word2vec_format(str(path))  # text, despite the name
    assert detect_format(path.read_bytes()) == "word2vec-text"
    assert audit.load(path).source.format == "word2vec-text"


def test_word_with_spaces_is_everything_before_the_last_dim_fields(tmp_path):
    path = tmp_path / "spaces.txt"
    path.write_text("a 1 2 3\nnew york 4 5 6\n. . . 7 8 9\nb 0.5 0.25 1\n", encoding="utf-8")
    vectors = audit.load(path)
    assert vectors.words == ("a", "new york", ". . .", "b")
    np.testing.assert_array_equal(vectors.matrix[1], [4, 5, 6])
    assert vectors.source.words_with_spaces == 2


def test_crlf_and_trailing_spaces_and_no_final_newline(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"2 3\r\nx 1 2 3 \r\ny 4 5 6")
    vectors = audit.load(path)
    assert vectors.words == ("x", "y")
    np.testing.assert_array_equal(vectors.matrix, [[1, 2, 3], [4, 5, 6]])


def test_limit_case_and_duplicate_policies(tmp_path):
    path = tmp_path / "dups.txt"
    path.write_text("Apple 1 0\napple 0 1\nPear 1 1\nfig 2 2\n", encoding="utf-8")
    assert audit.load(path, limit=2).words == ("Apple", "apple")
    with pytest.raises(AuditError, match="appears more than once"):
        audit.load(path, case="lower")
    first = audit.load(path, case="lower", duplicates="keep-first")
    assert first.words == ("apple", "pear", "fig")
    np.testing.assert_array_equal(first.vector("apple"), [1, 0])
    assert first.source.duplicates_dropped == 1
    last = audit.load(path, case="lower", duplicates="keep-last")
    np.testing.assert_array_equal(last.vector("apple"), [0, 1])


def test_cache_gives_identical_vectors(tmp_path, reference):
    words, matrix = reference
    path = tmp_path / "v.txt"
    _keyed(words, matrix).save_word2vec_format(str(path))
    first = audit.load(path, cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache" / "vectors").glob("*.npy"))
    second = audit.load(path, cache_dir=tmp_path / "cache")
    assert second.words == first.words
    np.testing.assert_array_equal(second.matrix, first.matrix)


# ---------------------------------------------------------------------------------- bad input
BAD_TEXT = {
    "empty": (b"", "is empty"),
    "header_larger": (b"3 2\na 1 2\nb 3 4\n", "header promises 3 words"),
    "header_smaller": (b"1 2\na 1 2\nb 3 4\n", "header promises 1 words"),
    "inconsistent_dims": (b"a 1 2 3\nb 1 2\nc 1 2 3\n", "line 2 has 2 values, expected 3"),
    "extra_number": (b"2 2\na 1 2\nb 3 4 5\n", "line 3 has 3 values, expected 2"),
    "non_numeric": (b"a 1 2\nb 3 x\nc 5 6\n", "line 2 has a value that is not a number"),
    "nan_values": (b"a 1 2\nb nan 3\n", "NaN or infinite"),
    "inf_values": (b"a 1 2\nb inf 3\n", "NaN or infinite"),
    "duplicates": (b"a 1 2\na 3 4\n", "appears more than once"),
    "invalid_utf8": (b"a 1 2\n\xff\xfe 3 4\n", "line 2 is not valid UTF-8"),
    "blank_line": (b"a 1 2\n\nb 3 4\n", "line 2 is empty"),
    # random bytes: neither text nor any binary format
    "not_text": (b"w" + bytes(np.random.default_rng(0).integers(128, 256, 3000, dtype=np.uint8)), "is not UTF-8 text"),
    # headers promising what no file of this size can hold (read as word2vec binary)
    "absurd_dimension": (b"2 1000000000000000000000000000000\na 1\n", "more values than a text line holds"),
    "absurd_binary_dimension": (b"2 1000000000000000000000000000000\na \x00\x01\n", "not one complete entry follows"),
    "header_only": (b"3 2\n", "header promises 3 words but the body has fewer lines (0)"),
    "truncated_binary": (b"10 3\n" + b"".join(b"w%d " % i + np.array([1, 2, 3], "<f4").tobytes() + b"\n"
                                               for i in range(4)), "only 4 complete entries were found"),
    "binary_empty_word": (b"1 2\n " + np.array([1, 2], "<f4").tobytes() + b"\n", "entry 1 has an empty word"),
}


@pytest.mark.parametrize("name", sorted(BAD_TEXT))
def test_bad_text_input_gives_one_sentence_and_exit_2(tmp_path, run_cli, name):
    content, message = BAD_TEXT[name]
    path = tmp_path / f"{name}.txt"
    path.write_bytes(content)
    out_json = tmp_path / "out.json"
    code, out, err = run_cli("info", path, "--json", out_json)
    assert code == 2
    assert message in err
    assert err.startswith("audit: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not out_json.exists()


def test_nonfinite_rows_can_be_excluded_with_a_count(tmp_path):
    path = tmp_path / "nan.txt"
    path.write_text("a 1 0\nb nan 3\nc 0 1\n", encoding="utf-8")
    vectors = audit.load(path, nonfinite="exclude")
    assert vectors.source.nonfinite_rows == 1
    assert list(vectors.valid) == [True, False, True]
    assert np.isnan(vectors.similarity("a", "b"))
    idx, _ = vectors.nearest([0], k=2)
    assert 1 not in idx[0]


def test_zero_vectors_are_flagged_and_counted(tmp_path, run_cli):
    path = tmp_path / "zero.txt"
    path.write_text("a 1 0\nz 0 0\nc 0 1\n", encoding="utf-8")
    vectors = audit.load(path)
    assert vectors.source.zero_rows == 1
    assert np.isnan(vectors.similarity("a", "z"))
    code, out, _ = run_cli("info", path)
    assert code == 0 and "zero rows" in out


def test_truncated_binary(tmp_path, reference):
    words, matrix = reference
    path = tmp_path / "v.bin"
    _keyed(words, matrix).save_word2vec_format(str(path), binary=True)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(AuditError, match="truncated"):
        audit.load(path)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "v.txt.gz"
    path.write_bytes(gzip.compress(b"a 1 2\nb 3 4\n" * 100)[:-20])
    with pytest.raises(AuditError, match="truncated or damaged"):
        audit.load(path)


def test_directory_and_missing_path(tmp_path, run_cli):
    code, _, err = run_cli("info", tmp_path)
    assert code == 2 and "is a directory" in err
    code, _, err = run_cli("info", tmp_path / "nope.txt")
    assert code == 2 and "no such file" in err


def test_pickle_without_flag_through_the_cli(tmp_path, run_cli):
    path = tmp_path / "v.pkl"
    path.write_bytes(pickle.dumps({"a": [1.0, 2.0]}))
    code, _, err = run_cli("info", path)
    assert code == 2 and "--allow-pickle" in err
    code, out, _ = run_cli("info", path, "--allow-pickle")
    assert code == 0 and "pickle" in out


def test_npz_with_object_words_is_refused(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, words=np.array(["a", "b"], dtype=object), matrix=np.ones((2, 2)))
    with pytest.raises(AuditError, match="its 'words' array is stored as Python objects .a pickle.; save it "
                                         "as a unicode string array"):
        audit.load(path)


def test_npz_with_an_object_matrix_names_the_matrix(tmp_path):
    # The reviewer's case: the message blamed the 'words' array.
    path = tmp_path / "obj.npz"
    np.savez(path, words=np.array(["a", "b"]), matrix=np.array([[1, 2], [3, 4]], dtype=object))
    with pytest.raises(AuditError, match="its 'matrix' array is stored as Python objects .a pickle.; save it "
                                         "as a numeric array"):
        audit.load(path)


def test_usage_error_is_one_sentence(run_cli):
    code, _, err = run_cli("info")
    assert code == 2 and "required" in err and "Traceback" not in err


def test_trailing_blank_lines_and_limit_on_the_fast_path(tmp_path):
    path = tmp_path / "tail.txt"
    path.write_text("a 1 2\nb 3 4\nc 5 6\n\n\n", encoding="utf-8")
    assert audit.load(path).words == ("a", "b", "c")
    limited = audit.load(path, limit=2)
    assert limited.words == ("a", "b")
    np.testing.assert_array_equal(limited.matrix, [[1, 2], [3, 4]])


def test_a_short_line_balanced_by_a_long_one_is_still_caught(tmp_path):
    # Same total number of spaces as a regular file: the fast path must not accept it.
    path = tmp_path / "balanced.txt"
    path.write_text("a 1 2 3\nb 1 2\nc 1 2 3 4\nd 1 2 3\n", encoding="utf-8")
    with pytest.raises(AuditError, match="line 2 has 2 values, expected 3"):
        audit.load(path)


def test_nan_written_in_the_file_is_told_apart_from_a_missing_value(tmp_path):
    path = tmp_path / "nanword.txt"
    path.write_text("nan 1 2\nNULL nan 3\n", encoding="utf-8")
    vectors = audit.load(path, nonfinite="exclude")
    assert vectors.words == ("nan", "NULL") and vectors.source.nonfinite_rows == 1


def test_parsing_in_pieces_gives_the_same_vectors(tmp_path, reference, monkeypatch):
    import audit.core.loaders.text as text
    words, matrix = reference
    path = tmp_path / "v.txt"
    _keyed(words, matrix).save_word2vec_format(str(path))
    whole = audit.load(path)
    monkeypatch.setattr(text, "CHUNK_BYTES", 97)   # a few lines per piece, cut anywhere
    loaded = audit.load(path)
    _check_same(loaded, words, matrix, "word2vec-text")
    np.testing.assert_array_equal(loaded.matrix, whole.matrix)
    # the pieces' words enter one index in row order
    assert list(loaded.key_to_index.items()) == [(w, i) for i, w in enumerate(words)]
    limited = audit.load(path, limit=7)   # stops after the seventh line
    assert limited.words == tuple(words[:7]) and np.array_equal(limited.matrix, matrix[:7].astype(np.float32))
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2 3\n" * 50 + "b 1 2\n" + "c 1 2 3 4\n" + "d 1 2 3\n" * 50, encoding="utf-8")
    with pytest.raises(AuditError, match="line 51 has 2 values, expected 3"):
        audit.load(bad)
    # a word repeated in two different pieces is still a duplicate, with both entries named
    repeated = tmp_path / "repeated.txt"
    repeated.write_text("".join(f"w{i} {i} 1\n" for i in range(60)) + "w3 9 9\n", encoding="utf-8")
    with pytest.raises(AuditError, match=r"'w3' appears more than once \(entries 4 and 61\)"):
        audit.load(repeated)
    kept = audit.load(repeated, duplicates="keep-last")
    assert len(kept) == 60 and kept.vector("w3").tolist() == [9, 9] and kept.index("w59") == 58
    assert dict(kept.key_to_index) == {w: i for i, w in enumerate(kept.words)}
    # a blank line at the end of one piece is an error when the next piece has lines
    gap = tmp_path / "gap.txt"
    gap.write_text("".join(f"w{i} {i} 1\n" for i in range(20)) + "\n" + "z 1 1\n", encoding="utf-8")
    with pytest.raises(AuditError, match="line 21 is empty"):
        audit.load(gap)


def test_polars_is_imported_only_for_text(tmp_path, reference):
    import subprocess
    import sys
    words, matrix = reference
    text, binary = tmp_path / "v.txt", tmp_path / "v.bin"
    _keyed(words, matrix).save_word2vec_format(str(text))
    _keyed(words, matrix).save_word2vec_format(str(binary), binary=True)
    compressed = tmp_path / "v.txt.gz"
    compressed.write_bytes(gzip.compress(text.read_bytes()))
    npz = tmp_path / "v.npz"
    np.savez(npz, words=np.array(words), matrix=matrix)
    for path, expected in ((binary, "False"), (npz, "False"), (text, "True"), (compressed, "True")):
        code = f"import sys, audit; audit.load({str(path)!r}); print('polars' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.strip() == expected, path.name


def test_cache_sees_an_edit_whose_modification_time_was_put_back(tmp_path):
    """Same size, same inode, mtime restored (touch -r): the change time still moves, so the cache
    misses and the edit is read (it returned the old vectors and the old sha256)."""
    import hashlib
    import os
    path = tmp_path / "v.txt"
    path.write_text("2 2\na 1.5 2.5\nb 3.5 4.5\n", encoding="utf-8")
    first = audit.load(path, cache_dir=tmp_path / "cache")
    before = os.stat(path)
    time.sleep(0.01)
    with open(path, "r+b") as handle:
        handle.seek(path.read_bytes().index(b"3.5"))
        handle.write(b"9.5")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns and os.stat(path).st_size == before.st_size
    second = audit.load(path, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(first.vector("b"), [3.5, 4.5])
    np.testing.assert_array_equal(second.vector("b"), [9.5, 4.5])
    assert second.source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() != first.source.sha256


def test_an_edited_file_leaves_one_cache_entry_and_others_are_kept(tmp_path):
    """Each edit of a file made a new entry beside the stale ones (four files each, never removed):
    writing an entry now removes its slot's older entries (same file, same options), and nothing
    else in the folder: another file's entry, the same file read with --limit, an entry written
    before slots were recorded, a file of the user's."""
    import json
    import os
    cache = tmp_path / "cache"
    path, other = tmp_path / "v.txt", tmp_path / "w.txt"
    other.write_text("1 2\nz 1 2\n", encoding="utf-8")
    audit.load(other, cache_dir=cache)
    for version in range(3):
        path.write_text(f"2 2\na {version} 2.5\nb 3.5 4.5\n", encoding="utf-8")
        os.utime(path, ns=(version * 10**9, version * 10**9))
        audit.load(path, cache_dir=cache, limit=1 if version == 0 else None)
    folder = cache / "vectors"
    user_file = folder / "notes.json"
    user_file.write_text('{"slot": "mine"}')
    path.write_text("2 2\na 7 2.5\nb 3.5 4.5\n", encoding="utf-8")
    latest = audit.load(path, cache_dir=cache)
    metas = [json.loads(p.read_text()) for p in folder.glob("*.json") if p != user_file]
    # the other file's entry, the limit=1 entry and the newest full read: three entries, four files each
    assert len(metas) == 3 and len(list(folder.iterdir())) == 3 * 4 + 1, sorted(p.name for p in folder.iterdir())
    from audit.core.loaders.cache import cache_slot
    slots = [cache_slot(p, format=None, limit=limit, unicode_errors="strict") for p, limit in
             ((other, None), (path, 1), (path, None))]
    assert sorted(m["slot"] for m in metas) == sorted(slots)
    assert user_file.read_text() == '{"slot": "mine"}'
    np.testing.assert_array_equal(latest.vector("a"), [7, 2.5])
    np.testing.assert_array_equal(audit.load(path, cache_dir=cache).vector("a"), [7, 2.5])   # a hit
    # an entry without a slot (written before slots) is never removed
    slotless = folder / ("0" * 40 + ".json")
    slotless.write_text(json.dumps({k: v for k, v in metas[0].items() if k != "slot"}))
    path.write_text("2 2\na 8 2.5\nb 3.5 4.5\n", encoding="utf-8")
    audit.load(path, cache_dir=cache)
    assert slotless.exists()


def test_wide_rows_are_parsed_exactly_and_checked_like_narrow_ones(tmp_path):
    """Rows wider than FAST_MAX_DIM are read without a Python object per value: the values equal
    Python's float() of each field, a word with spaces is kept, and every field float() or the
    README refuses ('1_0', non-ASCII digits) is refused here too."""
    from audit.core.loaders.text import FAST_MAX_DIM
    dim = FAST_MAX_DIM + 904
    rng = np.random.default_rng(7)
    fields = [[repr(float(v)) for v in rng.standard_normal(dim)] for _ in range(2)]
    fields[0][:4] = ["1e5", "-Infinity", "+.5e-3", "1.e5"]
    path = tmp_path / "wide.txt"
    path.write_text(f"2 {dim}\nnew york {' '.join(fields[0])}\nb {' '.join(fields[1])}\n", encoding="utf-8")
    loaded = audit.load(path, nonfinite="exclude")
    assert list(loaded.words) == ["new york", "b"]
    np.testing.assert_array_equal(loaded.matrix, np.array([[float(f) for f in row] for row in fields], np.float32))
    base = " ".join(["1"] * (dim - 1))
    for bad in ("1_0", "1e", "1.2.3", "True", "0x10", "infinityx", "--1", ".e5", "\u0663"):
        path.write_text(f"2 {dim}\na {base} 1\nb {base} {bad}\n", encoding="utf-8")
        with pytest.raises(AuditError, match="line 3 has a value that is not a number"):
            audit.load(path)


def test_a_cache_that_cannot_be_written_only_warns_and_leaves_nothing(tmp_path, caplog, monkeypatch):
    """A full or read-only cache folder made the whole audit fail (exit 2) and an interrupted write
    left a visible KEY.npy.part; two processes writing one entry crashed on the shared .part names.
    Now each write has hidden temporary names of its own, a failure warns and leaves nothing, and the
    parse is returned all the same."""
    import errno
    import logging
    from audit.core.loaders import cache as cache_module

    path = tmp_path / "v.txt"
    path.write_text("2 2\na 1.5 2.5\nb 3.5 4.5\n", encoding="utf-8")
    folder = tmp_path / "cache"
    real_save = np.save
    calls = []

    def full_disk(handle, array, *a, **k):
        calls.append(1)
        if len(calls) == 2:      # the norms: the matrix's temporary file is already written
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(handle, array, *a, **k)
    monkeypatch.setattr(cache_module.np, "save", full_disk)
    with caplog.at_level(logging.WARNING):
        vectors = audit.load(path, cache_dir=folder)
    np.testing.assert_array_equal(vectors.vector("b"), [3.5, 4.5])
    assert "could not write the cache in" in caplog.text and "No space left on device" in caplog.text
    assert list((folder / "vectors").iterdir()) == []
    monkeypatch.setattr(cache_module.np, "save", real_save)
    # another process's temporary files of the same entry are not this write's: left alone
    other = folder / "vectors" / ".someone.npy.abcd1234.part"
    other.write_bytes(b"theirs")
    audit.load(path, cache_dir=folder)
    names = sorted(p.name for p in (folder / "vectors").iterdir())
    assert other.read_bytes() == b"theirs" and len(names) == 5 and not any(n.endswith(".part") and n != other.name
                                                                             for n in names)
    assert audit.load(path, cache_dir=folder).source.sha256 == vectors.source.sha256   # a hit
