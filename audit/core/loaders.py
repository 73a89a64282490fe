"""Strict, fast loaders for released embedding files.

Formats are detected from the content, not the file name:

=================  ==============================================================
``word2vec-text``  first line ``<words> <dim>``, then ``word v1 ... vdim`` per line
``glove-text``     the same lines without a header
``word2vec-bin``   header line, then ``word<space>`` + dim little-endian float32
``npz``            numpy archive with ``words`` and ``matrix`` (no pickles)
``gensim``         gensim's native ``KeyedVectors.save`` file (a pickle)
``pickle``         a pickled ``{word: vector}`` dict (the reality-check code writes these)
=================  ==============================================================

Text may be gzip- or bz2-compressed. Pickles (gensim's native format is one) can run code when
loaded, so they are read only with ``allow_pickle=True``.

The text path parses the regular lines with pandas' C parser with quoting and NA detection
turned off (real vocabularies contain ``"``, ``nan``, ``NULL`` ...), and treats a line with
more fields than ``dim + 1`` as a word containing spaces: the word is everything before the
last ``dim`` fields. Every parse is checked: rows parsed == lines in the body, no value missing.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import importlib
import io
import itertools
import os
import pickle
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from audit.core.errors import AuditError
from audit.core.vectors import SourceInfo, Vectors

DUPLICATE_POLICIES = ("error", "keep-first", "keep-last")
CASE_POLICIES = ("keep", "lower")
NONFINITE_POLICIES = ("reject", "exclude")
PARALLEL_PARSE_BYTES = 8 << 20   # text bodies above this are parsed in pieces, one thread each
_TRANSPOSE_ROWS = 8192
PIECES_PER_WORKER = 2   # a thread tidies one piece (GIL) while the other parses (no GIL)
FORMATS = ("word2vec-text", "glove-text", "word2vec-bin", "npz", "gensim", "pickle")

_PICKLE_HINT = ("a pickle can run arbitrary code when it is loaded, so it is only read with "
                "--allow-pickle (allow_pickle=True); pass it only for a file you trust")


# --------------------------------------------------------------------------------- public API
def load(path: str | os.PathLike, *, format: str | None = None, limit: int | None = None,
         case: str = "keep", duplicates: str = "error", nonfinite: str = "reject",
         allow_pickle: bool = False, cache_dir: str | os.PathLike | None = None) -> Vectors:
    """Read an embedding file into a :class:`Vectors`.

    ``limit`` keeps the first N words; ``case='lower'`` lowercases words (collisions are then
    duplicates); ``duplicates`` is ``error`` (default), ``keep-first`` or ``keep-last``;
    ``nonfinite`` is ``reject`` (default: NaN/inf values are an error) or ``exclude`` (rows
    are loaded, counted and left out of every similarity). With ``cache_dir`` a parsed text
    file is stored there keyed by its sha256 and later loads of the same bytes read the cache.
    """
    _check_choice("duplicate policy", duplicates, DUPLICATE_POLICIES)
    _check_choice("case policy", case, CASE_POLICIES)
    _check_choice("non-finite policy", nonfinite, NONFINITE_POLICIES)
    if format is not None:
        _check_choice("format", format, FORMATS)
    if limit is not None and limit < 1:
        raise AuditError("--limit must be a positive number of words.")
    path = Path(path)
    if not path.exists():
        raise AuditError(f"{path}: no such file.")
    if path.is_dir():
        raise AuditError(f"{path} is a directory, not an embedding file.")
    _prefetch_pandas(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AuditError(f"{path}: cannot be read ({exc.strerror}).") from None
    if not raw:
        raise AuditError(f"{path} is empty.")
    # Hashing releases the GIL: it runs beside the parse, whose Python parts hold it.
    with ThreadPoolExecutor(1) as pool:
        hashing = pool.submit(lambda: hashlib.sha256(raw).hexdigest())
        words, matrix, extra, detected, compression = _read(raw, path, hashing, format=format, limit=limit,
                                                            allow_pickle=allow_pickle, cache_dir=cache_dir)
        sha256 = hashing.result()
    fmt = detected + (f"+{compression}" if compression else "")
    return _finish(words, matrix, path=path, sha256=sha256, fmt=fmt, limit=limit, case=case,
                   duplicates=duplicates, nonfinite=nonfinite, extra=extra)


def _prefetch_pandas(path: Path) -> None:
    """Import pandas (the text parser, ~0.3 s) in a thread while the file is read and scanned,
    when the file's head reads as text (or is compressed, which is text here); binary formats
    never need it, and their parsers would only compete with the import for the GIL. The
    parse's own import then waits for this one (Python's per-module import lock)."""
    if "pandas" in sys.modules:
        return
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return   # the read below reports it
    if head[:2] != b"\x1f\x8b" and head[:3] != b"BZh":
        try:
            if detect_format(head) not in ("word2vec-text", "glove-text"):
                return
        except AuditError:
            return
    threading.Thread(target=importlib.import_module, args=("pandas",), name="import-pandas").start()


def _read(raw: bytes, path: Path, hashing, *, format, limit, allow_pickle, cache_dir):
    data, compression = _decompress(raw, path)
    detected = format or detect_format(data, path)
    if detected in ("gensim", "pickle") and not allow_pickle:
        kind = "a gensim native KeyedVectors file, which is a Python pickle" if detected == "gensim" \
            else "a Python pickle"
        raise AuditError(f"{path} is {kind}; {_PICKLE_HINT}.")
    text = detected in ("word2vec-text", "glove-text")
    cached = _cache_read(cache_dir, hashing.result(), limit) if cache_dir and text else None
    if cached is not None:
        words, matrix, extra = cached
    elif text:
        words, matrix, extra = _parse_text(data, path, header=detected == "word2vec-text", limit=limit)
        if cache_dir:
            _cache_write(cache_dir, hashing.result(), limit, words, matrix, extra)
    elif detected == "word2vec-bin":
        words, matrix, extra = _parse_word2vec_binary(data, path, limit)
    elif detected == "npz":
        words, matrix, extra = _parse_npz(data, path, limit)
    elif detected == "gensim":
        words, matrix, extra = _parse_gensim(path, limit)
    else:
        words, matrix, extra = _parse_pickle(data, path, limit)
    return words, matrix, extra, detected, compression


def detect_format(data: bytes, path: Path | None = None) -> str:
    """Name the format of (decompressed) file content; raises AuditError if it is none of ours."""
    if data[:4] == b"PK\x03\x04":
        return "npz"
    if data[:1] == b"\x80":
        return "gensim" if b"gensim" in data[:4096] else "pickle"
    # Slices of the first two lines only: partitioning the whole content would copy it.
    first_end = data.find(b"\n")
    first_end = len(data) if first_end < 0 else first_end
    header = data[:first_end].strip().split()
    if len(header) == 2 and all(t.isdigit() for t in header):
        dim = int(header[1])
        # Text if the first entry reads as a word and dim numbers; anything else is binary.
        second_end = data.find(b"\n", first_end + 1)
        second = data[first_end + 1:len(data) if second_end < 0 else second_end]
        line = second.rstrip(b"\r ").split(b" ")
        if dim > 0 and not (len(line) >= dim + 1 and all(_is_number(t) for t in line[-dim:])):
            return "word2vec-bin"
        return "word2vec-text"
    return "glove-text"


def save_word2vec_text(vectors: Vectors, path: str | os.PathLike, *, header: bool = True) -> None:
    """Write word2vec text (or GloVe text with ``header=False``), atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        if header:
            handle.write(f"{len(vectors)} {vectors.dim}\n")
        body = np.char.mod("%.6g", vectors.matrix)
        for word, row in zip(vectors.words, body):
            handle.write(word + " " + " ".join(row) + "\n")
    os.replace(tmp, path)


def save_npz(vectors: Vectors, path: str | os.PathLike) -> None:
    """Write ``words`` (unicode array) and ``matrix`` (float32) to an .npz, atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part.npz")
    np.savez(tmp, words=np.array(vectors.words, dtype=str), matrix=vectors.matrix)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------- helpers
def _check_choice(what: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise AuditError(f"unknown {what} {value!r}; choose one of {', '.join(allowed)}.")


def _decompress(raw: bytes, path: Path) -> tuple[bytes, str | None]:
    try:
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw), "gzip"
        if raw[:3] == b"BZh":
            return bz2.decompress(raw), "bz2"
    except (OSError, EOFError, ValueError):
        raise AuditError(f"{path} is a truncated or damaged compressed file.") from None
    return raw, None


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _parse_text(data: bytes, path: Path, *, header: bool, limit: int | None):
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    first_line_no = 1
    header_words = header_dim = None
    if header:
        first, _, data = data.partition(b"\n")
        header_words, header_dim = (int(t) for t in first.split())
        first_line_no = 2
        if header_dim < 1:
            raise AuditError(f"{path}: the header says dimension {header_dim}.")
    # Trailing spaces at the end of lines (the word2vec C tool writes one) are not fields.
    # One chunked pass gives the newline positions and the space count (the layout checks below).
    newlines, spaces = _layout(data)
    before_newline = np.frombuffer(data, dtype=np.uint8)[newlines[newlines > 0] - 1]
    if np.any(before_newline == 32) or data.endswith(b" "):
        while b" \n" in data:
            data = data.replace(b" \n", b"\n")
        data = data.rstrip(b" ")
        newlines, spaces = _layout(data)
    if data.endswith(b"\n\n"):   # blank lines at the very end are harmless
        data = data.rstrip(b"\n") + b"\n"
        newlines, spaces = _layout(data)
    final_newline = data.endswith(b"\n")
    if len(newlines) == len(data):   # nothing but newlines
        raise AuditError(f"{path} has no vectors.")
    blank = np.flatnonzero(np.diff(newlines) == 1)
    if (len(newlines) and newlines[0] == 0) or len(blank):
        line = (1 if newlines[0] == 0 else int(blank[0]) + 2) + first_line_no - 1
        raise AuditError(f"{path}: line {line} is empty.")
    n_lines = len(newlines) + (0 if final_newline else 1)
    if limit is not None and limit < n_lines:
        data = data[:int(newlines[limit - 1]) + 1]
        newlines, spaces = _layout(data)
        n_lines = limit
    if header_dim is not None:
        dim = header_dim
        expected = header_words if limit is None else min(header_words, limit)
        if n_lines != expected:
            more = "more" if n_lines > expected else "fewer"
            raise AuditError(f"{path}: the header promises {header_words} words but the body has "
                             f"{more} lines ({n_lines if limit is None else 'at least ' + str(n_lines)}).")
    else:
        dim = _guess_dim(data, path)

    # Fast path: every line holds exactly dim spaces in total, so pandas' C parser reads all
    # lines as regular (a longer line makes it raise; a shorter one would need a longer one).
    if spaces == n_lines * dim:
        parsed = _fast_parse(data, dim, n_lines, newlines)
        if parsed is not None:
            return parsed[0], parsed[1], {"words_with_spaces": 0, "header_words": header_words, "index": parsed[2]}
    words, matrix, spaces = _robust_parse(data, dim, path, first_line_no)
    return words, matrix, {"words_with_spaces": spaces, "header_words": header_words}


def _layout(data: bytes, block: int = 8 << 20) -> tuple[np.ndarray, int]:
    """Newline positions and the number of spaces, in 8 MB blocks: a whole-file comparison
    would allocate (and page-fault) a temporary as large as the file, 2-3x slower; much smaller
    blocks take the GIL so often that this pass can no longer run beside pandas' import."""
    buf = np.frombuffer(data, dtype=np.uint8)
    mask = np.empty(min(block, len(buf)), dtype=bool)
    parts, spaces = [], 0
    for start in range(0, len(buf), block):
        piece = buf[start:start + block]
        hits = mask[:len(piece)]
        np.equal(piece, 32, out=hits)
        spaces += int(np.count_nonzero(hits))
        np.equal(piece, 10, out=hits)
        parts.append(np.flatnonzero(hits) + start)
    return (np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)), spaces


def _guess_dim(data: bytes, path: Path) -> int:
    """GloVe files have no header: the dimension is the most common field count minus one,
    taken over the first lines (a word with spaces on the first line must not decide it)."""
    head = data[:1 << 20].split(b"\n")
    if len(data) > 1 << 20 and len(head) > 1:
        head = head[:-1]   # the last piece is cut in the middle of a line
    head = [line for line in head[:1000] if line]
    counts = np.bincount([line.count(b" ") for line in head])
    dim = int(counts.argmax())
    if dim < 1:
        try:
            data[:1 << 16].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < (1 << 16) - 4:   # not merely a character cut at the end of the slice
                raise AuditError(f"{path} is not an embedding file this tool reads: line "
                                 f"{_line_of_offset(data, exc.start)} is not UTF-8 text, and it is not "
                                 f"word2vec binary, .npz or a pickle either.") from None
        raise AuditError(f"{path}: the lines hold no numbers after the word.")
    return dim


def _fast_parse(data: bytes, dim: int, n_lines: int, newlines: np.ndarray):
    """Parse a file whose lines are all regular; None when a line turns out not to be.

    Large files are cut at line ends into one piece per core and parsed in threads (pandas'
    C tokenizer releases the GIL): about 1.8x faster on 2 cores for a 400k x 50 file. Each
    piece writes its rows straight into one C-ordered float32 matrix (no concatenation).
    """
    workers = min(os.cpu_count() or 1, 4) if len(data) > PARALLEL_PARSE_BYTES else 1
    first_rows = _split_at_lines(newlines, n_lines, workers * PIECES_PER_WORKER if workers > 1 else 1)
    # Row r starts just after newline r - 1, so the rows give the byte offsets of the pieces.
    offsets = [0 if r == 0 else int(newlines[r - 1]) + 1 for r in first_rows[:-1]] + [len(data)]
    view = memoryview(data)
    matrix = np.empty((n_lines, dim), dtype=np.float32)
    jobs = [(view[offsets[i]:offsets[i + 1]], matrix[first_rows[i]:first_rows[i + 1]])
            for i in range(len(first_rows) - 1)]

    pieces: list[list[str] | None] = [None] * len(jobs)
    index: dict[str, int] = {}
    committed = 0   # pieces 0 .. committed - 1 are in ``index``, in row order
    commit_lock = threading.Lock()

    def parse(i: int) -> bool:
        nonlocal committed
        words = _fast_parse_piece(*jobs[i], dim)
        if words is None:
            return False
        # The words go into one shared index in row order (deterministic iteration order):
        # whichever thread completes the next run of pieces inserts them, while the other
        # thread parses (the insertion holds the GIL; the parse mostly does not). Nothing is
        # left to merge after the last piece.
        with commit_lock:
            pieces[i] = words
            while committed < len(jobs) and pieces[committed] is not None:
                first = first_rows[committed]
                index.update(zip(pieces[committed], range(first, first + len(pieces[committed]))))
                committed += 1
        return True

    if len(jobs) == 1:
        parsed = [parse(0)]
    else:
        with ThreadPoolExecutor(workers) as pool:
            parsed = list(pool.map(parse, range(len(jobs))))
    if not all(parsed):
        return None
    words = list(itertools.chain.from_iterable(pieces))
    if len(words) != n_lines:
        return None
    return words, matrix, index


def _split_at_lines(newlines: np.ndarray, n_lines: int, parts: int) -> list[int]:
    """First row of each of up to ``parts`` pieces of about equal bytes, then ``n_lines``;
    pieces are cut just after a newline (``newlines``: the newline offsets)."""
    size = int(newlines[-1]) + 1 if len(newlines) else 0
    rows = {int(np.searchsorted(newlines, size * k // parts)) + 1 for k in range(1, parts)}
    return [0, *sorted(r for r in rows if 0 < r < n_lines), n_lines]


class _ViewReader(io.RawIOBase):
    """A binary file over a memoryview, so pandas reads a piece without a copy of it first."""

    def __init__(self, view: memoryview):
        super().__init__()
        self._view, self._pos = view, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), len(self._view) - self._pos)
        buffer[:n] = self._view[self._pos:self._pos + n]
        self._pos += n
        return n


def _fast_parse_piece(piece: bytes | memoryview, out: np.ndarray, dim: int):
    """Parse one piece into ``out`` (its rows of the matrix); its words, or None when a line is
    not regular (the robust path then names the offending line)."""
    import pandas as pd

    try:
        frame = _read_frame(piece, dim)
    except (UnicodeDecodeError, ValueError, TypeError, pd.errors.ParserError):
        return None
    if frame.shape != (len(out), dim + 1):
        return None
    columns = [frame[j].to_numpy() for j in range(1, dim + 1)]
    if any(c.dtype.kind not in "fiu" for c in columns):   # a field that is not a number
        return None
    # Parsed as float64 and rounded once to float32, as gensim does; written in row blocks so
    # the column-to-row transposition stays in the cache.
    for start in range(0, len(out), _TRANSPOSE_ROWS):
        block = out[start:start + _TRANSPOSE_ROWS]
        for j, column in enumerate(columns):
            block[:, j] = column[start:start + _TRANSPOSE_ROWS]
    suspects = np.flatnonzero(np.isnan(out).any(axis=1))
    if len(suspects):
        # A NaN is either written in the file ("nan") or a field pandas filled for a short
        # line: look at those lines themselves.
        lines = bytes(piece).split(b"\n")
        if any(len(lines[i].split(b" ")) != dim + 1 for i in suspects):
            return None
    return frame[0].tolist()


def _robust_parse(data: bytes, dim: int, path: Path, first_line_no: int):
    """Per-line field counts; a line with more fields is a word containing spaces."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        _raise_invalid_utf8(data, path)
    if data.endswith(b"\n"):
        data = data[:-1]
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(buf)]))
    n_lines = len(starts)
    # Spaces per line: positions of all spaces, counted between consecutive line ends.
    space_pos = np.flatnonzero(buf == 32)
    fields = np.diff(np.searchsorted(space_pos, ends), prepend=0) + 1

    short = np.flatnonzero(fields < dim + 1)
    if len(short):
        i = int(short[0])
        raise AuditError(f"{path}: line {i + first_line_no} has {fields[i] - 1} values, expected {dim} "
                         f"(inconsistent dimensions).")
    irregular = np.flatnonzero(fields > dim + 1)
    irregular_words: dict[int, str] = {}
    for i in irregular:
        tokens = data[starts[i]:ends[i]].decode("utf-8").split(" ")
        if _is_number(tokens[-dim - 1]):
            raise AuditError(f"{path}: line {i + first_line_no} has {len(tokens) - 1} values, expected {dim} "
                             f"(inconsistent dimensions).")
        irregular_words[int(i)] = " ".join(tokens[:-dim])

    if len(irregular):
        keep = np.ones(n_lines, dtype=bool)
        keep[irregular] = False
        regular_rows = np.flatnonzero(keep)
        body = b"\n".join(data[starts[i]:ends[i]] for i in regular_rows)
    else:
        regular_rows = np.arange(n_lines)
        body = data

    words = [""] * n_lines
    matrix = np.empty((n_lines, dim), dtype=np.float32)
    if len(regular_rows):
        reg_words, reg_matrix = _pandas_parse(body, dim, path, regular_rows, first_line_no)
        matrix[regular_rows] = reg_matrix
        for row, word in zip(regular_rows.tolist(), reg_words):
            words[row] = word
    for i, word in irregular_words.items():
        values = data[starts[i]:ends[i]].decode("utf-8").split(" ")[-dim:]
        try:
            matrix[i] = np.array(values, dtype=np.float32)
        except ValueError:
            raise AuditError(f"{path}: line {i + first_line_no} has a value that is not a number.") from None
        words[i] = word
    return words, matrix, len(irregular)


def _raise_invalid_utf8(data: bytes, path: Path):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of_offset(data, exc.start)
        raise AuditError(f"{path}: line {line} is not valid UTF-8.") from None
    raise AuditError(f"{path}: the file is not valid UTF-8.")


def _is_number(token: str | bytes) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _read_frame(body: bytes | memoryview, dim: int):
    """pandas' C parser with quoting off and exactly dim + 1 named columns (a longer line raises)."""
    import pandas as pd

    # NA detection is off for the word column ("nan", "NULL" are real words) and limited to
    # the spellings of NaN in the number columns, which the non-finite policy then handles.
    nan_words = {i: ["nan", "NaN", "NAN", "-nan", "+nan", "-NaN"] for i in range(1, dim + 1)}
    source = io.BufferedReader(_ViewReader(body), 1 << 20) if isinstance(body, memoryview) else io.BytesIO(body)
    return pd.read_csv(source, sep=" ", header=None, names=list(range(dim + 1)),
                       quoting=csv.QUOTE_NONE, keep_default_na=False, na_values=nan_words, dtype={0: object},
                       engine="c", encoding="utf-8", skip_blank_lines=False, comment=None)


def _pandas_parse(body: bytes, dim: int, path: Path, rows: np.ndarray, first_line_no: int):
    import pandas as pd

    try:
        frame = _read_frame(body, dim)
        matrix = frame.iloc[:, 1:].to_numpy(dtype=np.float32)
    except (ValueError, TypeError, pd.errors.ParserError):
        # Find the first offending line for a precise message (slow path, errors only).
        for n, line in enumerate(body.split(b"\n")):
            values = line.decode("utf-8").split(" ")[1:]
            if not all(_is_number(v) for v in values):
                line_no = int(rows[n]) + first_line_no
                raise AuditError(f"{path}: line {line_no} has a value that is not a number.") from None
        raise AuditError(f"{path}: the file could not be parsed as embedding text.") from None
    if frame.shape != (len(rows), dim + 1):
        raise AuditError(f"{path}: parsed {frame.shape[0]} rows of {frame.shape[1] - 1} values, "
                         f"expected {len(rows)} rows of {dim}.")
    return frame[0].tolist(), matrix


def _parse_word2vec_binary(data: bytes, path: Path, limit: int | None):
    first, _, body = data.partition(b"\n")
    try:
        n_words, dim = (int(t) for t in first.split())
    except ValueError:
        raise AuditError(f"{path}: the word2vec binary header is not '<words> <dim>'.") from None
    if dim < 1:
        raise AuditError(f"{path}: the header says dimension {dim}.")
    count = n_words if limit is None else min(n_words, limit)
    row_bytes = 4 * dim
    words: list[str] = []
    # Each entry is at least a non-empty word, a space and dim floats: rows are allocated only
    # for the entries the file can hold (a damaged header may promise absurd sizes, even a
    # dimension like 10**30); the loop below names how many complete entries there were.
    fit = min(count, len(body) // (row_bytes + 2))
    if fit == 0 and count:
        raise AuditError(f"{path} is truncated: the header promises {n_words} words of {dim} dimensions "
                         f"but not one complete entry follows.")
    matrix = np.empty((fit, dim), dtype=np.float32)
    pos = 0
    for i in range(count):
        while pos < len(body) and body[pos] in (10, 13):   # newline after the previous vector
            pos += 1
        space = body.find(b" ", pos)
        if space < 0 or space + 1 + row_bytes > len(body):
            raise AuditError(f"{path} is truncated: the header promises {n_words} words but "
                             f"only {i} complete entries were found.")
        if space == pos:
            raise AuditError(f"{path}: entry {i + 1} has an empty word (is it really word2vec binary?).")
        try:
            words.append(body[pos:space].decode("utf-8"))
        except UnicodeDecodeError:
            raise AuditError(f"{path}: the word of entry {i + 1} is not valid UTF-8.") from None
        matrix[i] = np.frombuffer(body, dtype="<f4", count=dim, offset=space + 1)
        pos = space + 1 + row_bytes
    if limit is None and body[pos:].strip(b"\r\n"):
        raise AuditError(f"{path}: there are bytes after the {n_words} words the header promises.")
    return words, matrix, {"header_words": n_words}


def _parse_npz(data: bytes, path: Path, limit: int | None):
    try:
        archive = np.load(io.BytesIO(data), allow_pickle=False)
        names = set(archive.files)
        if not {"words", "matrix"} <= names:
            raise AuditError(f"{path}: an .npz embedding needs arrays 'words' and 'matrix', "
                             f"found {', '.join(sorted(names)) or 'none'}.")
        words_arr = archive["words"]
        matrix = archive["matrix"]
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise AuditError(f"{path}: its 'words' array is stored as Python objects (a pickle); "
                             f"save it as a unicode string array.") from None
        raise AuditError(f"{path} is not a readable .npz archive.") from None
    except (OSError, EOFError, KeyError):
        raise AuditError(f"{path} is not a readable .npz archive.") from None
    if words_arr.ndim != 1 or words_arr.dtype.kind not in "US":
        raise AuditError(f"{path}: 'words' must be a 1-d array of strings.")
    if matrix.ndim != 2 or matrix.dtype.kind not in "fiu":
        raise AuditError(f"{path}: 'matrix' must be a 2-d numeric array.")
    words = [w.decode("utf-8") if isinstance(w, bytes) else str(w) for w in words_arr.tolist()]
    if len(words) != matrix.shape[0]:
        raise AuditError(f"{path}: {len(words)} words for {matrix.shape[0]} matrix rows.")
    if limit is not None:
        words, matrix = words[:limit], matrix[:limit]
    return words, matrix.astype(np.float32), {}


def _parse_gensim(path: Path, limit: int | None):
    try:
        from gensim.models import KeyedVectors
    except ImportError:  # pragma: no cover - gensim is a dependency
        raise AuditError("reading gensim's native format needs gensim installed.") from None
    try:
        kv = KeyedVectors.load(str(path))
    except Exception as exc:  # gensim raises many kinds for a damaged file
        raise AuditError(f"{path}: gensim could not load it ({type(exc).__name__}).") from None
    if hasattr(kv, "wv"):   # a whole Word2Vec model was saved
        kv = kv.wv
    words = list(kv.index_to_key)
    matrix = np.asarray(kv.vectors, dtype=np.float32)
    if limit is not None:
        words, matrix = words[:limit], matrix[:limit]
    return words, matrix, {}


def _parse_pickle(data: bytes, path: Path, limit: int | None):
    try:
        obj = pickle.loads(data)
    except Exception:
        raise AuditError(f"{path} is not a readable pickle.") from None
    if not isinstance(obj, dict):
        raise AuditError(f"{path}: the pickle holds a {type(obj).__name__}, expected a {{word: vector}} dict.")
    words, rows = [], []
    for word, vector in obj.items():
        if not isinstance(word, str):
            raise AuditError(f"{path}: the pickle has a key of type {type(word).__name__}; words must be strings.")
        words.append(word)
        rows.append(np.asarray(vector, dtype=np.float32).ravel())
        if limit is not None and len(words) >= limit:
            break
    if not rows:
        raise AuditError(f"{path}: the pickled dict is empty.")
    dims = {len(r) for r in rows}
    if len(dims) != 1:
        raise AuditError(f"{path}: the pickled vectors have different lengths ({sorted(dims)}).")
    return words, np.vstack(rows), {}


def _finish(words, matrix, *, path, sha256, fmt, limit, case, duplicates, nonfinite, extra) -> Vectors:
    matrix = np.asarray(matrix, dtype=np.float32)
    if len(words) == 0:
        raise AuditError(f"{path} has no vectors.")
    # Row norms (the same expression as Vectors.norms, handed over) tell finite and zero rows:
    # float32 squares summed in float64 cannot overflow, and any inf or NaN makes the norm so.
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64))
    finite_rows = np.isfinite(norms)
    nonfinite_rows = int((~finite_rows).sum())
    if nonfinite_rows and nonfinite == "reject":
        first = int(np.flatnonzero(~finite_rows)[0])
        raise AuditError(f"{path}: the vector of {words[first]!r} (entry {first + 1}) has NaN or infinite "
                         f"values; {nonfinite_rows} rows do (pass --nonfinite exclude to load them and "
                         f"leave them out of every similarity).")
    if case == "lower":
        words = [w.lower() for w in words]
    dropped = 0
    index = extra.get("index") if case == "keep" else None   # the text parser builds it beside the parse
    if index is None:
        index = dict(zip(words, range(len(words))))   # C speed; the loop below only runs on duplicates
    unique = len(index) == len(words)
    if not unique:
        index = {}
    for i, w in enumerate(() if unique else words):
        if w in index:
            if duplicates == "error":
                raise AuditError(f"{path}: the word {w!r} appears more than once (entries {index[w] + 1} "
                                 f"and {i + 1}); pass --duplicates keep-first or keep-last to choose one.")
            dropped += 1
            if duplicates == "keep-last":
                index[w] = i
        else:
            index[w] = i
    if dropped:
        rows = np.array(sorted(index.values()), dtype=np.int64)
        words = [words[i] for i in rows]
        matrix = matrix[rows]
        finite_rows = finite_rows[rows]
        norms = norms[rows]
    zero_rows = int((finite_rows & (norms == 0)).sum())
    source = SourceInfo(path=str(path), sha256=sha256, format=fmt, words=len(words), dim=int(matrix.shape[1]),
                        duplicates_dropped=dropped, duplicate_policy=duplicates, case=case,
                        zero_rows=zero_rows, nonfinite_rows=int((~finite_rows).sum()),
                        nonfinite_policy=nonfinite, words_with_spaces=extra.get("words_with_spaces", 0),
                        limit=limit, header_words=extra.get("header_words"))
    if dropped:
        index = {w: i for i, w in enumerate(words)}
    return Vectors(words, matrix, source, copy=False, key_to_index=index, norms=norms)


# --------------------------------------------------------------------------------- cache
def _cache_paths(cache_dir, sha256: str, limit: int | None):
    folder = Path(cache_dir) / "vectors"
    stem = sha256 + (f"-limit{limit}" if limit else "")
    return folder, folder / f"{stem}.npy", folder / f"{stem}.words"


def _cache_read(cache_dir, sha256: str, limit: int | None):
    _, matrix_path, words_path = _cache_paths(cache_dir, sha256, limit)
    if not (matrix_path.exists() and words_path.exists()):
        return None
    try:
        matrix = np.load(matrix_path, allow_pickle=False)
        words = words_path.read_text(encoding="utf-8").split("\n")
        spaces = int(words.pop(0))
    except (OSError, ValueError):
        return None
    if len(words) != matrix.shape[0]:
        return None
    return words, matrix, {"words_with_spaces": spaces}


def _cache_write(cache_dir, sha256: str, limit: int | None, words, matrix, extra) -> None:
    folder, matrix_path, words_path = _cache_paths(cache_dir, sha256, limit)
    folder.mkdir(parents=True, exist_ok=True)
    tmp_matrix = matrix_path.with_name(matrix_path.name + ".part.npy")
    np.save(tmp_matrix, np.asarray(matrix, dtype=np.float32))
    tmp_words = words_path.with_name(words_path.name + ".part")
    tmp_words.write_text(str(extra.get("words_with_spaces", 0)) + "\n" + "\n".join(words), encoding="utf-8")
    os.replace(tmp_matrix, matrix_path)
    os.replace(tmp_words, words_path)
