"""The AWE trainer's fast paths: the hand-written CPU BiLSTM equals nn.LSTM (values and every
gradient), the epoch loop reads nothing back from the device per batch, the CUDA-only pieces."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from reproductions.awe.config import AweConfig
from reproductions.bilstm import bilstm, bilstm_final_states, step_plan, supported
from reproductions.awe.model import AcousticWordEmbedder, positive_pairs, triplet_batch_hard, triplet_semi_hard
from reproductions.speech2vec.data import TrainingData


def packed_reference(lstm, x, lengths):
    _, (hidden, _) = lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    return torch.cat([hidden[-2], hidden[-1]], dim=1)


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-12), (torch.float32, 2e-5)])
def test_cpu_bilstm_equals_nn_lstm_values_and_gradients(dtype, tolerance):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(5, 6, batch_first=True, bidirectional=True).to(dtype)
    lengths = torch.tensor([3, 7, 1, 7, 4, 2, 6, 5, 1])          # ties, ones, unsorted
    x = torch.randn(len(lengths), 8, 5, dtype=dtype, requires_grad=True)   # wider than the longest
    weights = torch.randn(len(lengths), 12, dtype=dtype)
    expected = packed_reference(lstm, x, lengths)
    got = bilstm_final_states(lstm, x, lengths)
    assert (got - expected).abs().max().item() < tolerance
    wrt = [x, *lstm.parameters()]
    for g_ref, g_got in zip(torch.autograd.grad((expected * weights).sum(), wrt),
                            torch.autograd.grad((got * weights).sum(), wrt)):
        assert (g_ref - g_got).abs().max().item() < tolerance
    # padding frames never matter
    noisy = x.detach().clone()
    for row, length in enumerate(lengths.tolist()):
        noisy[row, length:] = 100.0
    assert (bilstm_final_states(lstm, noisy, lengths) - got).abs().max().item() < tolerance


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-12), (torch.float32, 2e-5)])
def test_cpu_bilstm_outputs_and_cells_equal_nn_lstm(dtype, tolerance):
    """Every step's states (padded, zero past each length) and the final cells too, with gradients
    through all three outputs, as the Speech2Vec encoder uses them."""
    from torch.nn.utils.rnn import pad_packed_sequence
    torch.manual_seed(2)
    lstm = torch.nn.LSTM(5, 6, batch_first=True, bidirectional=True).to(dtype)
    lengths = torch.tensor([3, 7, 1, 7, 4, 2, 6, 5, 1])
    x = torch.randn(len(lengths), 8, 5, dtype=dtype, requires_grad=True)
    packed, (h_n, c_n) = lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    expected = (pad_packed_sequence(packed, batch_first=True, total_length=8)[0],
                torch.cat([h_n[0], h_n[1]], 1), torch.cat([c_n[0], c_n[1]], 1))
    got = bilstm(lstm, x, lengths)
    for e, g in zip(expected, got):
        assert e.shape == g.shape and (e - g).abs().max().item() < tolerance
    weights = [torch.randn(e.shape, dtype=dtype) for e in expected]
    wrt = [x, *lstm.parameters()]
    for g_ref, g_got in zip(torch.autograd.grad(sum((e * w).sum() for e, w in zip(expected, weights)), wrt,
                                                retain_graph=True),
                            torch.autograd.grad(sum((g * w).sum() for g, w in zip(got, weights)), wrt)):
        assert (g_ref - g_got).abs().max().item() < tolerance
    # only the cells used: the other gradients are left out, not zero-filled
    cells_only = torch.autograd.grad((bilstm(lstm, x, lengths)[2] * weights[2]).sum(), wrt)
    assert all(torch.allclose(a, b, atol=tolerance) for a, b in zip(
        cells_only, torch.autograd.grad((expected[2] * weights[2]).sum(), wrt)))


def test_double_precision_gradcheck():
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(3, 2, batch_first=True, bidirectional=True).double()
    lengths = torch.tensor([4, 2, 4, 1])
    x = torch.randn(4, 4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda inp: bilstm_final_states(lstm, inp, lengths), (x,))
    assert torch.autograd.gradcheck(lambda inp: bilstm(lstm, inp, lengths), (x,))


def test_step_plan_by_hand():
    plan = step_plan(np.array([2, 3, 1]), width=4)
    assert plan.order.tolist() == [1, 0, 2]
    assert plan.counts == [3, 2, 1] and plan.offsets == [0, 3, 5, 6]
    # step 0: rows 1, 0, 2 at t 0; step 1: rows 1, 0 at t 1; step 2: row 1 at t 2
    assert plan.forward_index.tolist() == [4, 0, 8, 5, 1, 6]
    # reversed within each length: row 1 (length 3) reads t 2, 1, 0; row 0 (length 2) t 1, 0; row 2 t 0
    assert plan.reverse_index.tolist() == [6, 1, 8, 5, 0, 4]
    assert plan.last_slot.tolist() == [5, 4, 2]                  # sorted rows' last slots
    # a slot's h is kept in its row's next slot (h columns), or after the 6 slots at its sorted row
    assert plan.output_index.tolist() == [3, 4, 8, 5, 7, 6]


def test_encoder_uses_the_cpu_path_only_where_it_applies():
    model = AcousticWordEmbedder(n_mfcc=4, embedding_dim=6)
    x = torch.randn(3, 5, 4)
    assert supported(model.acoustic.lstm, x)
    deep = AcousticWordEmbedder(n_mfcc=4, embedding_dim=6, layers=2)
    assert not supported(deep.acoustic.lstm, x)                   # two layers: nn.LSTM, packed
    assert not supported(model.acoustic.lstm, x.half())


def test_losses_without_a_valid_anchor_are_zero_and_branch_free():
    embeddings = torch.randn(3, 4, requires_grad=True)
    labels = torch.tensor([0, 1, 2])                              # no positive anywhere
    for loss in (triplet_batch_hard(embeddings, labels, 0.4), triplet_semi_hard(embeddings, labels, 0.4)):
        assert loss.item() == 0.0
        loss.backward()
        assert torch.isfinite(embeddings.grad).all()
    labels = torch.tensor([0, 0, 0])                              # positives but no negative
    assert triplet_batch_hard(torch.randn(3, 4), labels, 0.4).item() == 0.0


def test_host_planned_pairs_give_the_same_semi_hard_loss():
    rng = np.random.default_rng(3)
    points, labels = torch.tensor(rng.normal(size=(12, 3))), rng.integers(0, 4, size=12)
    anchor, other = positive_pairs(labels)
    planned = triplet_semi_hard(points, torch.tensor(labels), 0.3, pairs=(torch.tensor(anchor), torch.tensor(other)))
    assert planned.item() == pytest.approx(triplet_semi_hard(points, torch.tensor(labels), 0.3).item(), abs=1e-12)


def toy_data(n=64, width=9, seed=0) -> TrainingData:
    rng = np.random.default_rng(seed)
    words = 8
    word_index = np.repeat(np.arange(words), n // words)
    lengths = rng.integers(2, width + 1, size=n)
    frames = rng.normal(size=(n, width, 13)).astype(np.float32)
    frames[np.arange(width)[None, :] >= lengths[:, None]] = 0.0
    speakers = np.array([f"s{i % 4}" for i in range(n)])
    return TrainingData(words=tuple(f"w{i}" for i in range(words)), counts=np.full(words, n // words), frames=frames,
                        lengths=lengths.astype(np.int64), word_index=word_index.astype(np.int64),
                        utterance_ids=np.arange(n, dtype=np.int64) // 8, speakers=speakers, mean=np.zeros(13),
                        std=np.ones(13))


class ReadBacks:
    """Counts reads of a float or boolean tensor's value into Python (item, float, int, bool, tolist,
    numpy) made by the project's own code (``reproductions.*``): on a GPU each is a host sync. Host
    integer lengths (read for packing on any device) and torch's own internals are not counted."""

    def __init__(self, monkeypatch):
        import sys
        self.calls = []
        for name in ("item", "__float__", "__int__", "__bool__", "tolist", "numpy"):
            original = getattr(torch.Tensor, name)

            def counted(tensor, *args, _original=original, _name=name, **kwargs):
                caller = sys._getframe(1)
                module = caller.f_globals.get("__name__", "")
                if module.startswith("reproductions.") and (tensor.is_floating_point() or tensor.dtype == torch.bool):
                    self.calls.append((module, caller.f_code.co_name, _name))
                return _original(tensor, *args, **kwargs)
            monkeypatch.setattr(torch.Tensor, name, counted)


@pytest.mark.parametrize("loss, mining", [("triplet", "batch-hard"), ("triplet", "semi-hard"), ("proxy", "batch-hard")])
def test_awe_epoch_reads_the_loss_once(monkeypatch, loss, mining):
    """The batch loop reads no value back: one read per epoch, the summed loss, after the loop."""
    from reproductions.awe.data import split_by_speaker, written_words
    from reproductions.awe.train import Batches, make_model, train_epoch
    data = toy_data()
    cfg = AweConfig(loss=loss, mining=mining, batch_size=16, per_word=2, embedding_dim=8, epochs=1)
    split = split_by_speaker(data, split="none", test_fraction=0.25, seed=0)
    written = written_words(data.words, "letters") if loss == "proxy" else None
    model, optimizer = make_model(cfg, torch.device("cpu"), len(written.symbols) if written else 0)
    tensors = Batches(data, torch.from_numpy(data.frames), written)
    reads = ReadBacks(monkeypatch)
    mean_loss, tokens, _ = train_epoch(model, optimizer, cfg, tensors, data, split, 1)
    assert tokens == 64 and np.isfinite(mean_loss)
    assert reads.calls == [("reproductions.awe.train", "train_epoch", "__float__")]


def test_speech2vec_epoch_reads_the_loss_once(monkeypatch):
    from reproductions.speech2vec.config import TrainConfig
    from reproductions.speech2vec.train import Processes, make_model, train_epoch
    data = toy_data()
    cfg = TrainConfig(batch_size=32, embedding_dim=8, window=2, subsample=0.0, max_frames=9)
    model, optimizer = make_model(cfg, torch.device("cpu"))
    reads = ReadBacks(monkeypatch)
    mean_loss, pairs, _ = train_epoch(model, optimizer, data, torch.from_numpy(data.frames), cfg, 1, Processes(), None)
    assert pairs > 32 and np.isfinite(mean_loss)
    assert reads.calls == [("reproductions.speech2vec.train", "train_epoch", "__float__")]


def test_awe_batch_loop_has_no_device_read_by_structure():
    """The source of the loop: no .item(), .cpu(), float() or .tolist() between 'for' and the read-back."""
    import inspect

    from reproductions.awe import train
    source = inspect.getsource(train.train_epoch)
    loop = source[source.index("for number, rows in enumerate(batches)"):source.index("total = float(loss_sum)")]
    for forbidden in (".item()", ".cpu()", "float(", ".tolist()", ".numpy()", "synchronize"):
        assert forbidden not in loop
    loss_source = inspect.getsource(train.batch_loss)
    for forbidden in (".item()", ".cpu()", "torch.unique", ".nonzero(", ".any()"):
        assert forbidden not in loss_source


def test_speech2vec_batch_loop_has_no_device_read_by_structure():
    import inspect

    from reproductions.speech2vec import train
    source = inspect.getsource(train.train_epoch)
    loop = source[source.index("for number, batch in enumerate(batches"):source.index("total = float(loss_sum)")]
    for forbidden in (".item()", ".cpu()", "float(", ".tolist()", ".numpy()", "synchronize", ".to(device"):
        assert forbidden not in loop


def test_device_steps_on_the_cpu_are_plain_float32_steps():
    from reproductions.speech2vec.train import DeviceSteps, make_optimizer, to_device
    steps = DeviceSteps(torch.device("cpu"))
    assert steps.scaler is None and steps.state_dict() is None
    model = torch.nn.Linear(2, 1)
    optimizer = make_optimizer(model, "adam", 0.1, torch.device("cpu"))
    assert optimizer.param_groups[0]["fused"]          # one kernel per parameter on the CPU too
    before = model.weight.detach().clone()
    with steps.autocast():
        loss = model(torch.ones(1, 2)).sum()
    assert loss.dtype == torch.float32
    steps.step(loss, optimizer)
    assert not torch.equal(before, model.weight)
    moved = to_device([np.arange(3), np.arange(2)], torch.device("cpu"))
    assert [t.tolist() for t in moved] == [[0, 1, 2], [0, 1]]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none here)")
def test_cuda_epoch_runs_mixed_precision():
    from reproductions.awe.data import split_by_speaker
    from reproductions.awe.train import Batches, make_model, train_epoch
    from reproductions.speech2vec.train import DeviceSteps
    data = toy_data()
    device = torch.device("cuda")
    cfg = AweConfig(batch_size=16, per_word=2, embedding_dim=8, epochs=1, device="cuda")
    split = split_by_speaker(data, split="none", test_fraction=0.25, seed=0)
    model, optimizer = make_model(cfg, device)
    steps = DeviceSteps(device)
    loss, tokens, _ = train_epoch(model, optimizer, cfg, Batches(data, torch.from_numpy(data.frames).to(device), None),
                                  data, split, 1, steps)
    assert tokens == 64 and np.isfinite(loss) and steps.state_dict()["scale"] > 0
