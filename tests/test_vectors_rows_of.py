"""Vectors.rows_of: a few words' rows without the whole word -> row dict, equal to the dict's answer."""

from __future__ import annotations

import numpy as np
import pytest

import audit
from audit.core.errors import AuditError
from audit.core.vectors import Vectors


def vocabulary(n=5000, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in rng.permutation(n)]
    return words, rng.normal(size=(n, 4)).astype(np.float32)


def test_rows_of_equals_the_dicts_answer():
    words, matrix = vocabulary()
    asked = ["w17", "w4999", "absent", "w0", "w17", "", "W17"]
    vectors = Vectors(words, matrix)
    truth = {w: words.index(w) for w in set(asked) if w in words}
    assert vectors.rows_of(asked) == truth
    assert vectors.rows_of(iter(asked)) == truth                   # any iterable, asked twice
    assert vectors.rows_of(["w1"]) == {"w1": words.index("w1")}    # a word not asked before
    assert list(vectors.indices(asked)) == [truth.get(w, -1) for w in asked]
    assert vectors.rows_of([]) == {}
    assert "key_to_index" not in vectors._cache                    # one pass, not the whole dict
    assert all(vectors.key_to_index.get(w) == truth.get(w) for w in asked)


def test_after_the_dict_is_built_rows_of_reads_it():
    words, matrix = vocabulary(50)
    vectors = Vectors(words, matrix)
    assert vectors.index("w3") == words.index("w3")                # builds the dict
    assert vectors.rows_of(["w3", "w7", "nope"]) == {"w3": words.index("w3"), "w7": words.index("w7")}


def test_a_word_asked_for_that_appears_twice_is_an_error():
    # as the dict says it; a repeated word nobody asked for plays no part in the answer
    vectors = Vectors(["a", "b", "a", "c"], np.eye(4, dtype=np.float32))
    with pytest.raises(AuditError, match="duplicate words"):
        vectors.rows_of(["c", "a"])
    assert vectors.rows_of(["b", "c"]) == {"b": 1, "c": 3}           # the failed call kept nothing: "a" raises again
    with pytest.raises(AuditError, match="duplicate words"):
        vectors.indices(["a"])
    with pytest.raises(AuditError, match="duplicate words"):
        vectors.key_to_index


def test_a_loaded_file_finds_its_words_without_the_dict(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("3 2\nx 1 0\ny 0 1\nz 1 1\n")
    vectors = audit.load(path)
    assert vectors.rows_of(["z", "q", "x"]) == {"z": 2, "x": 0}
    assert "key_to_index" not in vectors._cache
