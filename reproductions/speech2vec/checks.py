"""The per-epoch audits: the homophone check and the word-similarity benchmarks.

Both packages are sibling checks of the toolkit; they are imported here, inside the training
path only, so that importing the reproduction does not import them.
"""

from __future__ import annotations

import math

from audit.errors import AuditError
from reproductions.speech2vec.history import BenchmarkCoefficient, HomophoneSummary


def paper_pairs():
    """The paper's 307 homophone pairs (objects with ``word1`` and ``word2``)."""
    import homophones
    load_pairs = getattr(homophones, "load_pairs", None)
    if load_pairs is None:   # the package's public name; the module while it is being exported
        from homophones.pairs import load_pairs
    return load_pairs("paper-307").pairs


def homophone_summary(vectors) -> tuple[HomophoneSummary | None, str]:
    """(summary, "") or (None, why it was skipped)."""
    import homophones
    check = getattr(homophones, "check", None)
    if check is None:
        return None, "homophones.check is not available in this installation"
    try:
        result = check(vectors, homophones.load_pairs("paper-307"))
    except AuditError as exc:
        return None, str(exc)
    return _summary_of(result), ""


def _summary_of(result) -> HomophoneSummary:
    return HomophoneSummary(verdict=str(result.verdict), pairs_found=int(result.pairs_found),
                            homophone_mean=float(result.homophone.mean), homophone_std=float(result.homophone.std),
                            random_mean=float(result.random.mean), random_std=float(result.random.std),
                            homophone_rank_median=_float_or_none(getattr(result, "homophone_rank_median", None)))


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
