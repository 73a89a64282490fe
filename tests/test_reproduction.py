"""The Speech2Vec reproduction: model, data, checkpoints, resume, determinism, DDP, CLI."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from audit.core.errors import AuditError
from reproductions.speech2vec.config import PAPER_CONFIG, TrainConfig
from reproductions.speech2vec.data import TrainingData, epoch_batches, epoch_pairs, keep_probabilities
from reproductions.speech2vec.embed import word_vectors
from reproductions.speech2vec.model import Speech2Vec, masked_mse

REPO = Path(__file__).resolve().parents[1]


def batch(seed=0, size=6, frames=7, n_mfcc=13):
    generator = torch.Generator().manual_seed(seed)
    source = torch.randn(size, frames, n_mfcc, generator=generator)
    target = torch.randn(size, frames, n_mfcc, generator=generator)
    source_lengths = torch.tensor([7, 3, 1, 5, 7, 2][:size])
    target_lengths = torch.tensor([4, 7, 2, 1, 6, 7][:size])
    return source, source_lengths, target, target_lengths


# ------------------------------------------------------------------------------------ model
def test_shapes():
    torch.manual_seed(0)
    model = Speech2Vec(n_mfcc=13, embedding_dim=50)
    source, source_lengths, target, target_lengths = batch()
    outputs, hidden, cell = model.encode(source, source_lengths)
    assert outputs.shape == (6, 7, 50) and hidden.shape == (6, 50) and cell.shape == (6, 50)
    assert model.encoder.hidden_size == 25 and model.encoder.bidirectional and model.decoder.hidden_size == 50
    # packed encoding: outputs past a word's length are zero
    assert torch.all(outputs[1, 3:] == 0) and torch.any(outputs[1, :3] != 0)
    assert model(source, source_lengths, target, target_lengths).shape == ()


def test_padding_never_changes_the_loss_or_the_embedding():
    torch.manual_seed(1)
    model = Speech2Vec()
    source, source_lengths, target, target_lengths = batch()
    loss = model(source, source_lengths, target, target_lengths)
    embedding = model.embed(source, source_lengths)
    noisy_source, noisy_target = source.clone(), target.clone()
    for i in range(6):
        noisy_source[i, source_lengths[i]:] = 1e3
        noisy_target[i, target_lengths[i]:] = -1e3
    assert torch.allclose(model(noisy_source, source_lengths, noisy_target, target_lengths), loss, atol=1e-6)
    assert torch.equal(model.embed(noisy_source, source_lengths), embedding)


def test_full_length_batches_skip_packing_with_the_same_result():
    torch.manual_seed(4)
    model = Speech2Vec()
    source = torch.randn(5, 6, 13)
    full = torch.full((5,), 6)
    fast = model.encode(source, full)
    packed = pack_padded_sequence(source, full, batch_first=True, enforce_sorted=False)
    outputs, (hidden, cell) = model.encoder(packed)
    outputs, _ = pad_packed_sequence(outputs, batch_first=True)
    assert torch.allclose(fast[0], outputs, atol=1e-6)
    assert torch.allclose(fast[1], torch.cat([hidden[0], hidden[1]], dim=1), atol=1e-6)
    assert torch.allclose(fast[2], torch.cat([cell[0], cell[1]], dim=1), atol=1e-6)


def test_cpu_encoder_is_the_packed_nn_lstm_with_its_gradients():
    """On the CPU the encoder runs reproductions.bilstm: the same outputs, final states and loss
    gradients (every parameter) as nn.LSTM over the packed batch, in float64."""
    torch.manual_seed(5)
    model = Speech2Vec().double()
    source, source_lengths, target, target_lengths = batch()
    source, target = source.double(), target.double()

    def plain_encode(frames, lengths):
        packed = pack_padded_sequence(frames, lengths, batch_first=True, enforce_sorted=False)
        outputs, (hidden, cell) = model.encoder(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=frames.shape[1])
        return outputs, torch.cat([hidden[0], hidden[1]], dim=1), torch.cat([cell[0], cell[1]], dim=1)

    for got, expected in zip(model.encode(source, source_lengths), plain_encode(source, source_lengths)):
        assert (got - expected).abs().max().item() < 1e-12
    fast = torch.autograd.grad(model(source, source_lengths, target, target_lengths), list(model.parameters()))
    model.encode = plain_encode                                  # the same model with the textbook encoder
    plain = torch.autograd.grad(model(source, source_lengths, target, target_lengths), list(model.parameters()))
    assert all((a - b).abs().max().item() < 1e-12 for a, b in zip(fast, plain))


def test_masked_mse_by_hand():
    predicted = torch.tensor([[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [9.0, 9.0]]])
    target = torch.zeros_like(predicted)
    # sample 0: both frames (1+4+9+16 = 30); sample 1: first frame only (0); 6 values in all
    assert masked_mse(predicted, target, torch.tensor([2, 1])).item() == pytest.approx(30 / 6)


def step_by_step_loss(model: Speech2Vec, source, source_lengths, target, target_lengths) -> torch.Tensor:
    """The decoder run one time step at a time, attention and loss written out per sample."""
    outputs, hidden, cell = model.encode(source, source_lengths)
    state = (hidden[None], cell[None])
    frame = torch.zeros_like(target[:, 0])
    predictions = []
    for t in range(target.shape[1]):
        step, state = model.decoder(frame[:, None, :], state)
        h = step[:, 0]
        rows = []
        for i in range(len(h)):
            keys = outputs[i, :source_lengths[i]]
            weights = torch.softmax(keys @ model.attention.weight.T @ h[i], dim=0)   # h^T W_a h_s
            context = weights @ keys
            combined = torch.tanh(model.combine.weight @ torch.cat([context, h[i]]) + model.combine.bias)
            rows.append(model.output.weight @ combined + model.output.bias)
        predictions.append(torch.stack(rows))
        frame = target[:, t]                                                            # teacher forcing
    predicted = torch.stack(predictions, dim=1)
    total, count = 0.0, 0
    for i in range(len(predicted)):
        n = int(target_lengths[i])
        total = total + ((predicted[i, :n] - target[i, :n]) ** 2).sum()
        count += n * target.shape[-1]
    return total / count


def test_whole_sequence_decoder_equals_step_by_step():
    torch.manual_seed(2)
    model = Speech2Vec()
    data = batch(seed=3)
    fast = model(*data)
    slow = step_by_step_loss(model, *data)
    assert abs(fast.item() - slow.item()) < 1e-5
    fast_grads = torch.autograd.grad(fast, list(model.parameters()))
    slow_grads = torch.autograd.grad(step_by_step_loss(model, *data), list(model.parameters()))
    for a, b in zip(fast_grads, slow_grads):
        assert torch.allclose(a, b, atol=1e-5)


def test_every_parameter_gets_a_gradient():
    torch.manual_seed(3)
    model = Speech2Vec()
    model(*batch()).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


# ------------------------------------------------------------------------------------ data
def toy_data(words, utterances, counts=None) -> TrainingData:
    n = len(words)
    vocab = sorted(set(words))
    index = np.array([vocab.index(w) for w in words])
    return TrainingData(words=tuple(vocab), counts=np.bincount(index) if counts is None else counts,
                        frames=np.zeros((n, 2, 1), np.float32), lengths=np.ones(n, np.int64), word_index=index,
                        utterance_ids=np.array(utterances), speakers=np.array(["s"] * n), mean=np.zeros(1),
                        std=np.ones(1))


def test_skip_gram_pairs_stay_inside_utterances():
    data = toy_data(list("abcdefg"), [0, 0, 0, 0, 1, 1, 1])
    centres, contexts = epoch_pairs(data, window=2, subsample=0, seed=0, epoch=1)
    got = sorted(zip(centres.tolist(), contexts.tolist()))
    expected = sorted([(0, 1), (1, 2), (2, 3), (0, 2), (1, 3), (4, 5), (5, 6), (4, 6)]
                      + [(1, 0), (2, 1), (3, 2), (2, 0), (3, 1), (5, 4), (6, 5), (6, 4)])
    assert got == expected


def test_subsampling_is_word2vecs_formula():
    counts = np.array([900, 90, 10])
    share = counts / 1000
    expected = np.minimum(1, (np.sqrt(share / 1e-2) + 1) * 1e-2 / share)   # word2vec.c, sample = 1e-2
    assert np.allclose(keep_probabilities(counts, 1e-2), expected)
    assert expected[0] < 0.2 and expected[2] == 1


def test_batches_cover_every_pair_once_and_depend_only_on_seed_and_epoch():
    data = toy_data(list("abcdefghij"), [0] * 10)
    data = TrainingData(**{**data.__dict__, "lengths": np.arange(10) % 4 + 1})
    centres, contexts = epoch_pairs(data, window=3, subsample=0, seed=0, epoch=1)
    first = epoch_batches(data, centres, contexts, batch_size=7, seed=5, epoch=2)
    again = epoch_batches(data, centres, contexts, batch_size=7, seed=5, epoch=2)
    assert sorted(np.concatenate(first).tolist()) == list(range(len(centres)))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    other = epoch_batches(data, centres, contexts, batch_size=7, seed=5, epoch=3)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_word_vectors_normalise_average_normalise():
    embeddings = np.array([[3.0, 4.0], [0.0, 2.0], [5.0, 0.0]], dtype=np.float32)
    vectors = word_vectors(embeddings, np.array([0, 0, 1]), ["x", "y"])
    mean = (np.array([0.6, 0.8]) + np.array([0.0, 1.0])) / 2
    assert np.allclose(vectors.vector("x"), mean / np.linalg.norm(mean))
    assert np.allclose(vectors.vector("y"), [1.0, 0.0])


# ------------------------------------------------------------------------------------ config
def test_shipped_config_file_is_the_paper_defaults():
    shipped = json.loads(PAPER_CONFIG.read_text())
    assert TrainConfig.from_dict(shipped) == TrainConfig()
    assert (TrainConfig().embedding_dim, TrainConfig().window, TrainConfig().min_count, TrainConfig().batch_size,
            TrainConfig().lr, TrainConfig().subsample, TrainConfig().epochs) == (50, 3, 4, 4096, 1e-3, 1e-3, 500)


def test_config_file_then_command_line_overrides(tmp_path):
    import argparse
    from reproductions.speech2vec.config import add_training_arguments, config_from_args
    parser = argparse.ArgumentParser()
    add_training_arguments(parser)
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"epochs": 7, "optimizer": "adam", "window": 2}))
    cfg = config_from_args(parser.parse_args(["--config", str(path), "--epochs", "9"]))
    assert (cfg.epochs, cfg.optimizer, cfg.window) == (9, "adam", 2)
    path.write_text(json.dumps({"epoch": 7}))
    with pytest.raises(AuditError, match="unknown setting 'epoch'"):
        config_from_args(parser.parse_args(["--config", str(path)]))


@pytest.mark.parametrize("settings, message", [
    ({"epochs": "x"}, "epochs must be a whole number, not 'x'"),     # was: '>=' not supported between 'str' and 'int'
    ({"epochs": 2.5}, "epochs must be a whole number, not 2.5"),
    ({"lr": True}, "lr must be a number, not True"),
    ({"lowercase": 1}, "lowercase must be true or false, not 1"),
    ({"subsets": ["dev-clean", 3]}, "subsets must be a list of names"),
    ({"corpus_root": 3}, "corpus_root must be a string or null, not 3"),
    ({"seed": -1}, "seeds must be non-negative integers below 2**63"),   # was: an internal error after epoch 0
    ({"seed": 2**63}, "seeds must be non-negative integers below 2**63"),  # torch: overflow, an internal error
    ({"corpus_seed": -2}, "seeds must be non-negative integers below 2**63"),
    ({"embedding_dim": 0}, "embedding_dim must be a positive even number"),
])
def test_config_values_of_the_wrong_kind_or_range_are_one_sentence(settings, message):
    from reproductions.awe.config import AweConfig
    for config in (TrainConfig, AweConfig):
        with pytest.raises(AuditError, match=re.escape(message)):
            config.from_dict(settings)
    assert TrainConfig.from_dict({"lr": 1}).lr == 1                   # a whole number where a number is asked
    assert TrainConfig.from_dict({"seed": 2**63 - 1}).seed == 2**63 - 1  # the last seed taken
    with pytest.raises(AuditError, match=re.escape("seeds must be non-negative integers below 2**63")):
        AweConfig.from_dict({"split_seed": -1})


def test_a_seed_out_of_range_on_the_command_line_leaves_no_run(tmp_path, capsys):
    from audit.cli.main import main
    for model in ("speech2vec", "awe"):
        for seed in ("-1", str(2**64)):
            assert main(["reproduce", model, "--seed", seed, "--out", str(tmp_path / model)]) == 2
            assert "seeds must be non-negative integers below 2**63" in capsys.readouterr().err
            assert not (tmp_path / model).exists()


def test_a_run_folder_holding_the_users_files_is_refused_before_any_work(tmp_path):
    """--out of a folder with the user's vectors.txt and notes once trained into it, replacing
    vectors.txt; a run stopped before its first checkpoint (its own files only) may be rerun."""
    from reproductions.speech2vec.train import check_run_folder
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "vectors.txt").write_text("1 1\na 1\n", encoding="utf-8")
    (mine / "notes.txt").write_text("keep\n", encoding="utf-8")
    for resume in (False, True):
        with pytest.raises(AuditError, match=r"holds 'notes.txt', which no training run writes"):
            check_run_folder(mine, resume)
    (mine / "notes.txt").unlink()
    (mine / "epochs").mkdir()
    (mine / "epochs" / "draft.txt").write_text("x", encoding="utf-8")
    with pytest.raises(AuditError, match=r"holds 'epochs/draft.txt'"):
        check_run_folder(mine, False)
    (mine / "epochs" / "draft.txt").unlink()
    (mine / "epochs" / "epoch_000.txt").write_text("1 1\na 1\n", encoding="utf-8")
    (mine / ".vectors.txt.abc123.part").write_text("", encoding="utf-8")
    # a vectors.txt (or history, agwe.txt ...) without a checkpoint is no stopped run: a run writes
    # them only after its first checkpoint (the user's vectors.txt was replaced by name alone)
    with pytest.raises(AuditError, match=r"holds 'vectors.txt' but no checkpoint, so it is not a stopped"):
        check_run_folder(mine, False)
    (mine / "vectors.txt").unlink()
    (mine / "config.json").write_text("my config\n", encoding="utf-8")
    with pytest.raises(AuditError, match=r"holds a config.json that is not a training run's"):
        check_run_folder(mine, False)
    (mine / "config.json").write_text(json.dumps({"seed": 0, "epochs": 3, "embedding_dim": 50,
                                                  "corpus_size": "small"}), encoding="utf-8")
    check_run_folder(mine, False)                        # only what a run writes before a checkpoint: rerun
    (mine / "vectors.txt").write_text("1 1\na 1\n", encoding="utf-8")
    (mine / "checkpoints").mkdir()
    (mine / "checkpoints" / "epoch_000.pt").write_bytes(b"")
    with pytest.raises(AuditError, match="already holds a training run"):
        check_run_folder(mine, False)
    check_run_folder(mine, True)
    # what a kill or a full disk mid-write leaves (the writers' temporary names): --resume takes the folder
    for leftover in ("epochs/epoch_003.txt.part", "epochs/.epoch_004.txt.k2j4x9ab.part",
                     ".instances_epoch_000.part.npz", ".instances.part.npz", ".agwe.part.txt",
                     "checkpoints/.epoch_001.pt.part", ".history.csv.part", ".vectors.txt.part"):
        (mine / leftover).write_bytes(b"half")
    check_run_folder(mine, True)
    check_run_folder(tmp_path / "new", True)              # a new folder: the run starts
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    with pytest.raises(AuditError, match="is a file or a link, not a folder"):
        check_run_folder(tmp_path / "afile", False)


def test_a_failed_checkpoint_or_vectors_write_leaves_nothing_and_says_so(tmp_path, monkeypatch):
    """torch's zip writer reports a full disk as a RuntimeError ('unexpected pos'): an internal error
    that left '.epoch_000.pt.part'; the vectors writer left 'NAME.part' when interrupted or out of space."""
    import torch as torch_module
    from audit import Vectors
    from audit.core.loaders import save_word2vec_text
    from reproductions.speech2vec.train import write_checkpoint

    def full(state, target):
        Path(target).write_bytes(b"half")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 100416 vs 100320")
    monkeypatch.setattr(torch_module, "save", full)
    with pytest.raises(AuditError, match=r"cannot write the checkpoint .*epoch_000.pt \(.*\); nothing of it was kept"):
        write_checkpoint(tmp_path / "checkpoints" / "epoch_000.pt", {"epoch": 0})
    assert list((tmp_path / "checkpoints").iterdir()) == []

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(np.char, "mod", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_word2vec_text(Vectors(["a", "b"], np.eye(2)), tmp_path / "v.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoints"]


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_holds_it(tmp_path):
    """Two runs into one --out both succeeded and left a folder mixing their files (config and
    history of the second, epoch 2 of the first): the first holds the folder's lock for its run."""
    from reproductions.speech2vec.train import claim_run_folder
    first = claim_run_folder(tmp_path / "run", False)
    with pytest.raises(AuditError, match="another training run is writing into"):
        claim_run_folder(tmp_path / "run", False)
    first.close()
    claim_run_folder(tmp_path / "run", False).close()   # released: the folder may be claimed again
    assert [p.name for p in (tmp_path / "run").iterdir()] == [".lock"]


# ------------------------------------------------------------------------------------ runs
@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """Shared with test_spoken_corpus.py: the tiny corpus is synthesised once per session."""
    from audit.corpora.spoken import build_corpus
    folder = tmp_path_factory.getbasetemp() / "speech2vec-cache"
    build_corpus(folder / "corpora" / "espeak-tiny-seed0", size="tiny", seed=0)
    return folder


TINY = dict(corpus_size="tiny", batch_size=256, optimizer="adam", lr=1e-2, eval_batch_size=512)


def run(cache, out, epochs, resume=False, **changes):
    from reproductions.speech2vec.train import train
    return train(TrainConfig(epochs=epochs, **{**TINY, **changes}), out, cache_dir=cache, benchmark_dir=cache,
                 resume=resume, quiet=True)


def test_checkpoint_round_trip(tmp_path):
    from reproductions.speech2vec.train import load_checkpoint, make_model, save_checkpoint
    cfg = TrainConfig(**TINY)
    model, optimizer = make_model(cfg, torch.device("cpu"))
    model(*batch()).backward()
    optimizer.step()
    save_checkpoint(tmp_path / "c.pt", model, optimizer, 4, cfg, None)
    other, other_optimizer = make_model(cfg.replace(seed=9), torch.device("cpu"))
    assert not torch.equal(other.encoder.weight_ih_l0, model.encoder.weight_ih_l0)
    epoch, records = load_checkpoint(tmp_path / "c.pt", other, other_optimizer, cfg)
    assert epoch == 4 and records == []
    for (name, a), b in zip(model.state_dict().items(), other.state_dict().values()):
        assert torch.equal(a, b), name
    assert str(optimizer.state_dict()) == str(other_optimizer.state_dict())
    with pytest.raises(AuditError, match="'lr' differs"):
        load_checkpoint(tmp_path / "c.pt", other, other_optimizer, cfg.replace(lr=0.5))


def test_resume_after_a_kill_equals_an_uninterrupted_run_and_seeds_repeat(cache, tmp_path):
    from audit.core.results import load_result
    whole = run(cache, tmp_path / "whole", 2)
    run(cache, tmp_path / "killed", 1)                     # "killed" after its first epoch
    with pytest.raises(AuditError, match="already holds a training run"):
        run(cache, tmp_path / "killed", 2)
    resumed = run(cache, tmp_path / "killed", 2, resume=True)
    for name in ("vectors.txt", "epochs/epoch_000.txt", "epochs/epoch_001.txt", "epochs/epoch_002.txt"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "killed" / name).read_bytes(), name
    with np.load(tmp_path / "whole" / "instances.npz") as a, np.load(tmp_path / "killed" / "instances.npz") as b:
        assert np.array_equal(a["embeddings"], b["embeddings"]) and np.array_equal(a["labels"], b["labels"])
    assert [r.loss for r in whole.epochs][1:] == [r.loss for r in resumed.epochs][1:]
    assert not np.isnan(whole.epochs[2].loss) and whole.epochs[2].pairs > 0
    # the run's history is a registered result that reloads from JSON
    history = load_result(tmp_path / "whole" / "history.json")
    assert history.kind == "training-history" and [r.epoch for r in history.epochs] == [0, 1, 2]
    assert history.epochs[0].vectors == "epochs/epoch_000.txt"
    assert (tmp_path / "whole" / "history.csv").read_text().count("\n") == 4
    # another seed gives another model
    other = run(cache, tmp_path / "seed1", 0, seed=1)
    assert (tmp_path / "seed1" / "vectors.txt").read_bytes() != (tmp_path / "whole" / "epochs/epoch_000.txt").read_bytes()
    assert other.epochs[0].epoch == 0


def test_instances_and_vectors_outputs(cache, tmp_path):
    from audit.core.loaders import load
    run(cache, tmp_path / "out", 1)
    vectors = load(tmp_path / "out" / "vectors.txt")
    with np.load(tmp_path / "out" / "instances_epoch_000.npz") as instances:
        embeddings, labels, speakers = instances["embeddings"], instances["labels"], instances["speakers"]
    assert embeddings.shape[1] == 50 and len(embeddings) == len(labels) == len(speakers)
    assert set(labels.tolist()) == set(vectors.words)
    assert np.allclose(vectors.norms, 1, atol=1e-5)
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["corpus_size"] == "tiny" and config["epochs"] == 1
    # each epoch records the same-different AP that `audit acoustic` gives its instances
    from audit.checks.acoustic import audit_instances, load_instances
    from audit.core.results import load_result
    history = load_result(tmp_path / "out" / "history.json")
    for record, name in ((history.epochs[0], "instances_epoch_000.npz"), (history.epochs[-1], "instances.npz")):
        audited = audit_instances(load_instances(tmp_path / "out" / name)).same_different
        assert record.same_different_ap == audited.average_precision and record.same_different_chance == audited.chance
    assert history.epochs[0].same_different_ap != history.epochs[1].same_different_ap   # the encoder changed
    assert "same_different_ap" in (tmp_path / "out" / "history.csv").read_text().splitlines()[0]


def test_ddp_on_two_cpu_processes(cache, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "reproductions.speech2vec.train", "--corpus-size", "tiny", "--epochs", "1", "--batch-size", "256",
               "--optimizer", "adam", "--lr", "0.01", "--out", str(tmp_path / "ddp"), "--cache-dir", str(cache),
               "--data-dir", str(cache), "--quiet"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    history = json.loads((tmp_path / "ddp" / "history.json").read_text())
    assert history["world_size"] == 2 and history["epochs"][1]["pairs"] > 0
    assert np.isfinite(history["epochs"][1]["loss"])
    assert (tmp_path / "ddp" / "vectors.txt").exists()


def test_cli_bad_corpus_root_is_exit_2(run_cli, tmp_path):
    code, out, err = run_cli("reproduce", "speech2vec", "--corpus-root", tmp_path / "nowhere", "--out", tmp_path / "o")
    assert code == 2 and err.strip() == f"audit: the corpus root {tmp_path / 'nowhere'} is not a folder."
    (tmp_path / "empty").mkdir()
    code, out, err = run_cli("reproduce", "speech2vec", "--corpus-root", tmp_path / "empty", "--out", tmp_path / "o")
    assert code == 2 and "no LibriSpeech layout" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_a_diverging_speech2vec_run_stops_at_that_epoch(cache, tmp_path):
    """The AWE trainer's stop, in Speech2Vec's loop too (checked in every process: the epoch loss is
    the mean over all of them). Adam at lr 1e38 overflows the float32 weights in the first epoch;
    the run went on and wrote vectors evaluated as if measured."""
    from audit.core.errors import AuditError
    out = tmp_path / "diverged"
    with pytest.raises(AuditError, match=r"^training diverged at epoch 1: the loss is not finite \(nan\); epoch 0 is "
                                         r"saved in the run folder; try a lower --lr than 1e\+38\.$"):
        run(cache, out, 2, lr=1e38)
    assert not (out / "vectors.txt").exists() and not (out / "epochs" / "epoch_001.txt").exists()
    assert (out / "epochs" / "epoch_000.txt").exists()


@pytest.mark.slow
def test_a_run_diverging_in_its_last_step_is_stopped_by_its_weights(cache, tmp_path):
    """A re-reviewer's case: one batch per epoch (the default batch of 4,096 on the tiny corpus), so
    the step that overflows the weights comes after the loss was computed: the loss read 1.022, the
    run exited 0 and wrote NaN instances and all-zero vectors with a chance AP as if measured."""
    from audit.core.errors import AuditError
    out = tmp_path / "diverged"
    with pytest.raises(AuditError, match=r"^training diverged at epoch 1: the model's weights are not finite; "):
        run(cache, out, 1, lr=1e38, batch_size=4096)
    assert not (out / "vectors.txt").exists() and not (out / "instances.npz").exists()
