"""Spearman evaluation of an embedding on the word-similarity benchmarks.

For each benchmark: the cosine of each pair's vectors against the gold score, Spearman with
average ranks for ties. A pair is *found* when both words are in the vocabulary with a usable
row (finite, non-zero); the others are scored under three named policies, all reported:

``drop``  leave the pair out (wordvectors.org; this is ``spearman``)
``zero``  give the pair cosine 0 (``spearman_zero``)
``mean``  replace each missing word by the mean direction of the vocabulary: the mean of the
          unit-normalised rows, so that scaling the vectors cannot change it (``spearman_mean``)

A benchmark with no pair found has no coefficient under any policy: null, never 0. A pair of
identical vectors (a word with itself; two missing words under ``mean``) has cosine exactly 1:
every cosine is rounded to :data:`COSINE_DECIMALS` places before ranking, so rounding noise
cannot break ties (computed, a unit vector with itself is 1 +- 1 ulp, and vectors along one
direction computed two ways, a word's unit row and the mean direction when every row points the
same way, differ by about 1e-16: that difference would otherwise decide their ranks).
Benchmark words are lowercased by default (recorded); the embedding's words are never changed.

Duplicate pairs: by default a (word1, word2) pair listed twice is scored once, at its last
line's score, as the reference scripts (wordvectors.org, the reality check) do by keying pairs
in a dict; ``duplicates="keep"`` scores every line. Each benchmark records how many lines
repeat an earlier pair (WS-353: 1, money/cash) and ``pairs`` counts the pairs scored.
"""

from __future__ import annotations

import dataclasses

import functools
import os
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from audit.core.datadir import data_dir as resolve_data_dir
from audit.core.errors import AuditError
from audit.core.evidence import FEW_BENCHMARK_PAIRS
from audit.core.results import InputInfo, Result, result_type, today
from audit.core.vectors import Vectors
from benchmarks.claims import SOURCE as COMPARISON_SOURCE
from benchmarks.claims import speech2vec_figures
from benchmarks.datasets import (DUPLICATE_POLICIES, Benchmark, load_benchmarks, load_offline_benchmarks,
                                 offline_copy_path)
from benchmarks.registry import OFFLINE_COPIES, REGISTRY
from benchmarks.spearman import spearman

POLICIES = {"spearman": "drop", "spearman_zero": "zero", "spearman_mean": "mean"}
MEAN_VECTOR = "mean of the unit-normalised usable rows"
# Cosines are ranked at this many decimals: far below what float32 vectors resolve (relative
# precision 6e-8), far above float64 rounding (1e-16).
COSINE_DECIMALS = 12
# Rows are summed this many at a time (see _mean_direction).
_MEAN_BLOCK_ROWS = 8192


@dataclass(frozen=True)
class BenchmarkScore:
    """One benchmark's coverage and coefficients, with the Speech2Vec papers' figures beside."""

    name: str
    file: str
    kind: str
    pairs: int
    found: int
    not_found: int
    spearman: float | None          # drop policy
    spearman_zero: float | None
    spearman_mean: float | None
    missing_words: tuple[str, ...]  # distinct benchmark words without a usable vector, sorted
    file_sha256: str
    checksum_ok: bool               # the file is byte-for-byte the registered one
    duplicate_pairs: int = 0        # lines of the file repeating an earlier (word1, word2) pair
    paper_claim: float | None = None
    rc_sgd_rand_init: float | None = None
    rc_sgd_500_epoch: float | None = None
    rc_adam_rand_init: float | None = None
    rc_adam_500_epoch: float | None = None
    paper_not_found: int | None = None
    libri_clean_not_found: int | None = None

    def coefficient(self, policy: str) -> float | None:
        return {"drop": self.spearman, "zero": self.spearman_zero, "mean": self.spearman_mean}[policy]

    @property
    def few_pairs(self) -> bool:
        """Found on fewer than FEW_BENCHMARK_PAIRS pairs: a coefficient too uncertain to read."""
        return self.found < FEW_BENCHMARK_PAIRS


@result_type("benchmarks")
@dataclass(frozen=True)
class SimilarityResult(Result):
    input: InputInfo
    results: tuple[BenchmarkScore, ...]
    lowercase: bool
    policies: dict[str, str]
    mean_vector: str
    data_dir: str
    comparison_source: str
    date: str
    duplicates: str = DUPLICATE_POLICIES["last"]   # how a pair listed twice was scored
    offline: str = ""     # not "": the wordvectors.org files were absent and these copies were scored instead

    def by_name(self, name: str) -> BenchmarkScore:
        known = {score.name for score in self.results}
        wanted = name if name in known else REGISTRY[name].name    # an offline copy by its own name
        for score in self.results:
            if score.name == wanted:
                return score
        raise KeyError(wanted)


def evaluate(vectors: Vectors, *, data_dir: str | os.PathLike | None = None,
             only: str | Iterable[str] | None = None, lowercase: bool = True,
             duplicates: str = "last", offline: bool = False) -> SimilarityResult:
    """Score ``vectors`` on the selected benchmarks (all 13 by default).

    ``duplicates``: "last" (default, the reference convention: a pair listed twice keeps its
    last score) or "keep" (every line of the file is a pair). ``offline``: score the copies that
    installed packages ship (:data:`benchmarks.registry.OFFLINE_COPIES`, each under its own name)
    instead of the wordvectors.org files; the result says so in ``offline``."""
    figures = speech2vec_figures()
    if offline:
        if only is not None:
            raise AuditError("the offline benchmark copies are scored all together; leave out the selection.")
        benchmarks = load_offline_benchmarks(lowercase, duplicates)
        # the paper's coefficients are about the benchmark; its not-found counts are about the other file
        figures = {c.spec.name: dataclasses.replace(figures[c.copy_of], paper_not_found=None,
                                                    libri_clean_not_found=None) for c in OFFLINE_COPIES}
        source = "; ".join(f"{c.spec.name}: {offline_copy_path(c)} ({c.package} {_version(c.package)})"
                           for c in OFFLINE_COPIES)
    else:
        benchmarks = load_benchmarks(data_dir, only, lowercase, duplicates)
        source = ""
    words, pair_rows = _word_index(benchmarks)
    rows = vectors.indices(words)   # one pass over the vocabulary, not the whole word -> row dict
    unit, usable = _unit_rows(vectors, rows)
    mean_unit = None
    if not usable.all():
        mean_unit = _mean_direction(vectors)
    scores = []
    for bench, (left, right) in zip(benchmarks, pair_rows):
        scores.append(_score(bench, words, unit, usable, mean_unit, left, right, figures[bench.name]))
    return SimilarityResult(input=InputInfo.of(vectors), results=tuple(scores), lowercase=bool(lowercase),
                            policies=dict(POLICIES), mean_vector=MEAN_VECTOR,
                            data_dir="" if offline else str(resolve_data_dir(data_dir)),
                            comparison_source=COMPARISON_SOURCE, date=today(),
                            duplicates=DUPLICATE_POLICIES[duplicates], offline=source)


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(package)
    except PackageNotFoundError:
        return "version unknown"


def _score(bench: Benchmark, words, unit, usable, mean_unit, left, right, figures) -> BenchmarkScore:
    gold = bench.scores
    found = usable[left] & usable[right]
    # Rounded (COSINE_DECIMALS): a word paired with itself, computed 1 +- 1 ulp, is exactly 1 and
    # ties with every other pair of identical vectors, so rounding noise decides no rank.
    cosine = np.einsum("ij,ij->i", unit[left], unit[right]).round(COSINE_DECIMALS)
    n_found = int(found.sum())
    drop = zero = mean = None
    if n_found:
        drop = _none_if_nan(spearman(gold[found], cosine[found]))
        zero = _none_if_nan(spearman(gold, np.where(found, cosine, 0.0)))
        if mean_unit is not None:
            left_vec = np.where(usable[left][:, None], unit[left], mean_unit)
            right_vec = np.where(usable[right][:, None], unit[right], mean_unit)
            # two missing words are the mean direction twice: cosine 1 once rounded, like any identical pair
            substituted = np.einsum("ij,ij->i", left_vec, right_vec).round(COSINE_DECIMALS)
            mean = _none_if_nan(spearman(gold, substituted))
        else:
            mean = drop  # nothing is missing anywhere: every policy scores the same pairs
    missing = np.unique(np.concatenate((left[~usable[left]], right[~usable[right]])))
    return BenchmarkScore(
        name=bench.name, file=bench.spec.file, kind=bench.spec.kind, pairs=len(bench), found=n_found,
        not_found=len(bench) - n_found, spearman=drop, spearman_zero=zero, spearman_mean=mean,
        missing_words=tuple(words[i] for i in missing), file_sha256=bench.sha256,
        checksum_ok=bench.checksum_ok, duplicate_pairs=bench.duplicate_pairs, **dataclasses.asdict(figures))


@functools.lru_cache(maxsize=16)
def _word_index(benchmarks: tuple[Benchmark, ...]) -> tuple[tuple[str, ...], list[tuple[np.ndarray, np.ndarray]]]:
    """The distinct words of all benchmarks, and each pair's positions in that list.

    Looking each distinct word up once (about 8,000 for all 13) instead of each pair side
    (about 29,000) is most of the evaluation's speed. Cached: benchmarks are cached objects.
    """
    position: dict[str, int] = {}
    pair_rows = []
    for bench in benchmarks:
        sides = []
        for side in (bench.left, bench.right):
            index = np.fromiter((position.setdefault(str(w), len(position)) for w in side),
                                dtype=np.int64, count=len(side))
            index.flags.writeable = False
            sides.append(index)
        pair_rows.append(tuple(sides))
    return tuple(position), pair_rows


def _unit_rows(vectors: Vectors, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit-length float64 rows for the looked-up words (zeros where unusable) and a usable mask."""
    present = rows >= 0
    gathered = np.zeros((len(rows), vectors.dim), dtype=np.float64)
    gathered[present] = vectors.matrix[rows[present]]
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.sqrt(np.einsum("ij,ij->i", gathered, gathered))
    # the same rule as Vectors.valid: a row is usable when its norm is finite and non-zero
    usable = present & np.isfinite(norms) & (norms > 0)
    unit = np.zeros_like(gathered)
    unit[usable] = gathered[usable] / norms[usable, None]
    return unit, usable


def _mean_direction(vectors: Vectors) -> np.ndarray:
    """Unit vector along the mean of the unit-normalised usable rows (NaN if there is none)."""
    usable = vectors.valid
    weights = np.zeros(len(vectors), dtype=np.float32)
    weights[usable] = 1.0 / vectors.norms[usable]
    total = np.zeros(vectors.dim, dtype=np.float64)
    # weights @ matrix is one float32 BLAS pass (no float64 copy of a 400k-row matrix); summing
    # block results in float64 keeps the rounding small and nearly independent of row order.
    for start in range(0, len(vectors), _MEAN_BLOCK_ROWS):
        block = slice(start, start + _MEAN_BLOCK_ROWS)
        rows = vectors.matrix[block]
        if not usable[block].all():  # NaN rows have weight 0, but 0 * NaN is still NaN
            rows = np.where(usable[block, None], rows, 0)
        total += weights[block] @ rows
    length = np.sqrt(np.dot(total, total))
    if not np.isfinite(length) or length == 0:
        return np.full(vectors.dim, np.nan)
    return total / length


def _none_if_nan(value: float) -> float | None:
    return None if value != value else float(value)
