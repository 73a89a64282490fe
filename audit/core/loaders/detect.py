"""Format detection from the content (the first bytes, decompressed), never the file name."""

from __future__ import annotations

import pickletools
import re
import struct
from pathlib import Path

from audit.core.errors import AuditError

FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")
# Bytes that never occur in text: C0 controls other than tab, newline, vertical tab, form feed, CR.
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f]")


def detect_format(data: bytes, path: Path | None = None) -> str:
    """Name the format of (decompressed) content from its first bytes."""
    if data[:4] == b"PK\x03\x04":
        return "npz"
    if data[:4] == FASTTEXT_MAGIC or is_old_fasttext(data):
        return "fasttext-bin"
    if data[:1] == b"\x80":
        return "gensim" if _pickle_builds_gensim_object(data[:1 << 16]) else "pickle"
    if data.startswith(b"\xef\xbb\xbf"):   # a UTF-8 byte order mark is not part of the first line
        data = data[3:]
    first_end = data.find(b"\n")
    first_end = len(data) if first_end < 0 else first_end
    header = data[:first_end].strip(b" \r").split(b" ")
    if len(header) == 2 and all(t.isdigit() for t in header):
        dim = int(header[1])
        if dim > 0 and _first_entry_is_binary(data[first_end + 1:], dim):
            return "word2vec-bin"
        return "word2vec-text"
    return "glove-text"


_OLD_FASTTEXT = struct.Struct("<12id3iq")   # dim ws epoch minCount neg wordNgrams loss model bucket minn maxn
#                                            lrUpdateRate t | size nwords nlabels ntokens


def is_old_fasttext(data: bytes) -> bool:
    """A fastText model saved before the magic number existed (2017; gensim's ``lee_fasttext.bin``):
    its training arguments must all be in range (loss and model are 1-3, t a sampling threshold
    in (0, 1], sizes sensible), which no text and no other format's head is."""
    if len(data) < _OLD_FASTTEXT.size:
        return False
    (dim, ws, epoch, min_count, neg, word_ngrams, loss, model, bucket, minn, maxn, lr_rate, t,
     size, nwords, nlabels, ntokens) = _OLD_FASTTEXT.unpack_from(data)
    return (0 < dim <= 1 << 16 and 0 < ws <= 1000 and 0 < epoch and 0 <= min_count and 0 <= neg
            and 0 < word_ngrams <= 100 and loss in (1, 2, 3) and model in (1, 2, 3) and 0 <= bucket
            and 0 <= minn <= maxn <= 1000 and 0 < lr_rate and 0 < t <= 1 and 0 < nwords <= size
            and 0 <= nlabels and 0 <= ntokens)


def _first_entry_is_binary(body: bytes, dim: int) -> bool:
    """word2vec binary follows the header with ``word<space>`` and 4 * dim bytes of float32:
    those bytes (as far as the head holds them) are binary when they hold a control byte or are
    not UTF-8; text that merely has tabs, a non-number or too few values is text (and its parser
    names the problem)."""
    space = body.find(b" ")
    if space < 0:
        return False
    region = body[space + 1:space + 1 + 4 * dim]
    if not region:
        return False
    if _CONTROL.search(region):
        return True
    try:
        region.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(region) - 3 or len(region) < 4 * dim   # not just a character cut at the end
    return False


def _pickle_builds_gensim_object(head: bytes) -> bool:
    """A gensim native file is a pickle whose first object is a class from ``gensim.``; a pickled
    dict starts with an empty dict (its values' classes come later). Only the opcodes are read."""
    strings: list[str] = []
    try:
        for opcode, arg, _ in pickletools.genops(head):
            name = opcode.name
            if name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
                strings.append(arg)
            elif name == "STACK_GLOBAL":
                return len(strings) >= 2 and strings[-2].split(".")[0] == "gensim"
            elif name in ("GLOBAL", "INST"):
                return str(arg).split(" ")[0].split(".")[0] == "gensim"
            elif name in ("EMPTY_DICT", "DICT", "EMPTY_LIST", "LIST", "EMPTY_TUPLE", "TUPLE", "MARK"):
                return False
    except Exception:   # a head cut in the middle of an opcode, or not a pickle at all
        return False
    return False


FORMAT_NAMES = ("word2vec-text", "glove-text", "word2vec-bin", "fasttext-bin", "npz", "gensim", "pickle")
