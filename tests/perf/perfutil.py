"""Helpers shared by the performance benchmarks: writing generated embeddings and timing."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

CHUNK_ROWS = 50_000


def write_text_vectors(path: Path, words: list[str], matrix: np.ndarray, *, header: bool = False) -> None:
    """word2vec text (``header=True``) or GloVe text, five decimals, written in chunks."""
    with open(path, "w", encoding="utf-8") as handle:
        if header:
            handle.write(f"{len(words)} {matrix.shape[1]}\n")
        for start in range(0, len(words), CHUNK_ROWS):
            body = np.char.mod("%.5f", matrix[start:start + CHUNK_ROWS])
            handle.write("\n".join(w + " " + " ".join(r) for w, r in zip(words[start:start + CHUNK_ROWS], body)))
            handle.write("\n")


def timed(fn, repeat: int):
    """Median wall time of ``repeat`` calls, and the last call's value."""
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value
