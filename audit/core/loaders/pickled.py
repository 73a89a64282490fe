"""A pickled ``{word: vector}`` dict (the reality-check code writes these). A pickle can run
code when it is loaded: read only with ``allow_pickle=True``."""

from __future__ import annotations

import pickle

import numpy as np

from audit.core.errors import AuditError
from audit.core.loaders._input import Input


def parse_pickle(source: Input, *, limit: int | None = None):
    path = source.path
    data = source.read_all("a pickle")
    try:
        obj = pickle.loads(data)
    except Exception:
        raise AuditError(f"{path} is not a readable pickle.") from None
    del data
    if not isinstance(obj, dict):
        raise AuditError(f"{path}: the pickle holds a {type(obj).__name__}, expected a {{word: vector}} dict.")
    words, rows = [], []
    for word, vector in obj.items():
        if not isinstance(word, str):
            raise AuditError(f"{path}: the pickle has a key of type {type(word).__name__}; words must be strings.")
        if not word:
            raise AuditError(f"{path}: the pickle has an empty word.")
        row = np.asarray(vector) if not isinstance(vector, (str, bytes)) else None
        if row is None or row.dtype.kind not in "fiu" or row.ndim > 2:
            kind = type(vector).__name__ if row is None or row.dtype.kind == "O" else f"{row.dtype} array"
            raise AuditError(f"{path}: the value of {word!r} is a {kind}, not a vector of numbers.")
        words.append(word)
        rows.append(row.astype(np.float32).ravel())
        if limit is not None and len(words) >= limit:
            break
    if not rows:
        raise AuditError(f"{path}: the pickled dict is empty.")
    dims = {len(r) for r in rows}
    if len(dims) != 1:
        raise AuditError(f"{path}: the pickled vectors have different lengths ({sorted(dims)}).")
    return words, np.vstack(rows), {}
