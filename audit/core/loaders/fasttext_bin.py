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

import numpy as np

from audit.core.errors import AuditError
from audit.core.loaders._input import Input
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


def parse_fasttext_bin(source: Input, *, limit: int | None = None, unicode_errors: str = "strict") -> TextResult:
    path = source.path
    data = source.read_all("a fastText .bin model")
    view = memoryview(data)

    def truncated(what: str) -> AuditError:
        return AuditError(f"{path} is a truncated fastText .bin model: it ends inside {what}.")

    new_format = data[:4] == FASTTEXT_MAGIC
    if not new_format and not is_old_fasttext(data):
        raise AuditError(f"{path} is not a fastText .bin model (neither the fastText magic number nor a "
                         f"pre-2017 header).")
    if new_format:
        pos = 8
        if len(data) < pos + _ARGS.size:
            raise truncated("its training arguments")
        (dim, _ws, _epoch, _min_count, _neg, _word_ngrams, _loss, model, bucket, minn, maxn, _lr_rate,
         _t) = _ARGS.unpack_from(data, pos)
        pos += _ARGS.size
    else:   # dim and ws first, then the other arguments, no magic or version
        (dim, _ws, _epoch, _min_count, _neg, _word_ngrams, _loss, model, bucket, minn, maxn, _lr_rate,
         _t) = _ARGS.unpack_from(data, 0)
        pos = _ARGS.size
    if len(data) < pos + _DICT.size:
        raise truncated("its dictionary")
    if new_format:
        size, nwords, nlabels, _ntokens, pruneidx_size = _DICT.unpack_from(data, pos)
        pos += _DICT.size
    else:
        size, nwords, nlabels, _ntokens = _OLD_DICT.unpack_from(data, pos)
        pruneidx_size = 0
        pos += _OLD_DICT.size
    if nlabels > 0 or model == 3:
        raise AuditError(f"{path} is a supervised fastText model (a classifier, {nlabels} labels); only "
                         f"unsupervised word-vector models are read.")
    if pruneidx_size > 0:
        raise AuditError(f"{path} is a pruned (quantized) fastText model; only full .bin models are read.")
    if dim < 1 or nwords < 1 or size < nwords or bucket < 0 or minn < 0 or maxn < 0:
        raise AuditError(f"{path}: the fastText header is inconsistent (dim {dim}, {nwords} words, "
                         f"{bucket} buckets).")
    words: list[str] = []
    undecodable = 0
    for i in range(size):
        end = data.find(b"\x00", pos)
        if end < 0 or end + 1 + _ENTRY.size > len(data):
            raise truncated(f"the dictionary (entry {i + 1} of {size})")
        raw = data[pos:end]
        _count, kind = _ENTRY.unpack_from(data, end + 1)
        pos = end + 1 + _ENTRY.size
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
    if len(data) < pos + _MATRIX.size:
        raise truncated("its input matrix header")
    if new_format:
        quant, rows, cols = _MATRIX.unpack_from(data, pos)
        pos += _MATRIX.size
    else:
        quant = False
        rows, cols = _OLD_MATRIX.unpack_from(data, pos)
        pos += _OLD_MATRIX.size
    if quant:
        raise AuditError(f"{path} is a quantized fastText model (.ftz); only full .bin models are read.")
    if cols != dim or rows != nwords + bucket:
        raise AuditError(f"{path}: the fastText input matrix is {rows} x {cols}, expected "
                         f"{nwords + bucket} x {dim} ({nwords} words + {bucket} n-gram buckets).")
    if len(data) < pos + 4 * rows * cols:
        raise truncated("its input matrix")
    table = np.frombuffer(view[pos:pos + 4 * rows * cols], dtype="<f4").reshape(rows, cols)
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


def word_vectors(words: list[str], table: np.ndarray, nwords: int, bucket: int, minn: int, maxn: int) -> np.ndarray:
    """Each word's row averaged with its n-gram rows (float32, as fastText sums)."""
    dim = table.shape[1]
    out = np.empty((len(words), dim), dtype=np.float32)
    if bucket == 0 or maxn == 0:
        out[:] = table[:len(words)]
        return out
    start = 0
    while start < len(words):
        rows, owners = [], []
        stop = start
        while stop < len(words) and len(rows) * dim * 4 < GATHER_BYTES:
            word = words[stop]
            rows.append(stop)
            owners.append(stop - start)
            if word != EOS:
                for gram in ngrams(word, minn, maxn):
                    rows.append(nwords + ngram_hash(gram) % bucket)
                    owners.append(stop - start)
            stop += 1
        owners_arr = np.asarray(owners)
        firsts = np.flatnonzero(np.diff(owners_arr, prepend=-1))
        sums = np.add.reduceat(table[np.asarray(rows)], firsts, axis=0, dtype=np.float32)
        counts = np.diff(np.append(firsts, len(owners_arr)))
        out[start:stop] = sums / counts[:, None].astype(np.float32)
        start = stop
    return out
