"""Train Speech2Vec (skip-gram) and evaluate it every epoch; resumable; DDP under torchrun.

    python -m reproductions.speech2vec.train --epochs 3 --out DIR
    torchrun --nproc_per_node 2 -m reproductions.speech2vec.train --epochs 3 --out DIR

Writes into OUT: ``config.json``; ``epochs/epoch_000.txt`` (random init) ... ``epoch_NNN.txt``;
``vectors.txt`` (the last epoch); ``history.json`` (kind ``training-history``) and
``history.csv``; ``instances_epoch_000.npz`` and ``instances.npz`` (keys ``embeddings``,
``labels``, ``speakers``); ``checkpoints/epoch_NNN.pt`` (atomic, every epoch).

Under torchrun every process trains on its share of each global batch and gradients are
averaged (DistributedDataParallel, gloo on CPU, nccl on CUDA); process 0 prepares the data,
evaluates and writes every file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from audit.core import interrupts
from audit.core.errors import AuditError
from audit.core.results import today, write_json_atomic
from reproductions.speech2vec.config import WEIGHT_DEFINING, TrainConfig, add_training_arguments, config_from_args
from reproductions.speech2vec.data import TrainingData, epoch_batches, epoch_pairs, prepare
from reproductions.speech2vec.embed import instance_embeddings, word_vectors
from audit.speech.frames import CORPUS_COLUMNS, FrameStore, build_frame_store, store_key
from reproductions.speech2vec.history import CorpusInfo, EpochRecord, TrainingHistory
from reproductions.speech2vec.model import Speech2Vec


# ------------------------------------------------------------------------------ processes
@dataclass(frozen=True)
class Processes:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls, device: str) -> "Processes":
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        import torch.distributed as dist
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device == "cuda" else "gloo")
        return cls(rank=dist.get_rank(), world=dist.get_world_size(), local_rank=int(os.environ.get("LOCAL_RANK", 0)))

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()

    def sum(self, values: list[float]) -> list[float]:
        if self.world == 1:
            return values
        tensor = torch.tensor(values, dtype=torch.float64)
        torch.distributed.all_reduce(tensor)
        return tensor.tolist()


# ------------------------------------------------------------------------------ data
def prepare_frame_store(cfg: TrainConfig, cache_dir: Path, log: Callable[[str], None]) -> Path:
    """Build (or reuse) the corpus and its frame store; returns the store's path."""
    from audit.corpora.spoken import build_corpus
    if cfg.corpus_root:
        root = Path(cfg.corpus_root)
    else:
        root = cache_dir / "corpora" / f"espeak-{cfg.corpus_size}-seed{cfg.corpus_seed}"
        started = time.perf_counter()
        build_corpus(root, size=cfg.corpus_size, seed=cfg.corpus_seed, progress=log)
        log(f"embedded corpus ready in {time.perf_counter() - started:.1f} s: {root}")
    key = store_key(root, cfg.subsets, sample_rate=cfg.sample_rate, n_mfcc=cfg.n_mfcc, n_fft=cfg.n_fft,
                    hop_length=cfg.hop_length)
    path = cache_dir / "speech2vec-frames" / f"{key}.npz"
    started = time.perf_counter()
    build_frame_store(root, path, subsets=cfg.subsets, sample_rate=cfg.sample_rate, n_mfcc=cfg.n_mfcc,
                      n_fft=cfg.n_fft, hop_length=cfg.hop_length, progress=log)
    log(f"frame store ready in {time.perf_counter() - started:.1f} s: {path}")
    return path


def corpus_info(cfg: TrainConfig, store: FrameStore, data: TrainingData, store_path: Path, root: str) -> CorpusInfo:
    lengths = store.lengths
    return CorpusInfo(root=root, subsets=tuple(cfg.subsets), frame_store=str(store_path),
                      utterances=len(store.utterances), instances=len(data), vocabulary=len(data.words),
                      speakers=len(set(data.speakers.tolist())), mean_frames=float(lengths.mean()),
                      truncated_share=float((lengths > cfg.max_frames).mean()))


# ------------------------------------------------------------------------------ model state
def make_model(cfg: TrainConfig, device: torch.device) -> tuple[Speech2Vec, torch.optim.Optimizer]:
    torch.manual_seed(cfg.seed)
    model = Speech2Vec(n_mfcc=cfg.n_mfcc, embedding_dim=cfg.embedding_dim).to(device)
    return model, make_optimizer(model, cfg.optimizer, cfg.lr, device)


def make_optimizer(model, name: str, lr: float, device: torch.device) -> torch.optim.Optimizer:
    """Adam or SGD, fused kernels: on CUDA the step takes the gradient scaler's inf check on the device;
    on the CPU one kernel per parameter instead of a dozen ops (the AWE model's Adam step: 0.68 ms
    -> 0.14 ms, the same values to float rounding: 9e-8 apart after 200 steps)."""
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, fused=True)
    return torch.optim.Adam(model.parameters(), lr=lr, fused=True)


class DeviceSteps:
    """The optimiser step, with mixed precision on CUDA and no host synchronisation per batch.

    On CUDA: float16 autocast and a gradient scaler whose inf check and unscaling stay on the device
    (the fused optimiser takes them; the plain ``GradScaler.step`` would read ``found_inf`` back every
    batch). Elsewhere: float32, ``backward`` and ``step``. The scaler's state goes into checkpoints so
    that a resumed CUDA run continues with the same scale.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.scaler = torch.amp.GradScaler("cuda") if device.type == "cuda" else None

    def autocast(self):
        if self.scaler is None:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=torch.float16)

    def step(self, loss: torch.Tensor, optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def state_dict(self):
        return None if self.scaler is None else self.scaler.state_dict()

    def load_state_dict(self, state) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)


def to_device(arrays: list[np.ndarray], device: torch.device) -> list[torch.Tensor]:
    """Index arrays as tensors on ``device``: on CUDA one pinned, non-blocking copy for all of them (an
    epoch's batches), so that no batch waits for a transfer; on the CPU the arrays themselves."""
    if device.type != "cuda":
        return [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]
    if not arrays:
        return []
    flat = torch.from_numpy(np.concatenate(arrays)).pin_memory().to(device, non_blocking=True)
    return list(torch.split(flat, [len(a) for a in arrays]))


def save_checkpoint(path: Path, model, optimizer, epoch: int, cfg: TrainConfig,
                    history: TrainingHistory | None, scaler_state=None) -> None:
    """Write next to the final name and rename: a kill never leaves a half checkpoint."""
    write_checkpoint(path, {"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "config": cfg.to_dict(), "history": history.to_json() if history else None,
                            "scaler": scaler_state})


def write_checkpoint(path: Path, state: dict) -> None:
    """``torch.save`` beside the final name, then renamed; nothing is left when it fails: torch's zip
    writer reports a full disk as a RuntimeError ('unexpected pos'), named here in one sentence."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except RuntimeError as exc:
        free = shutil.disk_usage(path.parent).free
        reason = "the disk is full" if free < (1 << 20) else str(exc).strip().splitlines()[0][:120]
        raise AuditError(f"cannot write the checkpoint {path} ({reason}); nothing of it was kept.") from None
    finally:
        tmp.unlink(missing_ok=True)


def latest_checkpoint(out: Path) -> Path | None:
    found = sorted((out / "checkpoints").glob("epoch_*.pt"))
    return found[-1] if found else None


def load_checkpoint(path: Path, model, optimizer, cfg: TrainConfig, steps: "DeviceSteps | None" = None):
    state = torch.load(path, map_location="cpu", weights_only=True)
    saved = state["config"]
    changed = [k for k in WEIGHT_DEFINING if _comparable(saved.get(k)) != _comparable(cfg.to_dict()[k])]
    if changed:
        raise AuditError(f"cannot resume from {path}: the setting {changed[0]!r} differs from the saved run "
                         f"({saved.get(changed[0])!r} there).")
    model.load_state_dict(state["model"])
    load_optimizer_state(optimizer, state["optimizer"])
    if steps is not None:
        steps.load_state_dict(state.get("scaler"))
    records = list(TrainingHistory.from_json(state["history"]).epochs) if state["history"] else []
    return int(state["epoch"]), records


def load_optimizer_state(optimizer, state) -> None:
    """The saved moments and steps; the kernel choice stays this optimiser's."""
    kernels = [(group.get("fused"), group.get("foreach")) for group in optimizer.param_groups]
    optimizer.load_state_dict(state)
    for group, (fused, foreach) in zip(optimizer.param_groups, kernels):
        group["fused"], group["foreach"] = fused, foreach


def _comparable(value):
    return list(value) if isinstance(value, (list, tuple)) else value


# ------------------------------------------------------------------------------ one epoch
def train_epoch(model, optimizer, data: TrainingData, frames: torch.Tensor, cfg: TrainConfig, epoch: int,
                procs: Processes, progress: "Progress | None", steps: DeviceSteps | None = None
                ) -> tuple[float, int, float]:
    """(mean loss, pairs trained, seconds) over all processes.

    Nothing in the batch loop waits for the device: the epoch's row indices reach it in one copy,
    word lengths for packing are read on the host, those for the masks gathered on the device, and
    the loss is summed on the device and read once, after the loop.
    """
    steps = steps or DeviceSteps(frames.device)
    centres, contexts = epoch_pairs(data, window=cfg.window, subsample=cfg.subsample, seed=cfg.seed, epoch=epoch)
    batches = epoch_batches(data, centres, contexts, batch_size=cfg.batch_size, seed=cfg.seed, epoch=epoch,
                            bucket_by_length=cfg.bucket_by_length)
    # Every process takes its slice of each global batch; a batch smaller than the number of
    # processes is skipped everywhere so that all processes take the same number of steps.
    batches = [np.array_split(b, procs.world)[procs.rank] for b in batches if len(b) >= procs.world]
    # Longest source word first in each batch: the encoder packs it without sorting on the device
    # (the loss is a mean over the batch, so the order within it changes nothing).
    batches = [b[np.argsort(-data.lengths[centres[b]], kind="stable")] for b in batches]
    device = frames.device
    sources = to_device([centres[b] for b in batches] + [contexts[b] for b in batches], device)
    lengths_device = torch.from_numpy(data.lengths).to(device)
    model.train()
    # The loss is summed on the device: reading it back every batch would wait for the GPU.
    loss_sum, pair_count = torch.zeros((), dtype=torch.float64, device=device), 0
    started = time.perf_counter()
    for number, batch in enumerate(batches, start=1):
        source_rows, target_rows = sources[number - 1], sources[len(batches) + number - 1]
        source_lengths = torch.from_numpy(data.lengths[centres[batch]])
        target_lengths = torch.from_numpy(data.lengths[contexts[batch]])
        source = frames[source_rows, :int(source_lengths.max())]
        target = frames[target_rows, :int(target_lengths.max())]
        with steps.autocast():
            loss = model(source, source_lengths, target, target_lengths,
                         device_lengths=(lengths_device[source_rows], lengths_device[target_rows]))
        steps.step(loss, optimizer)
        loss_sum += loss.detach().double() * len(batch)
        pair_count += len(batch)
        if progress:
            progress.update(epoch, number, len(batches), pair_count * procs.world, time.perf_counter() - started)
    total = float(loss_sum)                     # the one read-back of the epoch (waits for the device)
    seconds = time.perf_counter() - started
    loss_sum, pair_count = procs.sum([total, float(pair_count)])
    return loss_sum / max(pair_count, 1), int(pair_count), seconds


# ------------------------------------------------------------------------------ evaluation
def check_finite(epoch: int, cfg, *, loss: float | None = None, embeddings: np.ndarray | None = None,
                 model: torch.nn.Module | None = None) -> None:
    """Stop a diverged run (either trainer; ``cfg.lr`` is named) in one sentence: a non-finite epoch
    loss, weight or token embedding would be evaluated as if measured (all-zero vectors, an AP of
    chance) and written as the results. The loss and embeddings are what the host already has;
    the weights are one read per epoch (the last step of an epoch can overflow them after the
    loss was computed: a one-batch epoch then reports a finite loss)."""
    if loss is not None and not math.isfinite(loss):
        what = f"the loss is not finite ({loss})"
    elif model is not None and not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        what = "the model's weights are not finite"
    elif embeddings is not None and not np.isfinite(embeddings).all():
        bad = int((~np.isfinite(embeddings).all(axis=1)).sum())
        what = f"the embeddings of {bad:,} of {len(embeddings):,} tokens are not finite"
    else:
        return
    saved = ("" if epoch == 0 else "epoch 0 is saved in the run folder; " if epoch == 1
             else f"epochs 0-{epoch - 1} are saved in the run folder; ")
    raise AuditError(f"training diverged at epoch {epoch}: {what}; {saved}try a lower --lr than {cfg.lr:g}.")


def evaluate_epoch(model, data: TrainingData, frames: torch.Tensor, out: Path, epoch: int, cfg: TrainConfig,
                   benchmark_dir, loss: float, pairs: int, seconds: float) -> EpochRecord:
    """Embed every instance, write this epoch's vectors (and instances at epoch 0), run the checks."""
    from audit.core.loaders import save_word2vec_text
    embeddings = instance_embeddings(model, data, frames, batch_size=cfg.eval_batch_size)
    vectors = word_vectors(embeddings, data.word_index, data.words)
    relative = f"epochs/epoch_{epoch:03d}.txt"
    (out / "epochs").mkdir(parents=True, exist_ok=True)
    save_word2vec_text(vectors, out / relative)
    if epoch == 0:
        save_instances(out / "instances_epoch_000.npz", embeddings, data)
    vectors = _reload(out / relative)
    homophones, homophones_skipped = _homophone_summary(vectors)
    benchmarks, benchmarks_skipped = _benchmark_coefficients(vectors, benchmark_dir)
    same_different = _same_different(embeddings, data)
    return EpochRecord(epoch=epoch, loss=loss, pairs=pairs,
                       pairs_per_second=pairs / seconds if seconds > 0 else float("nan"), seconds=seconds,
                       vectors=relative, benchmarks=benchmarks, benchmarks_skipped=benchmarks_skipped,
                       homophones=homophones, homophones_skipped=homophones_skipped,
                       same_different_ap=same_different.average_precision,
                       same_different_chance=same_different.chance)


def _reload(path: Path):
    """The written file, so results record its path and sha256 like any audited file."""
    from audit.core.loaders import load
    return load(path)


def instance_labels(data: TrainingData) -> np.ndarray:
    """The word of every instance (the ``labels`` of instances.npz)."""
    return np.array(data.words, dtype=str)[data.word_index]


def save_instances(path: Path, embeddings: np.ndarray, data: TrainingData) -> None:
    tmp = path.with_name(f".{path.stem}.part.npz")
    try:
        np.savez(tmp, embeddings=embeddings.astype(np.float32), labels=instance_labels(data),
                 speakers=data.speakers.astype(str))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)     # a full disk or an interrupt leaves no half file


def _same_different(embeddings: np.ndarray, data: TrainingData):
    """What `audit acoustic` would report as same-different AP for this epoch's instances."""
    from audit.checks.acoustic import same_different_ap
    return same_different_ap(embeddings, instance_labels(data))


def _homophone_summary(vectors):
    from reproductions.speech2vec.checks import homophone_summary
    return homophone_summary(vectors)


def _benchmark_coefficients(vectors, benchmark_dir):
    from reproductions.speech2vec.checks import benchmark_coefficients
    return benchmark_coefficients(vectors, benchmark_dir)


# ------------------------------------------------------------------------------ progress
class Progress:
    """On a terminal, a progress bar per epoch over its batches (pairs/s beside, ETA of the whole
    run); elsewhere one line every 10 s: epoch, batch, pairs/s, ETA."""

    def __init__(self, epochs: int, stream=None, every: float = 0.5):
        from audit.core.progress import enabled
        self.epochs, self.stream, self.every = epochs, stream or sys.stderr, every
        self.last = 0.0
        terminal = getattr(self.stream, "isatty", lambda: False)()
        self.tty = terminal and enabled()         # bars
        self.silent = terminal and not enabled()  # --quiet on a terminal: no progress at all
        self.bar = None

    def update(self, epoch, batch, batches, pairs, seconds):
        if self.tty:
            return self._bar_update(epoch, batch, batches, pairs, seconds)
        if self.silent:
            return
        now = time.perf_counter()
        if now - self.last < (self.every if self.tty else 10.0) and batch != batches:
            return
        self.last = now
        rate = pairs / seconds if seconds > 0 else 0.0
        remaining_batches = (batches - batch) + batches * (self.epochs - epoch)
        eta = remaining_batches * seconds / batch if batch else 0.0
        line = (f"epoch {epoch}/{self.epochs}  batch {batch}/{batches}  {rate:,.0f} pairs/s  "
                f"ETA {_duration(eta)} (training only)")
        self.stream.write(("\r" + line + "   ") if self.tty else line + "\n")
        if self.tty and batch == batches:
            self.stream.write("\n")
        self.stream.flush()

    def _bar_update(self, epoch, batch, batches, pairs, seconds):
        from audit.core.progress import bar
        if self.bar is None or batch == 1:
            if self.bar is not None:
                self.bar.close()
            self.bar = bar(total=batches, desc=f"epoch {epoch}/{self.epochs}", unit="batch")
        self.bar.update(batch - self.bar.n)
        remaining_batches = (batches - batch) + batches * (self.epochs - epoch)
        eta = remaining_batches * seconds / batch if batch else 0.0
        self.bar.set_postfix_str(f"{pairs / seconds if seconds > 0 else 0.0:,.0f} pairs/s, run ETA {_duration(eta)}",
                                 refresh=False)
        if batch == batches:
            self.bar.close()
            self.bar = None

    def log(self, message: str) -> None:
        if self.tty:
            from audit.core.progress import write
            write(message)
            return
        self.stream.write(message + "\n")
        self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


# ------------------------------------------------------------------------------ the run
def train(cfg: TrainConfig, out: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None,
          benchmark_dir: str | os.PathLike | None = None, resume: bool = False, quiet: bool = False
          ) -> TrainingHistory:
    """Train for ``cfg.epochs`` epochs (continuing a checkpointed run with ``resume``)."""
    from audit.core.datadir import data_dir as resolve_data_dir
    out = Path(out)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    procs = Processes.from_environment(cfg.device)
    device = _device(cfg.device, procs)
    progress = None if quiet or not procs.main else Progress(cfg.epochs)
    log = progress.log if progress else (lambda message: None)
    cache = Path(cache_dir) if cache_dir else resolve_data_dir(benchmark_dir)
    if procs.main:
        check_run_folder(out, resume)
        store_path = prepare_frame_store(cfg, cache, log)   # a bad corpus fails before OUT is made
        lock = claim_run_folder(out, resume)   # held until the run is written (closed below; on an error, at exit)
    procs.barrier()
    if not procs.main:
        store_path = prepare_frame_store(cfg, cache, lambda message: None)   # built: only located
    store = FrameStore.load(store_path, require=CORPUS_COLUMNS)
    data = prepare(store, min_count=cfg.min_count, max_frames=cfg.max_frames, normalization=cfg.normalization,
                   lowercase=cfg.lowercase)
    root = cfg.corpus_root or str(cache / "corpora" / f"espeak-{cfg.corpus_size}-seed{cfg.corpus_seed}")
    info = corpus_info(cfg, store, data, store_path, root)
    log(f"{info.instances:,} spoken words, vocabulary {info.vocabulary:,} (min count {cfg.min_count}), "
        f"{info.speakers} speakers; device {device}, {procs.world} process(es)")
    frames = torch.from_numpy(data.frames).to(device)
    model, optimizer = make_model(cfg, device)
    steps = DeviceSteps(device)
    records: list[EpochRecord] = []
    done = -1
    checkpoint = latest_checkpoint(out) if resume else None
    if checkpoint is not None:
        done, records = load_checkpoint(checkpoint, model, optimizer, cfg, steps)
        records = records[:done + 1]
        log(f"resuming after epoch {done} from {checkpoint}")
    trained = _wrap(model, procs, device)
    history = None
    if procs.main:
        write_json_atomic(out / "config.json", {**cfg.to_dict(), "world_size": procs.world})
    if done < 0:
        if procs.main:
            records.append(evaluate_epoch(model, data, frames, out, 0, cfg, benchmark_dir, float("nan"), 0, 0.0))
            history = _write_history(out, cfg, info, procs, records, model, optimizer, 0, log, steps)
        done = 0
        procs.barrier()
    for epoch in range(done + 1, cfg.epochs + 1):
        interrupts.check()     # a SIGTERM whose exception was dropped stops the run here
        loss, pairs, seconds = train_epoch(trained, optimizer, data, frames, cfg, epoch, procs, progress, steps)
        # every process: the loss is the mean over all of them and the weights are the same in each
        check_finite(epoch, cfg, loss=loss, model=model)
        if procs.main:
            records.append(evaluate_epoch(model, data, frames, out, epoch, cfg, benchmark_dir, loss, pairs, seconds))
            history = _write_history(out, cfg, info, procs, records, model, optimizer, epoch, log, steps)
        procs.barrier()
    if procs.main:
        if history is None:
            history = _history(cfg, info, procs, records)
        _finish(out, model, data, frames, cfg, records)
        lock.close()
    return history


def _device(name: str, procs: Processes) -> torch.device:
    if name == "cuda":
        if not torch.cuda.is_available():
            raise AuditError("--device cuda was asked for but torch sees no CUDA device.")
        return torch.device("cuda", procs.local_rank)
    return torch.device("cpu")


def _wrap(model, procs: Processes, device: torch.device):
    if procs.world == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel
    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


# What a training run writes into its --out: a folder holding anything else is the user's.
RUN_FILES = ("config.json", "history.json", "history.csv", "vectors.txt", "agwe.txt", "instances.npz",
             "instances_epoch_000.npz", ".lock")
# What a run writes only after its first checkpoint: without one, these are someone else's files.
AFTER_CHECKPOINT = ("history.json", "history.csv", "vectors.txt", "agwe.txt", "instances.npz")
# Keys every run's config.json holds (both trainers'): a config.json without them is not a run's.
CONFIG_KEYS = ("seed", "epochs", "embedding_dim", "corpus_size")
RUN_FOLDERS = {"epochs": re.compile(r"epoch_\d{3,}\.txt"), "checkpoints": re.compile(r"epoch_\d{3,}\.pt")}
# The writers' temporary names (a run killed or out of disk space mid-write leaves one, and --resume
# must still take the folder): '.NAME.part', '.NAME.XXXXXXXX.part', '.instances.part.npz',
# '.agwe.part.txt', and the 'NAME.part' of versions before the writers' names were hidden.
_PARTIAL = re.compile(r"\..+\.part(\.npz|\.txt)?|.+\.txt\.part")


def check_run_folder(out: Path, resume: bool) -> None:
    """Refuse, before any work, an --out that is a file, a folder of someone else's files (a run
    would write vectors.txt and the rest over theirs), a run without --resume, or --resume
    without a checkpoint. A new path, an empty folder or a run stopped before its first
    checkpoint (only a run's own files) may be written; --resume on a new or empty folder starts
    the run."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise AuditError(f"--out {out} is a file or a link, not a folder.")
    if not out.exists():
        return
    foreign = foreign_entry(out)
    if foreign is not None:
        raise AuditError(f"--out {out} holds {foreign!r}, which no training run writes; choose a new or empty folder "
                         f"(nothing was written).")
    checkpoint = latest_checkpoint(out)
    if not resume and checkpoint is not None:
        raise AuditError(f"{out} already holds a training run; pass --resume to continue it or choose another --out.")
    if checkpoint is None:
        # A run stopped before its first checkpoint has written only its config.json (and epoch 0's
        # files); a vectors.txt or a config.json that is not a run's is the user's, by name or not.
        later = next((name for name in AFTER_CHECKPOINT if (out / name).exists()), None)
        if later is not None:
            raise AuditError(f"--out {out} holds {later!r} but no checkpoint, so it is not a stopped training run; "
                             f"choose a new or empty folder (nothing was written).")
        if (out / "config.json").exists() and not _is_run_config(out / "config.json"):
            raise AuditError(f"--out {out} holds a config.json that is not a training run's; choose a new or empty "
                             f"folder (nothing was written).")
    if resume and checkpoint is None and any(out.iterdir()):
        raise AuditError(f"{out} has no checkpoint to resume from.")


def _is_run_config(path: Path) -> bool:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(config, dict) and all(key in config for key in CONFIG_KEYS)


def claim_run_folder(out: Path, resume: bool):
    """Make ``out`` and hold its lock for the run (an open file the caller keeps until it returns):
    a second run into the same folder is refused instead of mixing its files with the first's. The
    folder is checked again under the lock (another run may have filled it since the first check)."""
    import fcntl
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle = open(out / ".lock", "a")
    except OSError as exc:
        raise AuditError(f"--out {out}: cannot write there ({exc.strerror}).") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise AuditError(f"another training run is writing into {out}; wait for it or choose another --out.") from None
    try:
        check_run_folder(out, resume)
    except AuditError:
        handle.close()
        raise
    return handle


def foreign_entry(out: Path) -> str | None:
    """The first entry of ``out`` (relative path) that a training run does not write, if any."""
    for entry in sorted(out.iterdir()):
        if entry.is_symlink():
            return entry.name
        if entry.is_file() and (entry.name in RUN_FILES or _PARTIAL.fullmatch(entry.name)):
            continue
        if entry.is_dir() and entry.name in RUN_FOLDERS:
            for inner in sorted(entry.iterdir()):
                if inner.is_symlink() or not inner.is_file() or not (
                        RUN_FOLDERS[entry.name].fullmatch(inner.name) or _PARTIAL.fullmatch(inner.name)):
                    return f"{entry.name}/{inner.name}"
            continue
        return entry.name
    return None


def _history(cfg, info, procs, records) -> TrainingHistory:
    return TrainingHistory(config=cfg.to_dict(), corpus=info, seed=cfg.seed, device=cfg.device,
                           world_size=procs.world, epochs=tuple(records), date=today())


def _write_history(out, cfg, info, procs, records, model, optimizer, epoch, log, steps=None) -> TrainingHistory:
    history = _history(cfg, info, procs, records)
    save_checkpoint(out / "checkpoints" / f"epoch_{epoch:03d}.pt", model, optimizer, epoch, cfg, history,
                    steps.state_dict() if steps else None)
    write_json_atomic(out / "history.json", history)
    tmp = out / ".history.csv.part"
    tmp.write_text(history.csv_text(), encoding="utf-8")
    os.replace(tmp, out / "history.csv")
    record = records[-1]
    verdict = (f"homophones {record.homophones.verdict} ({record.homophones.homophone_mean:.2f} vs random "
               f"{record.homophones.random_mean:.2f})") if record.homophones else "homophones skipped"
    loss = "random init" if epoch == 0 else f"loss {record.loss:.4f}, {record.pairs_per_second:,.0f} pairs/s"
    log(f"epoch {epoch}: {loss}; {verdict}; same-different AP {record.same_different_ap:.4f} "
        f"(chance {record.same_different_chance:.4f})")
    return history


def _finish(out: Path, model, data, frames, cfg, records) -> None:
    """vectors.txt and instances.npz describe the last epoch."""
    last = records[-1]
    tmp = out / ".vectors.txt.part"
    shutil.copyfile(out / last.vectors, tmp)
    os.replace(tmp, out / "vectors.txt")
    save_instances(out / "instances.npz", instance_embeddings(model, data, frames, batch_size=cfg.eval_batch_size), data)


# ------------------------------------------------------------------------------ entry point
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reproductions.speech2vec.train",
                                     description="Train the Speech2Vec reproduction (works under torchrun).")
    add_training_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = config_from_args(args)
        train(cfg, args.out, cache_dir=args.cache_dir, benchmark_dir=args.data_dir, resume=args.resume,
              quiet=args.quiet)
    except AuditError as exc:
        print(f"audit: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
