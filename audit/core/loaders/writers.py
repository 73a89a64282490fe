"""Writing embeddings: word2vec/GloVe text and .npz, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from audit.core.vectors import Vectors


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
