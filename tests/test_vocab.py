"""audit.checks.vocab.provenance against plain-Python set arithmetic and corpora with known answers."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audit.corpora.librispeech import SUBSETS, LibriSpeechCorpus
from audit.core.errors import AuditError
from audit.core.results import load_result
from support.synthetic import design_counts, write_corpus
from audit.core.vectors import Vectors
from audit.checks.vocab import CLEAN_500H, ProvenanceResult, paper_not_found_table, paper_vocabulary_table, provenance


@pytest.fixture(scope="module")
def marked(tmp_path_factory):
    """A 7-subset corpus whose every candidate vocabulary is distinct (markers in every subset)."""
    root = tmp_path_factory.mktemp("marked")
    synthetic = write_corpus(root, design_counts(seed=11), seed=11)
    return synthetic, LibriSpeechCorpus(root).count()


def test_all_subsets_count_5_is_found_exact_and_unique(marked):
    synthetic, counts = marked
    result = provenance(sorted(synthetic.vocabulary(SUBSETS, 5)), counts)
    best = result.best
    assert (best.subsets, best.min_count, best.exact, best.missing, best.extra, best.jaccard) == (SUBSETS, 5, True, 0, 0, 1.0)
    assert result.unique and result.exact_matches == 1 and result.tied_with_best == 0 and result.ties == ()
    assert result.searched == 127 * 20
    assert [c.rank for c in result.candidates] == list(range(1, 11))
    assert not any(c.exact for c in result.candidates[1:])


def test_clean_500h_count_4_is_found_exact_and_unique(marked):
    synthetic, counts = marked
    result = provenance(synthetic.vocabulary(CLEAN_500H, 4), counts)
    assert (result.best.subsets, result.best.min_count, result.best.exact) == (CLEAN_500H, 4, True)
    assert result.unique and result.exact_matches == 1


def test_a_few_words_removed_or_added_give_the_nearest_candidate(marked):
    synthetic, counts = marked
    target = synthetic.vocabulary(SUBSETS, 5)
    removed = sorted(target)[100:103]
    added = ["qwertz", "zzyzx"]   # in no subset at all
    result = provenance((target - set(removed)) | set(added), counts)
    best = result.best
    assert (best.subsets, best.min_count, best.exact) == (SUBSETS, 5, False)
    assert (best.missing, best.extra) == (2, 3)
    assert set(best.missing_words) == set(added) and set(best.extra_words) == set(removed)
    assert best.jaccard == pytest.approx((len(target) - 3) / (len(target) + 2))
    assert result.unique and result.exact_matches == 0
    assert result.embedding_words_in_corpus == len(target) - 3


def test_ambiguity_is_reported_not_hidden(tmp_path):
    # test-other holds only shared words, so adding it to a union changes nothing.
    plan = design_counts(seed=5, shared_words=40, tail_words=80, marker_subsets=SUBSETS[:6])
    synthetic = write_corpus(tmp_path, plan, seed=5)
    counts = LibriSpeechCorpus(tmp_path).count()
    result = provenance(synthetic.vocabulary(SUBSETS, 5), counts)
    assert result.best.exact and result.exact_matches == 2
    assert not result.unique and result.tied_with_best == 1
    found = {(result.best.subsets, result.best.min_count), (result.ties[0].subsets, result.ties[0].min_count)}
    assert found == {(SUBSETS, 5), (SUBSETS[:6], 5)}
    assert result.best.subsets == SUBSETS[:6]   # ties rank the candidate with fewer subsets first


def _set_truth(counts: dict[str, dict[str, int]], subsets, min_count, vocabulary):
    totals: dict[str, int] = {}
    for name in subsets:
        for word, count in counts[name].items():
            totals[word] = totals.get(word, 0) + count
    candidate = {w for w, c in totals.items() if c >= min_count}
    return candidate, vocabulary - candidate, candidate - vocabulary


def test_every_candidate_matches_python_sets():
    rng = np.random.default_rng(7)
    names = ("dev-clean", "test-clean", "dev-other")
    words = [f"w{i}" for i in range(300)]
    counts = {name: {w: int(c) for w, c in zip(words, rng.poisson(2.0, size=len(words)) * rng.integers(0, 2, len(words)))
                     if c > 0} for name in names}
    vocabulary = set(rng.choice(words, size=120, replace=False).tolist()) | {"outside1", "outside2"}
    max_min_count = 6
    result = provenance(vocabulary, counts, max_min_count=max_min_count, top=7 * max_min_count, examples=1000)
    assert result.searched == len(result.candidates) == 7 * max_min_count
    seen = set()
    for candidate in result.candidates:
        truth, missing, extra = _set_truth(counts, candidate.subsets, candidate.min_count, vocabulary)
        assert candidate.words == len(truth)
        assert candidate.shared == len(truth & vocabulary)
        assert (candidate.missing, candidate.extra) == (len(missing), len(extra))
        assert candidate.jaccard == pytest.approx(len(truth & vocabulary) / len(truth | vocabulary))
        assert candidate.exact == (truth == vocabulary)
        assert set(candidate.missing_words) == missing and set(candidate.extra_words) == extra
        seen.add((candidate.subsets, candidate.min_count))
    all_unions = {tuple(n for n in names if n in combo) for r in (1, 2, 3) for combo in itertools.combinations(names, r)}
    assert seen == {(u, k) for u in all_unions for k in range(1, max_min_count + 1)}
    jaccards = [c.jaccard for c in result.candidates]
    assert jaccards == sorted(jaccards, reverse=True)


def test_examples_are_limited_and_nearest_to_the_threshold_first():
    counts = {"dev-clean": {"a": 4, "b": 3, "c": 1, "d": 4, "e": 9, "f": 5}}
    result = provenance({"a", "b", "c", "d", "e", "f"}, counts, max_min_count=5, examples=2, top=5)
    at_5 = next(c for c in result.candidates if c.min_count == 5)
    assert at_5.missing == 4 and at_5.missing_words == ("a", "d")     # counts 4, 4 before 3 and 1
    at_1 = next(c for c in result.candidates if c.min_count == 1)
    assert at_1.exact and at_1.missing_words == ()


def test_table5_view_matches_sets_and_the_paper(marked):
    synthetic, counts = marked
    vocabulary = synthetic.vocabulary(SUBSETS, 5)
    result = provenance(vocabulary, counts)
    rows = {row.label: row for row in result.table5}
    assert rows["embedding"].words == len(vocabulary) and rows["embedding"].paper_words == 37622
    for row in result.table5[1:]:
        truth, missing, extra = _set_truth(synthetic.counts, row.subsets, row.min_count, vocabulary)
        assert row.available and (row.words, row.missing, row.extra) == (len(truth), len(missing), len(extra))
        assert row.exact == (truth == vocabulary)
    # The paper's figures (Table 5) beside them, read from the shipped package data.
    assert (rows["clean-100+360, all words"].paper_words, rows["clean-100+360, all words"].paper_missing) == (66721, 1685)
    assert (rows["clean-100+360, count >= 5"].paper_words, rows["clean-100+360, count >= 5"].paper_missing) == (27454, 10168)
    assert (rows["all 7 subsets, count >= 5"].paper_words, rows["all 7 subsets, count >= 5"].paper_missing) == (37622, 0)
    assert rows["clean-100+360, count >= 4"].paper_words == 30788


def test_table5_rows_need_their_subsets():
    result = provenance({"a"}, {"dev-clean": {"a": 6}}, max_min_count=3)
    rows = {row.label: row for row in result.table5}
    assert not rows["all 7 subsets, count >= 5"].available and rows["all 7 subsets, count >= 5"].words is None
    # The best search candidate is still there.
    assert result.best.exact and result.best.subsets == ("dev-clean",)


def test_table6_counts_pairs_not_found(shared_data):
    counts = {"train-clean-100": {"tiger": 6, "cat": 2, "car": 9, "automobile": 1},
              "train-clean-360": {"cat": 3, "dog": 5, "train": 1}}
    pairs = {"MEN": [("Tiger", "cat", 7.0), ("car", "automobile", 9.0), ("dog", "train", 1.0), ("cat", "dog", 8.0)],
             "MC-30": [("car", "automobile", 3.9)]}
    vocabulary = {"tiger", "cat", "car", "dog"}
    result = provenance(vocabulary, counts, max_min_count=5, benchmark_pairs=pairs)
    table = result.table6
    assert table.columns == ("embedding", "clean-100+360, all words", "clean-100+360, count >= 4",
                             "clean-100+360, count >= 5", "best")
    men, mc = table.rows
    # By hand: embedding misses automobile, train. All words: nothing missing. Count >= 5:
    # tiger 6, cat 5, car 9, dog 5 (automobile 1 and train 1 drop out).
    assert men.not_found == {"embedding": 2, "clean-100+360, all words": 0, "clean-100+360, count >= 4": 2,
                             "clean-100+360, count >= 5": 2, "best": 2}
    assert mc.not_found["embedding"] == 1 and mc.not_found["clean-100+360, all words"] == 0
    paper_file = (shared_data / "paper" / "speech2vec-not-found-pairs.tsv").read_text().split("\n")
    men_line = next(line for line in paper_file if line.startswith("MEN\t")).split("\t")
    assert (men.paper_reported, men.paper_libri_clean) == (int(men_line[1]), int(men_line[2])) == (122, 231)
    assert (mc.paper_reported, mc.paper_libri_clean) == (None, None)   # MC-30 is not in the paper's Table 6


def test_table6_counts_pairs_as_benchmarks_evaluate(word_sim_dir):
    """Table 6 reads the benchmarks as `audit benchmarks` scores them: a pair listed twice counts
    once (WS-353 lists money/cash twice: 352 pairs), so its pair and not-found counts are evaluate's."""
    import inspect

    from audit.checks.vocab import TABLE6_DUPLICATES, table6_benchmarks
    from audit.pipeline import AuditOptions, RunContext
    from benchmarks import evaluate

    assert TABLE6_DUPLICATES == inspect.signature(evaluate).parameters["duplicates"].default
    lines = (word_sim_dir / "EN-WS-353-ALL.txt").read_text(encoding="utf-8").split("\n")
    ws_words = sorted({w.lower() for line in lines for w in line.split()[:2]})
    # Every other WS-353 word, and never "cash": the repeated pair money/cash is not found.
    words = sorted(set(ws_words[::2]) - {"cash"} | {"money"})
    vectors = Vectors(words, np.random.default_rng(3).normal(size=(len(words), 4)))
    counts = {"train-clean-100": {w: 6 for w in words[::2]}, "train-clean-360": {w: 2 for w in words}}
    scored = evaluate(vectors, data_dir=word_sim_dir)
    pipeline_pairs = RunContext(AuditOptions(data_dir=str(word_sim_dir)), print).benchmark_pairs()
    for pairs in (table6_benchmarks(word_sim_dir), pipeline_pairs):
        table = provenance(vectors, counts, max_min_count=3, benchmark_pairs=pairs).table6
        assert "duplicate pairs: last wins" in table.normalisation
        rows = {row.benchmark: row for row in table.rows}
        assert list(rows) == [score.name for score in scored.results]
        for score in scored.results:
            assert (rows[score.name].pairs, rows[score.name].not_found["embedding"]) == \
                (score.pairs, score.not_found), score.name
        ws353 = scored.by_name("WS-353")
        assert rows["WS-353"].pairs == ws353.pairs == 352 and ws353.duplicate_pairs == 1
        assert 0 < rows["WS-353"].not_found["embedding"] == ws353.not_found < 352


def test_shipped_paper_tables_equal_the_shared_files(shared_data):
    vocab_lines = (shared_data / "paper" / "speech2vec-vocabulary.tsv").read_text().strip().split("\n")[1:]
    table5 = paper_vocabulary_table()
    for line in vocab_lines:
        key, words, missing = (line.split("\t") + [""])[:3]
        assert table5[key]["words"] == int(words)
        assert table5[key]["official_words_missing"] == (int(missing) if missing else None)
    pair_lines = (shared_data / "paper" / "speech2vec-not-found-pairs.tsv").read_text().strip().split("\n")[1:]
    assert {line.split("\t")[0] for line in pair_lines} == set(paper_not_found_table())


def test_json_round_trip_and_order_invariance(marked):
    synthetic, counts = marked
    words = sorted(synthetic.vocabulary(CLEAN_500H, 4))
    vectors = Vectors(words, np.random.default_rng(0).normal(size=(len(words), 3)))
    result = provenance(vectors, counts, benchmark_pairs={"MEN": [("a", "b", 1.0)]})
    assert result.input.words == len(words) and result.input.dim == 3
    data = json.loads(result.to_json())
    assert data["kind"] == "vocab"
    assert data["best"]["subsets"] == list(CLEAN_500H) and data["best"]["min_count"] == 4
    assert {"exact", "missing", "extra", "jaccard"} <= data["best"].keys()
    assert len(data["candidates"]) == 10 and len(data["table5"]) == 5 and data["table6"]["rows"][0]["pairs"] == 1
    back = load_result(data)
    assert isinstance(back, ProvenanceResult) and back == result
    shuffled = list(reversed(words))
    again = provenance(shuffled, counts, benchmark_pairs={"MEN": [("a", "b", 1.0)]})
    assert again.best == result.best and again.candidates == result.candidates


def test_max_min_count_bounds_the_search(marked):
    synthetic, counts = marked
    result = provenance(synthetic.vocabulary(SUBSETS, 5), counts, max_min_count=3)
    assert result.searched == 127 * 3
    assert not result.best.exact and result.best.min_count == 3
    assert {row.label: row.exact for row in result.table5}["all 7 subsets, count >= 5"]


def test_bad_arguments():
    with pytest.raises(AuditError, match="vocabulary is empty"):
        provenance([], {"dev-clean": {"a": 1}})
    with pytest.raises(AuditError, match="max_min_count"):
        provenance(["a"], {"dev-clean": {"a": 1}}, max_min_count=0)
    with pytest.raises(AuditError, match="has no words"):
        provenance(["a"], {"dev-clean": {"a": 1}, "dev-other": {}})


def test_vocab_imports_neither_benchmarks_nor_torch():
    code = ("import sys, audit.checks.vocab, audit.corpora.librispeech, support.synthetic, audit.corpora.fetch; "
            "bad = [m for m in ('benchmarks', 'torch', 'homophones', 'reports', 'reproductions') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)})
