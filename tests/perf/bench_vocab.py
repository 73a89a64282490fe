"""Time corpus counting and the provenance search on a LibriSpeech-sized synthetic corpus.

Run: .venv/bin/python tests/perf/bench_vocab.py [--utterances 281000] [--tokens 9400000] [--types 100000]

The corpus has LibriSpeech's shape: 7 subsets sized by their hours, about 281,000 utterances,
9.4 million words, Zipf-distributed word frequencies (about 89,000 word types are drawn).
Goals (issue 5): first count <= 30 s, cached count <= 1 s, search (127 unions x 20 min counts)
<= 2 s. Baselines measured in the same run: counting with a per-line, per-word Python loop,
and the search done with one Python set per candidate (timed on a sample, scaled to all).
"""

from __future__ import annotations

import argparse
import sys
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from audit.corpora.librispeech import SUBSETS, LibriSpeechCorpus
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.synthetic import synthetic_words, write_corpus
from audit.checks.vocab import provenance

HOURS = {"train-clean-100": 100.6, "train-clean-360": 363.6, "dev-clean": 5.4, "test-clean": 5.4,
         "train-other-500": 496.7, "dev-other": 5.3, "test-other": 5.1}


def zipf_plan(n_types: int, n_tokens: int, seed: int) -> dict[str, dict[str, int]]:
    """Zipf-Mandelbrot frequencies; with 100,000 types and 9.4M tokens about 90,000 types are
    drawn and about 40,000 occur at least 5 times (LibriSpeech: 89,000 and 37,622)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / (np.arange(1, n_types + 1) + 50.0) ** 1.5
    weights /= weights.sum()
    words = synthetic_words(n_types)
    total_hours = sum(HOURS.values())
    plan = {}
    for subset in SUBSETS:
        counts = rng.multinomial(int(n_tokens * HOURS[subset] / total_hours), weights)
        plan[subset] = {words[i]: int(counts[i]) for i in np.flatnonzero(counts)}
    return plan


def timed(function, repeats: int = 1):
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def naive_count(corpus: LibriSpeechCorpus) -> dict[str, Counter]:
    out = {}
    for subset in corpus.subset_names():
        counter: Counter = Counter()
        for path in corpus.transcript_files(subset):
            for line in path.read_text(encoding="utf-8").split("\n"):
                for word in line.split()[1:]:
                    counter[word.lower()] += 1
        out[subset] = counter
    return out


def naive_search_per_candidate(counts, vocabulary: set[str], samples: int, seed: int) -> float:
    """Seconds per candidate for the set-based search (totals per union, then set algebra)."""
    rng = np.random.default_rng(seed)
    names = counts.names
    per_subset = {s.name: s.as_dict() for s in counts.subsets}
    start = time.perf_counter()
    for _ in range(samples):
        mask = int(rng.integers(1, 1 << len(names)))
        min_count = int(rng.integers(1, 21))
        totals: Counter = Counter()
        for i, name in enumerate(names):
            if mask >> i & 1:
                totals.update(per_subset[name])
        candidate = {w for w, c in totals.items() if c >= min_count}
        _ = (len(vocabulary - candidate), len(candidate - vocabulary), len(vocabulary & candidate))
    return (time.perf_counter() - start) / samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utterances", type=int, default=281_000)
    parser.add_argument("--tokens", type=int, default=9_400_000)
    parser.add_argument("--types", type=int, default=100_000, help="word types to draw from (Zipf)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    mean_words = args.tokens / args.utterances
    low = max(1, int(round(mean_words / 4)))
    high = int(round(2 * mean_words - low))
    work = Path(tempfile.mkdtemp(prefix="bench-vocab-"))
    try:
        seconds, plan = timed(lambda: zipf_plan(args.types, args.tokens, args.seed))
        seconds_write, synthetic = timed(lambda: write_corpus(work / "corpus", plan, seed=args.seed,
                                                              utterance_words=(low, high), utterances_per_chapter=50))
        corpus = LibriSpeechCorpus(work / "corpus")
        n_files = sum(len(corpus.transcript_files(s)) for s in corpus.subset_names())
        print(f"generated: {sum(synthetic.utterances.values()):,} utterances, "
              f"{sum(sum(c.values()) for c in plan.values()):,} words, "
              f"{len(set().union(*plan.values())):,} types, {n_files:,} transcript files "
              f"(plan {seconds:.1f} s, write {seconds_write:.1f} s)")

        first, counts = timed(lambda: corpus.count(cache_dir=work / "cache"))
        cached, again = timed(lambda: corpus.count(cache_dir=work / "cache"), args.repeats)
        assert all(a.fingerprint == b.fingerprint for a, b in zip(counts.subsets, again.subsets))
        assert all(c.as_dict() == synthetic.counts[c.name] for c in again.subsets), "counts differ from the plan"
        vocabulary = synthetic.vocabulary(SUBSETS, 5)
        search, result = timed(lambda: provenance(sorted(vocabulary), counts, max_min_count=20), args.repeats)
        assert result.best.exact and result.best.min_count == 5 and len(result.best.subsets) == 7

        naive_seconds, naive = timed(lambda: naive_count(corpus))
        assert all(naive[c.name] == Counter(c.as_dict()) for c in counts.subsets), "naive count disagrees"
        per_candidate = naive_search_per_candidate(counts, vocabulary, samples=20, seed=args.seed)
        naive_search = per_candidate * result.searched

        print(f"{'step':<34}{'seconds':>10}{'goal':>8}{'baseline s':>12}{'speed-up':>10}")
        rows = [("first count (no cache)", first, 30.0, naive_seconds),
                ("cached count (median)", cached, 1.0, first),
                (f"search, {result.searched:,} candidates (median)", search, 2.0, naive_search)]
        for name, value, goal, baseline in rows:
            print(f"{name:<34}{value:>10.2f}{goal:>8.1f}{baseline:>12.2f}{baseline / value:>9.1f}x")
        print("baselines: per-line Python count; cached count vs first count; set-based search "
              f"({per_candidate * 1000:.0f} ms per candidate on 20 sampled, scaled to {result.searched:,})")
        print(f"search result: best = all 7 subsets, count >= {result.best.min_count}, exact={result.best.exact}, "
              f"unique={result.unique}; {result.embedding_words:,} words")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(value <= goal for _, value, goal, _ in rows) else 1   # exit status 1: a goal is missed


if __name__ == "__main__":
    sys.exit(main())
