"""Training configuration: the paper's settings as defaults, a JSON file, CLI overrides.

Precedence: built-in defaults (:class:`TrainConfig`, mirrored by ``paper.json``) < ``--config
FILE`` < command-line options. The resolved configuration is written to ``OUT/config.json``;
``--resume`` refuses a configuration that changes anything the trained weights depend on.
This module imports neither torch nor librosa, so the ``audit`` CLI stays light.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

from audit.core.errors import SEED_LIMIT, AuditError

OPTIMIZERS = ("sgd", "adam")
DEVICES = ("cpu", "cuda")
NORMALIZATIONS = ("cmvn", "none")
CORPUS_SIZES = ("tiny", "small", "medium")
PAPER_CONFIG = Path(__file__).with_name("paper.json")

# Settings that change what a checkpoint means: resuming with a different value is refused.
WEIGHT_DEFINING = ("corpus_root", "subsets", "corpus_size", "corpus_seed", "n_mfcc", "sample_rate", "n_fft",
                   "hop_length", "max_frames", "normalization", "embedding_dim", "window", "subsample",
                   "min_count", "batch_size", "optimizer", "lr", "seed", "bucket_by_length")


class Settings:
    """JSON round trip and validated copies for a frozen settings dataclass (tuples as lists)."""

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["subsets"] = list(self.subsets)
        return data

    @classmethod
    def from_dict(cls, data: dict, where: str = "configuration") -> "Settings":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise AuditError(f"{where}: unknown setting {unknown[0]!r}.")
        data = dict(data)
        if "subsets" in data:
            data["subsets"] = tuple(data["subsets"] or ())
        try:
            return cls(**data)
        except TypeError as exc:
            raise AuditError(f"{where}: {exc}.") from None

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)

    def _check_kinds(self) -> None:
        """Each value of the kind its default has (a config file may hold ``"epochs": "x"``): run
        first, so that the range checks compare numbers with numbers."""
        for field in dataclasses.fields(self):
            value, default = getattr(self, field.name), field.default
            if not _same_kind(value, default):
                raise AuditError(f"bad training configuration: {field.name} must be {_KIND_NAMES[type(default)]}, "
                                 f"not {value!r}.")
            if isinstance(default, float) and not _finite(value):   # --lr inf, or Infinity/NaN in a JSON file
                raise AuditError(f"bad training configuration: {field.name} must be a finite number, not {value!r}.")

    @staticmethod
    def _check(checks: list[tuple[bool, str]]) -> None:
        """The first check that fails is the error, in one sentence."""
        for ok, message in checks:
            if not ok:
                raise AuditError(f"bad training configuration: {message}.")


_KIND_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "a string",
               tuple: "a list of names", type(None): "a string or null"}


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:            # a whole number past float's range (a JSON file may hold one)
        return False


def _same_kind(value, default) -> bool:
    """Whether ``value`` may stand where the field's default ``default`` stands (a whole number
    where a number is asked for, a string where a name or null is)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, tuple):
        return isinstance(value, tuple) and all(isinstance(item, str) for item in value)
    if default is None:
        return value is None or isinstance(value, str)
    return isinstance(value, type(default))


@dataclass(frozen=True)
class TrainConfig(Settings):
    """Everything a run depends on. Defaults follow the reality-check paper (Sec. 4, App. A)."""

    # corpus: a LibriSpeech-layout folder, or the embedded eSpeak corpus of a given size
    corpus_root: str | None = None
    subsets: tuple[str, ...] = ()          # empty: every subset folder found under LibriSpeech/
    corpus_size: str = "small"
    corpus_seed: int = 0
    # features: 13 MFCC at 16 kHz, librosa's mfcc(n_fft=512) with its default hop of 512
    n_mfcc: int = 13
    sample_rate: int = 16000
    n_fft: int = 512
    hop_length: int = 512
    max_frames: int = 20
    normalization: str = "cmvn"            # per-coefficient mean/std over the corpus, or none
    # model and training
    embedding_dim: int = 50                # BiLSTM with embedding_dim/2 units per direction
    window: int = 3
    subsample: float = 1e-3
    min_count: int = 4
    batch_size: int = 4096
    optimizer: str = "sgd"                 # the paper says SGD; the released code uses Adam
    lr: float = 1e-3
    epochs: int = 500
    seed: int = 0
    bucket_by_length: bool = True          # batches of similar word lengths, padded per batch
    # running
    device: str = "cpu"
    # torch CPU threads (0 = torch's default). LSTMs this small gain little from intra-op
    # threads, and on a busy machine spinning OpenMP threads are several times slower
    # (measured at load 7 on 2 cores: 2,800 pairs/s with 1 thread, 780 with 2).
    threads: int = 1
    lowercase: bool = True                 # LibriSpeech transcripts are upper case
    eval_batch_size: int = 8192

    def __post_init__(self):
        self._check_kinds()
        checks = [(self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
                  (self.device in DEVICES, f"device must be one of {', '.join(DEVICES)}"),
                  (self.normalization in NORMALIZATIONS, f"normalization must be one of {', '.join(NORMALIZATIONS)}"),
                  (self.corpus_size in CORPUS_SIZES, f"corpus size must be one of {', '.join(CORPUS_SIZES)}"),
                  (self.embedding_dim >= 2 and self.embedding_dim % 2 == 0,
                   "embedding_dim must be a positive even number (half of it per direction)"),
                  (all(0 <= s < SEED_LIMIT for s in (self.seed, self.corpus_seed)),
                   "seeds must be non-negative integers below 2**63"),
                  (self.window >= 1, "window must be at least 1"),
                  (self.min_count >= 1, "min_count must be at least 1"),
                  (self.batch_size >= 1, "batch_size must be at least 1"),
                  (self.max_frames >= 1, "max_frames must be at least 1"),
                  (self.epochs >= 0, "epochs must not be negative"),
                  (self.threads >= 0, "threads must not be negative"),
                  (self.lr > 0, "lr must be positive"),
                  (self.subsample >= 0, "subsample must not be negative")]
        self._check(checks)


def read_config_file(path: str | Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuditError(f"cannot read the config file {path} ({exc.strerror}).") from None
    except ValueError:
        raise AuditError(f"the config file {path} is not valid JSON.") from None
    except RecursionError:   # '[[[[...' 100,000 deep: Python's parser recurses per level
        raise AuditError(f"the config file {path} nests its values too deeply to be read.") from None
    if not isinstance(data, dict):
        raise AuditError(f"the config file {path} must hold a JSON object of settings.")
    return data


# ------------------------------------------------------------------------------ command line
_OVERRIDES = {  # option -> (config field, type, help)
    "--corpus-root": ("corpus_root", str, "a LibriSpeech-layout folder with audio and word alignments "
                                          "(default: the embedded eSpeak NG corpus)"),
    "--corpus-size": ("corpus_size", str, "size of the embedded corpus: " + ", ".join(CORPUS_SIZES)),
    "--epochs": ("epochs", int, "training epochs (the paper: 500)"),
    "--optimizer": ("optimizer", str, "sgd (the paper) or adam (the released code)"),
    "--lr": ("lr", float, "learning rate (default 1e-3)"),
    "--seed": ("seed", int, "seed of initialisation, subsampling and batch order"),
    "--batch-size": ("batch_size", int, "pairs per batch (default 4096)"),
    "--window": ("window", int, "skip-gram window (default 3)"),
    "--min-count": ("min_count", int, "vocabulary minimum count (default 4)"),
    "--max-frames": ("max_frames", int, "frames per word after padding/truncation (default 20)"),
    "--device": ("device", str, "cpu or cuda"),
    "--threads": ("threads", int, "torch CPU threads (default 1; 0 = torch's choice)"),
}


def add_run_arguments(parser: argparse.ArgumentParser, *, default_out: str, example_config: str) -> None:
    """Options of every reproduction: config file, output folder, resume, data and cache dirs."""
    parser.add_argument("--config", metavar="FILE", help=f"JSON file of settings (see {example_config})")
    parser.add_argument("--out", metavar="DIR", default=default_out, help=f"output folder (default {default_out})")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in OUT")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="data dir holding the benchmark files (DIR or DIR/word-sim); also the default cache dir")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="where the embedded corpus and the frame stores are kept (default: the data dir)")
    parser.add_argument("--subsets", nargs="+", metavar="NAME",
                        help="LibriSpeech subsets to use, by spaces or commas (default: all found)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def add_override_arguments(parser: argparse.ArgumentParser, overrides: dict, choices: dict) -> None:
    """One option per ``overrides`` entry (option -> (field, type, help)); ``choices`` by field."""
    for option, (field, kind, help_text) in overrides.items():
        parser.add_argument(option, dest=field, type=kind, choices=choices.get(field), help=help_text)


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``audit reproduce speech2vec`` and ``python -m reproductions.speech2vec.train``."""
    add_run_arguments(parser, default_out="out/speech2vec", example_config="reproductions/speech2vec/paper.json")
    add_override_arguments(parser, _OVERRIDES, {"optimizer": OPTIMIZERS, "device": DEVICES,
                                                "corpus_size": CORPUS_SIZES})


def settings_from_args(args: argparse.Namespace, defaults: dict, overrides: dict) -> dict:
    """``defaults`` < ``--config FILE`` < command-line options; the corpus root resolved and checked."""
    settings = dict(defaults)
    if getattr(args, "config", None):
        settings.update(read_config_file(args.config))
    for field, _, _ in overrides.values():
        value = getattr(args, field, None)
        if value is not None:
            settings[field] = value
    if getattr(args, "subsets", None):
        from audit.corpora.librispeech import subset_names   # by spaces or commas, as every command takes them
        settings["subsets"] = subset_names(args.subsets)
    if settings.get("corpus_root"):
        root = Path(settings["corpus_root"]).expanduser()
        if not root.is_dir():
            raise AuditError(f"the corpus root {root} is not a folder.")
        settings["corpus_root"] = str(root.resolve())
    return settings


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    settings = settings_from_args(args, TrainConfig().to_dict(), _OVERRIDES)
    return TrainConfig.from_dict(settings, where=getattr(args, "config", None) or "configuration")
