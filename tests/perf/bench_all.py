"""Time `audit all` on a generated 400,000 x 50 embedding (the goal: seconds, not minutes).

Run: .venv/bin/python tests/perf/bench_all.py [--words 400000] [--dim 50] [--repeats 3]

The vocabulary holds every word of the paper's homophone list and of the 13 benchmarks (read
from ../shared/data), so the homophone and benchmark checks do their full work, padded with
pseudo-words. Baseline, measured in the same run: `audit info` on the same file (load + norms),
i.e. what any command pays to read the file. Also timed: `audit report` (re-render only).
Each command runs in a fresh process, as a user would run it; the median of the repeats is shown.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from perfutil import write_text_vectors

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
AUDIT = [sys.executable, "-m", "audit"]


def vocabulary(n_words: int) -> list[str]:
    words: dict[str, None] = {}
    pairs = SHARED / "homophones" / "homophones-307.tsv"
    if pairs.exists():
        for line in pairs.read_text(encoding="utf-8").split("\n")[1:]:
            for word in line.split("\t")[:2]:
                if word.strip():
                    words[word.strip().lower()] = None
    for path in sorted((SHARED / "word-sim").glob("*.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").split("\n"):
            for word in line.split()[:2]:
                words[word.lower()] = None
    index = 0
    while len(words) < n_words:
        words[f"w{index:07d}"] = None
        index += 1
    return list(words)[:n_words]


def generate(path: Path, n_words: int, dim: int) -> None:
    rng = np.random.default_rng(0)
    write_text_vectors(path, vocabulary(n_words), rng.normal(size=(n_words, dim)).astype(np.float32), header=True)


def timed(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=400_000)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.gettempdir()) / "embedding-audit-bench"
    work.mkdir(exist_ok=True)
    vectors = work / f"generated-{args.words}x{args.dim}.txt"
    if not vectors.exists():
        started = time.perf_counter()
        generate(vectors, args.words, args.dim)
        print(f"generated {vectors} ({vectors.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    os.environ.setdefault("AUDIT_DATA_DIR", str(work / "no-data"))   # no user cache lookups
    data_dir = SHARED / "word-sim"
    out = work / "report"
    baseline = timed(AUDIT + ["info", str(vectors)], args.repeats)
    full = timed(AUDIT + ["all", str(vectors), "--data-dir", str(data_dir), "--out", str(out)], args.repeats)
    rerender = timed(AUDIT + ["report", str(out)], args.repeats)
    print(f"{args.words:,} words x {args.dim}, median of {args.repeats} runs, fresh process each:")
    print(f"  audit info   (baseline: load + norms)   {baseline:6.2f} s")
    print(f"  audit all    (every applicable check)   {full:6.2f} s   {full / baseline:4.1f}x baseline")
    print(f"  audit report (re-render from JSON)      {rerender:6.2f} s   {rerender / baseline:4.1f}x baseline")
    print(f"  checks run: {sorted(p.name.split('.')[1] for p in (out / 'results').glob('01-*.json'))}")
    return 0 if full < 60 else 1   # exit status 1: the goal (seconds, not minutes) is missed


if __name__ == "__main__":
    sys.exit(main())
