"""Loaders on real files as they come and on hostile inputs (issues 14, 15, 21 part 4).

fastText .bin against gensim's load_facebook_vectors; --unicode-errors against gensim's own
option; pipes, devices, huge lines, damaged archives and cache keys through the CLI (exit 2,
one line, no traceback).
"""

from __future__ import annotations

import gzip
import logging
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import gensim
import numpy as np
import pytest
from gensim.models import KeyedVectors

import audit
from audit.core.errors import AuditError
from audit.core.loaders import detect_format
from audit.core.loaders.fasttext_bin import ngram_hash, ngrams

GENSIM_DATA = Path(gensim.__file__).parent / "test" / "test_data"
AUDIT = Path(sys.executable).parent / "audit"


def _cli(*args, timeout=60, stdin=None, limit_gb=None):
    """The installed console script in a child (optionally with an address-space limit)."""
    def limits():
        if limit_gb:
            import resource
            resource.setrlimit(resource.RLIMIT_AS, (limit_gb << 30, limit_gb << 30))
    proc = subprocess.run([str(AUDIT), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          stdin=stdin, preexec_fn=limits)
    return proc.returncode, proc.stdout, proc.stderr


def _one_sentence(code, err, expected_code=2):
    assert code == expected_code, err
    assert err.startswith("audit: ") and err.count("\n") == 1 and "Traceback" not in err, err


# ------------------------------------------------------------------------------ import hygiene
def test_importing_the_loaders_imports_no_heavy_library():
    code = ("import sys, audit.core.loaders; "
            "print(sorted(m for m in ('torch', 'sklearn', 'matplotlib', 'transformers', 'gensim', 'pandas', "
            "'polars') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------------------ fastText .bin
@pytest.mark.parametrize("name", ["lee_fasttext.bin", "lee_fasttext_new.bin", "non_ascii_fasttext.bin"])
def test_fasttext_bin_equals_gensims_load_facebook_vectors(name):
    from gensim.models.fasttext import load_facebook_vectors
    logging.disable(logging.WARNING)
    try:
        kv = load_facebook_vectors(str(GENSIM_DATA / name))
    finally:
        logging.disable(logging.NOTSET)
    vectors = audit.load(GENSIM_DATA / name)
    assert vectors.source.format == "fasttext-bin"
    assert list(vectors.words) == list(kv.index_to_key)
    rows = [i for i, w in enumerate(vectors.words) if w != "</s>"]
    np.testing.assert_allclose(vectors.matrix[rows], kv.vectors[rows], rtol=0, atol=1e-6)
    if "</s>" in vectors:
        # fastText gives the end-of-sentence token no n-grams (Dictionary::initNgrams); gensim does
        kind = "old" if name == "lee_fasttext.bin" else "new"
        assert kind and np.abs(vectors.vector("</s>")).max() > 0


def test_fasttext_hash_and_ngrams_follow_fasttext():
    # FNV-1a over bytes, each byte sign-extended as int8 (fastText's dictionary.cc)
    def reference(data: bytes) -> int:
        h = 2166136261
        for b in data:
            signed = b - 256 if b >= 128 else b
            h = ((h ^ (signed & 0xFFFFFFFF)) * 16777619) % 2**32
        return h
    for text in (b"<wh", b"abc>", "<caf\u00e9".encode(), "\u65e5\u672c".encode()):
        assert ngram_hash(text) == reference(text)
    # n-grams of "<ab>" with minn 1, maxn 2: the lone "<" and ">" are left out
    assert ngrams("ab", 1, 2) == [b"<a", b"a", b"ab", b"b", b"b>"]
    assert ngrams("\u00e9", 1, 1) == ["\u00e9".encode()]   # a two-byte character is one n-gram


def test_fasttext_bin_refusals(tmp_path):
    supervised = GENSIM_DATA / "pang_lee_polarity_fasttext.bin"
    with pytest.raises(AuditError, match="supervised fastText model"):
        audit.load(supervised)
    truncated = tmp_path / "cut.bin"
    truncated.write_bytes((GENSIM_DATA / "lee_fasttext_new.bin").read_bytes()[:5000])
    with pytest.raises(AuditError, match="truncated fastText .bin model"):
        audit.load(truncated)
    with pytest.raises(AuditError, match=r"not valid UTF-8 \(pass unicode_errors='replace' or 'ignore'"):
        audit.load(GENSIM_DATA / "cp852_fasttext.bin")
    replaced = audit.load(GENSIM_DATA / "cp852_fasttext.bin", unicode_errors="replace", duplicates="keep-first")
    assert replaced.source.undecodable_words > 0


def test_audit_all_on_gensims_fasttext_files(tmp_path):
    code, out, err = _cli("all", GENSIM_DATA / "lee_fasttext.bin", "--out", tmp_path / "bin", timeout=300)
    assert code == 0, err
    assert (tmp_path / "bin" / "report.md").exists()
    vec = GENSIM_DATA / "pang_lee_polarity_fasttext.vec"
    code, _, err = _cli("all", vec, "--out", tmp_path / "strict", timeout=300)
    assert code == 2 and "Traceback" not in err   # `audit all` names the embedding it starts on first
    assert "--unicode-errors replace or ignore" in err.splitlines()[-1] and not (tmp_path / "strict").exists()
    code, out, err = _cli("all", vec, "--unicode-errors", "replace", "--out", tmp_path / "vec", timeout=300)
    assert code == 0, err
    info = next((tmp_path / "vec" / "results").glob("*.info.json")).read_text()
    assert '"undecodable_words": 5' in info and '"unicode_errors": "replace"' in info


# ------------------------------------------------------------------------------ unicode errors
@pytest.mark.parametrize("policy", ["replace", "ignore"])
def test_unicode_errors_as_gensim(policy, tmp_path):
    vec = GENSIM_DATA / "pang_lee_polarity_fasttext.vec"
    if policy == "replace":
        kv = KeyedVectors.load_word2vec_format(str(vec), unicode_errors=policy)
        vectors = audit.load(vec, unicode_errors=policy)
        assert vectors.source.undecodable_words == 5 and vectors.source.unicode_errors == policy
        assert list(vectors.words) == list(kv.index_to_key)
        np.testing.assert_array_equal(vectors.matrix, kv.vectors)
    else:   # one of its words is nothing but bad bytes: gensim keeps the empty word, an empty word is refused
        with pytest.raises(AuditError, match="line 150's word is empty once its bad bytes are dropped"):
            audit.load(vec, unicode_errors=policy)
    # the same lines through the fast path's retry: one undecodable word in a long regular file
    path = tmp_path / "one_bad.txt"
    path.write_bytes(b"".join(b"w%d 1 2\n" % i for i in range(500)) + b"caf\xe9 3 4\n" + b"z 5 6\n")
    loaded = audit.load(path, unicode_errors=policy)
    assert loaded.words[500] == ("caf\ufffd" if policy == "replace" else "caf") and len(loaded) == 502
    assert loaded.source.undecodable_words == 1


def test_unicode_errors_strict_names_the_option_at_the_cli(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"a 1 2\ncaf\xe9 3 4\n")
    code, _, err = _cli("info", path)
    _one_sentence(code, err)
    assert "line 2 is not valid UTF-8 (pass --unicode-errors replace or ignore" in err
    code, out, err = _cli("info", path, "--unicode-errors", "ignore")
    assert code == 0, err


# ------------------------------------------------------------------------------ pipes and devices
def test_a_fifo_is_read_once_and_correctly(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 3\nthe 1 2 3\nof 4 5 6\n", encoding="utf-8")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(path.read_bytes()))
    writer.start()
    vectors = audit.load(fifo)
    writer.join()
    assert vectors.words == ("the", "of")
    assert vectors.source.sha256 == audit.load(path).source.sha256


def test_stdin_and_process_substitution_through_the_cli(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("the 1 2 3\nof 4 5 6\n", encoding="utf-8")
    with open(path, "rb") as handle:
        code, out, err = _cli("info", "/dev/stdin", stdin=handle)
    assert code == 0 and "glove-text" in out, err
    gz = tmp_path / "v.txt.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    with open(gz, "rb") as handle:   # a compressed pipe is decompressed as it streams
        code, out, err = _cli("info", "/dev/stdin", stdin=handle)
    assert code == 0 and "glove-text+gzip" in out, err


def test_dev_zero_is_refused_within_bounded_memory():
    code, _, err = _cli("info", "/dev/zero", timeout=60, limit_gb=2)
    _one_sentence(code, err)
    assert "runs past 64 MB without a line break" in err


def test_a_huge_single_line_is_refused(tmp_path):
    path = tmp_path / "long.txt"
    with open(path, "wb") as handle:
        handle.write(b"w")
        for _ in range(70):
            handle.write(b" 1" * (1 << 19))
    code, _, err = _cli("info", path, timeout=60, limit_gb=2)
    _one_sentence(code, err)
    assert "line 1 runs past 64 MB" in err


def test_two_rows_of_a_million_fields_load_without_crashing(tmp_path):
    path = tmp_path / "wide.txt"
    fields = " ".join(["0.5"] * 999_999)
    path.write_text(f"a {fields}\nb {fields}\n", encoding="utf-8")
    code, out, err = _cli("info", path, timeout=120, limit_gb=3)
    assert code == 0, err
    assert "999,999" in out
    bad = tmp_path / "wide_bad.txt"
    bad.write_text(f"a {fields}\nb {fields} 1\n", encoding="utf-8")
    code, _, err = _cli("info", bad, timeout=120, limit_gb=3)
    _one_sentence(code, err)
    assert "line 2 has 1000000 values, expected 999999" in err


# ------------------------------------------------------------------------------ damaged files
def _npz_bytes(tmp_path, **arrays) -> bytes:
    path = tmp_path / "tmp.npz"
    np.savez(path, **arrays)
    data = path.read_bytes()
    path.unlink()
    return data


def test_damaged_inputs_are_one_sentence_and_exit_2(tmp_path):
    good = b"a 1 2\nb 3 4\n" * 50
    gz = bytearray(gzip.compress(good))
    gz[30:40] = b"\x00" * 10   # corrupt deflate data (zlib.error inside gzip)
    npz = _npz_bytes(tmp_path, words=np.array(["a", "b"]), matrix=np.ones((2, 2), np.float32))
    bad_words = _npz_bytes(tmp_path, words=np.array([b"a", b"\xff\xfe"]), matrix=np.ones((2, 2)))
    cases = {
        "corrupt.gz": (bytes(gz), [], "truncated or damaged gzip"),
        "truncated.npz": (npz[:len(npz) // 2], [], "not a readable .npz archive"),
        "nonutf8.npz": (bad_words, [], "word 2 of 'words' is not valid UTF-8"),
        "strings.pkl": (pickle.dumps({"a": "x y", "b": "1 2"}), ["--allow-pickle"], "value of 'a' is a str"),
        "glove_as_w2v.txt": (b"a 1 2\nb 3 4\n", ["--format", "word2vec-text"], "is not the '<words> <dim>' header"),
        "tabs.txt": (b"2 3\na\t1\t2\t3\nb\t4\t5\t6\n", [], "separates its fields with tabs"),
        "tabs_glove.txt": (b"a\t1\t2\t3\nb\t4\t5\t6\n", [], "separated by tabs"),
        "nonnumber_first_row.txt": (b"2 3\na 1 x 3\nb 4 5 6\n", [], "line 2 has a value that is not a number"),
        "true.txt": (b"a True 1\nb 1 2\n", [], "line 1 has a value that is not a number"),
        "underscore.txt": (b"a 1_0 1\nb 1 2\n", [], "line 1 has a value that is not a number"),
        "empty_word.txt": (b"a 1 2\n 3 4\n", [], "line 2 has an empty word"),
        "empty_field.txt": (b"a 1 2\nb  4\n", [], "line 2 has a value that is not a number"),
    }
    for name, (content, extra, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        before = path.read_bytes()
        code, _, err = _cli("info", path, *extra)
        _one_sentence(code, err)
        assert message in err, (name, err)
        assert path.read_bytes() == before
    # --cache-dir naming a file
    text = tmp_path / "ok.txt"
    text.write_bytes(good[:12])
    code, _, err = _cli("info", text, "--cache-dir", tmp_path / "truncated.npz")
    _one_sentence(code, err)
    assert "is a file, not a folder" in err


def test_numbers_are_python_float_syntax_without_underscores(tmp_path):
    accepted = ["1", "-0.5", "+.5", "5.", "1e-3", "1E+3", "inf", "-Infinity", "nan", "NaN", "-0", "00.1"]
    rejected = ["True", "false", "1_0", "0x10", "1e", ".", "-", "1.2.3", "\u0661", "1,5", "infinit", "1d5"]
    rng = np.random.default_rng(3)
    for token in accepted + rejected:
        # the same token on a regular line (fast path) and on a line with a spaced word (careful path)
        for word in ("w", "two words"):
            path = tmp_path / "n.txt"
            lines = [f"a{i} 1 2" for i in range(int(rng.integers(1, 40)))] + [f"{word} {token} 1", "z 1 2"]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            if token in accepted:
                vectors = audit.load(path, nonfinite="exclude")
                value = vectors.vector(word)[0]
                assert np.isnan(value) if "n" in token.lower() and "i" not in token.lower() else \
                    value == np.float32(float(token)), token
            else:
                with pytest.raises(AuditError, match="not a number"):
                    audit.load(path)


# ------------------------------------------------------------------------------ detection
def test_a_pickled_dict_holding_the_word_gensim_is_a_plain_pickle(tmp_path):
    data = pickle.dumps({"gensim": np.ones(2, np.float32), "b": np.zeros(2, np.float32)})
    assert detect_format(data) == "pickle"
    kv = KeyedVectors(2)
    kv.add_vectors(["a"], np.ones((1, 2), np.float32))
    kv.save(str(tmp_path / "kv"))
    assert detect_format((tmp_path / "kv").read_bytes()) == "gensim"


def test_text_with_a_header_is_not_called_binary():
    assert detect_format(b"2 3\na\t1\t2\t3\n") == "word2vec-text"
    assert detect_format(b"2 3\na 1 x 3\nb 1 2 3\n") == "word2vec-text"
    assert detect_format(b"2 3\na 1 2\n") == "word2vec-text"   # too few values: the text parser says so
    binary = b"1 3\na " + np.array([0.1, -2.0, 3.5], "<f4").tobytes() + b"\n"
    assert detect_format(binary) == "word2vec-bin"


def test_a_bom_at_the_start_is_not_part_of_the_first_word(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf2 2\na 1 2\nb 3 4\n")
    assert audit.load(path).words == ("a", "b")


# ------------------------------------------------------------------------------ cache
def test_cache_key_covers_every_option_that_changes_the_parse(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("3 1\na 1\nb 3\nc 5\n", encoding="utf-8")
    cache = tmp_path / "cache"
    assert audit.load(path, format="glove-text", cache_dir=cache).words[0] == "3"   # the header read as a word
    detected = audit.load(path, cache_dir=cache)
    assert detected.words == ("a", "b", "c") and detected.source.format == "word2vec-text"
    assert audit.load(path, cache_dir=cache, limit=2).words == ("a", "b")
    again = audit.load(path, cache_dir=cache)
    assert again.words == ("a", "b", "c") and again.source.sha256 == detected.source.sha256
    assert again.source.header_words == 3
    np.testing.assert_array_equal(again.norms, detected.norms)
    # a changed file is parsed again, not read from the old entry
    path.write_text("3 1\na 1\nb 3\nd 7\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert audit.load(path, cache_dir=cache).words == ("a", "b", "d")
    # the policies applied after parsing still apply to a cached parse
    dup = tmp_path / "dup.txt"
    dup.write_text("a 1 2\nA 3 4\n", encoding="utf-8")
    audit.load(dup, cache_dir=cache)
    with pytest.raises(AuditError, match="appears more than once"):
        audit.load(dup, cache_dir=cache, case="lower")
    lowered = audit.load(dup, cache_dir=cache, case="lower", duplicates="keep-last")
    assert lowered.words == ("a",) and lowered.vector("a").tolist() == [3, 4]


def test_cached_matrix_is_memory_mapped(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("".join(f"w{i} {i} 1 2\n" for i in range(100)), encoding="utf-8")
    cache = tmp_path / "cache"
    first = audit.load(path, cache_dir=cache)
    second = audit.load(path, cache_dir=cache)
    assert isinstance(second.matrix.base, np.memmap) or isinstance(second.matrix, np.memmap)
    np.testing.assert_array_equal(first.matrix, second.matrix)
    assert second.words == first.words and second.source == first.source


# ------------------------------------------------------------------------------ word2vec binary
@pytest.mark.parametrize("newline", [b"\n", b""])
def test_binary_blocks_equal_gensim_and_name_a_damaged_entry(tmp_path, monkeypatch, newline):
    import audit.core.loaders.word2vec_bin as w2v
    monkeypatch.setattr(w2v, "BLOCK_BYTES", 1000)   # many blocks, entries cut at block ends
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(400)]
    words[123] = "caf\xe9"
    matrix = rng.normal(size=(400, 7)).astype(np.float32)
    entries = [w.encode("latin-1") + b" " + row.tobytes() + newline for w, row in zip(words, matrix)]
    path = tmp_path / "v.bin"
    path.write_bytes(b"400 7\n" + b"".join(entries))
    with pytest.raises(AuditError, match="entry 124 is not valid UTF-8"):
        audit.load(path)
    kv = KeyedVectors.load_word2vec_format(str(path), binary=True, unicode_errors="replace")
    loaded = audit.load(path, unicode_errors="replace")
    assert list(loaded.words) == list(kv.index_to_key) and loaded.source.undecodable_words == 1
    np.testing.assert_array_equal(loaded.matrix, kv.vectors)
    assert audit.load(path, limit=250, unicode_errors="replace").words == tuple(kv.index_to_key[:250])
    damaged = tmp_path / "damaged.bin"
    entries[300] = b" " + matrix[300].tobytes() + newline   # an empty word
    damaged.write_bytes(b"400 7\n" + b"".join(entries))
    with pytest.raises(AuditError, match="entry 301 has an empty word"):
        audit.load(damaged, unicode_errors="replace")


def test_a_file_that_changes_while_it_is_read_is_refused(tmp_path, monkeypatch):
    """A file rewritten during the load gave exit 0, its first part's vectors and the sha256 of a file
    that never existed (the old head, the new tail): the open file's size and times are compared
    before and after the read."""
    from audit.core.loaders import _input

    path = tmp_path / "v.txt"
    path.write_text("2 2\na 1 2\nb 3 4\n", encoding="utf-8")
    real = _input.Input.sha256

    def rewritten_first(self):
        with open(self.path, "ab") as handle:      # another process appends while the parse runs
            handle.write(b"c 5 6\n")
        return real(self)
    monkeypatch.setattr(_input.Input, "sha256", rewritten_first)
    with pytest.raises(AuditError, match=r"v.txt changed while it was read; run again once it is written"):
        audit.load(path)
    monkeypatch.setattr(_input.Input, "sha256", real)
    path.write_text("3 2\na 1 2\nb 3 4\nc 5 6\n", encoding="utf-8")
    assert len(audit.load(path)) == 3                # once it is still, it loads


def _fasttext_header(dim=10, nwords=3, bucket=5, minn=3, maxn=6, size=None):
    """fastText 0.9's magic, version, training arguments and dictionary sizes (nothing after)."""
    import struct
    from audit.core.loaders.detect import FASTTEXT_MAGIC
    return (FASTTEXT_MAGIC + struct.pack("<i", 12)
            + struct.pack("<12id", dim, 5, 5, 1, 5, 1, 1, 2, bucket, minn, maxn, 100, 1e-4)
            + struct.pack("<3iqq", nwords if size is None else size, nwords, 0, 100, -1))


def test_fasttext_header_is_judged_before_the_rest_is_read(tmp_path, monkeypatch):
    """The reviewer's sparse 3 GB file (a header, then zeros): it was read whole (6.3 GB, 27 s)
    before its header (dim 0) was judged; a header promising more than the file holds is refused
    as truncated the same way, before the dictionary."""
    from audit.core.loaders import _input
    reads = []
    real_read = _input.Input.read
    monkeypatch.setattr(_input.Input, "read", lambda self, n=_input.BLOCK_BYTES: reads.append(n) or real_read(self, n))
    sparse = tmp_path / "sparse.bin"
    with open(sparse, "wb") as out:
        out.write(_fasttext_header(dim=0))
        out.truncate(1 << 30)                                 # 1 GiB on paper, a few bytes on disk
    with pytest.raises(AuditError, match=r"fastText header is inconsistent \(dim 0"):
        audit.load(sparse)
    assert len(reads) <= 2                                    # the head, not the gigabyte
    promising = tmp_path / "promising.bin"
    promising.write_bytes(_fasttext_header(dim=300, nwords=2_000_000, bucket=2_000_000) + b"a\x00" + bytes(9))
    with pytest.raises(AuditError, match="truncated fastText .bin model: its header promises 2,000,000 words and "
                                         "a 4,000,000 x 300 input matrix, more than its"):
        audit.load(promising)


def test_fasttext_ngram_length_beyond_any_model_is_refused(tmp_path):
    """maxn 10^6 on a word of 1,800 bytes took 44 s and grew with the cube of the word's length."""
    path = tmp_path / "long.bin"
    path.write_bytes(_fasttext_header(maxn=10**6) + b"x" * 1800 + b"\x00" + bytes(9))
    with pytest.raises(AuditError, match=r"character n-grams of up to 1,000,000 characters \(fastText's default "
                                         r"is 6; at most 100 are read\); the header is damaged"):
        audit.load(path)


def test_incremental_ngram_hashes_equal_hashing_each_ngram():
    from audit.core.loaders.fasttext_bin import ngram_hashes
    rng = np.random.default_rng(5)
    alphabet = list("abcxyz") + ["\u00e9", "\u65e5", "\U0001f600", "<", ">"]
    for _ in range(200):
        word = "".join(rng.choice(alphabet, size=int(rng.integers(1, 12))))
        minn = int(rng.integers(0, 4))
        maxn = int(rng.integers(minn, 9))
        assert list(ngram_hashes(word, minn, maxn)) == [ngram_hash(g) for g in ngrams(word, minn, maxn)]


def test_a_word_with_more_ngrams_than_a_gather_is_summed_in_slices(monkeypatch):
    """A word of 64,000 letters at maxn 100 took 69 s and 801 MB (each n-gram hashed from its
    start, every row gathered at once); its rows are now summed a slice at a time. Forced here
    with a tiny gather: the vectors still equal gensim's."""
    from gensim.models.fasttext import load_facebook_vectors
    from audit.core.loaders import fasttext_bin
    monkeypatch.setattr(fasttext_bin, "GATHER_BYTES", 4 * 10 * 7)      # 7 rows of dim 10 per gather
    logging.disable(logging.WARNING)
    try:
        kv = load_facebook_vectors(str(GENSIM_DATA / "lee_fasttext_new.bin"))
    finally:
        logging.disable(logging.NOTSET)
    vectors = audit.load(GENSIM_DATA / "lee_fasttext_new.bin")
    rows = [i for i, w in enumerate(vectors.words) if w != "</s>"]
    np.testing.assert_allclose(vectors.matrix[rows], kv.vectors[rows], rtol=0, atol=1e-6)


def test_the_ngram_bound_sits_at_100_characters(tmp_path):
    ok, refused = tmp_path / "100.bin", tmp_path / "101.bin"
    ok.write_bytes(_fasttext_header(maxn=100) + b"x\x00" + bytes(9))
    refused.write_bytes(_fasttext_header(maxn=101) + b"x\x00" + bytes(9))
    with pytest.raises(AuditError, match="truncated fastText .bin model"):     # past the header: judged on
        audit.load(ok)
    with pytest.raises(AuditError, match="up to 101 characters"):
        audit.load(refused)
