"""Writing embeddings: word2vec/GloVe text and .npz, atomically."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from audit.core.files import temporary_file
from audit.core.vectors import Vectors


def save_word2vec_text(vectors: Vectors, path: str | os.PathLike, *, header: bool = True) -> None:
    """Write word2vec text (or GloVe text with ``header=False``), atomically: to a hidden temporary
    file of its own beside ``path`` (``.NAME.XXXXXXXX.part``), renamed into place; removed when the
    write fails or is interrupted (a full disk or a kill left ``NAME.part`` behind)."""
    path = Path(path)
    with _temporary(path, ".part") as tmp:
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
    with _temporary(path, ".part.npz") as tmp:
        np.savez(tmp, words=np.array(vectors.words, dtype=str), matrix=vectors.matrix)
        os.replace(tmp, path)


@contextlib.contextmanager
def _temporary(path: Path, suffix: str):
    """A new hidden file's name beside ``path`` (:func:`audit.core.files.temporary_file`), removed
    unless it was renamed away."""
    handle, name = temporary_file(path, suffix)
    os.close(handle)
    try:
        yield name
    finally:
        name.unlink(missing_ok=True)
