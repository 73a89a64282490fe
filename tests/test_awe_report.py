"""The report's AWE training section says what each per-epoch AP was measured on: the held-out
speakers' tokens under the speaker split, all tokens (the training tokens) under --split none, and
whether the pairs were a seeded sample. Built from a history's fields alone (no training)."""

from __future__ import annotations

import math

from reports.document import Figure, Table
from reports.other_sections import awe_training_section
from reports.run import EmbeddingResults, ReportData
from reproductions.awe.evaluate import HeldOutAP
from reproductions.awe.history import AweEpochRecord, AweHistory, SplitInfo
from reproductions.speech2vec.history import CorpusInfo


def _ap(value: float, *, pairs_total: int = 789_396, pairs_scored: int = 789_396) -> HeldOutAP:
    return HeldOutAP(sw_ap=value, swdp_ap=value - 0.1, swsp_ap=value + 0.05, sw_breakeven=value, swdp_breakeven=value,
                     chance=0.0157, tokens=1257, words=254, speakers=3, pairs_total=pairs_total,
                     same_pairs_total=12_000, swdp_pairs_total=8_000, pairs_scored=pairs_scored,
                     sampled=pairs_scored < pairs_total, score="cosine")


def history(split: str = "speakers", pairs_scored: int = 789_396, dtw: bool = True) -> AweHistory:
    speakers = ("s1", "s2") if split == "speakers" else ("s0", "s1", "s2")
    splitting = SplitInfo(split=split, test_fraction=0.25, seed=0, train_speakers=("s0",) if split == "speakers"
                          else speakers, test_speakers=speakers, train_tokens=400 if split == "speakers" else 1257,
                          test_tokens=857 if split == "speakers" else 1257, train_words=200, test_words_unseen=3)
    corpus = CorpusInfo(root="r", subsets=(), frame_store="f", utterances=100, instances=1257, vocabulary=254,
                        speakers=3, mean_frames=10.0, truncated_share=0.0)
    epochs = tuple(AweEpochRecord(epoch=i, loss=math.nan if i == 0 else 0.3, tokens=0 if i == 0 else 1257,
                                  tokens_per_second=math.nan if i == 0 else 3000.0, seconds=0.4 * i,
                                  vectors=f"epochs/epoch_{i:03d}.txt", held_out=_ap(0.8 + 0.05 * i,
                                                                                   pairs_scored=pairs_scored))
                   for i in range(2))
    return AweHistory(config={"split": split}, corpus=corpus, split=splitting,
                      dtw_baseline=_ap(0.85, pairs_scored=20_000) if dtw else None, written=None, seed=0,
                      device="cpu", epochs=epochs)


def section(result: AweHistory) -> tuple[Table, Figure]:
    data = ReportData(title="t", embeddings=[EmbeddingResults(name="awe", results={"awe-training-history": result})])
    blocks = awe_training_section(data)
    tables, figures = [b for b in blocks if isinstance(b, Table)], [b for b in blocks if isinstance(b, Figure)]
    assert len(tables) == 1 and len(figures) == 1
    return tables[0], figures[0]


def test_the_speaker_split_is_labelled_held_out():
    table, figure = section(history("speakers"))
    assert list(table.headers) == ["epoch", "loss", "tokens/s", "held-out SW AP", "held-out SWDP AP", "homophones"]
    assert "same-different AP of 2 held-out speakers (857 tokens) (epoch 0 = random init; MFCC-DTW" in table.caption
    assert "the AP of the held-out speakers' tokens" in figure.caption
    assert "held-out SWDP AP" in figure.svg


def test_split_none_is_labelled_as_all_tokens_never_held_out():
    """--split none evaluates the tokens trained on: nothing may call them held out."""
    table, figure = section(history("none"))
    assert list(table.headers) == ["epoch", "loss", "tokens/s", "SW AP (all tokens, no split)",
                                   "SWDP AP (all tokens, no split)", "homophones"]
    assert "same-different AP of all 1257 tokens, the training tokens (no split; epoch 0 = random init" in \
        table.caption
    assert "the AP of all tokens, the training tokens (no split)" in figure.caption
    for text in (table.caption, figure.caption, figure.svg, *table.headers):
        assert "held-out" not in text and "held out" not in text, text


def test_a_sampled_ap_is_marked_as_a_sample_in_the_caption():
    """--eval-pairs 5000 of 789,396: the terminal said so, the report's caption did not."""
    table, _ = section(history("none", pairs_scored=5000))
    assert table.caption.endswith(". Pairs scored: each epoch, a seeded sample of 5,000 of the 789,396 pairs, "
                                  "weighted back to all pairs (the same pairs every epoch); MFCC-DTW, a seeded "
                                  "sample of 20,000 of the 789,396 pairs, weighted back to all pairs.")
    table, _ = section(history("speakers", dtw=False))
    assert table.caption.endswith(". Pairs scored: each epoch, all 789,396 pairs (the same pairs every epoch).")
    assert "MFCC-DTW" not in table.caption and "sample" not in table.caption
