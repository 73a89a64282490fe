"""word2vec text (``<words> <dim>`` header, then ``word v1 ... vdim`` per line) and GloVe text
(the same lines without a header).

The input is parsed in pieces of about :data:`CHUNK_BYTES`, cut at line ends, each written
straight into one preallocated C-ordered float32 matrix; the whole file is never in memory, and
no float64 or DataFrame copy of it ever is. Per piece:

* a numpy pass finds the line ends and counts the spaces of every line;
* the *regular* lines (exactly ``dim`` spaces) go to polars' CSV reader (Rust, multi-threaded)
  with an explicit schema (one String column, ``dim`` Float32 columns), quoting off and no NA
  strings, so words such as ``"``, ``nan``, ``NULL``, ``#`` stay words. polars parses straight to
  float32 (a third faster than float64 and a cast); on 10 million values written as ``%.4f``,
  ``%.6f``, ``%.9g``, ``%.12e`` and ``%.17g`` it gave exactly the float32 of Python's float, as
  gensim (float64, then rounded once) does;
* every other line (a word containing spaces, too few or too many values, undecodable bytes),
  and a whole piece that polars refuses (a value that is not a number, an empty field), goes to
  the careful per-line path, which reads it or names the line and the problem.

A number is Python's float syntax in ASCII without underscores: ``1``, ``-0.5``, ``.5``, ``5.``,
``1e-3``, ``inf``, ``infinity``, ``nan`` (any case, optional sign). ``True``, ``1_0``, ``0x10``,
an empty field are not numbers. The word is everything before the last ``dim`` fields (GloVe
840B has words with spaces); it may not be empty.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audit.core.errors import AuditError
from audit.core.loaders._input import MAX_LINE_BYTES, Input
from audit.core.loaders.options import OptionError
from audit.core.progress import bar

CHUNK_BYTES = 16 << 20    # one piece of the text (below glibc's 32 MB mmap threshold: reused, no page faults)
GUESS_BYTES = 64 << 20   # a pipe's or compressed file's first matrix (it grows as rows come)
FAST_MAX_DIM = 4096       # wider rows are read line by line (a schema of a million columns is not)
_NUMBER = (r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
           r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])")
NUMBER = re.compile(_NUMBER)
_VALUES = re.compile(_NUMBER + r"(?: " + _NUMBER + r")*")
_WORD = "word"
_BOM = b"\xef\xbb\xbf"


@dataclass
class TextResult:
    words: list
    matrix: np.ndarray
    header_words: int | None = None
    words_with_spaces: int = 0
    undecodable: int = 0
    extra: dict = field(default_factory=dict)
    unique: bool | None = None     # the words are distinct (True) or not (False); None: the loader finds out


_VALUES_BYTES = re.compile(_VALUES.pattern.encode("ascii"))
_WIDE_CHUNK = 1 << 14   # values matched per regex call on a wide row: its backtracking stack grows per value


def _plain_values(line: bytes, value_spaces: np.ndarray) -> bool:
    """Whether the values after ``value_spaces[0]`` (the spaces before each value) are numbers in
    Python's float syntax, single-spaced: the _VALUES pattern, matched a chunk of values at a time
    in place (once over a 16 MB row it took 5 s and gigabytes of stack)."""
    ends = [*value_spaces[_WIDE_CHUNK::_WIDE_CHUNK].tolist(), len(line)]
    starts = value_spaces[::_WIDE_CHUNK].tolist()
    return all(_VALUES_BYTES.fullmatch(line, begin + 1, stop) is not None for begin, stop in zip(starts, ends))


def _parse_floats(line: bytes, start: int) -> np.ndarray:
    """The space-separated numbers of ``line[start:]`` (matched by _VALUES) as float64, parsed by
    numpy's C parser, correctly rounded as ``float`` is, without a Python object per value."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # "string or file could not be read to its end"
        return np.fromstring(line[start:], dtype=np.float64, sep=" ")


def is_number(token: str | bytes) -> bool:
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            return False
    return NUMBER.fullmatch(token) is not None


def parse_text(source: Input, *, header: bool, limit: int | None = None,
               unicode_errors: str = "strict") -> TextResult:
    """Parse word2vec text (``header=True``) or GloVe text from ``source``."""
    path = source.path
    chunks = _line_chunks(source)
    try:
        first = next(chunks, None)
    except _LongLine:
        raise AuditError(f"{path}: line 1 runs past {MAX_LINE_BYTES >> 20} MB without a line break; an "
                         f"embedding text line is far shorter.") from None
    if first is None:
        raise AuditError(f"{path} has no vectors.")
    if first.startswith(_BOM):
        first = first[len(_BOM):]
    line_no = 1
    header_words = None
    if header:
        end = first.find(b"\n")
        header_line = first[:end].rstrip(b"\r ")
        fields = header_line.split(b" ")
        if len(fields) != 2 or not all(f.isdigit() for f in fields):
            shown = header_line[:40].decode("utf-8", "replace")
            raise AuditError(f"{path}: line 1 ({shown!r}) is not the '<words> <dim>' header word2vec text "
                             f"begins with (GloVe text has no header).")
        header_words, dim = int(fields[0]), int(fields[1])
        if dim < 1:
            raise AuditError(f"{path}: the header says dimension {dim}.")
        if 2 * dim > MAX_LINE_BYTES:
            raise AuditError(f"{path}: the header says dimension {dim}, more values than a text line holds "
                             f"(at most {MAX_LINE_BYTES >> 20} MB).")
        first = first[end + 1:]
        line_no = 2
    else:
        dim = _guess_dim(first.replace(b" \r\n", b"\n").replace(b"\r\n", b"\n").replace(b" \n", b"\n")
                         if b"\r" in first[:1 << 20] or b" \n" in first[:1 << 20] else first, path)
    parser = _Parser(path, dim, header_words, limit, unicode_errors, source)
    shown = bar(total=source.size, desc=f"reading {path.name}", bytes=True)   # on a terminal only
    # The next piece is read and scanned in a helper thread while polars parses this one (reading,
    # numpy's scans and polars all release the GIL).
    with ThreadPoolExecutor(1) as pool:
        ahead = pool.submit(_next_prepared, chunks)
        try:
            parser.feed(_prepare(first), line_no)
            while not parser.done:
                piece = ahead.result()
                if piece is None:
                    break
                ahead = pool.submit(_next_prepared, chunks)
                parser.feed(piece, None)
                shown.update(source._stored_read - shown.n)
        except _LongLine:
            raise AuditError(f"{path}: line {parser.line_no} runs past {MAX_LINE_BYTES >> 20} MB without a line "
                             f"break; an embedding text line is far shorter.") from None
        finally:
            ahead.cancel() or ahead.exception()   # the input is never read by two threads at once
            shown.close()
    return parser.finish()


class _LongLine(Exception):
    """A line ran past MAX_LINE_BYTES (the parser knows its number)."""


def _prepare(chunk: bytes):
    """A piece with its line ends (after CRLF and trailing spaces are normalised) and its number
    of spaces."""
    buf = np.frombuffer(chunk, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    before_end = buf[ends[ends > 0] - 1]
    if np.any(before_end == 13) or np.any(before_end == 32):
        chunk = _normalise(chunk)
        buf = np.frombuffer(chunk, dtype=np.uint8)
        ends = np.flatnonzero(buf == 10)
    return chunk, buf, ends, int(np.count_nonzero(buf == 32))


def _next_prepared(chunks):
    chunk = next(chunks, None)
    return None if chunk is None else _prepare(chunk)


def _line_chunks(source: Input):
    """Pieces of the content that end with a newline (one is added at the very end if missing)."""
    carry = b""
    while True:
        block = source.read(CHUNK_BYTES)
        if not block:
            if carry:
                yield carry + b"\n"
            return
        cut = block.rfind(b"\n")
        if cut < 0:
            carry += block
        else:
            if carry or cut + 1 < len(block):
                piece = b"".join((carry, memoryview(block)[:cut + 1]))
                carry = block[cut + 1:]
            else:
                piece = block
            yield piece
        if len(carry) > MAX_LINE_BYTES:
            raise _LongLine


def _normalise(chunk: bytes) -> bytes:
    """CRLF line ends become LF; spaces at the end of a line (the word2vec C tool writes one)
    are not fields."""
    if b"\r" in chunk:
        chunk = chunk.replace(b"\r\n", b"\n")
    while b" \n" in chunk:
        chunk = chunk.replace(b" \n", b"\n")
    return chunk


def _guess_dim(data: bytes, path: Path) -> int:
    """GloVe files have no header: the dimension is the most common field count minus one,
    taken over the first lines (a word with spaces on the first line must not decide it)."""
    end = data.find(b"\n", 1 << 20)   # whole lines: about the first MB, or the first line however long
    head = [line for line in data[:end if end >= 0 else len(data)].split(b"\n", 1000)[:1000] if line]
    if not head:
        raise AuditError(f"{path} has no vectors.")
    counts = np.bincount([line.count(b" ") for line in head])
    dim = int(counts.argmax())
    if dim < 1:
        try:
            data[:1 << 16].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < min(len(data), 1 << 16) - 4:   # not merely a character cut at the end of the slice
                line = data.count(b"\n", 0, exc.start) + 1
                raise AuditError(f"{path} is not an embedding file this tool reads: line "
                                 f"{line} is not UTF-8 text, and it is not "
                                 f"word2vec binary, fastText .bin, .npz or a pickle either.") from None
        if any(b"\t" in line for line in head):
            raise AuditError(f"{path}: the fields are separated by tabs; embedding text separates them "
                             f"with single spaces.")
        raise AuditError(f"{path}: the lines hold no numbers after the word.")
    return dim


class _Parser:
    """Feeds pieces into one preallocated matrix; keeps the words in row order.

    No word -> row dict is built here: whether the words are distinct is decided at the end by
    hashing them in polars (a few ms for 400,000 words, against 0.2 s for a Python dict), and
    the dict is built by Vectors when a caller first looks a word up."""

    def __init__(self, path, dim, header_words, limit, unicode_errors, source: Input):
        self.path, self.dim, self.header_words, self.limit = path, dim, header_words, limit
        self.unicode_errors = unicode_errors
        self.words: list[str] = []
        self.fast_words: list = []       # polars Series of the words polars read
        self.careful_words: list[str] = []
        self.rows = 0
        self.line_no = 2 if header_words is not None else 1   # number of the next piece's first line
        self.pending_blank: int | None = None   # a blank line seen last: harmless only at the very end
        self.words_with_spaces = 0
        self.undecodable = 0
        self.done = False
        self.extra_lines = 0     # lines beyond the header's promise, counted for the message
        # Rows: the header's promise (or the limit), never more than the stored size can hold
        # (each line is at least a word, dim one-digit values, dim spaces and a newline).
        bound = None
        if source.size is not None and source.compression is None:
            bound = source.size // (2 * dim + 2) + 1
        capacity = header_words if header_words is not None else bound or (1 << 16)
        if bound is not None:
            capacity = min(capacity, bound)
        else:
            # a pipe or a compressed file: grows as it comes; the first matrix at most 64 MB, so a
            # header promising 60,000 x 3,000,000 asks for nothing before the lines are there
            capacity = min(capacity, 1 << 16, max(1, GUESS_BYTES // (4 * dim)))
        if limit is not None:
            capacity = min(capacity, limit)
        self.matrix = np.empty((max(capacity, 1), dim), dtype=np.float32)
        self.fast = dim <= FAST_MAX_DIM
        self._schema = None

    # ----------------------------------------------------------------------------------- pieces
    def feed(self, prepared, line_no: int | None) -> None:
        chunk, buf, ends, spaces = prepared
        if line_no is not None:
            self.line_no = line_no
        if not chunk:
            return
        lines_in_chunk = len(ends)
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        blank = ends == starts
        content = np.flatnonzero(~blank)
        if len(content) and self.pending_blank is not None:
            raise AuditError(f"{self.path}: line {self.pending_blank} is empty.")
        if len(content) == 0:
            if self.pending_blank is None:
                self.pending_blank = self.line_no
            self.line_no += lines_in_chunk
            return
        last = int(content[-1])
        inner = np.flatnonzero(blank[:last + 1])
        if len(inner):
            raise AuditError(f"{self.path}: line {self.line_no + int(inner[0])} is empty.")
        if last < lines_in_chunk - 1:
            self.pending_blank = self.line_no + last + 1
        n = last + 1
        if self.header_words is not None and self.rows + n > self.header_words:
            self.extra_lines += self.rows + n - self.header_words
            n = self.header_words - self.rows
        if self.limit is not None and self.rows + n >= self.limit:
            n = self.limit - self.rows
            self.done = True
        if n > 0:
            self._parse_lines(chunk, buf, starts[:n], ends[:n], spaces if n == lines_in_chunk else None)
        self.line_no += lines_in_chunk

    def _parse_lines(self, chunk: bytes, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                     spaces: int | None) -> None:
        n, dim = len(starts), self.dim
        self._reserve(self.rows + n)
        out = self.matrix[self.rows:self.rows + n]
        stop = int(ends[-1]) + 1
        parsed = None
        if self.fast:
            # Every line holds exactly dim spaces in total: polars reads them all as regular (a
            # longer line makes it raise, a shorter one leaves a null). Otherwise, and when polars
            # refuses, the lines are told apart by their own space counts.
            if spaces is None:
                spaces = int(np.count_nonzero(buf[:stop] == 32))
            everything = spaces == n * dim
            regular = np.ones(n, dtype=bool) if everything else _spaces_per_line(buf, stop, ends) == dim
            if regular.any():
                parsed = self._fast(chunk, stop, starts, ends, regular, out)
            if parsed is None and everything:
                regular = _spaces_per_line(buf, stop, ends) == dim
                if not regular.all():
                    parsed = self._fast(chunk, stop, starts, ends, regular, out) if regular.any() else []
            if parsed is None:
                # undecodable lines go the careful way and polars tries again; any other refusal
                # (a value that is not a number, an empty field) is named by the careful path
                bad = _undecodable_lines(chunk, starts, ends)
                if bad is not None and len(bad):
                    regular[bad] = False
                    parsed = self._fast(chunk, stop, starts, ends, regular, out) if regular.any() else []
        else:
            regular = np.zeros(n, dtype=bool)
        if parsed is None:
            regular[:] = False
            parsed = []
        if regular.all():
            words = parsed
        else:
            words = [None] * n
            for i, word in zip(np.flatnonzero(regular).tolist(), parsed):
                words[i] = word
            for i in np.flatnonzero(~regular).tolist():
                word, values = self._careful(chunk[starts[i]:ends[i]], self.line_no + i)
                out[i] = values
                words[i] = word
                self.careful_words.append(word)
        self.words.extend(words)
        self.rows += n

    def _reserve(self, rows: int) -> None:
        if rows <= len(self.matrix):
            return
        grown = np.empty((max(rows, 2 * len(self.matrix)), self.dim), dtype=np.float32)
        grown[:self.rows] = self.matrix[:self.rows]
        self.matrix = grown

    def _fast(self, chunk, stop, starts, ends, regular, out):
        """polars on the regular lines; their words, or None when it refuses the piece."""
        import polars as pl   # the text parser; imported ahead in a thread when the input is text

        if regular.all():
            body = chunk if stop == len(chunk) else chunk[:stop]
        else:
            rows = np.flatnonzero(regular)
            # runs of consecutive regular lines, joined
            breaks = np.flatnonzero(np.diff(rows) != 1)
            first = np.concatenate(([0], breaks + 1))
            last = np.concatenate((breaks, [len(rows) - 1]))
            body = b"".join(chunk[int(starts[rows[a]]):int(ends[rows[b]]) + 1] for a, b in zip(first, last))
        if self._schema is None:
            self._schema = {_WORD: pl.String, **{f"v{j}": pl.Float32 for j in range(self.dim)}}
        try:
            frame = pl.read_csv(body, has_header=False, separator=" ", quote_char=None, schema=self._schema,
                                comment_prefix=None, null_values=None, empty_string_is_null=True,
                                truncate_ragged_lines=False, raise_if_empty=False, encoding="utf8",
                                eol_char="\n")
        except (pl.exceptions.PolarsError, ValueError, OSError):
            return None
        count = int(regular.sum())
        if frame.height != count or frame.width != self.dim + 1:
            return None
        if sum(frame.null_count().row(0)):   # an empty field or an empty word
            return None
        values = frame.select(pl.exclude(_WORD)).to_numpy(order="c")
        if count == len(out):
            out[:] = values
        else:
            out[np.flatnonzero(regular)] = values
        del values
        column = frame.get_column(_WORD)
        self.fast_words.append(column)
        return column.to_list()

    def _careful(self, line: bytes, line_no: int):
        """One line, read or refused with its number and the problem."""
        dim, path = self.dim, self.path
        if dim > FAST_MAX_DIM and line.count(b" ") >= dim:
            return self._wide(line, line_no)
        text, replaced = self._decoded(line, line_no)
        if replaced and (text.startswith(" ") or not text):
            raise AuditError(f"{path}: line {line_no}'s word is empty once its bad bytes are dropped.")
        tokens = text.split(" ")
        if len(tokens) < dim + 1:
            if "\t" in text:
                raise AuditError(f"{path}: line {line_no} separates its fields with tabs; embedding text "
                                 f"separates them with single spaces.")
            raise AuditError(f"{path}: line {line_no} has {len(tokens) - 1} values, expected {dim} "
                             f"(inconsistent dimensions).")
        values = tokens[-dim:]
        if len(tokens) > dim + 1:
            if is_number(tokens[-dim - 1]):
                # 'b 3 4 5' at dimension 2 is a row with a value too many far more often than the word
                # 'b 3': taking it as a word would load a damaged row silently.
                raise AuditError(f"{path}: line {line_no} has {len(tokens) - 1} values, expected {dim} "
                                 f"(inconsistent dimensions; a word with spaces whose last part is a number, "
                                 f"such as 'route 66', cannot be told from a row with a value too many).")
            word = " ".join(tokens[:-dim])
            self.words_with_spaces += 1
        else:
            word = tokens[0]
        if not word:
            raise AuditError(f"{path}: line {line_no} has an empty word.")
        if _VALUES.fullmatch(text, len(text) - sum(map(len, values)) - dim + 1) is None:
            raise AuditError(f"{path}: line {line_no} has a value that is not a number.")
        return word, np.array(values, dtype=np.float64).astype(np.float32)

    def _decoded(self, raw: bytes, line_no: int) -> tuple[str, bool]:
        """``raw`` as UTF-8 text, or refused, or with its bad bytes handled as ``unicode_errors``
        says (counted); and whether any were."""
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            if self.unicode_errors == "strict":
                raise OptionError(f"{self.path}: line {line_no} is not valid UTF-8 (pass {{remedy}} to read such "
                                  f"words with their bad bytes replaced or dropped).",
                                  "unicode_errors", ("replace", "ignore")) from None
            self.undecodable += 1
            return raw.decode("utf-8", self.unicode_errors), True

    def _wide(self, line: bytes, line_no: int):
        """A row wider than FAST_MAX_DIM, read without a Python object per value (a 60 MB row of 15
        million values took 9.4 GB as a list of strings): the values are the bytes after the
        dim-th space from the end, checked by the same pattern and parsed by numpy's C float parser
        (correctly rounded, as ``float``); the word before them as on the careful path."""
        dim, path = self.dim, self.path
        spaces = np.flatnonzero(np.frombuffer(line, dtype=np.uint8) == 0x20)
        first = int(spaces[-dim])                    # the space before the first value
        if not _plain_values(line, spaces[-dim:]):
            raise AuditError(f"{path}: line {line_no} has a value that is not a number.")
        if len(spaces) > dim and is_number(line[int(spaces[-dim - 1]) + 1:first]):
            raise AuditError(f"{path}: line {line_no} has {len(spaces)} values, expected {dim} "
                             f"(inconsistent dimensions; a word with spaces whose last part is a number, "
                             f"such as 'route 66', cannot be told from a row with a value too many).")
        word, _ = self._decoded(line[:first], line_no)
        if not word:
            raise AuditError(f"{path}: line {line_no} has an empty word.")
        if " " in word:
            self.words_with_spaces += 1
        values = _parse_floats(line, first + 1)
        if len(values) != dim:   # cannot happen after the match; a parser disagreement must not pass silently
            raise AuditError(f"{path}: line {line_no} has a value that is not a number.")
        return word, values.astype(np.float32)

    # ----------------------------------------------------------------------------------- end
    def finish(self) -> TextResult:
        path = self.path
        if self.header_words is not None:
            expected = self.header_words if self.limit is None else min(self.header_words, self.limit)
            if self.extra_lines and (self.limit is None or self.header_words < self.limit):
                raise AuditError(f"{path}: the header promises {self.header_words} words but the body has "
                                 f"more lines ({self.header_words + self.extra_lines}).")
            if self.rows < expected:
                raise AuditError(f"{path}: the header promises {self.header_words} words but the body has "
                                 f"fewer lines ({self.rows}).")
        if self.rows == 0:
            raise AuditError(f"{path} has no vectors.")
        return TextResult(words=self.words, matrix=self.matrix[:self.rows],
                          header_words=self.header_words, words_with_spaces=self.words_with_spaces,
                          undecodable=self.undecodable, unique=self._distinct())

    def _distinct(self) -> bool | None:
        """Whether the words read are distinct: one hash pass in polars over the pieces' word
        columns and the careful path's words; None when polars read none (the loader decides)."""
        if not self.fast_words:
            return None
        import polars as pl   # already imported: it read the pieces

        every = pl.concat([*self.fast_words, pl.Series(_WORD, self.careful_words, dtype=pl.String)])
        return every.n_unique() == len(self.words)


def _spaces_per_line(buf: np.ndarray, stop: int, ends: np.ndarray) -> np.ndarray:
    """Spaces on each line: the space positions counted up to each line end."""
    return np.diff(np.searchsorted(np.flatnonzero(buf[:stop] == 32), ends), prepend=0)


def _undecodable_lines(chunk: bytes, starts: np.ndarray, ends: np.ndarray):
    """Indices of the lines that are not UTF-8; None when there are so many that every line
    may as well go the careful way (a file in another encoding)."""
    bad = []
    pos, stop = 0, int(ends[-1]) + 1
    view = memoryview(chunk)
    while pos < stop:
        try:
            str(view[pos:stop], "utf-8")
            break
        except UnicodeDecodeError as exc:
            line = int(np.searchsorted(ends, pos + exc.start))
            bad.append(line)
            if len(bad) > 1000:
                return None
            pos = int(ends[line]) + 1
    return np.array(bad, dtype=np.int64)
