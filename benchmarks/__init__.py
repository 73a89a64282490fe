"""The 13 word-similarity benchmarks: registry, files, Spearman evaluation, the paper's claims.

Public API::

    REGISTRY                                  display name -> BenchmarkSpec, in the paper's order
    load_benchmark(name, data_dir=None, lowercase=True) -> Benchmark
    benchmark_pairs(data_dir=None, only=None) -> {name: [(word1, word2, score), ...]}
    evaluate(vectors, *, data_dir=None, only=None, lowercase=True) -> SimilarityResult
    fetch_benchmarks(data_dir=None, ...), benchmark_status(data_dir=None)

The benchmark files are read from the data dir (``--data-dir``, ``$AUDIT_DATA_DIR`` or the user
cache), in DIR or DIR/word-sim; they are never shipped. When none of them is there, the copies of
WS-353 and SimLex-999 that gensim ships in its test data are scored instead, each under its own
name (``... (gensim test copy)``, :data:`OFFLINE_COPIES`), and the result says so.
"""

from benchmarks.registry import OFFLINE_COPIES, REGISTRY, BenchmarkSpec, OfflineCopy, UnknownBenchmarkError
from benchmarks.datasets import (Benchmark, any_file_present, benchmark_pairs, load_benchmark, load_benchmarks,
                                 load_offline_benchmarks, offline_pairs, parse_pairs)
from benchmarks.spearman import average_ranks, spearman
from benchmarks.claims import Speech2VecFigures, speech2vec_figures
from benchmarks.evaluation import POLICIES, BenchmarkScore, SimilarityResult, evaluate
from benchmarks.fetch import FetchOutcome, FileStatus, benchmark_status, fetch_benchmarks

__all__ = [
    "OFFLINE_COPIES", "REGISTRY", "BenchmarkSpec", "OfflineCopy", "UnknownBenchmarkError", "Benchmark",
    "any_file_present", "benchmark_pairs", "load_benchmark", "load_benchmarks", "load_offline_benchmarks",
    "offline_pairs", "parse_pairs", "average_ranks", "spearman", "Speech2VecFigures", "speech2vec_figures",
    "POLICIES", "BenchmarkScore", "SimilarityResult", "evaluate", "FetchOutcome", "FileStatus",
    "benchmark_status", "fetch_benchmarks",
]
