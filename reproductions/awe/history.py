"""The record of an AWE training run (kind ``awe-training-history``): one entry per epoch.

Epoch 0 is the random initialisation. Every epoch records the same-different AP of the held-out
speakers' tokens (SW and SWDP, :mod:`reproductions.awe.evaluate`) and the homophone summary of
that epoch's word vectors; the run records its speaker split and the MFCC-DTW baseline on the
same held-out tokens (:mod:`reproductions.awe.evaluate`: ``audit acoustic``'s samediff figures).
Torch-free; round-trips JSON.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

from audit.core.results import Result, result_type
from reproductions.awe.evaluate import HeldOutAP
from reproductions.speech2vec.history import CorpusInfo, HomophoneSummary


@dataclass(frozen=True)
class SplitInfo:
    split: str                      # "speakers" (held out of training) or "none"
    test_fraction: float
    seed: int
    train_speakers: tuple[str, ...]
    test_speakers: tuple[str, ...]
    train_tokens: int
    test_tokens: int
    train_words: int                # words with two or more training tokens (the ones trained on)
    test_words_unseen: int          # held-out words with no training token


@dataclass(frozen=True)
class WrittenInfo:
    """The proxies' input (``--loss proxy``)."""

    kind: str                       # letters or phones
    symbols: int
    words_spelt: int                # phones: words CMUdict lacks, spelt with letters instead


@dataclass(frozen=True)
class AweEpochRecord:
    epoch: int
    loss: float                     # mean loss over the epoch's tokens; NaN at epoch 0
    tokens: int                     # training tokens seen this epoch
    tokens_per_second: float        # NaN at epoch 0
    seconds: float                  # training time of the epoch (evaluation excluded)
    vectors: str                    # this epoch's word2vec text file, relative to OUT
    held_out: HeldOutAP             # cosine SW / SWDP AP of the held-out speakers' tokens
    homophones: HomophoneSummary | None = None
    homophones_skipped: str = ""
    evaluation_seconds: float = 0.0


@result_type("awe-training-history")
@dataclass(frozen=True)
class AweHistory(Result):
    config: dict[str, Any]
    corpus: CorpusInfo
    split: SplitInfo
    dtw_baseline: HeldOutAP | None  # MFCC-DTW on the same held-out tokens (None: --dtw-pairs 0)
    written: WrittenInfo | None
    seed: int
    device: str
    epochs: tuple[AweEpochRecord, ...] = field(default_factory=tuple)
    date: str = ""

    def csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["epoch", "loss", "tokens", "tokens_per_second", "seconds", "held_out_sw_ap",
                         "held_out_swdp_ap", "held_out_swsp_ap", "homophone_verdict", "homophone_mean",
                         "random_mean"])
        for record in self.epochs:
            h = record.homophones
            writer.writerow([record.epoch, _num(record.loss), record.tokens, _num(record.tokens_per_second),
                             _num(record.seconds), _num(record.held_out.sw_ap), _num(record.held_out.swdp_ap),
                             _num(record.held_out.swsp_ap), h.verdict if h else "", _num(h.homophone_mean if h else None),
                             _num(h.random_mean if h else None)])
        return buffer.getvalue()


def _num(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.6g}" if isinstance(value, float) else str(value)
