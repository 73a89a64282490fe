"""AWE training settings: defaults, a JSON file, CLI overrides (torch-free).

Precedence as for Speech2Vec: built-in defaults (:class:`AweConfig`) < ``--config FILE`` <
command-line options; the resolved settings go to ``OUT/config.json`` and ``--resume`` refuses
a change to anything the weights depend on. The corpus and MFCC settings are the Speech2Vec
reproduction's, so both read the same frame store.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from audit.core.errors import SEED_LIMIT, AuditError
from reproductions.speech2vec.config import (CORPUS_SIZES, DEVICES, NORMALIZATIONS, Settings, add_override_arguments,
                                             add_run_arguments, settings_from_args)

LOSSES = ("triplet", "proxy")
MININGS = ("batch-hard", "semi-hard")
PROXY_INPUTS = ("letters", "phones")
SPLITS = ("speakers", "none")
OPTIMIZERS = ("adam", "sgd")

# Settings that change what a checkpoint means: resuming with a different value is refused.
WEIGHT_DEFINING = ("corpus_root", "subsets", "corpus_size", "corpus_seed", "n_mfcc", "sample_rate", "n_fft",
                   "hop_length", "max_frames", "normalization", "min_count", "lowercase", "embedding_dim", "layers",
                   "dropout", "loss", "mining", "margin", "proxy_input", "symbol_dim", "alpha", "beta",
                   "proxy_margin", "batch_size", "per_word", "optimizer", "lr", "seed", "split", "test_fraction",
                   "split_seed")
# Settings that change what the history's earlier epochs measured (the held-out pair sample, the
# MFCC-DTW baseline computed once at epoch 0): resuming with a different value is refused too, or
# history.json would show one value while its first epochs used another.
MEASUREMENT_DEFINING = ("eval_pairs", "dtw_pairs")


@dataclass(frozen=True)
class AweConfig(Settings):
    """Everything an AWE run depends on."""

    # corpus and features: as the Speech2Vec reproduction (same frame store)
    corpus_root: str | None = None
    subsets: tuple[str, ...] = ()
    corpus_size: str = "small"
    corpus_seed: int = 0
    n_mfcc: int = 13
    sample_rate: int = 16000
    n_fft: int = 512
    hop_length: int = 512
    max_frames: int = 32                   # 99% of the embedded corpus's words fit in 26 frames
    normalization: str = "cmvn"
    min_count: int = 2                     # a word needs two tokens to have a same-word pair
    lowercase: bool = True
    # encoder: BiLSTM, embedding = last layer's final states of both directions
    embedding_dim: int = 128
    layers: int = 1
    dropout: float = 0.0                   # between LSTM layers (layers > 1)
    # loss
    loss: str = "triplet"
    mining: str = "batch-hard"             # triplet: batch-hard or semi-hard
    margin: float = 0.4                    # triplet: cosine margin
    proxy_input: str = "letters"           # proxy: the written word as letters or CMUdict phones
    symbol_dim: int = 26                   # proxy: trainable symbol table width (seed 001: 26)
    alpha: float = 2.0                     # proxy: seed 001's alpha, beta, lambda
    beta: float = 50.0
    proxy_margin: float = 0.5
    # batches: groups of per_word..2*per_word-1 tokens of one word, about batch_size tokens a batch
    batch_size: int = 256
    per_word: int = 4
    optimizer: str = "adam"
    lr: float = 5e-3                       # held-out SWDP after epoch 1 (small): triplet 0.83 (0.72 at 1e-3)
    epochs: int = 3
    seed: int = 0
    # split by speaker (the default): test_fraction of the speakers held out of training
    split: str = "speakers"
    test_fraction: float = 0.25
    split_seed: int = 0
    # evaluation
    eval_pairs: int = 500_000              # held-out same-different pair budget (all pairs when fewer)
    dtw_pairs: int = 20_000                # MFCC-DTW baseline pairs on the held-out tokens (0: skip)
    eval_batch_size: int = 1024
    # running
    device: str = "cpu"
    threads: int = 1

    def __post_init__(self):
        self._check_kinds()
        checks = [(self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}"),
                  (self.mining in MININGS, f"mining must be one of {', '.join(MININGS)}"),
                  (self.loss == "triplet" or self.mining == MININGS[0],
                   f"mining chooses the triplet loss's negatives and the proxy loss does no mining, so with "
                   f"loss proxy it must stay at its default, {MININGS[0]}, not {self.mining}"),
                  (self.proxy_input in PROXY_INPUTS, f"proxy input must be one of {', '.join(PROXY_INPUTS)}"),
                  (self.split in SPLITS, f"split must be one of {', '.join(SPLITS)}"),
                  (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
                  (self.device in DEVICES, f"device must be one of {', '.join(DEVICES)}"),
                  (self.normalization in NORMALIZATIONS, f"normalization must be one of {', '.join(NORMALIZATIONS)}"),
                  (self.corpus_size in CORPUS_SIZES, f"corpus size must be one of {', '.join(CORPUS_SIZES)}"),
                  (self.embedding_dim >= 2 and self.embedding_dim % 2 == 0,
                   "embedding_dim must be a positive even number (half of it per direction)"),
                  (all(0 <= s < SEED_LIMIT for s in (self.seed, self.corpus_seed, self.split_seed)),
                   "seeds must be non-negative integers below 2**63"),
                  (self.layers >= 1, "layers must be at least 1"),
                  (0 <= self.dropout < 1, "dropout must be in [0, 1)"),
                  (self.margin > 0 and self.proxy_margin >= 0, "margins must be positive"),
                  (self.alpha > 0 and self.beta > 0, "alpha and beta must be positive"),
                  (self.symbol_dim >= 1, "symbol_dim must be at least 1"),
                  (self.min_count >= 1, "min_count must be at least 1"),
                  (self.batch_size >= 2, "batch_size must be at least 2"),
                  (self.per_word >= 2, "per_word must be at least 2"),
                  (self.max_frames >= 1, "max_frames must be at least 1"),
                  (self.epochs >= 0, "epochs must not be negative"),
                  (self.threads >= 0, "threads must not be negative"),
                  (self.lr > 0, "lr must be positive"),
                  (0 < self.test_fraction < 1, "test_fraction must be between 0 and 1"),
                  (self.eval_pairs >= 2, "eval_pairs must be at least 2"),
                  (self.dtw_pairs == 0 or self.dtw_pairs >= 2, "dtw_pairs must be 0 or at least 2"),
                  (self.eval_batch_size >= 1, "eval_batch_size must be at least 1")]
        self._check(checks)


_OVERRIDES = {  # option -> (config field, type, help)
    "--corpus-root": ("corpus_root", str, "a LibriSpeech-layout folder with audio and word alignments "
                                          "(default: the embedded eSpeak NG corpus)"),
    "--corpus-size": ("corpus_size", str, "size of the embedded corpus: " + ", ".join(CORPUS_SIZES)),
    "--loss": ("loss", str, "triplet (cosine margin) or proxy (seed 001's asymmetric-proxy loss)"),
    "--mining": ("mining", str, "triplet mining: batch-hard (default) or semi-hard (not with --loss proxy)"),
    "--margin": ("margin", float, "triplet cosine margin (default 0.4)"),
    "--proxy-input": ("proxy_input", str, "proxy: the written word as letters (default) or CMUdict phones"),
    "--embedding-dim": ("embedding_dim", int, "embedding size, half per LSTM direction (default 128)"),
    "--layers": ("layers", int, "BiLSTM layers (default 1)"),
    "--epochs": ("epochs", int, "training epochs (default 3)"),
    "--optimizer": ("optimizer", str, "adam (default) or sgd"),
    "--lr": ("lr", float, "learning rate (default 5e-3)"),
    "--seed": ("seed", int, "seed of initialisation and batches"),
    "--batch-size": ("batch_size", int, "tokens per batch (default 256)"),
    "--per-word": ("per_word", int, "tokens of one word per group in a batch (default 4)"),
    "--min-count": ("min_count", int, "vocabulary minimum count (default 2)"),
    "--max-frames": ("max_frames", int, "frames per word after truncation (default 32)"),
    "--split": ("split", str, "speakers: hold speakers out of training and evaluate on them (default); "
                              "none: train and evaluate on everyone"),
    "--test-fraction": ("test_fraction", float, "share of the speakers held out (default 0.25)"),
    "--split-seed": ("split_seed", int, "seed of the choice of held-out speakers (default 0)"),
    "--eval-pairs": ("eval_pairs", int, "held-out same-different pairs scored per epoch (default 500000; "
                                        "all pairs when there are fewer)"),
    "--dtw-pairs": ("dtw_pairs", int, "pairs for the MFCC-DTW baseline on the held-out tokens (default 20000; 0: skip)"),
    "--device": ("device", str, "cpu or cuda"),
    "--threads": ("threads", int, "torch CPU threads (default 1; 0 = torch's choice)"),
}
_CHOICES = {"loss": LOSSES, "mining": MININGS, "proxy_input": PROXY_INPUTS, "split": SPLITS, "optimizer": OPTIMIZERS,
            "device": DEVICES, "corpus_size": CORPUS_SIZES}


def add_awe_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``audit reproduce awe`` and ``python -m reproductions.awe.train``."""
    add_run_arguments(parser, default_out="out/awe", example_config="reproductions/awe/config.py")
    add_override_arguments(parser, _OVERRIDES, _CHOICES)


def awe_config_from_args(args: argparse.Namespace) -> AweConfig:
    settings = settings_from_args(args, AweConfig().to_dict(), _OVERRIDES)
    if getattr(args, "mining", None) is not None and settings["loss"] == "proxy":
        raise AuditError("--mining chooses the triplet loss's negatives and the proxy loss does no mining: "
                         "drop --mining, or use --loss triplet.")
    return AweConfig.from_dict(settings, where=getattr(args, "config", None) or "configuration")
