"""The per-epoch audits: the homophone check and the word-similarity benchmarks.

Both packages are sibling checks of the toolkit; they are imported here, inside the training
path only, so that importing the reproduction does not import them.
"""

from __future__ import annotations

import math

from audit.core.errors import AuditError
from reproductions.speech2vec.history import BenchmarkCoefficient, HomophoneSummary


def homophone_summary(vectors) -> tuple[HomophoneSummary | None, str]:
    """(summary, "") or (None, why it was skipped)."""
    from homophones import check, load_pairs
    try:
        result = check(vectors, load_pairs("paper-307"))
    except AuditError as exc:
        return None, str(exc)
    return HomophoneSummary(verdict=result.verdict, pairs_found=result.pairs.found,
                            homophone_mean=result.homophone_similarity.mean,
                            homophone_std=result.homophone_similarity.std,
                            random_mean=result.random_similarity.mean, random_std=result.random_similarity.std,
                            homophone_rank_median=_float_or_none(result.homophone_rank.median),
                            share_within_cutoff=_float_or_none(result.homophone_rank.share_within_cutoff),
                            control_share_within_cutoff=_float_or_none(result.control_rank.share_within_cutoff)), ""


def _float_or_none(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def benchmark_coefficients(vectors, data_dir) -> tuple[tuple[BenchmarkCoefficient, ...], str]:
    """Every benchmark's Spearman coefficients, or ((), why they were skipped)."""
    from benchmarks import evaluate
    try:
        result = evaluate(vectors, data_dir=data_dir)
    except AuditError as exc:
        return (), f"benchmarks not run: {exc}"
    return tuple(BenchmarkCoefficient(name=s.name, pairs=s.pairs, found=s.found, spearman=s.spearman,
                                      spearman_zero=s.spearman_zero, spearman_mean=s.spearman_mean)
                 for s in result.results), ""
