"""The 13 word-similarity benchmarks: registry, files, Spearman evaluation, the paper's claims.

Public API::

    REGISTRY                                  display name -> BenchmarkSpec, in the paper's order
    load_benchmark(name, data_dir=None, lowercase=True) -> Benchmark
    benchmark_pairs(data_dir=None, only=None) -> {name: [(word1, word2, score), ...]}
    evaluate(vectors, *, data_dir=None, only=None, lowercase=True) -> SimilarityResult
    fetch_benchmarks(data_dir=None, ...), benchmark_status(data_dir=None)

The benchmark files are read from the data dir (``--data-dir``, ``$AUDIT_DATA_DIR`` or the user
cache), in DIR or DIR/word-sim; they are never shipped.
"""

from benchmarks.registry import REGISTRY, BenchmarkSpec, UnknownBenchmarkError
from benchmarks.datasets import Benchmark, benchmark_pairs, load_benchmark, load_benchmarks, parse_pairs
from benchmarks.spearman import average_ranks, spearman
from benchmarks.claims import Speech2VecFigures, speech2vec_figures
from benchmarks.evaluation import POLICIES, BenchmarkScore, SimilarityResult, evaluate
from benchmarks.fetch import FetchOutcome, FileStatus, benchmark_status, fetch_benchmarks

__all__ = [
    "REGISTRY", "BenchmarkSpec", "UnknownBenchmarkError", "Benchmark", "benchmark_pairs", "load_benchmark",
    "load_benchmarks", "parse_pairs", "average_ranks", "spearman", "Speech2VecFigures", "speech2vec_figures",
    "POLICIES", "BenchmarkScore", "SimilarityResult", "evaluate", "FetchOutcome", "FileStatus",
    "benchmark_status", "fetch_benchmarks",
]
