"""The word2vec binary reader's fast step (one regex pass per block for the words, one gather of
the vectors straight into the matrix) against gensim's reader."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models import KeyedVectors

import audit

# words a parser could trip on: quotes, comment and NaN-like words, non-ASCII, bytes that are
# regex or CSV syntax; vectors whose bytes hold spaces (0x20) and newlines (0x0a) on purpose
ODD_WORDS = ['"', "#", "nan", "NULL", "caf\u00e9", "\u65e5\u672c", "a\tb", "x" * 300, "*", "(", "\\", "'"]


def _entries(words, matrix, newline: bytes) -> bytes:
    return b"".join(w.encode("utf-8") + b" " + row.astype("<f4").tobytes() + newline for w, row in zip(words, matrix))


def _matrix(rng, rows, dim):
    matrix = rng.normal(size=(rows, dim)).astype(np.float32)
    raw = matrix.view(np.uint8).reshape(rows, -1)
    raw[::3, 0] = 0x20     # a space as a vector's first byte
    raw[1::3, -1] = 0x0A   # a newline as its last byte: the next word must not lose or gain it
    raw[2::5, 5] = 0x0D
    return matrix


@pytest.mark.parametrize("block", [997, 4096, 1 << 20])
@pytest.mark.parametrize("newline", [b"\n", b""])
def test_fast_step_equals_gensim_on_odd_words_and_bytes(tmp_path, monkeypatch, block, newline):
    import audit.core.loaders.word2vec_bin as w2v

    monkeypatch.setattr(w2v, "BLOCK_BYTES", block)   # entries cut at block ends, blocks of one entry or many
    rng = np.random.default_rng(block)
    words = [f"w{i}" for i in range(3000)]
    for k, odd in enumerate(ODD_WORDS):
        words[k * 211] = odd
    matrix = _matrix(rng, len(words), 9)
    path = tmp_path / "v.bin"
    path.write_bytes(b"%d 9\n" % len(words) + _entries(words, matrix, newline))
    truth = KeyedVectors.load_word2vec_format(str(path), binary=True)
    loaded = audit.load(path)
    assert list(loaded.words) == list(truth.index_to_key) == words
    np.testing.assert_array_equal(loaded.matrix, truth.vectors)
    assert loaded.matrix.flags.c_contiguous and loaded.matrix.dtype == np.float32


def test_carriage_returns_and_several_newlines_between_entries(tmp_path):
    rng = np.random.default_rng(1)
    words = ["alpha", "beta", "gamma", "delta"]
    matrix = _matrix(rng, 4, 5)
    separators = [b"\r\n", b"\n\n\n", b"", b"\n"]
    body = b"".join(w.encode() + b" " + row.tobytes() + sep for w, row, sep in zip(words, matrix, separators))
    path = tmp_path / "v.bin"
    path.write_bytes(b"4 5\n" + body)
    loaded = audit.load(path)
    assert list(loaded.words) == words          # by hand: the separators are no part of any word
    np.testing.assert_array_equal(loaded.matrix, matrix)


def test_a_word_holding_a_newline_goes_entry_by_entry_as_gensim_reads_it(tmp_path):
    rng = np.random.default_rng(2)
    words = ["one", "t\nwo", "three"]
    matrix = rng.normal(size=(3, 4)).astype(np.float32)
    path = tmp_path / "v.bin"
    path.write_bytes(b"3 4\n" + _entries(words, matrix, b"\n"))
    truth = KeyedVectors.load_word2vec_format(str(path), binary=True)
    loaded = audit.load(path)
    assert list(loaded.words) == list(truth.index_to_key) == words
    np.testing.assert_array_equal(loaded.matrix, truth.vectors)


@pytest.mark.parametrize("block", [997, 1 << 20])
def test_a_compressed_file_grows_its_matrix_while_copies_are_pending(tmp_path, monkeypatch, block):
    # The vectors are copied into the matrix by a helper thread; growing the matrix (a compressed
    # input's size does not bound its rows) must wait for the copies into the old one.
    import gzip
    import time

    import audit.core.loaders.word2vec_bin as w2v

    monkeypatch.setattr(w2v, "BLOCK_BYTES", block)
    monkeypatch.setattr(w2v, "GUESS_BYTES", 36 * 100)       # room for 100 rows of 9 floats at first
    real = w2v._gather

    def slow_gather(*args):
        time.sleep(0.002)       # the copies fall behind the scan
        real(*args)

    monkeypatch.setattr(w2v, "_gather", slow_gather)
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(3000)]
    matrix = _matrix(rng, len(words), 9)
    path = tmp_path / "v.bin.gz"
    path.write_bytes(gzip.compress(b"%d 9\n" % len(words) + _entries(words, matrix, b"\n"), compresslevel=1))
    loaded = audit.load(path)
    assert list(loaded.words) == words
    np.testing.assert_array_equal(loaded.matrix, matrix)


def test_copies_waiting_for_the_helper_thread_are_bounded(tmp_path, monkeypatch):
    # Each pending copy holds its block of the input: when the copies are slower than the scan,
    # the scan waits instead of holding the whole file in memory.
    import time

    import audit.core.loaders.word2vec_bin as w2v

    monkeypatch.setattr(w2v, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(w2v, "MAX_WORD_BYTES", 64)    # each later read is one block too (not 1 MB)
    real_gather, real_submit = w2v._gather, w2v._Copies.gather
    pending = []

    def slow_gather(*args):
        time.sleep(0.003)
        real_gather(*args)

    def gather(self, *args):
        real_submit(self, *args)
        pending.append(sum(not f.done() for f in self._pending))

    monkeypatch.setattr(w2v, "_gather", slow_gather)
    monkeypatch.setattr(w2v._Copies, "gather", gather)
    rng = np.random.default_rng(8)
    words = [f"w{i}" for i in range(4000)]     # about 170 kB: some 40 blocks of 4 kB
    matrix = _matrix(rng, len(words), 9)
    path = tmp_path / "v.bin"
    path.write_bytes(b"%d 9\n" % len(words) + _entries(words, matrix, b"\n"))
    loaded = audit.load(path)
    np.testing.assert_array_equal(loaded.matrix, matrix)
    assert len(pending) > 20 and max(pending) == w2v._Copies.AHEAD   # copies did queue, never past the bound


@pytest.mark.parametrize("block", [997, 1 << 20])
def test_a_word_with_a_space_is_named_not_read_as_garbage(tmp_path, monkeypatch, block):
    """word2vec binary cannot store 'new york': the reader takes 'new' and reads 'york' and the
    vector's bytes as the next entries. Once a word holds a control byte (vector bytes almost
    always do) the file is refused in one sentence, on the fast step and entry by entry alike
    (before: exit 0 with words such as '?\\x00\\x00\\x00\\x00\\neight')."""
    import audit.core.loaders.word2vec_bin as w2v

    monkeypatch.setattr(w2v, "BLOCK_BYTES", block)
    matrix = np.array([[1.0, 0.0], [0.5, 2.0], [0.25, -1.0]], dtype=np.float32)   # bytes 00 00 80 3f ...
    path = tmp_path / "v.bin"
    path.write_bytes(b"3 2\n" + _entries(["new york", "ate", "eight"], matrix, b"\n"))
    with pytest.raises(audit.AuditError, match=r"holds control bytes .*or an earlier word holds a space"):
        audit.load(path)
    words = ODD_WORDS
    ok = tmp_path / "ok.bin"
    ok.write_bytes(f"{len(words)} 2\n".encode() + _entries(words, np.ones((len(words), 2), np.float32), b"\n"))
    assert list(audit.load(ok).words) == words     # tab, quotes, non-ASCII: still words
