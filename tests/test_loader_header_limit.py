"""The loader's header / --limit / NaN decisions through the public ``audit.load`` (issue 18).

A header that promises N words and a limit larger than N: the header is honoured (N words,
never more, never a complaint that the body is short of the limit). Truth: the bytes written
here by hand, and gensim's own reader where it applies.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

import audit
from audit import AuditError

ROWS = [("alpha", [1.0, 2.0, 3.0]), ("beta", [0.5, -1.0, 0.0]), ("gamma", [-2.0, 0.25, 4.0]),
        ("delta", [0.0, 0.0, 1.5]), ("eps", [3.0, 3.0, -3.0])]


def text_file(tmp_path, rows=ROWS, header: tuple[int, int] | None = (5, 3), name="v.txt"):
    lines = [] if header is None else [f"{header[0]} {header[1]}"]
    lines += [w + " " + " ".join(repr(x) for x in values) for w, values in rows]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def binary_file(tmp_path, rows=ROWS, header_words=None, name="v.bin"):
    count = len(rows) if header_words is None else header_words
    data = f"{count} {len(rows[0][1])}\n".encode()
    for word, values in rows:
        data += word.encode() + b" " + struct.pack(f"<{len(values)}f", *values) + b"\n"
    path = tmp_path / name
    path.write_bytes(data)
    return path


def assert_rows(vectors, rows):
    assert list(vectors.words) == [w for w, _ in rows]
    np.testing.assert_array_equal(np.asarray(vectors.matrix), np.array([v for _, v in rows], dtype=np.float32))


@pytest.mark.parametrize("limit", [5, 6, 50, 10**9])
def test_text_header_with_a_limit_at_or_above_it_loads_every_word(tmp_path, limit):
    vectors = audit.load(text_file(tmp_path), limit=limit)
    assert_rows(vectors, ROWS)
    assert vectors.source.header_words == 5 and vectors.source.limit == limit and vectors.source.words == 5


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_text_header_with_a_smaller_limit_keeps_the_first_words(tmp_path, limit):
    vectors = audit.load(text_file(tmp_path), limit=limit)
    assert_rows(vectors, ROWS[:limit])
    assert vectors.source.header_words == 5 and vectors.source.words == limit


@pytest.mark.parametrize("limit", [None, 3, 4, 10])
def test_text_header_promising_fewer_words_than_the_body_is_refused_unless_the_limit_stops_first(tmp_path, limit):
    path = text_file(tmp_path, header=(4, 3))            # 5 lines in the body
    if limit is not None and limit <= 4:
        assert_rows(audit.load(path, limit=limit), ROWS[:limit])
    else:
        with pytest.raises(AuditError, match="promises 4 words but the body has more lines"):
            audit.load(path, limit=limit)


@pytest.mark.parametrize("limit", [None, 6, 7, 100, 5])
def test_text_header_promising_more_words_than_the_body_is_refused(tmp_path, limit):
    path = text_file(tmp_path, header=(7, 3))            # only 5 lines
    if limit == 5:
        assert_rows(audit.load(path, limit=limit), ROWS)   # the limit is reached before the body ends
    else:
        with pytest.raises(AuditError, match=r"promises 7 words but the body has fewer lines \(5\)"):
            audit.load(path, limit=limit)


@pytest.mark.parametrize("limit", [None, 5, 6, 1000])
def test_binary_header_with_a_limit_at_or_above_it_loads_every_word(tmp_path, limit):
    path = binary_file(tmp_path)
    vectors = audit.load(path, limit=limit)
    assert_rows(vectors, ROWS)
    from gensim.models import KeyedVectors
    truth = KeyedVectors.load_word2vec_format(str(path), binary=True, limit=limit)
    assert list(vectors.words) == list(truth.index_to_key)
    np.testing.assert_array_equal(np.asarray(vectors.matrix), truth.vectors)


@pytest.mark.parametrize("limit", [1, 3, 4])
def test_binary_header_with_a_smaller_limit(tmp_path, limit):
    vectors = audit.load(binary_file(tmp_path), limit=limit)
    assert_rows(vectors, ROWS[:limit])


def test_binary_header_promising_more_than_the_file_holds_is_refused_even_with_a_larger_limit(tmp_path):
    path = binary_file(tmp_path, header_words=7)
    for limit in (None, 8, 100):
        with pytest.raises(AuditError):
            audit.load(path, limit=limit)
    assert_rows(audit.load(path, limit=5), ROWS)


def test_headerless_text_with_a_limit_above_its_length(tmp_path):
    path = text_file(tmp_path, header=None, name="glove.txt")
    vectors = audit.load(path, limit=9)
    assert_rows(vectors, ROWS)
    assert vectors.source.header_words is None
    assert_rows(audit.load(path, limit=2), ROWS[:2])


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_nonfinite_rows_are_refused_or_counted_and_left_out(tmp_path, bad):
    rows = [*ROWS[:2], ("odd", [1.0, float(bad), 0.0]), *ROWS[2:]]
    lines = ["6 3"] + [w + " " + " ".join("nan" if x != x else ("inf" if x == np.inf else "-inf" if x == -np.inf
                                                               else repr(x)) for x in v) for w, v in rows]
    path = tmp_path / "odd.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(AuditError, match=r"'odd' \(entry 3\) has NaN or infinite values; it is the only row that does"):
        audit.load(path)
    vectors = audit.load(path, nonfinite="exclude")
    assert vectors.source.nonfinite_rows == 1 and vectors.source.zero_rows == 0 and len(vectors) == 6
    assert list(vectors.valid) == [True, True, False, True, True, True]
    # the limit stops before the bad row: nothing to refuse
    assert audit.load(path, limit=2).source.nonfinite_rows == 0


def test_zero_rows_are_counted_apart_from_nonfinite_ones(tmp_path):
    rows = [*ROWS, ("zero", [0.0, 0.0, 0.0])]
    vectors = audit.load(text_file(tmp_path, rows=rows, header=(6, 3)))
    assert vectors.source.zero_rows == 1 and vectors.source.nonfinite_rows == 0
    assert list(vectors.valid) == [True] * 5 + [False]


def test_header_messages_name_both_counts(tmp_path):
    path = text_file(tmp_path, header=(3, 3))
    with pytest.raises(AuditError, match=r"^.*v\.txt: the header promises 3 words but the body has more lines \(5\)\.$"):
        audit.load(path)
    short = text_file(tmp_path, header=(9, 3), name="short.txt")
    with pytest.raises(AuditError, match=r"^.*short\.txt: the header promises 9 words but the body has fewer lines \(5\)\.$"):
        audit.load(short, limit=6)


def test_a_header_with_no_body_is_refused(tmp_path):
    path = tmp_path / "empty-body.txt"
    path.write_text("2 3\n", encoding="utf-8")
    with pytest.raises(AuditError):
        audit.load(path)
    zero = tmp_path / "zero.txt"
    zero.write_text("0 3\n", encoding="utf-8")
    with pytest.raises(AuditError, match="no vectors"):
        audit.load(zero)


def test_duplicate_policies_keep_the_chosen_row_in_file_order(tmp_path):
    path = tmp_path / "dups.txt"
    path.write_text("a 1 0\nb 0 1\na 2 2\n", encoding="utf-8")
    with pytest.raises(AuditError, match=r"^.*dups\.txt: the word 'a' appears more than once \(entries 1 and 3\); "
                                         r"pass duplicates='keep-first' or 'keep-last' to choose one\.$"):
        audit.load(path)
    first = audit.load(path, duplicates="keep-first")
    assert first.words == ("a", "b") and first.matrix.tolist() == [[1, 0], [0, 1]]
    assert dict(first.key_to_index) == {"a": 0, "b": 1} and first.source.duplicates_dropped == 1
    last = audit.load(path, duplicates="keep-last")
    assert last.words == ("b", "a") and last.matrix.tolist() == [[0, 1], [2, 2]]
    assert dict(last.key_to_index) == {"b": 0, "a": 1} and last.source.duplicate_policy == "keep-last"


def test_nonfinite_and_zero_counts_are_of_the_rows_kept(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text("a nan 0\nb 1 1\na 1 0\nz 0 0\n", encoding="utf-8")
    with pytest.raises(AuditError, match=r"the vector of 'a' \(entry 1\) has NaN or infinite values; it is the only row that does "
                                         r"\(pass nonfinite='exclude' to load them"):
        audit.load(path, duplicates="keep-last")
    last = audit.load(path, duplicates="keep-last", nonfinite="exclude")
    assert last.words == ("b", "a", "z") and last.source.nonfinite_rows == 0 and last.source.zero_rows == 1
    assert last.valid.tolist() == [True, True, False]
    first = audit.load(path, duplicates="keep-first", nonfinite="exclude")
    assert first.words == ("a", "b", "z") and first.source.nonfinite_rows == 1 and first.source.zero_rows == 1
    assert first.valid.tolist() == [False, True, False]
    lower = audit.load(path, case="lower", duplicates="keep-first", nonfinite="exclude")
    assert lower.source.case == "lower" and lower.source.nonfinite_policy == "exclude"
