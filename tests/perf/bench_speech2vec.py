"""Training throughput of the Speech2Vec trainer vs a step-by-step reference decoder.

    .venv/bin/python tests/perf/bench_speech2vec.py [--device cpu|cuda] [--batch-size 4096] [--batches 4]

Both run the same model and weights on the same pairs, in the same process, one after the other:

- reference: the decoder stepped in Python one frame at a time (attention per step, batched
  over the pairs), every word padded to ``max_frames`` (20), as the reality-check code does;
- whole-sequence: one decoder LSTM call and one batched attention product, padded to 20;
- trainer: whole-sequence on length-bucketed batches (padded to each batch's longest word), the
  way ``reproductions.speech2vec.train`` batches.

Word lengths come from the frame store given with ``--store`` (e.g. the embedded corpus), else
are drawn around the reality-check paper's mean of 10 frames. Goal: trainer >= 2.5x the
reference on CPU (>= 10x on a GPU). Prints pairs/s per implementation and the ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from reproductions.speech2vec.data import TrainingData, epoch_batches  # noqa: E402
from reproductions.speech2vec.model import Speech2Vec, masked_mse  # noqa: E402


def reference_loss(model: Speech2Vec, source, source_lengths, target, target_lengths):
    """Step-by-step decoding: one LSTM step, one attention and one prediction per frame."""
    outputs, hidden, cell = model.encode(source, source_lengths)
    keys = model.attention(outputs)                                            # (B, Ts, D)
    valid = torch.arange(outputs.shape[1], device=source.device)[None, :] < source_lengths.to(source.device)[:, None]
    state = (hidden[None], cell[None])
    frame = torch.zeros_like(target[:, 0])
    predictions = []
    for t in range(target.shape[1]):
        step, state = model.decoder(frame[:, None, :], state)
        h = step[:, 0]
        scores = torch.einsum("bd,bsd->bs", h, keys).masked_fill(~valid, float("-inf"))
        context = torch.einsum("bs,bsd->bd", torch.softmax(scores, dim=-1), outputs)
        predictions.append(model.output(torch.tanh(model.combine(torch.cat([context, h], dim=-1)))))
        frame = target[:, t]
    return masked_mse(torch.stack(predictions, dim=1), target, target_lengths.to(target.device))


def word_lengths(args, rng) -> np.ndarray:
    if args.store:
        from audit.speech.frames import FrameStore
        return np.minimum(FrameStore.load(args.store).lengths, args.max_frames)
    return np.clip(np.rint(rng.gamma(6.0, 10 / 6.0, size=50000)), 1, args.max_frames).astype(np.int64)


def timed(step, batches, device) -> float:
    step(batches[0])                       # warm-up (allocations, kernel selection)
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for b in batches:
        step(b)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--batches", type=int, default=4, help="timed batches per implementation")
    parser.add_argument("--max-frames", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; each implementation's best counts")
    parser.add_argument("--store", help="a frame store .npz whose word lengths to use")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rng = np.random.default_rng(0)
    lengths = word_lengths(args, rng)
    n = len(lengths)
    frames = torch.randn(n, args.max_frames, 13, generator=torch.Generator().manual_seed(0)).to(device)
    lengths_t = torch.from_numpy(lengths)
    centres, contexts = rng.integers(0, n, size=(2, 40 * args.batch_size))
    data = TrainingData(words=("w",), counts=np.array([n]), frames=np.zeros((0, 1, 1)), lengths=lengths,
                        word_index=np.zeros(n, np.int64), utterance_ids=np.zeros(n, np.int64),
                        speakers=np.array([]), mean=np.zeros(13), std=np.ones(13))
    bucketed = epoch_batches(data, centres, contexts, batch_size=args.batch_size, seed=0, epoch=1)
    picks = [bucketed[i] for i in rng.choice(len(bucketed), size=args.batches + 1, replace=False)]
    plain = [rng.integers(0, len(centres), size=args.batch_size) for _ in range(args.batches + 1)]

    torch.manual_seed(0)
    model = Speech2Vec().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step(loss_fn, pad_to_batch):
        def run(positions):
            s_rows, t_rows = torch.from_numpy(centres[positions]), torch.from_numpy(contexts[positions])
            s_len, t_len = lengths_t[s_rows], lengths_t[t_rows]
            s_width = int(s_len.max()) if pad_to_batch else args.max_frames
            t_width = int(t_len.max()) if pad_to_batch else args.max_frames
            loss = loss_fn(model, frames[s_rows.to(device), :s_width], s_len, frames[t_rows.to(device), :t_width], t_len)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return run

    whole = lambda m, *a: m(*a)  # noqa: E731
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, batch {args.batch_size}, "
          f"mean word length {lengths.mean():.1f} frames (max {args.max_frames}), {args.batches} timed batches each")
    try:
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    except OSError:
        pass
    implementations = (("reference (step-by-step, padded to 20)", reference_loss, False, plain),
                       ("whole-sequence, padded to 20", whole, False, plain),
                       ("trainer (whole-sequence, length buckets)", whole, True, picks))
    # The machine is shared: alternate the implementations over several rounds and keep each
    # one's best round, so a burst of someone else's load does not decide a ratio.
    results = {name: 0.0 for name, *_ in implementations}
    for round_number in range(args.rounds):
        for name, fn, pad_to_batch, batches in implementations:
            seconds = timed(step(fn, pad_to_batch), batches[1:], device)
            pairs = sum(len(b) for b in batches[1:])
            results[name] = max(results[name], pairs / seconds)
            print(f"round {round_number + 1}: {name:44s} {pairs / seconds:10,.0f} pairs/s  ({seconds:.2f} s)")
    for name, rate in results.items():
        print(f"best: {name:44s} {rate:10,.0f} pairs/s")
    base = results["reference (step-by-step, padded to 20)"]
    for name, rate in results.items():
        print(f"ratio {name:38s} {rate / base:5.2f}x")
    goal = 10.0 if device.type == "cuda" else 2.5
    trainer = results["trainer (whole-sequence, length buckets)"] / base
    print(f"goal >= {goal}x: {'met' if trainer >= goal else 'NOT met'} ({trainer:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
