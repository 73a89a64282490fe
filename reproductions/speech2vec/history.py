"""The record of a training run: one entry per epoch (epoch 0 = random initialisation).

A registered result (kind ``training-history``) that round-trips JSON, so reports can draw the
learning curves of Fig. 3 from ``OUT/history.json`` alone. Torch-free.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

from audit.core.results import Result, result_type


@dataclass(frozen=True)
class BenchmarkCoefficient:
    name: str
    pairs: int
    found: int
    spearman: float | None          # pairs with both words present (wordvectors.org's policy)
    spearman_zero: float | None
    spearman_mean: float | None


@dataclass(frozen=True)
class HomophoneSummary:
    """What ``homophones.check`` said about this epoch's vectors."""

    verdict: str
    pairs_found: int
    homophone_mean: float
    homophone_std: float
    random_mean: float
    random_std: float
    homophone_rank_median: float | None = None
    share_within_cutoff: float | None = None          # homophone ranks <= 10 (what the verdict reads)
    control_share_within_cutoff: float | None = None


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    loss: float                     # mean masked MSE over the epoch's pairs; NaN at epoch 0
    pairs: int
    pairs_per_second: float         # NaN at epoch 0
    seconds: float                  # training time of the epoch (evaluation excluded)
    vectors: str                    # word2vec text file of this epoch, relative to OUT
    benchmarks: tuple[BenchmarkCoefficient, ...] = ()
    benchmarks_skipped: str = ""    # why the benchmarks were not run (empty when they were)
    homophones: HomophoneSummary | None = None
    homophones_skipped: str = ""
    # Same-different average precision (cosine) of this epoch's per-instance embeddings, on the
    # pairs `audit acoustic` scores for the run's instances.npz (seeded sample for large
    # corpora), and its chance level (share of same-word pairs). None in older histories.
    same_different_ap: float | None = None
    same_different_chance: float | None = None


@dataclass(frozen=True)
class CorpusInfo:
    root: str
    subsets: tuple[str, ...]
    frame_store: str
    utterances: int
    instances: int                  # spoken words of vocabulary words
    vocabulary: int
    speakers: int
    mean_frames: float              # before truncation to max_frames
    truncated_share: float          # share of instances longer than max_frames


@result_type("training-history")
@dataclass(frozen=True)
class TrainingHistory(Result):
    config: dict[str, Any]
    corpus: CorpusInfo
    seed: int
    device: str
    world_size: int
    epochs: tuple[EpochRecord, ...] = field(default_factory=tuple)
    date: str = ""

    def csv_text(self) -> str:
        """One row per epoch; one column per benchmark coefficient (drop policy)."""
        names = [b.name for b in self.epochs[-1].benchmarks] if self.epochs else []
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["epoch", "loss", "pairs", "pairs_per_second", "seconds", "homophone_verdict",
                         "homophone_mean", "random_mean", "same_different_ap"] + names)
        for record in self.epochs:
            h = record.homophones
            by_name = {b.name: b.spearman for b in record.benchmarks}
            writer.writerow([record.epoch, _num(record.loss), record.pairs, _num(record.pairs_per_second),
                             _num(record.seconds), h.verdict if h else "", _num(h.homophone_mean if h else None),
                             _num(h.random_mean if h else None), _num(record.same_different_ap)]
                            + [_num(by_name.get(n)) for n in names])
        return buffer.getvalue()


def _num(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.6g}" if isinstance(value, float) else str(value)
