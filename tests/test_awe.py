"""The AWE reproduction: losses by hand, gradients, batches, split, held-out AP, runs, resume, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from audit.core.errors import AuditError
from reproductions.awe.config import AweConfig
from reproductions.awe.data import epoch_groups, split_by_speaker, written_words
from reproductions.awe.evaluate import embedding_ap
from reproductions.awe.model import (AcousticWordEmbedder, asymmetric_proxy, triplet_batch_hard,
                                     triplet_semi_hard)
from reproductions.speech2vec.data import TrainingData


def cos(a, b) -> float:
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


# ------------------------------------------------------------------------------------ losses
TOY = [[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8], [-1.0, 0.0]]
TOY_LABELS = [0, 0, 1, 1, 2]


def test_batch_hard_triplet_by_hand():
    # anchor 0: positive 1 (cos 0.8), hardest negative 3 (0.6): 0.4 + 0.6 - 0.8 = 0.2
    # anchor 1: positive 0 (0.8), hardest negative 3 (0.96): 0.56; anchors 2, 3 mirror 0, 1;
    # anchor 4 has no positive and is left out.
    loss = triplet_batch_hard(torch.tensor(TOY), torch.tensor(TOY_LABELS), 0.4)
    assert loss.item() == pytest.approx((0.2 + 0.56 + 0.2 + 0.56) / 4, abs=1e-6)
    assert loss.dtype == torch.float32                            # the embeddings' precision, not float64


def test_batch_hard_with_a_single_negative():
    """Three tokens of one word and one of another: every anchor has exactly one negative token and
    counts. Anchor 3 (the other word) has no positive and is left out."""
    points = [[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.8, 0.6]]
    # anchor 0: hardest positive 2 (cos 0), negative 3 (0.8): 0.4 + 0.8 - 0 = 1.2
    # anchor 1: positives 0 (cos 0.6) and 2 (0.8), the hardest 0; negative 3 (0.96): 0.4 + 0.96 - 0.6 = 0.76
    # anchor 2: hardest positive 0 (0), negative 3 (0.6): 1.0
    loss = triplet_batch_hard(torch.tensor(points), torch.tensor([0, 0, 0, 1]), 0.4)
    assert loss.item() == pytest.approx((1.2 + 0.76 + 1.0) / 3, abs=1e-6)


def semi_hard_by_loops(points, labels, margin):
    losses = []
    for a in range(len(points)):
        for p in range(len(points)):
            if p == a or labels[p] != labels[a]:
                continue
            s_ap = cos(points[a], points[p])
            negatives = [cos(points[a], points[n]) for n in range(len(points)) if labels[n] != labels[a]]
            if not negatives:
                continue
            farther = [s for s in negatives if s < s_ap]
            s_an = max(farther) if farther else min(negatives)
            losses.append(max(0.0, margin + s_an - s_ap))
    return sum(losses) / len(losses)


def test_semi_hard_triplet_by_hand():
    # every positive pair has cos 0.8 and a negative at 0.6 below it: 0.4 + 0.6 - 0.8 = 0.2 each
    assert triplet_semi_hard(torch.tensor(TOY), torch.tensor(TOY_LABELS), 0.4).item() == pytest.approx(0.2, abs=1e-6)
    # no negative below the positive: the least similar negative is taken (0.6 and -0.6)
    points, labels = [[1.0, 0.0], [-1.0, 0.0], [0.6, 0.8]], [0, 0, 1]
    got = triplet_semi_hard(torch.tensor(points), torch.tensor(labels), 0.4).item()
    assert got == pytest.approx(((0.4 + 0.6 + 1) + (0.4 - 0.6 + 1)) / 2, abs=1e-6)
    rng = np.random.default_rng(0)
    points, labels = rng.normal(size=(12, 3)).tolist(), rng.integers(0, 4, size=12).tolist()
    got = triplet_semi_hard(torch.tensor(points), torch.tensor(labels), 0.3).item()
    assert got == pytest.approx(semi_hard_by_loops(points, labels, 0.3), abs=1e-5)


def proxy_by_loops(acoustic, proxies, labels, alpha, beta, margin):
    """Seed 001's Eq. 11 written over batch indices (proxy of instance j = its word's), averaged."""
    n = len(acoustic)
    total = 0.0
    for i in range(n):
        positive = sum(math.exp(alpha * (margin - cos(proxies[labels[i]], acoustic[j])))
                       for j in range(n) if labels[j] == labels[i])                # S^A_ij, j in P_i (i too)
        negatives = [k for k in range(n) if labels[k] != labels[i]]
        msp = sum(math.log1p(math.exp(beta * (cos(acoustic[i], proxies[labels[k]]) - margin)))
                  for k in negatives) / len(negatives) if negatives else 0.0    # S^P/N_ik
        total += math.log1p(positive) / alpha + msp
    return total / n


def test_asymmetric_proxy_loss_by_hand():
    # two words, each instance on its own proxy: (1/2) log(1 + e^{2 (0.5 - 1)}) + softplus(50 (0 - 0.5))
    got = asymmetric_proxy(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]]),
                           torch.tensor([0, 1]), alpha=2.0, beta=50.0, margin=0.5).item()
    assert got == pytest.approx(0.5 * math.log1p(math.exp(-1.0)) + math.log1p(math.exp(-25.0)), abs=1e-7)
    rng = np.random.default_rng(1)
    acoustic, proxies = rng.normal(size=(9, 4)), rng.normal(size=(3, 4))
    labels = [0, 0, 1, 2, 2, 2, 1, 0, 0]
    for alpha, beta, margin in ((2.0, 50.0, 0.5), (1.0, 3.0, 0.1)):
        got = asymmetric_proxy(torch.tensor(acoustic), torch.tensor(proxies), torch.tensor(labels),
                               alpha=alpha, beta=beta, margin=margin).item()
        assert got == pytest.approx(proxy_by_loops(acoustic.tolist(), proxies.tolist(), labels, alpha, beta, margin),
                                    rel=1e-9)


def frames_batch(seed=0, size=8, width=6, n_mfcc=13):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(size, width, n_mfcc, generator=generator), torch.tensor([6, 3, 1, 5, 6, 2, 4, 6][:size])


@pytest.mark.parametrize("loss", ["batch-hard", "semi-hard", "proxy"])
def test_every_parameter_gets_a_gradient(loss):
    torch.manual_seed(0)
    model = AcousticWordEmbedder(embedding_dim=16, layers=2, dropout=0.1, symbols=5 if loss == "proxy" else 0)
    frames, lengths = frames_batch()
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 0, 1])
    embeddings = model.embed(frames, lengths)
    if loss == "proxy":
        ids = torch.tensor([[1, 2, 3], [4, 5, 0], [2, 0, 0]])
        value = asymmetric_proxy(embeddings, model.proxies(ids, torch.tensor([3, 2, 1])), labels)
    else:
        value = (triplet_batch_hard if loss == "batch-hard" else triplet_semi_hard)(embeddings, labels, 0.4)
    value.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_padding_never_changes_the_embedding():
    torch.manual_seed(2)
    model = AcousticWordEmbedder(embedding_dim=16, layers=2)
    frames, lengths = frames_batch(seed=3)
    noisy = frames.clone()
    for i, n in enumerate(lengths):
        noisy[i, n:] = 1e3
    assert torch.allclose(model.embed(noisy, lengths), model.embed(frames, lengths), atol=1e-6)
    assert model.embed(frames, lengths).shape == (8, 16)


# ------------------------------------------------------------------------------------ data
def toy_data(words, speakers) -> TrainingData:
    vocab = sorted(set(words))
    n = len(words)
    return TrainingData(words=tuple(vocab), counts=np.bincount([vocab.index(w) for w in words]),
                        frames=np.zeros((n, 2, 1), np.float32), lengths=np.ones(n, np.int64),
                        word_index=np.array([vocab.index(w) for w in words]), utterance_ids=np.zeros(n, np.int64),
                        speakers=np.array(speakers), mean=np.zeros(1), std=np.ones(1))


def test_split_holds_out_whole_speakers_and_is_recorded():
    data = toy_data(list("aabbccddee" * 4), [f"s{i % 8}" for i in range(40)])
    split = split_by_speaker(data, split="speakers", test_fraction=0.25, seed=0)
    assert len(split.test_speakers) == 2 and len(split.train_speakers) == 6
    assert not set(split.test_speakers) & set(split.train_speakers)
    assert np.array_equal(split.test, np.isin(data.speakers, split.test_speakers)) and np.all(split.train ^ split.test)
    assert split_by_speaker(data, split="speakers", test_fraction=0.25, seed=0).test_speakers == split.test_speakers
    everyone = split_by_speaker(data, split="none", test_fraction=0.25, seed=0)
    assert everyone.train.all() and everyone.test.all()
    three = toy_data(list("aabbcc"), ["s0", "s1", "s2"] * 2)          # SWDP needs two held-out speakers
    assert len(split_by_speaker(three, split="speakers", test_fraction=0.25, seed=0).test_speakers) == 2
    with pytest.raises(AuditError, match="single speaker"):
        split_by_speaker(toy_data(list("aabb"), ["s"] * 4), split="speakers", test_fraction=0.25, seed=0)


def test_word_groups_cover_each_training_token_once_and_repeat_by_seed_and_epoch():
    rng = np.random.default_rng(0)
    word_index = rng.integers(0, 30, size=400)
    word_index[:3] = 99                                           # one word with a single training token
    word_index[0:1] = 98
    rows = np.flatnonzero(rng.random(400) < 0.75)
    batches = epoch_groups(word_index, rows, per_word=4, batch_size=32, seed=5, epoch=2)
    used = np.concatenate(batches)
    counts = np.bincount(word_index[rows])
    expected = rows[counts[word_index[rows]] >= 2]
    assert sorted(used.tolist()) == sorted(expected.tolist())
    assert all(len(b) >= 32 for b in batches[:-1])
    for batch in batches:                                         # every word of a batch has a positive
        assert np.bincount(word_index[batch]).max() >= 2 and set(np.bincount(word_index[batch])) - {0, 1}
        assert 1 not in np.bincount(word_index[batch])
    again = epoch_groups(word_index, rows, per_word=4, batch_size=32, seed=5, epoch=2)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    other = epoch_groups(word_index, rows, per_word=4, batch_size=32, seed=5, epoch=3)
    assert not all(np.array_equal(a, b) for a, b in zip(batches, other))


def test_written_words_as_letters_and_phones():
    letters = written_words(["cat", "it's", "x1"], "letters")
    assert letters.ids[0, :3].tolist() == [3, 1, 20] and letters.lengths.tolist() == [3, 4, 2]
    assert letters.ids[2, 1] == len(letters.symbols)                # unknown symbol
    phones = written_words(["their", "there", "zzqx"], "phones")
    assert np.array_equal(phones.ids[0], phones.ids[1])              # homophones: one pronunciation
    dh, eh, r = (phones.symbols.index(p) + 1 for p in ("DH", "EH", "R"))
    assert phones.ids[0, :3].tolist() == [dh, eh, r] and phones.lengths[0] == 3
    assert phones.spelt == 1 and phones.lengths[2] == 4


# ------------------------------------------------------------------------------------ evaluation
def samediff_ap_by_hand(scores, same, recall_positive) -> float:
    """Kamper's non-interpolated AP: precision (every same-word pair a hit) at each recalled pair."""
    order = np.argsort(-scores, kind="stable")
    precision = np.cumsum(same[order]) / np.arange(1, len(scores) + 1)
    recalled = recall_positive[order]
    return float(precision[recalled].sum() / recalled.sum())


def test_held_out_sw_and_swdp_ap_by_hand_and_sklearn_on_all_pairs():
    from sklearn.metrics import average_precision_score
    rng = np.random.default_rng(3)
    labels = np.array(list("aaaabbbcccdd" * 3))
    speakers = rng.choice(["x", "y", "z"], size=len(labels))
    embeddings = rng.normal(size=(len(labels), 5)).astype(np.float32)
    embeddings[labels == "a"] += 2.0
    result = embedding_ap(embeddings, labels, speakers, sample_pairs=10_000, seed=0)
    i, j = np.triu_indices(len(labels), 1)
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    scores = np.sum(unit[i].astype(np.float64) * unit[j], axis=1)
    same, same_speaker = labels[i] == labels[j], speakers[i] == speakers[j]
    assert not result.sampled and result.pairs_scored == len(i)
    assert result.sw_ap == pytest.approx(average_precision_score(same, scores), abs=1e-6)
    assert result.sw_ap == pytest.approx(samediff_ap_by_hand(scores, same, same), abs=1e-6)
    assert result.swdp_ap == pytest.approx(samediff_ap_by_hand(scores, same, same & ~same_speaker), abs=1e-6)
    assert result.swsp_ap == pytest.approx(samediff_ap_by_hand(scores, same, same & same_speaker), abs=1e-6)
    assert result.chance == pytest.approx(same.mean()) and result.swdp_pairs_total == int((same & ~same_speaker).sum())


# ------------------------------------------------------------------------------------ runs
@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The tiny corpus, in the folder test_reproduction.py uses: synthesised once per session."""
    from audit.corpora.spoken import build_corpus
    folder = tmp_path_factory.getbasetemp() / "speech2vec-cache"
    build_corpus(folder / "corpora" / "espeak-tiny-seed0", size="tiny", seed=0)
    return folder


TINY = dict(corpus_size="tiny", batch_size=64, eval_batch_size=512, dtw_pairs=300, embedding_dim=32)


def run(cache, out, epochs, resume=False, **changes):
    from reproductions.awe.train import train
    return train(AweConfig(epochs=epochs, **{**TINY, **changes}), out, cache_dir=cache, resume=resume, quiet=True)


@pytest.mark.slow
def test_resume_after_a_kill_equals_an_uninterrupted_run(cache, tmp_path):
    changes = dict(loss="proxy", layers=2, dropout=0.3)          # dropout: the random draws must repeat too
    whole = run(cache, tmp_path / "whole", 2, **changes)
    run(cache, tmp_path / "killed", 1, **changes)                 # "killed" after its first epoch ...
    (tmp_path / "killed" / "checkpoints" / ".epoch_002.pt.part").write_bytes(b"half")   # ... while saving the next
    with pytest.raises(AuditError, match="already holds a training run"):
        run(cache, tmp_path / "killed", 2, **changes)
    with pytest.raises(AuditError, match="'margin' differs"):
        run(cache, tmp_path / "killed", 2, resume=True, **{**changes, "margin": 0.3})
    # the held-out pair sample and the DTW baseline of the saved epochs were measured with these
    with pytest.raises(AuditError, match="'eval_pairs' differs"):
        run(cache, tmp_path / "killed", 2, resume=True, **{**changes, "eval_pairs": 1000})
    with pytest.raises(AuditError, match="'dtw_pairs' differs"):
        run(cache, tmp_path / "killed", 2, resume=True, **{**changes, "dtw_pairs": 0})
    resumed = run(cache, tmp_path / "killed", 2, resume=True, **changes)
    for name in ("vectors.txt", "agwe.txt", "epochs/epoch_000.txt", "epochs/epoch_001.txt", "epochs/epoch_002.txt"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "killed" / name).read_bytes(), name
    for name in ("instances.npz", "instances_epoch_000.npz"):
        with np.load(tmp_path / "whole" / name) as a, np.load(tmp_path / "killed" / name) as b:
            assert all(np.array_equal(a[k], b[k]) for k in ("embeddings", "labels", "speakers")), name
    assert [r.loss for r in whole.epochs][1:] == [r.loss for r in resumed.epochs][1:]
    assert [r.held_out for r in whole.epochs] == [r.held_out for r in resumed.epochs]
    assert whole.dtw_baseline == resumed.dtw_baseline and whole.written.kind == "letters"


@pytest.mark.slow
def test_outputs_split_and_held_out_ap(cache, tmp_path):
    from sklearn.metrics import average_precision_score
    from audit.core.loaders import load
    from audit.core.results import load_result
    history = run(cache, tmp_path / "out", 2, eval_pairs=10**7)
    vectors = load(tmp_path / "out" / "vectors.txt")
    assert np.allclose(vectors.norms, 1, atol=1e-5)
    split = history.split
    assert split.split == "speakers" and len(split.test_speakers) == 2 and len(split.train_speakers) == 1
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["split"] == "speakers" and config["loss"] == "triplet" and config["epochs"] == 2
    saved = load_result(tmp_path / "out" / "history.json")
    assert saved.kind == "awe-training-history" and saved.to_json() == history.to_json()
    assert (tmp_path / "out" / "history.csv").read_text().count("\n") == 4
    for record, name in ((history.epochs[0], "instances_epoch_000.npz"), (history.epochs[-1], "instances.npz")):
        with np.load(tmp_path / "out" / name) as archive:
            embeddings, labels, speakers = archive["embeddings"], archive["labels"], archive["speakers"]
        assert set(labels.tolist()) == set(vectors.words) and embeddings.shape[1] == 32
        test = np.isin(speakers, split.test_speakers)
        assert int(test.sum()) == split.test_tokens == record.held_out.tokens
        unit = embeddings[test] / np.linalg.norm(embeddings[test], axis=1, keepdims=True)
        i, j = np.triu_indices(int(test.sum()), 1)
        scores = np.sum(unit[i].astype(np.float64) * unit[j], axis=1)
        same = labels[test][i] == labels[test][j]
        assert not record.held_out.sampled
        assert record.held_out.sw_ap == pytest.approx(average_precision_score(same, scores), abs=1e-5)
        different_speakers = same & (speakers[test][i] != speakers[test][j])
        assert record.held_out.swdp_ap == pytest.approx(samediff_ap_by_hand(scores, same, different_speakers), abs=1e-5)
    assert history.epochs[0].held_out != history.epochs[-1].held_out             # the encoder changed
    assert history.dtw_baseline.score == "-dtw-cost" and history.dtw_baseline.tokens == split.test_tokens
    assert history.epochs[-1].homophones is not None and history.written is None
    assert not (tmp_path / "out" / "agwe.txt").exists()


def test_cli_bad_input_is_one_sentence_and_exit_2(run_cli, tmp_path):
    code, out, err = run_cli("reproduce", "awe", "--corpus-root", tmp_path / "nowhere", "--out", tmp_path / "o")
    assert code == 2 and err.strip() == f"audit: the corpus root {tmp_path / 'nowhere'} is not a folder."
    (tmp_path / "c.json").write_text(json.dumps({"per_word": 1}))
    code, out, err = run_cli("reproduce", "awe", "--config", tmp_path / "c.json", "--out", tmp_path / "o")
    assert code == 2 and "per_word must be at least 2" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_cli_trains_and_prints_the_held_out_table(run_cli, cache, tmp_path):
    code, out, err = run_cli("reproduce", "awe", "--corpus-size", "tiny", "--cache-dir", cache, "--epochs", "1",
                             "--embedding-dim", "16", "--dtw-pairs", "0", "--loss", "proxy", "--proxy-input", "phones",
                             "--out", tmp_path / "cli", "--json", tmp_path / "h.json", "--quiet")
    assert code == 0, err
    assert "SWDP AP" in out and "held-out speakers" in out and "agwe.txt" in out
    assert json.loads((tmp_path / "h.json").read_text())["written"]["kind"] == "phones"


def batch_hard_by_loops(points, labels, margin):
    losses = []
    for a in range(len(points)):
        positives = [cos(points[a], points[p]) for p in range(len(points)) if p != a and labels[p] == labels[a]]
        negatives = [cos(points[a], points[n]) for n in range(len(points)) if labels[n] != labels[a]]
        if positives and negatives:
            losses.append(max(0.0, margin + max(negatives) - min(positives)))
    return sum(losses) / len(losses) if losses else 0.0


@pytest.mark.parametrize("seed", range(6))
def test_batch_hard_equals_loops_and_masked_min(seed):
    """Random batches with singletons (no positive) and large label ids: the loss equals the loops'
    definition, and its gradient equals that of the masked min/max form (no ties in random points)."""
    rng = np.random.default_rng(seed)
    n = 14
    labels = rng.choice([3, 7, 2 ** 40, 2 ** 40 + 1, 11, 12, 13], size=n)       # ids past float32's exact range
    points = rng.normal(size=(n, 5))
    got = triplet_batch_hard(torch.tensor(points), torch.tensor(labels), 0.3)
    assert got.item() == pytest.approx(batch_hard_by_loops(points.tolist(), labels.tolist(), 0.3), abs=1e-12)
    x = torch.tensor(points, requires_grad=True)
    triplet_batch_hard(x, torch.tensor(labels), 0.3).backward()
    y = torch.tensor(points, requires_grad=True)
    unit = torch.nn.functional.normalize(y, dim=1)
    similarity = unit @ unit.T
    same = torch.tensor(labels[:, None] == labels[None, :])
    positive = same & ~torch.eye(n, dtype=torch.bool)
    hp = similarity.masked_fill(~positive, float("inf")).min(dim=1).values
    hn = similarity.masked_fill(same, float("-inf")).max(dim=1).values
    valid = positive.any(dim=1) & (~same).any(dim=1)
    torch.nn.functional.relu(0.3 + hn - hp)[valid].mean().backward()
    assert torch.allclose(x.grad, y.grad, atol=1e-12)


# ------------------------------------------------------------------------------------ divergence
def test_non_finite_embeddings_stop_the_epoch_before_anything_is_written(tmp_path):
    """A model whose weights went non-finite: its epoch is neither scored nor written."""
    from reproductions.awe.train import evaluate_epoch, make_model
    from reproductions.awe.data import split_by_speaker
    data = toy_data(list("aabbccdd"), ["s0", "s1"] * 4)
    cfg = AweConfig(embedding_dim=4, n_mfcc=1, lr=0.25)
    model, _ = make_model(cfg, torch.device("cpu"))
    split = split_by_speaker(data, split="none", test_fraction=0.25, seed=0)
    frames = torch.from_numpy(data.frames)
    record = evaluate_epoch(model, data, frames, split, tmp_path, 0, cfg, float("nan"), 0, 0.0)   # finite: scored
    assert record.held_out.tokens == 8 and (tmp_path / "epochs" / "epoch_000.txt").exists()
    with torch.no_grad():
        next(model.parameters()).fill_(float("inf"))
    with pytest.raises(AuditError) as caught:
        evaluate_epoch(model, data, frames, split, tmp_path, 3, cfg, 0.5, 8, 1.0)
    assert str(caught.value) == ("training diverged at epoch 3: the embeddings of 8 of 8 tokens are not finite; "
                                 "epochs 0-2 are saved in the run folder; try a lower --lr than 0.25.")
    assert not (tmp_path / "epochs" / "epoch_003.txt").exists()


def test_a_non_finite_loss_stops_the_run():
    from reproductions.awe.train import check_finite
    cfg = AweConfig(lr=1e38)
    for loss in (float("nan"), float("inf")):
        with pytest.raises(AuditError, match=rf"^training diverged at epoch 1: the loss is not finite \({loss}\); "
                                             r"epoch 0 is saved in the run folder; try a lower --lr than 1e\+38\.$"):
            check_finite(1, cfg, loss=loss)
    check_finite(1, cfg, loss=0.25, embeddings=np.ones((3, 2), np.float32))   # finite: nothing to say


@pytest.mark.slow
def test_a_diverging_run_exits_2_and_writes_no_results(run_cli, cache, tmp_path):
    """Adam at lr 1e38 overflows float32 weights within the first epoch (1e30 did not). The run
    exited 0 with all-zero vectors.txt and a held-out AP of chance recorded as measured."""
    out = tmp_path / "diverged"
    code, stdout, err = run_cli("reproduce", "awe", "--corpus-size", "tiny", "--cache-dir", cache, "--epochs", "2",
                                "--embedding-dim", "16", "--dtw-pairs", "0", "--lr", "1e38", "--out", out, "--quiet")
    assert code == 2 and err.startswith("audit: training diverged at epoch 1: ") and err.count("\n") == 1, err
    assert "try a lower --lr than 1e+38." in err and "Traceback" not in err
    assert not (out / "vectors.txt").exists() and not (out / "instances.npz").exists()
    assert not (out / "epochs" / "epoch_001.txt").exists() and not (out / "checkpoints" / "epoch_001.pt").exists()
    assert [e["epoch"] for e in json.loads((out / "history.json").read_text())["epochs"]] == [0]


@pytest.mark.slow
def test_split_none_is_never_called_held_out_in_the_terminal(run_cli, cache, tmp_path):
    """--split none evaluates every token, the ones trained on: its log lines say so."""
    code, out, err = run_cli("reproduce", "awe", "--corpus-size", "tiny", "--cache-dir", cache, "--epochs", "1",
                             "--embedding-dim", "16", "--dtw-pairs", "300", "--split", "none", "--eval-pairs", "5000",
                             "--out", tmp_path / "none")
    assert code == 0, err
    text = out + err
    assert "held-out" not in text and "held out:" not in text, text
    assert "3 speakers; no split: evaluated on all 1,257 tokens, the training tokens;" in text
    assert "MFCC-DTW baseline on all tokens, the training tokens (no split): SW AP " in text
    assert "epoch 1: loss " in text and "; SWDP AP (all tokens, no split) 0." in text
    assert "all speakers (no split: trained on the same tokens)" in out        # the summary line, as before


# ------------------------------------------------------------------------------------ mining with proxy
@pytest.mark.parametrize("argv", [("--loss", "proxy", "--mining", "semi-hard"),
                                  ("--loss", "proxy", "--mining", "batch-hard"),
                                  ("--mining", "semi-hard", "--loss", "proxy")])
def test_an_explicit_mining_with_the_proxy_loss_is_refused(run_cli, tmp_path, argv):
    """The proxy loss does no mining: 'mining: semi-hard' was recorded in config.json as if it did."""
    code, out, err = run_cli("reproduce", "awe", *argv, "--out", tmp_path / "o")
    assert code == 2 and err == ("audit: --mining chooses the triplet loss's negatives and the proxy loss does no "
                                 "mining: drop --mining, or use --loss triplet.\n")
    assert not (tmp_path / "o").exists()


def test_a_config_file_with_proxy_and_semi_hard_mining_is_refused(run_cli, tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"loss": "proxy", "mining": "semi-hard"}))
    code, out, err = run_cli("reproduce", "awe", "--config", tmp_path / "c.json", "--out", tmp_path / "o")
    assert code == 2 and err.startswith("audit: bad training configuration: mining chooses the triplet loss's "
                                        "negatives") and err.endswith("not semi-hard.\n")
    (tmp_path / "c.json").write_text(json.dumps({"loss": "proxy"}))       # a --mining on top of a proxy config
    code, out, err = run_cli("reproduce", "awe", "--config", tmp_path / "c.json", "--mining", "semi-hard",
                             "--out", tmp_path / "o")
    assert code == 2 and "--mining chooses the triplet loss's negatives" in err
    assert AweConfig(loss="proxy").mining == "batch-hard"           # a default run records what it always did
    assert AweConfig(loss="triplet", mining="semi-hard").mining == "semi-hard"


def test_a_proxy_run_saved_with_semi_hard_mining_still_resumes(tmp_path):
    """Run folders written before the refusal hold 'mining: semi-hard' with the proxy loss; mining
    changed nothing there, so resuming under the default is no change. A triplet run's is."""
    from reproductions.awe.train import load_checkpoint, make_model, save_checkpoint

    class Saved:                    # the config such a run saved: no longer constructible as an AweConfig
        def __init__(self, cfg, **changes):
            self.data = {**cfg.to_dict(), **changes}

        def to_dict(self):
            return self.data

    for loss, resumes in (("proxy", True), ("triplet", False)):
        cfg = AweConfig(loss=loss, embedding_dim=4, n_mfcc=2)
        model, optimizer = make_model(cfg, torch.device("cpu"), symbols=3)
        path = tmp_path / f"{loss}.pt"
        save_checkpoint(path, model, optimizer, 1, Saved(cfg, mining="semi-hard"), None)
        if resumes:
            assert load_checkpoint(path, model, optimizer, cfg) == (1, None)
        else:
            with pytest.raises(AuditError, match="the setting 'mining' differs from the saved run"):
                load_checkpoint(path, model, optimizer, cfg)
    cfg = AweConfig(loss="proxy", embedding_dim=4, n_mfcc=2)                 # triplet saved, proxy now: refused
    model, optimizer = make_model(cfg, torch.device("cpu"), symbols=3)
    save_checkpoint(tmp_path / "t.pt", model, optimizer, 1, Saved(cfg, loss="triplet", mining="semi-hard"), None)
    with pytest.raises(AuditError, match="the setting 'loss' differs"):
        load_checkpoint(tmp_path / "t.pt", model, optimizer, cfg)
