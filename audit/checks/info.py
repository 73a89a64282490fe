"""`audit info`: what a file is, before any check runs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.core.results import InputInfo, Result, result_type, today
from audit.core.vectors import SourceInfo, Vectors


@dataclass(frozen=True)
class NormStats:
    min: float
    max: float
    mean: float
    median: float


@result_type("info")
@dataclass(frozen=True)
class InfoResult(Result):
    input: InputInfo
    source: SourceInfo
    valid_rows: int
    norms: NormStats
    date: str

    def summary_rows(self) -> list[tuple[str, object]]:
        s = self.source
        named = [("name", s.name)] + ([("revision", s.revision)] if s.revision else []) if s.name else []
        return named + [("file", s.path), ("format", s.format), ("sha256", s.sha256), ("words", s.words),
                ("dimension", s.dim), ("header words", s.header_words), ("duplicates dropped", s.duplicates_dropped),
                ("duplicate policy", s.duplicate_policy), ("case policy", s.case),
                ("words with spaces", s.words_with_spaces), ("zero rows", s.zero_rows),
                ("NaN/inf rows", s.nonfinite_rows), ("rows usable for cosine", self.valid_rows),
                ("norm min", self.norms.min), ("norm median", self.norms.median),
                ("norm mean", self.norms.mean), ("norm max", self.norms.max)]


def describe(vectors: Vectors) -> InfoResult:
    """Counts and norm statistics over the rows whose cosine is defined."""
    norms = vectors.norms[vectors.valid]
    if len(norms):
        stats = NormStats(float(norms.min()), float(norms.max()), float(norms.mean()), float(np.median(norms)))
    else:
        stats = NormStats(np.nan, np.nan, np.nan, np.nan)
    return InfoResult(input=InputInfo.of(vectors), source=vectors.source, valid_rows=int(vectors.valid.sum()),
                      norms=stats, date=today())
