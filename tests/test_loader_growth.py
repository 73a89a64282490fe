"""A text input of unknown size grows its matrix as it is parsed (issue 18).

A compressed file or a pipe has no size to bound the rows, and GloVe text has no header to
promise them: the parser starts with room for 65,536 rows and grows while the rows come. The
truth is Python's own split and float over the decompressed text.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import audit
from audit.core.loaders._input import Input
from audit.core.loaders import text as text_module
from audit.core.loaders.text import parse_text


def glove_lines(rows: int, dim: int = 2) -> bytes:
    rng = np.random.default_rng(0)
    values = rng.integers(-999, 1000, size=(rows, dim)) / 100
    return "".join(f"w{i} " + " ".join(f"{v:.2f}" for v in row) + "\n" for i, row in enumerate(values)).encode()


def python_parse(text: bytes):
    words, rows = [], []
    for line in text.decode().splitlines():
        word, *values = line.split(" ")
        words.append(word)
        rows.append([float(v) for v in values])
    return words, np.array(rows, dtype=np.float64).astype(np.float32)


@pytest.mark.parametrize("piece_bytes", [None, 1 << 16])
def test_a_compressed_glove_file_grows_its_matrix_past_the_first_guess(tmp_path, monkeypatch, piece_bytes):
    # 150,000 rows > 65,536: the matrix grows. In one piece (2 MB < CHUNK_BYTES) it grows once,
    # to the rows needed; in pieces of 64 kB it grows by doubling with rows already parsed,
    # which must be carried over.
    if piece_bytes is not None:
        monkeypatch.setattr(text_module, "CHUNK_BYTES", piece_bytes)
    text = glove_lines(150_000)
    path = tmp_path / "big.txt.gz"
    path.write_bytes(gzip.compress(text, compresslevel=1))
    words, matrix = python_parse(text)
    with Input(path) as source:
        assert source.compression == "gzip"     # the stored size does not bound the rows
        parsed = parse_text(source, header=False)
    assert parsed.matrix.dtype == np.float32 and parsed.matrix.flags.c_contiguous
    assert parsed.words == words
    np.testing.assert_array_equal(parsed.matrix, matrix)
    vectors = audit.load(path)
    assert list(vectors.words) == words
    np.testing.assert_array_equal(vectors.matrix, matrix)
