"""fastText's native ``.bin`` model (what ``fasttext.train_unsupervised(...).save_model`` writes
and ``cc.*.bin`` ship as; gensim reads it with ``load_facebook_vectors``). Not a pickle: a fixed
binary layout, read here without running anything.

Layout (fastText 0.9, file version 12): magic, version, the training arguments (12 int32 and a
double), the dictionary (sizes, then each entry as a NUL-terminated word, an int64 count and an
int8 type), then the *input* matrix: ``nwords`` word rows followed by ``bucket`` rows for hashed
character n-grams, then the output matrix (not needed here).

What is loaded: one vector per vocabulary word, computed as fastText's ``getWordVector`` does,
the mean of the word's own row and the rows of its character n-grams (``minn``..``maxn``
characters of ``<word>``, hashed with FNV-1a into ``bucket`` rows; the end-of-sentence token
``</s>`` has no n-grams in fastText). The n-gram rows themselves are not kept: words outside the
vocabulary get no vector (fastText could build one from its n-grams; an audit of the released
vocabulary does not need it). Models saved before 2017 (no magic number, gensim's
``lee_fasttext.bin``) are read too; supervised and quantized (``.ftz``) models are refused with a
sentence.
"""

from __future__ import annotations

import struct
from array import array

import numpy as np

from audit.core.errors import AuditError
from audit.core.loaders._input import MAX_WHOLE_BYTES, Input
from audit.core.loaders.detect import FASTTEXT_MAGIC, is_old_fasttext
from audit.core.loaders.options import OptionError
from audit.core.loaders.text import TextResult

_ARGS = struct.Struct("<12id")     # dim ws epoch minCount neg wordNgrams loss model bucket minn maxn lrUpdateRate t
_DICT = struct.Struct("<3iqq")     # size nwords nlabels ntokens pruneidx_size
_ENTRY = struct.Struct("<qb")      # count type
_MATRIX = struct.Struct("<?qq")    # quant rows cols
_OLD_DICT = struct.Struct("<3iq")  # before 2017: no pruned index
_OLD_MATRIX = struct.Struct("<qq")  # before 2017: no quantization flag
EOS = "</s>"
GATHER_BYTES = 64 << 20


MAX_NGRAM_CHARS = 100   # maxn beyond this is a damaged header: fastText's default is 6, and the n-grams of a
                        # word cost about len x maxn^2 (maxn 10^6 made 2 KB take 44 s and growing cubically)
MAX_WORD_BYTES = 1 << 20   # a dictionary word longer than this is a damaged file (a word, not a document)


class _Stream:
    """The input's content, read forward once in blocks: exact takes, NUL-terminated words, and
    reads straight into an array (the model is never held whole beside its matrix)."""

    def __init__(self, source: Input, truncated):
        self.source, self.truncated = source, truncated
        self.buffer, self.pos = b"", 0

    def _more(self) -> bool:
        block = self.source.read()
        if not block:
            return False
        self.buffer, self.pos = self.buffer[self.pos:] + block, 0
        return True

    def take(self, n: int, what: str) -> bytes:
        while len(self.buffer) - self.pos < n:
            if not self._more():
                raise self.truncated(what)
        out = self.buffer[self.pos:self.pos + n]
        self.pos += n
        return out

    def word(self, what: str, path) -> bytes:
        while True:
            end = self.buffer.find(b"\x00", self.pos)
            if end >= 0:
                out = self.buffer[self.pos:end]
                self.pos = end + 1
                return out
            if len(self.buffer) - self.pos > MAX_WORD_BYTES:
                raise AuditError(f"{path}: {what} runs past {MAX_WORD_BYTES >> 20} MB without its end; the "
                                 "fastText model is damaged.")
            if not self._more():
                raise self.truncated(what)

    def into(self, target: memoryview, what: str) -> None:
        have = min(len(target), len(self.buffer) - self.pos)
        target[:have] = self.buffer[self.pos:self.pos + have]
        self.pos += have
        filled = have
        while filled < len(target):
            block = self.source.read(min(len(target) - filled, 16 << 20))
            if not block:
                raise self.truncated(what)
            target[filled:filled + len(block)] = block
            filled += len(block)


def parse_fasttext_bin(source: Input, *, limit: int | None = None, unicode_errors: str = "strict") -> TextResult:
    path = source.path

    def truncated(what: str) -> AuditError:
        return AuditError(f"{path} is a truncated fastText .bin model: it ends inside {what}.")

    stream = _Stream(source, truncated)
    head = source.head
    new_format = head[:4] == FASTTEXT_MAGIC
    if not new_format and not is_old_fasttext(head):
        raise AuditError(f"{path} is not a fastText .bin model (neither the fastText magic number nor a "
                         f"pre-2017 header).")
    if new_format:
        stream.take(8, "its header")
    (dim, _ws, _epoch, _min_count, _neg, _word_ngrams, _loss, model, bucket, minn, maxn, _lr_rate,
     _t) = _ARGS.unpack(stream.take(_ARGS.size, "its training arguments"))
    if new_format:
        size, nwords, nlabels, _ntokens, pruneidx_size = _DICT.unpack(stream.take(_DICT.size, "its dictionary"))
    else:
        size, nwords, nlabels, _ntokens = _OLD_DICT.unpack(stream.take(_OLD_DICT.size, "its dictionary"))
        pruneidx_size = 0
    if nlabels > 0 or model == 3:
        raise AuditError(f"{path} is a supervised fastText model (a classifier, {nlabels} labels); only "
                         f"unsupervised word-vector models are read.")
    if pruneidx_size > 0:
        raise AuditError(f"{path} is a pruned (quantized) fastText model; only full .bin models are read.")
    if dim < 1 or nwords < 1 or size < nwords or bucket < 0 or minn < 0 or maxn < 0:
        raise AuditError(f"{path}: the fastText header is inconsistent (dim {dim}, {nwords} words, "
                         f"{bucket} buckets).")
    if maxn > MAX_NGRAM_CHARS:
        raise AuditError(f"{path}: the fastText header says character n-grams of up to {maxn:,} characters "
                         f"(fastText's default is 6; at most {MAX_NGRAM_CHARS} are read); the header is damaged.")
    # Each dictionary entry and the input matrix take bytes of their own: a header that promises more
    # than the stored file could hold is refused before any of it is read.
    promised = (size * (1 + _ENTRY.size) + 4 * (nwords + bucket) * dim)
    if source.regular and source.compression is None and promised > source.size:
        raise AuditError(f"{path} is a truncated fastText .bin model: its header promises {size:,} words and a "
                         f"{nwords + bucket:,} x {dim} input matrix, more than its {source.size:,} bytes hold.")
    words: list[str] = []
    undecodable = 0
    for i in range(size):
        what = f"the dictionary (entry {i + 1} of {size})"
        raw = stream.word(what, path)
        _count, _kind = _ENTRY.unpack(stream.take(_ENTRY.size, what))
        if i >= nwords:
            continue   # labels (not in an unsupervised model)
        try:
            word = raw.decode("utf-8")
        except UnicodeDecodeError:
            if unicode_errors == "strict":
                raise OptionError(f"{path}: word {i + 1} of the fastText dictionary is not valid UTF-8 (pass "
                                  f"{{remedy}} to read such words with their bad bytes replaced or dropped).",
                                  "unicode_errors", ("replace", "ignore")) from None
            word = raw.decode("utf-8", unicode_errors)
            undecodable += 1
        if not word:
            raise AuditError(f"{path}: word {i + 1} of the fastText dictionary is empty.")
        words.append(word)
    if new_format:
        quant, rows, cols = _MATRIX.unpack(stream.take(_MATRIX.size, "its input matrix header"))
    else:
        quant = False
        rows, cols = _OLD_MATRIX.unpack(stream.take(_OLD_MATRIX.size, "its input matrix header"))
    if quant:
        raise AuditError(f"{path} is a quantized fastText model (.ftz); only full .bin models are read.")
    if cols != dim or rows != nwords + bucket:
        raise AuditError(f"{path}: the fastText input matrix is {rows} x {cols}, expected "
                         f"{nwords + bucket} x {dim} ({nwords} words + {bucket} n-gram buckets).")
    # Read straight into the table (its pages are touched only as bytes arrive: a compressed or
    # piped model that ends early costs what it held, not what its header promised).
    if not source.regular and 4 * rows * cols > MAX_WHOLE_BYTES:
        raise AuditError(f"{path}: a fastText model from a pipe or device is read whole, and its input matrix "
                         f"({rows:,} x {cols}) holds more than {MAX_WHOLE_BYTES >> 30} GiB.")
    try:
        table = np.empty((rows, cols), dtype="<f4")
    except MemoryError:
        raise AuditError(f"{path}: the fastText header promises a {rows:,} x {cols} input matrix "
                         f"({4 * rows * cols / 1e9:,.1f} GB), more than this machine can hold.") from None
    stream.into(memoryview(table).cast("B"), "its input matrix")
    keep = len(words) if limit is None else min(limit, len(words))
    words = words[:keep]
    matrix = word_vectors(words, table, nwords, bucket, minn, maxn)
    return TextResult(words=words, matrix=matrix, undecodable=undecodable,
                      extra={"subword_buckets": bucket, "minn": minn, "maxn": maxn})


def ngram_hash(ngram: bytes) -> int:
    """fastText's FNV-1a over bytes, each byte sign-extended as a C ``int8`` first."""
    h = 2166136261
    for b in ngram:
        h ^= b | 0xFFFFFF00 if b >= 128 else b
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def ngrams(word: str, minn: int, maxn: int) -> list[bytes]:
    """fastText's ``computeSubwords``: n-grams of ``<word>`` of minn..maxn characters (UTF-8
    aware), without the lone ``<`` or ``>``."""
    data = f"<{word}>".encode("utf-8")
    out = []
    for i in range(len(data)):
        if data[i] & 0xC0 == 0x80:
            continue
        j, n = i, 1
        while j < len(data) and n <= maxn:
            j += 1
            while j < len(data) and data[j] & 0xC0 == 0x80:
                j += 1
            if n >= minn and not (n == 1 and (i == 0 or j == len(data))):
                out.append(data[i:j])
            n += 1
    return out


def ngram_hashes(word: str, minn: int, maxn: int) -> array:
    """``ngram_hash`` of each of ``ngrams(word, minn, maxn)``, in that order, each n-gram's hash
    extended from the one before it at the same start (FNV-1a goes byte by byte): work grows with
    the word's length times maxn, not times maxn squared."""
    data = f"<{word}>".encode("utf-8")
    size = len(data)
    out = array("Q")
    for i in range(size):
        if data[i] & 0xC0 == 0x80:
            continue
        h, j, n = 2166136261, i, 1
        while j < size and n <= maxn:
            while True:   # one character: its first byte, then its continuation bytes
                b = data[j]
                h = ((h ^ (b | 0xFFFFFF00 if b >= 128 else b)) * 16777619) & 0xFFFFFFFF
                j += 1
                if j >= size or data[j] & 0xC0 != 0x80:
                    break
            if n >= minn and not (n == 1 and (i == 0 or j == size)):
                out.append(h)
            n += 1
    return out


def word_vectors(words: list[str], table: np.ndarray, nwords: int, bucket: int, minn: int, maxn: int) -> np.ndarray:
    """Each word's row averaged with its n-gram rows (float32, as fastText sums)."""
    dim = table.shape[1]
    out = np.empty((len(words), dim), dtype=np.float32)
    if bucket == 0 or maxn == 0:
        out[:] = table[:len(words)]
        return out
    gather_rows = max(1, GATHER_BYTES // (4 * dim))
    start = 0
    while start < len(words):
        rows, owners = [], []
        stop = start
        while stop < len(words) and len(rows) < gather_rows:
            word = words[stop]
            hashes = np.frombuffer(ngram_hashes(word, minn, maxn), dtype=np.uint64) if word != EOS else ()
            if len(hashes) >= gather_rows:
                # a very long word: its rows summed a slice at a time, in the same order
                if rows:
                    break
                grams = nwords + (hashes % bucket).astype(np.int64)
                total = table[stop].copy()
                for first in range(0, len(grams), gather_rows):
                    total += np.add.reduce(table[grams[first:first + gather_rows]], axis=0, dtype=np.float32)
                out[stop] = total / np.float32(len(grams) + 1)
                stop += 1
                start = stop
                continue
            rows.append(stop)
            owners.append(stop - start)
            if len(hashes):
                rows.extend((nwords + (hashes % bucket).astype(np.int64)).tolist())
                owners.extend([stop - start] * len(hashes))
            stop += 1
        if not rows:
            continue
        owners_arr = np.asarray(owners)
        firsts = np.flatnonzero(np.diff(owners_arr, prepend=-1))
        sums = np.add.reduceat(table[np.asarray(rows)], firsts, axis=0, dtype=np.float32)
        counts = np.diff(np.append(firsts, len(owners_arr)))
        out[start:stop] = sums / counts[:, None].astype(np.float32)
        start = stop
    return out
