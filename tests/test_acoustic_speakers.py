"""`audit acoustic --speakers` and `--keep-singletons`: the route from an AWE run's instances.npz
back to its history's held-out figure (the reviewer found none: the file was refused for its
single-token words, and --drop-singletons removed different-word pairs and raised the AP)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit.checks import acoustic
from audit.core.results import load_result
from reproductions.awe.evaluate import embedding_ap


def speaking_instances(seed=0):
    """Three speakers; words of 1 to 6 tokens, so the held-out speakers' tokens include words
    with a single token (as an AWE run's held-out set does)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 7, size=25)
    labels = np.repeat([f"w{i}" for i in range(len(sizes))], sizes)
    speakers = rng.choice(["s1", "s2", "s3"], size=len(labels))
    centres = rng.standard_normal((len(sizes), 12))
    word = np.repeat(np.arange(len(sizes)), sizes)
    embeddings = (centres[word] + 0.9 * rng.standard_normal((len(labels), 12))).astype(np.float32)
    return embeddings, labels, speakers


def write(path, embeddings, labels, speakers=None):
    arrays = {"embeddings": embeddings, "labels": labels}
    if speakers is not None:
        arrays["speakers"] = speakers
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("sample_pairs", [10**6, 300])     # every pair; a seeded sample
def test_speakers_and_kept_singletons_recompute_the_trainers_held_out_ap(tmp_path, run_cli, sample_pairs):
    embeddings, labels, speakers = speaking_instances()
    held_out = np.isin(speakers, ["s1", "s3"])
    _, counts = np.unique(labels[held_out], return_counts=True)
    assert (counts == 1).any()                                # singletons among the held-out tokens
    # The trainer's per-epoch figure (reproductions.awe.train.evaluate_epoch, seed 0).
    want = embedding_ap(embeddings[held_out], labels[held_out], speakers[held_out], sample_pairs=sample_pairs,
                        seed=0)
    path = write(tmp_path / "instances.npz", embeddings, labels, speakers)
    code, stdout, stderr = run_cli("acoustic", path, "--speakers", "s3, s1", "--keep-singletons", "--sample-pairs",
                                   sample_pairs, "--json", tmp_path / "a.json")
    assert code == 0, stderr
    result = load_result(tmp_path / "a.json")
    assert result.tokens == int(held_out.sum()) and result.singletons_dropped == 0
    assert result.samediff.sw.average_precision == want.sw_ap
    assert result.samediff.swdp.average_precision == want.swdp_ap
    assert result.same_different.pairs_total == want.pairs_total and result.same_different.sampled == want.sampled
    assert result.parameters.speakers == ("s1", "s3") and result.parameters.keep_singletons
    assert "only the tokens of speaker(s) s1, s3" in stdout and "kept as different-word partners" in stdout
    # Dropping the single-token words instead removes different-word pairs: another (higher) figure.
    code, _, stderr = run_cli("acoustic", path, "--speakers", "s1,s3", "--drop-singletons", "--sample-pairs",
                              sample_pairs, "--json", tmp_path / "b.json")
    assert code == 0, stderr
    dropped = load_result(tmp_path / "b.json")
    assert dropped.singletons_dropped == int((counts == 1).sum())
    assert dropped.same_different.pairs_total < result.same_different.pairs_total


def test_kept_singletons_are_different_word_partners_and_query_nothing():
    embeddings, labels, _ = speaking_instances(seed=3)
    result = acoustic.audit_instances(acoustic.make_instances(embeddings, labels), keep_singletons=True)
    n = len(labels)
    _, counts = np.unique(labels, return_counts=True)
    assert result.same_different.pairs_total == n * (n - 1) // 2
    assert result.same_different.same_pairs_total == int(np.sum(counts * (counts - 1) // 2))
    assert result.retrieval.queries == int(counts[counts > 1].sum())
    assert result.words == len(counts)


@pytest.mark.parametrize("argv, message", [
    (["--speakers", "s1,s9"], "--speakers names 1 speaker(s) the instances do not have (e.g. 's9'); they have 3"),
    (["--speakers", " , "], "--speakers is empty"),
    (["--keep-singletons", "--drop-singletons"], "not allowed with argument"),
])
def test_bad_speaker_and_singleton_options_are_one_sentence(tmp_path, run_cli, argv, message):
    embeddings, labels, speakers = speaking_instances()
    path = write(tmp_path / "instances.npz", embeddings, labels, speakers)
    code, stdout, stderr = run_cli("acoustic", path, *argv, "--json", tmp_path / "x.json")
    assert code == 2 and message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "x.json").exists()


def test_speakers_on_instances_without_speakers_is_refused(tmp_path, run_cli):
    embeddings, labels, _ = speaking_instances()
    path = write(tmp_path / "instances.npz", embeddings, labels)
    code, _, stderr = run_cli("acoustic", path, "--speakers", "s1", "--keep-singletons")
    assert code == 2 and "--speakers names speakers, but the instances file has no 'speakers' array" in stderr


def test_results_written_before_the_options_still_load(tmp_path):
    embeddings, labels, _ = speaking_instances(seed=1)
    result = acoustic.audit_instances(acoustic.make_instances(embeddings, labels), drop_singletons=True)
    data = json.loads(result.to_json())
    for key in ("keep_singletons", "speakers"):
        del data["parameters"][key]
    (tmp_path / "old.json").write_text(json.dumps(data))
    old = load_result(tmp_path / "old.json")
    assert old.parameters.keep_singletons is False and old.parameters.speakers is None



def test_qbe_queries_above_the_bound_are_a_seeded_sample(tmp_path, run_cli):
    """Each QbE query is a pass over every token (time grew with tokens squared: 50,000 tokens took
    137 s): above --max-queries a seeded uniform sample queries, said in the result and terminal."""
    embeddings, labels, speakers = speaking_instances(seed=2)
    instances = acoustic.make_instances(embeddings, labels, speakers)
    every = acoustic.audit_instances(instances, keep_singletons=True, max_queries=None)
    assert not every.retrieval.sampled and every.retrieval.queries == every.retrieval.queries_total
    sample = acoustic.audit_instances(instances, keep_singletons=True, max_queries=20)
    again = acoustic.audit_instances(instances, keep_singletons=True, max_queries=20)
    assert sample.retrieval.sampled and sample.retrieval.queries == 20
    assert sample.retrieval.queries_total == every.retrieval.queries_total
    assert sample.retrieval == again.retrieval                                   # seeded
    assert sample.same_different == every.same_different                         # only QbE is sampled
    # The sample's mean is the mean of its queries: with a bound above the count, nothing changes.
    assert acoustic.audit_instances(instances, keep_singletons=True, max_queries=10**6).retrieval == every.retrieval
    path = write(tmp_path / "instances.npz", embeddings, labels, speakers)
    code, stdout, stderr = run_cli("acoustic", path, "--keep-singletons", "--max-queries", "20")
    assert code == 0, stderr
    assert f"query-by-example: a seeded sample of 20 of the {every.retrieval.queries_total:,} tokens" in stdout
    code, _, stderr = run_cli("acoustic", path, "--keep-singletons", "--max-queries", "0")
    assert code == 2 and "--max-queries is 0; at least one query is needed." in stderr


def test_a_query_sample_is_the_mean_over_its_queries():
    """The sampled figures equal the loop reference restricted to the chosen queries."""
    from audit.checks.acoustic import _retrieval
    embeddings, labels, _ = speaking_instances(seed=4)
    _, label_index = np.unique(labels, return_inverse=True)
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    result = _retrieval.retrieval(unit, label_index, max_queries=15, seed=3)
    counts = np.bincount(label_index)
    possible = np.flatnonzero(counts[label_index] > 1)
    chosen = np.random.default_rng(3).choice(possible, size=15, replace=False)
    rr = []
    for q in chosen:
        others = [j for j in range(len(labels)) if j != q]
        score = {j: float(unit[q] @ unit[j]) for j in others}
        best = max(score[j] for j in others if label_index[j] == label_index[q])
        rr.append(1 / (1 + sum(score[o] > best for o in others)))
    assert result.mean_reciprocal_rank == pytest.approx(np.mean(rr), abs=1e-9)


def test_the_query_bound_sits_on_the_count_of_possible_queries():
    """Sampled only when the tokens with another token of their word outnumber the bound."""
    from audit.checks.acoustic import _retrieval
    embeddings, labels, _ = speaking_instances(seed=6)
    _, label_index = np.unique(labels, return_inverse=True)
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    possible = int((np.bincount(label_index)[label_index] > 1).sum())
    at = _retrieval.retrieval(unit, label_index, max_queries=possible)
    below = _retrieval.retrieval(unit, label_index, max_queries=possible - 1)
    assert not at.sampled and at.queries == at.queries_total == possible
    assert below.sampled and below.queries == possible - 1 and below.queries_total == possible
