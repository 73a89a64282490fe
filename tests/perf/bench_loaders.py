"""Load time of audit.load vs gensim on a generated 400,000 x 50 GloVe-format text file.

Run: .venv/bin/python tests/perf/bench_loaders.py [--words 400000] [--dim 50] [--repeat 3]
Prints the median times, the speed-up and the correctness checks (same words in the same order,
max abs difference of the values). The goal (issue 2) is a speed-up of at least 10x.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import audit  # noqa: E402
from perfutil import timed, write_text_vectors  # noqa: E402

# Words that trip parsers with default quoting or NA handling, mixed into the vocabulary.
TRICKY = ['"', "nan", "null", "NULL", "NA", "None", "true", "#", "1e5", "it's"]


def generate(path: Path, n_words: int, dim: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    words = TRICKY + [f"w{i}" for i in range(n_words - len(TRICKY))]
    write_text_vectors(path, words, rng.normal(scale=0.4, size=(n_words, dim)).astype(np.float32))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=400_000)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from gensim.models import KeyedVectors

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "glove.txt"
        generate(path, args.words, args.dim)
        size_mb = path.stat().st_size / 1e6
        path.read_bytes()  # warm the page cache for both readers
        ours_s, ours = timed(lambda: audit.load(path), args.repeat)
        gensim_s, kv = timed(lambda: KeyedVectors.load_word2vec_format(str(path), no_header=True), 1)
        same_words = list(ours.words) == list(kv.index_to_key)
        max_diff = float(np.abs(ours.matrix - kv.vectors).max())
        cache = Path(tmp) / "cache"
        audit.load(path, cache_dir=cache)
        cached_s, _ = timed(lambda: audit.load(path, cache_dir=cache), args.repeat)
    print(f"file: {args.words:,} x {args.dim} GloVe text, {size_mb:.0f} MB")
    print(f"gensim KeyedVectors.load_word2vec_format: {gensim_s:.2f} s")
    print(f"audit.load:                               {ours_s:.2f} s  ({gensim_s / ours_s:.1f}x faster)")
    print(f"audit.load with binary cache:             {cached_s:.2f} s  ({gensim_s / cached_s:.1f}x faster)")
    print(f"identical words in the same order: {same_words}; max abs difference: {max_diff:.2e}")
    ok = same_words and max_diff <= 1e-6 and gensim_s / ours_s >= 10
    print("goal (>= 10x, same words, diff <= 1e-6):", "met" if ok else "NOT met")
    return 0 if ok else 1   # exit status 1: the goal is missed


if __name__ == "__main__":
    sys.exit(main())
