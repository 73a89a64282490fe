"""gensim's native ``KeyedVectors.save`` / ``Word2Vec.save`` file: a pickle (with optional
``.npy`` side files), read by gensim itself and only with ``allow_pickle=True``."""

from __future__ import annotations

import numpy as np

from audit.core.errors import AuditError
from audit.core.loaders._input import Input


def parse_gensim(source: Input, *, limit: int | None = None):
    path = source.path
    if not source.regular or source.compression:
        raise AuditError(f"{path}: a gensim native file is read by gensim from a plain file on disk "
                         f"(not a pipe, a device or a compressed file).")
    try:
        from gensim.models import KeyedVectors  # heavy (scipy, smart_open): only for this format
    except ImportError:  # pragma: no cover - gensim is a dependency
        raise AuditError("reading gensim's native format needs gensim installed.") from None
    try:
        kv = KeyedVectors.load(str(path))
    except Exception as exc:  # gensim raises many kinds for a damaged file
        raise AuditError(f"{path}: gensim could not load it ({type(exc).__name__}).") from None
    if hasattr(kv, "wv"):   # a whole Word2Vec model was saved
        kv = kv.wv
    if not hasattr(kv, "index_to_key") or not hasattr(kv, "vectors"):
        raise AuditError(f"{path}: the gensim file holds a {type(kv).__name__}, not word vectors.")
    words = list(kv.index_to_key)
    matrix = np.asarray(kv.vectors)
    if matrix.ndim != 2 or matrix.dtype.kind not in "fiu" or len(words) != len(matrix):
        raise AuditError(f"{path}: the gensim file's vectors are not one row per word.")
    if not all(isinstance(w, str) and w for w in words):
        raise AuditError(f"{path}: the gensim file has a word that is empty or not a string.")
    if limit is not None:
        words, matrix = words[:limit], matrix[:limit]
    return words, np.ascontiguousarray(matrix, dtype=np.float32), {}
