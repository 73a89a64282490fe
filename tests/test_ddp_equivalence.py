"""DDP equals one process (issue 18): an epoch of the reproduction's training step on two CPU
processes (gloo, the code's own DistributedDataParallel wrapping and batch slicing) leaves the
same parameters and reports the same loss and pair count as the same epoch in one process.

The fixture makes the equality exact in arithmetic: every word has the same number of frames and
every global batch has an even size, so each process's slice has the same number of target
frames, and the average of the two slices' gradients is the gradient of the whole batch.
"""

from __future__ import annotations


import numpy as np
import pytest

torch = pytest.importorskip("torch")

from reproductions.speech2vec.config import TrainConfig  # noqa: E402
from reproductions.speech2vec.data import TrainingData, epoch_batches, epoch_pairs  # noqa: E402

UTTERANCES, WORDS_PER_UTTERANCE, FRAMES, N_MFCC = 12, 3, 4, 5


def training_data() -> TrainingData:
    rng = np.random.default_rng(0)
    n = UTTERANCES * WORDS_PER_UTTERANCE
    vocabulary = tuple(f"w{i}" for i in range(6))
    word_index = rng.integers(0, len(vocabulary), size=n)
    return TrainingData(words=vocabulary, counts=np.bincount(word_index, minlength=len(vocabulary)),
                        frames=rng.standard_normal((n, FRAMES, N_MFCC)).astype(np.float32),
                        lengths=np.full(n, FRAMES, np.int64), word_index=word_index,
                        utterance_ids=np.repeat(np.arange(UTTERANCES), WORDS_PER_UTTERANCE),
                        speakers=np.array(["s"] * n), mean=np.zeros(N_MFCC), std=np.ones(N_MFCC))


CONFIG = TrainConfig().replace(n_mfcc=N_MFCC, embedding_dim=8, window=1, subsample=0.0, batch_size=8,
                              optimizer="sgd", lr=0.5, seed=3)


def train_one_epoch(rank: int, world: int, out: str, init_file: str) -> None:
    from reproductions.speech2vec import train

    torch.set_num_threads(1)
    if world > 1:
        torch.distributed.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    procs = train.Processes(rank=rank, world=world)
    data = training_data()
    model, optimizer = train.make_model(CONFIG, torch.device("cpu"))
    wrapped = train._wrap(model, procs, torch.device("cpu"))
    loss, pairs, _ = train.train_epoch(wrapped, optimizer, data, torch.from_numpy(data.frames), CONFIG, 1, procs, None)
    if rank == 0:
        torch.save({"state": model.state_dict(), "loss": loss, "pairs": pairs}, out)
    if world > 1:
        torch.distributed.destroy_process_group()


def test_the_fixture_has_even_batches_of_equal_lengths():
    data = training_data()
    centres, contexts = epoch_pairs(data, window=CONFIG.window, subsample=CONFIG.subsample, seed=CONFIG.seed, epoch=1)
    assert len(centres) == UTTERANCES * 4                   # 3 words, window 1: 4 pairs per utterance
    batches = epoch_batches(data, centres, contexts, batch_size=CONFIG.batch_size, seed=CONFIG.seed, epoch=1,
                            bucket_by_length=CONFIG.bucket_by_length)
    assert len(batches) == 6 and all(len(b) == 8 for b in batches)


@pytest.mark.slow
def test_two_processes_train_exactly_as_one(tmp_path):
    import torch.multiprocessing as mp

    single, double = tmp_path / "one.pt", tmp_path / "two.pt"
    train_one_epoch(0, 1, str(single), "")
    mp.spawn(train_one_epoch, args=(2, str(double), str(tmp_path / "init")), nprocs=2, join=True)
    one, two = torch.load(single), torch.load(double)
    assert one["pairs"] == two["pairs"] == UTTERANCES * 4
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-6)
    start = __import__("reproductions.speech2vec.train", fromlist=["make_model"]).make_model(
        CONFIG, torch.device("cpu"))[0].state_dict()
    moved = 0
    for name, value in one["state"].items():
        torch.testing.assert_close(two["state"][name], value, rtol=1e-5, atol=1e-6, msg=name)
        moved += int(not torch.allclose(value, start[name]))
    assert moved >= len(start) - 2, "training moved the parameters (a test of something)"
