"""Training throughput of the AWE trainer: whole epochs beside its kernel step and plain loops.

    .venv/bin/python tests/perf/bench_awe.py --store FRAME_STORE.npz [--loss triplet|proxy] [--threads 1]

All run the same encoder (a one-layer BiLSTM, the trainer's defaults) on the store's real tokens
(``reproductions.speech2vec.data.prepare``) and the epoch's word-grouped batches, in the same
process, in alternating rounds (each implementation's best round counts):

- plain, packed: the textbook loop. Each batch padded to its longest word, packed with
  ``pack_padded_sequence(enforce_sorted=False)``, ``nn.LSTM``, the trainer's loss, ``backward``,
  ``step``, ``loss.item()``. It computes exactly what the trainer computes;
- plain, padded: the same without packing (``nn.LSTM`` straight over the padded batch, each
  state read after the padding): cheaper per batch on one CPU thread, though it is a different
  function (padding frames enter the states). The honest baseline is the faster of the two;
- kernel: ``reproductions.awe.train.batch_loss`` and the optimiser step on the same batches
  (on the CPU the hand-written BiLSTM of ``reproductions.bilstm``), after a warm-up;
- epoch: ``reproductions.awe.train.train_epoch``, a whole epoch as ``audit reproduce awe`` runs it
  (its tokens/s, the loop's wall time, is the one the history records).

Tokens per second of wall time and of process CPU time (on a shared machine the CPU figure of a
one-thread run is what the code costs; the goals are judged on it on the CPU, on wall time on
CUDA). Goals (issue 19): epoch >= 2x the faster plain loop and >= 0.8x the kernel, same thread
count. Exit status 1 when a goal is missed. With a CUDA device present (and ``--device cpu``)
one more line gives a GPU epoch's tokens/s; without one it says so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from reproductions.awe.config import AweConfig  # noqa: E402
from reproductions.awe.data import epoch_groups, split_by_speaker, written_words  # noqa: E402
from reproductions.awe.model import asymmetric_proxy, triplet_batch_hard, triplet_semi_hard  # noqa: E402
from reproductions.awe.train import Batches, batch_loss, make_model, train_epoch  # noqa: E402

EPOCH_GOAL, KERNEL_GOAL = 2.0, 0.8


class Clock:
    def __init__(self, device):
        self.device = device

    def __enter__(self):
        self._sync()
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self._sync()
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def _sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()


class Setup:
    """Data, model, optimiser and the epoch's batches on one device."""

    def __init__(self, store, loss: str, device: torch.device):
        from audit.speech.frames import FrameStore
        from reproductions.speech2vec.data import prepare
        self.device = device
        self.cfg = AweConfig(loss=loss, device=device.type, epochs=1)
        cfg = self.cfg
        self.data = prepare(FrameStore.load(store), min_count=cfg.min_count, max_frames=cfg.max_frames)
        self.split = split_by_speaker(self.data, split=cfg.split, test_fraction=cfg.test_fraction, seed=cfg.split_seed)
        written = written_words(self.data.words, cfg.proxy_input) if cfg.loss == "proxy" else None
        self.frames = torch.from_numpy(self.data.frames).to(device)
        self.model, self.optimizer = make_model(cfg, device, len(written.symbols) if written else 0)
        self.tensors = Batches(self.data, self.frames, written)
        self.epoch_number = 0

    def batches(self, count: int) -> list[np.ndarray]:
        cfg = self.cfg
        return epoch_groups(self.data.word_index, np.flatnonzero(self.split.train), per_word=cfg.per_word,
                            batch_size=cfg.batch_size, seed=cfg.seed, epoch=1)[:count]

    def epoch(self):
        self.epoch_number += 1
        with Clock(self.device) as clock:
            _, tokens, seconds = train_epoch(self.model, self.optimizer, self.cfg, self.tensors, self.data,
                                             self.split, self.epoch_number)
        clock.loop_wall = seconds              # the loop alone: what the history's tokens/s divides by
        return tokens, clock


def plain_loss(setup: Setup, rows: np.ndarray, packed: bool) -> torch.Tensor:
    """The textbook step's loss: nn.LSTM over the padded batch, packed or not."""
    cfg, tensors, model = setup.cfg, setup.tensors, setup.model
    index = torch.from_numpy(rows)
    lengths = tensors.lengths[index]
    device_index = index.to(setup.device)
    padded = tensors.frames[device_index, :int(lengths.max())]
    lstm = model.acoustic.lstm
    inputs = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False) if packed else padded
    _, (hidden, _) = lstm(inputs)
    embeddings = torch.cat([hidden[-2], hidden[-1]], dim=1)
    labels = tensors.labels[device_index]
    if cfg.loss == "triplet":
        mine = triplet_batch_hard if cfg.mining == "batch-hard" else triplet_semi_hard
        return mine(embeddings, labels, cfg.margin)
    words, inverse = torch.unique(labels, return_inverse=True)
    symbol_lengths = tensors.written_lengths[words.cpu()]
    proxies = model.proxies(tensors.written_ids[words, :int(symbol_lengths.max())], symbol_lengths)
    return asymmetric_proxy(embeddings, proxies, inverse, alpha=cfg.alpha, beta=cfg.beta, margin=cfg.proxy_margin)


def step_runner(setup: Setup, batches, loss_of, read_back: bool):
    def step(rows):
        loss = loss_of(rows)
        setup.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        setup.optimizer.step()
        if read_back:
            loss.item()                        # a plain loop logs its loss every batch

    def run():
        step(batches[0])                       # warm-up
        with Clock(setup.device) as clock:
            for rows in batches[1:]:
                step(rows)
        return sum(len(b) for b in batches[1:]), clock
    return run


def gpu_line(args) -> str:
    if args.device == "cuda":
        return ""
    if not torch.cuda.is_available():
        return "GPU: no GPU here (torch sees no CUDA device); the CUDA path (float16 autocast, no host sync " \
               "per batch) is not measured by this run"
    setup = Setup(args.store, args.loss, torch.device("cuda"))
    setup.epoch()                              # warm-up (cuDNN plans, allocator)
    rates = []
    for _ in range(2):
        tokens, clock = setup.epoch()
        rates.append(tokens / clock.loop_wall)
    return f"GPU ({torch.cuda.get_device_name()}): epoch {max(rates):,.0f} tokens/s wall (best of 2 after a warm-up)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", required=True, help="a frame store .npz (e.g. the embedded corpus's)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--loss", default="triplet", choices=("triplet", "proxy"))
    parser.add_argument("--batches", type=int, default=12, help="timed batches per step implementation")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; each implementation's best counts")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1, as the trainer)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench_awe: --device cuda was asked for but torch sees no CUDA device.", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    setup = Setup(args.store, args.loss, device)
    batches = setup.batches(args.batches + 1)
    cfg = setup.cfg

    with torch.no_grad():                      # the plain packed loop computes what the trainer computes
        rows = batches[0]
        lengths = setup.tensors.lengths[torch.from_numpy(rows)]
        padded = setup.frames[torch.from_numpy(rows).to(device), :int(lengths.max())]
        _, (hidden, _) = setup.model.acoustic.lstm(pack_padded_sequence(padded, lengths, batch_first=True,
                                                                        enforce_sorted=False))
        difference = (torch.cat([hidden[-2], hidden[-1]], 1) - setup.model.embed(padded, lengths)).abs().max().item()
    if difference > 1e-4:
        raise SystemExit(f"the trainer's encoder differs from nn.LSTM on the packed batch by {difference:.2g}")

    packed, padded_name, kernel, whole = ("plain loop, nn.LSTM packed", "plain loop, nn.LSTM padded (no packing)",
                                          "kernel (trainer step)", "epoch (train_epoch)")
    implementations = [(packed, step_runner(setup, batches, lambda r: plain_loss(setup, r, True), True)),
                       (padded_name, step_runner(setup, batches, lambda r: plain_loss(setup, r, False), True)),
                       (kernel, step_runner(setup, batches, lambda r: batch_loss(setup.model, cfg, setup.tensors, r),
                                            False)),
                       (whole, setup.epoch)]
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, loss {cfg.loss}, "
          f"batch ~{cfg.batch_size} tokens, embedding {cfg.embedding_dim}, mean word length "
          f"{setup.data.lengths.mean():.1f} frames (max {cfg.max_frames}), {args.batches} timed batches per step "
          f"implementation, whole epochs of {int(setup.split.train.sum()):,} training tokens")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    rounds = []                                # each round's rates: the ratios within one round
    for round_number in range(args.rounds):
        rounds.append({})
        for name, run in implementations:
            tokens, clock = run()
            wall = getattr(clock, "loop_wall", clock.wall)
            rounds[-1][name] = {"wall": tokens / wall, "cpu": tokens / clock.cpu}
            print(f"round {round_number + 1}: {name:42s} {tokens / wall:8,.0f} tokens/s wall ({wall:6.2f} s), "
                  f"{tokens / clock.cpu:8,.0f} tokens/s CPU ({clock.cpu:6.2f} s)", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} after the rounds")
    best = {name: {clock: max(r[name][clock] for r in rounds) for clock in ("wall", "cpu")}
            for name, _ in implementations}
    met = True
    judged = "cpu" if device.type == "cpu" else "wall"
    for clock in ("wall", "cpu") if device.type == "cpu" else ("wall",):
        baseline = max(best[packed][clock], best[padded_name][clock])
        to_plain, to_kernel = best[whole][clock] / baseline, best[whole][clock] / best[kernel][clock]
        print(f"ratio ({clock}) epoch / faster plain loop {to_plain:5.2f}x (goal >= {EPOCH_GOAL}; packed "
              f"{best[whole][clock] / best[packed][clock]:.2f}x, padded {best[whole][clock] / best[padded_name][clock]:.2f}x); "
              f"epoch / kernel {to_kernel:5.2f}x (goal >= {KERNEL_GOAL})")
        if clock == judged:
            met = to_plain >= EPOCH_GOAL and to_kernel >= KERNEL_GOAL
        within = [r[whole][clock] / max(r[packed][clock], r[padded_name][clock]) for r in rounds]
        print(f"  the same within each round (epoch / that round's faster plain loop): "
              f"{', '.join(f'{x:.2f}' for x in within)}; median {float(np.median(within)):.2f}x (not judged: "
              f"the goal takes each implementation's best round)")
    line = gpu_line(args)
    if line:
        print(line)
    print(f"goals ({judged} time): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
