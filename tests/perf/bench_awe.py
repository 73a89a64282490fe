"""Training throughput of the AWE trainer: whole epochs, the kernel step, a step-by-step BiLSTM.

    .venv/bin/python tests/perf/bench_awe.py --store FRAME_STORE.npz [--loss triplet|proxy] [--threads 1]

All run the same encoder on the store's real tokens (``reproductions.speech2vec.data.prepare``),
in the same process, in alternating rounds:

- step-by-step: the BiLSTM stepped in Python one frame at a time (one LSTM cell call per
  direction and frame, padded to ``max_frames``, each token's state frozen past its length),
  then the trainer's loss: the plain way to write it;
- kernel: ``reproductions.awe.train.batch_loss`` (packed cuDNN/oneDNN LSTM) and the optimiser
  step on the epoch's word-grouped batches, after a warm-up;
- epoch: ``reproductions.awe.train.train_epoch``, a whole epoch as ``audit reproduce awe`` runs it
  (its tokens/s is the one the history records).

Tokens per second of wall time and of process CPU time (on a shared machine the CPU figure of a
one-thread run is what the code costs). Goals (issue 19): epoch >= 2x step-by-step and >= 0.8x
the kernel at the same thread count.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from reproductions.awe.config import AweConfig  # noqa: E402
from reproductions.awe.data import epoch_groups, split_by_speaker, written_words  # noqa: E402
from reproductions.awe.model import triplet_batch_hard, triplet_semi_hard  # noqa: E402
from reproductions.awe.train import Batches, batch_loss, make_model, train_epoch  # noqa: E402


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


def stepped_embeddings(lstm: torch.nn.LSTM, frames: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """One-layer BiLSTM final states, one cell step per frame and direction (same weights)."""
    batch, width, _ = frames.shape
    finals = []
    for suffix, steps in (("", range(width)), ("_reverse", range(width - 1, -1, -1))):
        w_ih, w_hh = getattr(lstm, f"weight_ih_l0{suffix}"), getattr(lstm, f"weight_hh_l0{suffix}")
        b = getattr(lstm, f"bias_ih_l0{suffix}") + getattr(lstm, f"bias_hh_l0{suffix}")
        h = frames.new_zeros(batch, lstm.hidden_size)
        c = frames.new_zeros(batch, lstm.hidden_size)
        for t in steps:
            gates = frames[:, t] @ w_ih.T + h @ w_hh.T + b
            i, f, g, o = gates.chunk(4, dim=1)
            c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h_new = torch.sigmoid(o) * torch.tanh(c_new)
            inside = (t < lengths.to(frames.device))[:, None]
            h, c = torch.where(inside, h_new, h), torch.where(inside, c_new, c)
        finals.append(h)
    return torch.cat(finals, dim=1)


def main() -> int:
    from audit.speech.frames import FrameStore
    from reproductions.speech2vec.data import prepare
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", required=True, help="a frame store .npz (e.g. the embedded corpus's)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--loss", default="triplet", choices=("triplet", "proxy"))
    parser.add_argument("--batches", type=int, default=8, help="timed batches per step implementation")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1, as the trainer)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg = AweConfig(loss=args.loss, device=device.type, epochs=1)
    data = prepare(FrameStore.load(args.store), min_count=cfg.min_count, max_frames=cfg.max_frames)
    split = split_by_speaker(data, split=cfg.split, test_fraction=cfg.test_fraction, seed=cfg.split_seed)
    written = written_words(data.words, cfg.proxy_input) if cfg.loss == "proxy" else None
    frames = torch.from_numpy(data.frames).to(device)
    model, optimizer = make_model(cfg, device, len(written.symbols) if written else 0)
    tensors = Batches(data, frames, written)
    batches = epoch_groups(data.word_index, np.flatnonzero(split.train), per_word=cfg.per_word,
                           batch_size=cfg.batch_size, seed=cfg.seed, epoch=1)[:args.batches + 1]
    mine = triplet_batch_hard if cfg.mining == "batch-hard" else triplet_semi_hard

    def kernel_step(rows):
        loss = batch_loss(model, cfg, tensors, rows)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def stepped_step(rows):
        index = torch.from_numpy(rows).to(device)
        embeddings = stepped_embeddings(model.acoustic.lstm, frames[index], tensors.lengths[index.cpu()])
        loss = mine(embeddings, tensors.labels[index], cfg.margin)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def steps(step):
        def run():
            step(batches[0])                                   # warm-up
            with Clock(device) as clock:
                for rows in batches[1:]:
                    step(rows)
            return sum(len(b) for b in batches[1:]), clock
        return run

    epoch_number = [0]

    def epoch():
        epoch_number[0] += 1
        with Clock(device) as clock:
            _, tokens, seconds = train_epoch(model, optimizer, cfg, tensors, data, split, epoch_number[0])
        clock.loop_wall = seconds
        return tokens, clock

    with torch.no_grad():                                      # the baseline computes what the encoder does
        rows = torch.from_numpy(batches[0]).to(device)
        lengths = tensors.lengths[rows.cpu()]
        packed = model.embed(frames[rows, :int(lengths.max())], lengths)
        difference = (stepped_embeddings(model.acoustic.lstm, frames[rows], lengths) - packed).abs().max().item()
    if cfg.layers != 1 or difference > 1e-4:
        raise SystemExit(f"the step-by-step BiLSTM differs from the encoder by {difference:.2g}")

    stepped, kernel, whole = ("step-by-step BiLSTM, padded to max_frames", "kernel (trainer step)",
                              "epoch (train_epoch)")
    implementations = [(kernel, steps(kernel_step)), (whole, epoch)]
    if args.loss == "triplet":
        implementations.insert(0, (stepped, steps(stepped_step)))
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, loss {cfg.loss}, "
          f"batch ~{cfg.batch_size} tokens, embedding {cfg.embedding_dim}, mean word length "
          f"{data.lengths.mean():.1f} frames (max {cfg.max_frames}), {args.batches} timed batches per step implementation")
    try:
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    except OSError:
        pass
    best = {name: {"wall": 0.0, "cpu": 0.0} for name, _ in implementations}
    for round_number in range(args.rounds):
        for name, run in implementations:
            tokens, clock = run()
            wall = getattr(clock, "loop_wall", clock.wall)
            best[name]["wall"] = max(best[name]["wall"], tokens / wall)
            best[name]["cpu"] = max(best[name]["cpu"], tokens / clock.cpu)
            print(f"round {round_number + 1}: {name:42s} {tokens / wall:8,.0f} tokens/s wall ({wall:6.2f} s), "
                  f"{tokens / clock.cpu:8,.0f} tokens/s CPU ({clock.cpu:6.2f} s)", flush=True)
    for clock in ("wall", "cpu") if device.type == "cpu" else ("wall",):
        line = f"ratio ({clock}) epoch / kernel {best[whole][clock] / best[kernel][clock]:5.2f}x (goal >= 0.8)"
        if stepped in best:
            line += f"; epoch / step-by-step {best[whole][clock] / best[stepped][clock]:5.2f}x (goal >= 2)"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
