"""Train an acoustic word embedding (BiLSTM, triplet or asymmetric-proxy loss); resumable.

    python -m reproductions.awe.train --epochs 4 --out DIR          (= audit reproduce awe)

Same corpus, frame store and data preparation as the Speech2Vec reproduction
(:func:`reproductions.speech2vec.train.prepare_frame_store`,
:func:`reproductions.speech2vec.data.prepare`). By default a quarter of the speakers is held out
of training (seeded, recorded in the history) and every epoch is evaluated on their tokens.

Writes into OUT: ``config.json``; ``epochs/epoch_000.txt`` (random init) ... ``epoch_NNN.txt``;
``vectors.txt`` (the last epoch: per word, the mean of its unit-normalised token embeddings,
normalised again); ``history.json`` (kind ``awe-training-history``) and ``history.csv``;
``instances_epoch_000.npz`` and ``instances.npz`` (``embeddings``, ``labels``, ``speakers`` of
every token, training and held-out speakers alike); ``checkpoints/epoch_NNN.pt`` (atomic, every
epoch); with ``--loss proxy`` also ``agwe.txt``, the written-word embeddings (proxies) of the
vocabulary, for cross-view evaluation.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

from audit.core import interrupts
from audit.core.errors import AuditError
from audit.core.results import today, write_json_atomic
from audit.speech.frames import CORPUS_COLUMNS, FrameStore
from reproductions.awe.config import MEASUREMENT_DEFINING, WEIGHT_DEFINING, AweConfig, add_awe_arguments, awe_config_from_args
from reproductions.awe.data import SpeakerSplit, WrittenWords, epoch_groups, split_by_speaker, written_words
from reproductions.awe.evaluate import dtw_ap, embedding_ap
from reports.fields import ap_label, evaluated_tokens
from reproductions.awe.history import AweEpochRecord, AweHistory, SplitInfo, WrittenInfo
from reproductions.awe.model import (AcousticWordEmbedder, asymmetric_proxy, positive_pairs, triplet_batch_hard,
                                     triplet_semi_hard)
from reproductions.speech2vec.data import TrainingData, prepare
from reproductions.speech2vec.embed import instance_embeddings, word_vectors
from reproductions.speech2vec.train import (DeviceSteps, Progress, check_finite, check_run_folder, claim_run_folder,
                                            corpus_info, instance_labels, latest_checkpoint, load_optimizer_state,
                                            make_optimizer, prepare_frame_store, save_instances, to_device,
                                            write_checkpoint)

EVAL_SEED = 0          # the held-out pairs are the same every epoch


# ------------------------------------------------------------------------------ model state
def make_model(cfg: AweConfig, device: torch.device, symbols: int = 0):
    torch.manual_seed(cfg.seed)
    model = AcousticWordEmbedder(n_mfcc=cfg.n_mfcc, embedding_dim=cfg.embedding_dim, layers=cfg.layers,
                                 dropout=cfg.dropout, symbols=symbols if cfg.loss == "proxy" else 0,
                                 symbol_dim=cfg.symbol_dim).to(device)
    return model, make_optimizer(model, cfg.optimizer, cfg.lr, device)


def save_checkpoint(path: Path, model, optimizer, epoch: int, cfg: AweConfig, history: AweHistory | None,
                    scaler_state=None) -> None:
    """Written beside the final name and renamed: a kill never leaves a half checkpoint."""
    write_checkpoint(path, {"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "config": cfg.to_dict(), "history": history.to_json() if history else None,
                            "scaler": scaler_state})


def load_checkpoint(path: Path, model, optimizer, cfg: AweConfig, steps: DeviceSteps | None = None):
    """(epoch, history or None); refuses a checkpoint whose weight-defining settings differ."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    saved, current = state["config"], cfg.to_dict()
    # The proxy loss does no mining: a proxy run saved with mining semi-hard (accepted before it was
    # refused) resumes under the default it now must have.
    ignored = {"mining"} if saved.get("loss") == current["loss"] == "proxy" else set()
    changed = [k for k in (*WEIGHT_DEFINING, *MEASUREMENT_DEFINING)
               if k not in ignored and _comparable(saved.get(k)) != _comparable(current[k])]
    if changed:
        raise AuditError(f"cannot resume from {path}: the setting {changed[0]!r} differs from the saved run "
                         f"({saved.get(changed[0])!r} there).")
    model.load_state_dict(state["model"])
    load_optimizer_state(optimizer, state["optimizer"])
    if steps is not None:
        steps.load_state_dict(state.get("scaler"))
    history = AweHistory.from_json(state["history"]) if state["history"] else None
    return int(state["epoch"]), history


def _comparable(value):
    return list(value) if isinstance(value, (list, tuple)) else value


# ------------------------------------------------------------------------------ one epoch
class Batches:
    """The tensors a training step reads: frames, lengths, word of each token, written words."""

    def __init__(self, data: TrainingData, frames: torch.Tensor, written: WrittenWords | None):
        self.device = frames.device
        self.frames = frames
        self.lengths = torch.from_numpy(data.lengths)                     # on the CPU, for packing
        self.word_index = data.word_index                                 # on the host, for planning
        self.labels = torch.from_numpy(data.word_index).to(self.device)
        self.written_ids = None if written is None else torch.from_numpy(written.ids).to(self.device)
        self.written_lengths = None if written is None else torch.from_numpy(written.lengths)


def batch_indices(cfg: AweConfig, tensors: Batches, rows: np.ndarray) -> list[np.ndarray]:
    """What a step indexes, planned on the host: the rows; for semi-hard mining the positive pairs;
    for the proxy loss the batch's words and each token's place among them."""
    if cfg.loss == "triplet":
        if cfg.mining == "semi-hard":
            return [rows, *positive_pairs(tensors.word_index[rows])]
        return [rows]
    words, inverse = np.unique(tensors.word_index[rows], return_inverse=True)
    return [rows, words, inverse.reshape(-1)]


def batch_loss(model, cfg: AweConfig, tensors: Batches, rows: np.ndarray, indices=None) -> torch.Tensor:
    """The loss of one batch (``rows``: token indices). ``indices``: :func:`batch_indices` already on the
    device (the epoch loop copies a whole epoch's at once); by default copied here."""
    if indices is None:
        indices = to_device(batch_indices(cfg, tensors, rows), tensors.device)
    index = indices[0]
    lengths = tensors.lengths[torch.from_numpy(rows)]
    embeddings = model.embed(tensors.frames[index, :int(lengths.max())], lengths)
    labels = tensors.labels[index]
    if cfg.loss == "triplet":
        if cfg.mining == "batch-hard":
            return triplet_batch_hard(embeddings, labels, cfg.margin)
        return triplet_semi_hard(embeddings, labels, cfg.margin, pairs=(indices[1], indices[2]))
    words, inverse = indices[1], indices[2]
    symbol_lengths = tensors.written_lengths[torch.from_numpy(np.unique(tensors.word_index[rows]))]
    proxies = model.proxies(tensors.written_ids[words, :int(symbol_lengths.max())], symbol_lengths)
    return asymmetric_proxy(embeddings, proxies, inverse, alpha=cfg.alpha, beta=cfg.beta, margin=cfg.proxy_margin)


def train_epoch(model, optimizer, cfg: AweConfig, tensors: Batches, data: TrainingData, split: SpeakerSplit,
                epoch: int, steps: DeviceSteps | None = None) -> tuple[float, int, float]:
    """(mean loss per token, tokens, seconds).

    The batch loop never waits for the device: each batch is planned on the host (rows longest
    first, so packing needs no sort; pairs or words for the loss), the whole epoch's indices reach
    the device in one copy, and the loss is summed there and read once, after the loop. On CUDA the
    steps run in float16 autocast with a gradient scaler (:class:`DeviceSteps`).
    """
    steps = steps or DeviceSteps(tensors.device)
    batches = epoch_groups(data.word_index, np.flatnonzero(split.train), per_word=cfg.per_word,
                           batch_size=cfg.batch_size, seed=cfg.seed, epoch=epoch)
    # The losses are means over the batch: the order of its tokens changes nothing but the packing.
    batches = [rows[np.argsort(-data.lengths[rows], kind="stable")] for rows in batches]
    planned = [batch_indices(cfg, tensors, rows) for rows in batches]
    per_batch = len(planned[0]) if planned else 0
    on_device = to_device([a for arrays in planned for a in arrays], tensors.device)
    torch.manual_seed(cfg.seed * 100_003 + epoch)      # dropout draws depend on (seed, epoch) only
    model.train()
    loss_sum = torch.zeros((), dtype=torch.float64, device=tensors.device)
    tokens = 0
    started = time.perf_counter()
    for number, rows in enumerate(batches):
        with steps.autocast():
            loss = batch_loss(model, cfg, tensors, rows, on_device[number * per_batch:(number + 1) * per_batch])
        steps.step(loss, optimizer)
        loss_sum += loss.detach().double() * len(rows)     # stays on the device: no host sync per batch
        tokens += len(rows)
    total = float(loss_sum)                                # the epoch's one read-back
    return total / max(tokens, 1), tokens, time.perf_counter() - started


# ------------------------------------------------------------------------------ evaluation
def evaluate_epoch(model, data: TrainingData, frames: torch.Tensor, split: SpeakerSplit, out: Path, epoch: int,
                   cfg: AweConfig, loss: float, tokens: int, seconds: float) -> AweEpochRecord:
    """Embed every token, write this epoch's vectors (and the instances at epoch 0), score the held-out tokens."""
    from audit.core.loaders import save_word2vec_text
    started = time.perf_counter()
    embeddings = instance_embeddings(model, data, frames, batch_size=cfg.eval_batch_size)
    check_finite(epoch, cfg, embeddings=embeddings)      # before anything of this epoch is written or scored
    vectors = word_vectors(embeddings, data.word_index, data.words)
    relative = f"epochs/epoch_{epoch:03d}.txt"
    (out / "epochs").mkdir(parents=True, exist_ok=True)
    save_word2vec_text(vectors, out / relative)
    if epoch == 0:
        save_instances(out / "instances_epoch_000.npz", embeddings, data)
    homophones, skipped = _homophone_summary(vectors)
    labels = instance_labels(data)
    held_out = embedding_ap(embeddings[split.test], labels[split.test], data.speakers[split.test],
                            sample_pairs=cfg.eval_pairs, seed=EVAL_SEED)
    return AweEpochRecord(epoch=epoch, loss=loss, tokens=tokens,
                          tokens_per_second=tokens / seconds if seconds > 0 else float("nan"), seconds=seconds,
                          vectors=relative, held_out=held_out, homophones=homophones, homophones_skipped=skipped,
                          evaluation_seconds=round(time.perf_counter() - started, 3))


def _homophone_summary(vectors):
    from reproductions.speech2vec.checks import homophone_summary
    return homophone_summary(vectors)


def held_out_store(store: FrameStore, data: TrainingData, split: SpeakerSplit, lowercase: bool) -> FrameStore:
    """The frame store's segments of the held-out tokens (full length, not normalised), in data order."""
    spelled = np.char.lower(store.vocabulary) if lowercase else store.vocabulary
    token_words = spelled[store.word_ids]
    keep = np.isin(token_words, np.array(data.words)) & np.isin(store.speakers[store.speaker_ids],
                                                                 np.array(split.test_speakers))
    if int(keep.sum()) != int(split.test.sum()):
        raise AuditError("internal: the frame store's held-out segments do not match the training data.")
    return store.subset(keep)


def dtw_baseline(store: FrameStore, data: TrainingData, split: SpeakerSplit, cfg: AweConfig):
    if not cfg.dtw_pairs:
        return None
    held = held_out_store(store, data, split, cfg.lowercase)
    spelled = np.char.lower(held.vocabulary) if cfg.lowercase else held.vocabulary
    return dtw_ap(held.frames, held.offsets, spelled[held.word_ids], held.speakers[held.speaker_ids],
                  sample_pairs=cfg.dtw_pairs, seed=EVAL_SEED)


def split_info(cfg: AweConfig, data: TrainingData, split: SpeakerSplit) -> SplitInfo:
    train_counts = np.bincount(data.word_index[split.train], minlength=len(data.words))
    test_words = np.unique(data.word_index[split.test])
    return SplitInfo(split=split.split, test_fraction=cfg.test_fraction, seed=cfg.split_seed,
                     train_speakers=split.train_speakers, test_speakers=split.test_speakers,
                     train_tokens=int(split.train.sum()), test_tokens=int(split.test.sum()),
                     train_words=int((train_counts >= 2).sum()),
                     test_words_unseen=int((train_counts[test_words] == 0).sum()))


# ------------------------------------------------------------------------------ the run
def train(cfg: AweConfig, out: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None,
          data_dir: str | os.PathLike | None = None, resume: bool = False, quiet: bool = False) -> AweHistory:
    """Train for ``cfg.epochs`` epochs (continuing a checkpointed run with ``resume``)."""
    from audit.core.datadir import data_dir as resolve_data_dir
    out = Path(out)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = _device(cfg.device)
    progress = None if quiet else Progress(cfg.epochs)
    log = progress.log if progress else (lambda message: None)
    cache = Path(cache_dir) if cache_dir else resolve_data_dir(data_dir)
    check_run_folder(out, resume)
    store_path = prepare_frame_store(cfg, cache, log)          # a bad corpus fails before OUT is made
    store = FrameStore.load(store_path, require=CORPUS_COLUMNS)
    data = prepare(store, min_count=cfg.min_count, max_frames=cfg.max_frames, normalization=cfg.normalization,
                   lowercase=cfg.lowercase)
    split = split_by_speaker(data, split=cfg.split, test_fraction=cfg.test_fraction, seed=cfg.split_seed)
    written = written_words(data.words, cfg.proxy_input) if cfg.loss == "proxy" else None
    lock = claim_run_folder(out, resume)   # held until the run is written (closed below; on an error, at exit)
    root = cfg.corpus_root or str(cache / "corpora" / f"espeak-{cfg.corpus_size}-seed{cfg.corpus_seed}")
    info = corpus_info(cfg, store, data, store_path, root)
    splitting = split_info(cfg, data, split)
    evaluated = (f"held out: {', '.join(split.test_speakers)} ({splitting.test_tokens:,} tokens)"
                 if split.split == "speakers" else
                 f"no split: evaluated on all {splitting.test_tokens:,} tokens, the training tokens")
    log(f"{info.instances:,} spoken words, vocabulary {info.vocabulary:,} (min count {cfg.min_count}), "
        f"{info.speakers} speakers; {evaluated}; device {device}")
    frames = torch.from_numpy(data.frames).to(device)
    model, optimizer = make_model(cfg, device, len(written.symbols) if written else 0)
    tensors = Batches(data, frames, written)
    steps = DeviceSteps(device)
    written_info = WrittenInfo(written.kind, len(written.symbols), written.spelt) if written else None
    records: list[AweEpochRecord] = []
    baseline, done = None, -1
    checkpoint = latest_checkpoint(out) if resume else None
    if checkpoint is not None:
        done, saved = load_checkpoint(checkpoint, model, optimizer, cfg, steps)
        if saved is not None:
            records, baseline = list(saved.epochs[:done + 1]), saved.dtw_baseline
        log(f"resuming after epoch {done} from {checkpoint}")
    write_json_atomic(out / "config.json", cfg.to_dict())

    def history() -> AweHistory:
        return AweHistory(config=cfg.to_dict(), corpus=info, split=splitting, dtw_baseline=baseline,
                          written=written_info, seed=cfg.seed, device=cfg.device, epochs=tuple(records), date=today())

    if done < 0:
        started = time.perf_counter()
        baseline = dtw_baseline(store, data, split, cfg)
        if baseline is not None:
            log(f"MFCC-DTW baseline on {evaluated_tokens(split.split)}: SW AP {baseline.sw_ap:.4f}, "
                f"SWDP AP {baseline.swdp_ap:.4f} ({baseline.pairs_scored:,} pairs, "
                f"{time.perf_counter() - started:.1f} s)")
        records.append(evaluate_epoch(model, data, frames, split, out, 0, cfg, float("nan"), 0, 0.0))
        _write_history(out, history(), model, optimizer, 0, cfg, log, steps)
        done = 0
    for epoch in range(done + 1, cfg.epochs + 1):
        interrupts.check()     # a SIGTERM whose exception was dropped stops the run here
        loss, tokens, seconds = train_epoch(model, optimizer, cfg, tensors, data, split, epoch, steps)
        check_finite(epoch, cfg, loss=loss, model=model)
        records.append(evaluate_epoch(model, data, frames, split, out, epoch, cfg, loss, tokens, seconds))
        _write_history(out, history(), model, optimizer, epoch, cfg, log, steps)
    result = history()
    _finish(out, model, data, frames, cfg, records, tensors)
    lock.close()
    return result


def _device(name: str) -> torch.device:
    if name == "cuda":
        if not torch.cuda.is_available():
            raise AuditError("--device cuda was asked for but torch sees no CUDA device.")
        return torch.device("cuda")
    return torch.device("cpu")


def _write_history(out: Path, history: AweHistory, model, optimizer, epoch: int, cfg: AweConfig, log,
                   steps: DeviceSteps | None = None) -> None:
    save_checkpoint(out / "checkpoints" / f"epoch_{epoch:03d}.pt", model, optimizer, epoch, cfg, history,
                    steps.state_dict() if steps else None)
    write_json_atomic(out / "history.json", history)
    tmp = out / ".history.csv.part"
    tmp.write_text(history.csv_text(), encoding="utf-8")
    os.replace(tmp, out / "history.csv")
    record = history.epochs[-1]
    h = record.homophones
    verdict = f"homophones {h.verdict} ({h.homophone_mean:.2f} vs random {h.random_mean:.2f})" if h else \
        "homophones skipped"
    loss = "random init" if epoch == 0 else f"loss {record.loss:.4f}, {record.tokens_per_second:,.0f} tokens/s " \
                                            f"({record.seconds:.1f} s)"
    split = history.split.split
    log(f"epoch {epoch}: {loss}; {ap_label(split, 'SWDP')} {record.held_out.swdp_ap:.4f}, "
        f"SW AP {record.held_out.sw_ap:.4f}; {verdict}")


def _finish(out: Path, model, data: TrainingData, frames, cfg: AweConfig, records, tensors: Batches) -> None:
    """vectors.txt and instances.npz describe the last epoch; agwe.txt the proxies (proxy loss)."""
    from audit.core.loaders import save_word2vec_text
    tmp = out / ".vectors.txt.part"
    shutil.copyfile(out / records[-1].vectors, tmp)
    os.replace(tmp, out / "vectors.txt")
    save_instances(out / "instances.npz", instance_embeddings(model, data, frames, batch_size=cfg.eval_batch_size),
                   data)
    if model.written is not None:
        model.eval()
        with torch.no_grad():
            proxies = model.proxies(tensors.written_ids, tensors.written_lengths).float().cpu().numpy()
        model.train()
        tmp = out / ".agwe.part.txt"
        save_word2vec_text(word_vectors(proxies, np.arange(len(data.words)), data.words), tmp)
        os.replace(tmp, out / "agwe.txt")


# ------------------------------------------------------------------------------ entry point
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reproductions.awe.train",
                                     description="Train an acoustic word embedding (BiLSTM, triplet or proxy loss).")
    add_awe_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        train(awe_config_from_args(args), args.out, cache_dir=args.cache_dir, data_dir=args.data_dir,
              resume=args.resume, quiet=args.quiet)
    except AuditError as exc:
        print(f"audit: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
