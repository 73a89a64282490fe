"""`audit vocab` end to end: synthetic corpus, real benchmark files, bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from audit.corpora.librispeech import SUBSETS
from audit.core.loaders import save_word2vec_text
from support.synthetic import design_counts, write_corpus
from audit.core.vectors import Vectors

# Real words, so that some benchmark pairs are found: put into train-clean-100 only, 6 times.
REAL_WORDS = ("car", "automobile", "gem", "jewel", "journey", "voyage", "boy", "lad", "coast", "shore")


@pytest.fixture(scope="module")
def corpus_and_vectors(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    plan = design_counts(seed=2, shared_words=60, tail_words=120)
    plan["train-clean-100"].update({w: 6 for w in REAL_WORDS})
    synthetic = write_corpus(root / "corpus", plan, seed=2)
    words = sorted(synthetic.vocabulary(SUBSETS, 5))
    path = root / "vectors.txt"
    save_word2vec_text(Vectors(words, np.random.default_rng(1).normal(size=(len(words), 5))), path)
    return root, synthetic, words


def _args(root: Path, *extra):
    return ("vocab", root / "vectors.txt", "--corpus", "librispeech", "--corpus-root", root / "corpus",
            "--counts-cache", root / "cache", *extra)


def test_cli_finds_the_vocabulary_and_writes_json(corpus_and_vectors, run_cli, tmp_path):
    root, _, words = corpus_and_vectors
    out_json = tmp_path / "vocab.json"
    code, out, err = run_cli(*_args(root, "--no-benchmarks", "--json", out_json, "--top", "3"))
    assert code == 0, err
    assert "best: all 7, count >= 5: EXACT match, unique" in out
    assert "Table 5 view" in out and "Table 6 view" not in out
    data = json.loads(out_json.read_text())
    assert data["kind"] == "vocab" and data["best"]["subsets"] == list(SUBSETS)
    assert (data["best"]["min_count"], data["best"]["exact"], data["best"]["missing"], data["best"]["extra"],
            data["best"]["jaccard"]) == (5, True, 0, 0, 1.0)
    assert len(data["candidates"]) == 3 and data["unique"] is True and data["table6"] is None
    assert data["input"]["words"] == len(words) and data["input"]["sha256"]


def _independent_not_found(word_sim_dir: Path, vocabulary: set[str]) -> dict[str, int]:
    """Pairs with a word outside ``vocabulary``, read from the files with plain Python; a pair listed
    twice is one pair (a dict keyed by (word1, word2), as the reference scripts key them)."""
    files = {"MC-30": "EN-MC-30.txt", "RG-65": "EN-RG-65.txt", "MEN": "EN-MEN-TR-3k.txt", "WS-353": "EN-WS-353-ALL.txt"}
    result = {}
    for name, file_name in files.items():
        lines = (word_sim_dir / file_name).read_text(encoding="utf-8").replace("\r", "").split("\n")
        pairs = dict.fromkeys(tuple(line.lower().split()[:2]) for line in lines if line.strip())
        result[name] = sum(1 for a, b in pairs if a.lower() not in vocabulary or b.lower() not in vocabulary)
    return result


def test_cli_table6_with_the_real_benchmark_files(corpus_and_vectors, run_cli, word_sim_dir, tmp_path):
    root, synthetic, words = corpus_and_vectors
    out_json = tmp_path / "vocab.json"
    code, out, err = run_cli(*_args(root, "--data-dir", word_sim_dir, "--json", out_json))
    assert code == 0, err
    table = json.loads(out_json.read_text())["table6"]
    rows = {row["benchmark"]: row for row in table["rows"]}
    assert len(rows) == 13
    truth = _independent_not_found(word_sim_dir, set(words))
    clean_all = synthetic.vocabulary(("train-clean-100", "train-clean-360"), 1)
    truth_clean = _independent_not_found(word_sim_dir, clean_all)
    for name, expected in truth.items():
        assert rows[name]["not_found"]["embedding"] == expected
        assert rows[name]["not_found"]["clean-100+360, all words"] == truth_clean[name]
    assert rows["MC-30"]["not_found"]["embedding"] < rows["MC-30"]["pairs"]   # car/automobile etc. are found
    assert (rows["MEN"]["paper_reported"], rows["MEN"]["paper_libri_clean"]) == (122, 231)
    assert "Table 6 view" in out


def test_cli_table6_counts_pairs_as_audit_benchmarks_does(corpus_and_vectors, run_cli, word_sim_dir, tmp_path):
    """Table 6's pairs and not-found counts are `audit benchmarks`' (benchmarks.evaluate's default):
    a pair listed twice counts once, its last line, so WS-353 has 352 pairs, not the 353 lines."""
    from audit.core.loaders import load
    from benchmarks import evaluate

    root, _, _ = corpus_and_vectors
    out_json = tmp_path / "vocab.json"
    code, out, err = run_cli(*_args(root, "--data-dir", word_sim_dir, "--json", out_json))
    assert code == 0, err
    rows = {row["benchmark"]: row for row in json.loads(out_json.read_text())["table6"]["rows"]}
    scored = evaluate(load(root / "vectors.txt"), data_dir=word_sim_dir)
    assert set(rows) == {score.name for score in scored.results}
    for score in scored.results:
        assert (rows[score.name]["pairs"], rows[score.name]["not_found"]["embedding"]) == \
            (score.pairs, score.not_found), score.name
    ws353 = scored.by_name("WS-353")
    # money/cash is listed twice (9.15, then 9.08) and neither word is in this vocabulary.
    assert (ws353.pairs, ws353.duplicate_pairs) == (352, 1)
    assert rows["WS-353"]["pairs"] == 352 and rows["WS-353"]["not_found"]["embedding"] == ws353.not_found
    assert rows["Verb-143"]["pairs"] == 144      # the served file has 144 distinct pairs: no duplicate
    assert "duplicate pairs: last wins" in out


@pytest.mark.parametrize("problem", ["not-layout", "empty-subset", "unreadable", "bad-line", "bad-option"])
def test_cli_bad_input_is_one_sentence_and_exit_2(corpus_and_vectors, run_cli, tmp_path, problem):
    root, _, _ = corpus_and_vectors
    corpus = tmp_path / "corpus"
    write_corpus(corpus, {"dev-clean": {"alpha": 3, "beta": 2}}, utterances_per_chapter=1)
    extra = ()
    if problem == "not-layout":
        corpus = tmp_path / "plain"
        (corpus / "books").mkdir(parents=True)
    elif problem == "empty-subset":
        (corpus / "LibriSpeech" / "test-other").mkdir()
    elif problem in ("unreadable", "bad-line"):
        transcript = next((corpus / "LibriSpeech" / "dev-clean").rglob("*.trans.txt"))
        if problem == "unreadable":
            transcript.unlink()
            transcript.symlink_to(tmp_path / "missing-file")
        else:
            transcript.write_text("no-id-here ALPHA\n")
    else:
        extra = ("--max-min-count", "0")
    out_json = tmp_path / "out.json"
    code, out, err = run_cli("vocab", root / "vectors.txt", "--corpus-root", corpus, "--no-counts-cache",
                             "--no-benchmarks", "--json", out_json, *extra)
    assert code == 2
    assert err.startswith("audit: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not out_json.exists()
    expected = {"not-layout": "not in LibriSpeech layout", "empty-subset": "test-other", "unreadable": "cannot be read",
                "bad-line": "not a LibriSpeech transcript", "bad-option": "--max-min-count"}[problem]
    assert expected in err


def test_cli_default_corpus_root_hint(corpus_and_vectors, run_cli, tmp_path):
    root, _, _ = corpus_and_vectors
    code, out, err = run_cli("vocab", root / "vectors.txt", "--data-dir", tmp_path / "empty-data-dir")
    assert code == 2 and "audit data fetch librispeech" in err


def test_cli_notes_words_the_corpus_normalisation_cannot_produce(corpus_and_vectors, run_cli, tmp_path):
    root, _, words = corpus_and_vectors
    upper = [w.upper() if i < 3 else w for i, w in enumerate(words)]
    save_word2vec_text(Vectors(upper, np.ones((len(upper), 2))), tmp_path / "upper.txt")
    base = ("vocab", tmp_path / "upper.txt", "--corpus-root", root / "corpus", "--counts-cache", root / "cache",
            "--no-benchmarks")
    code, out, _ = run_cli(*base)
    assert code == 0 and "note: 3 embedding words are not lowercase" in out and "missing 3:" in out
    code, out, _ = run_cli(*base, "--lowercase")
    assert code == 0 and "note:" not in out and "EXACT match, unique" in out


def test_subsets_are_taken_by_spaces_or_commas_as_every_command_takes_them(corpus_and_vectors, run_cli, tmp_path):
    """`vocab --subsets a b` was refused (it took only 'a,b') while provenance and reproduce took only
    'a b': every command takes both forms, with the same result."""
    root, _, _ = corpus_and_vectors
    results = []
    for form in (("train-clean-100", "train-clean-360"), ("train-clean-100,train-clean-360",)):
        out_json = tmp_path / f"vocab{len(results)}.json"
        code, _, err = run_cli(*_args(root, "--no-benchmarks", "--subsets", *form, "--json", out_json))
        assert code == 0, err
        data = json.loads(out_json.read_text())
        results.append((data["best"]["subsets"], data["best"]["min_count"], data["best"]["jaccard"]))
    assert results[0] == results[1] and set(results[0][0]) <= {"train-clean-100", "train-clean-360"}
    from argparse import ArgumentParser
    from reproductions.speech2vec.config import add_training_arguments, config_from_args
    parser = ArgumentParser()
    add_training_arguments(parser)
    for form in (["train-clean-100", "dev-clean"], ["train-clean-100,dev-clean"]):
        config = config_from_args(parser.parse_args(["--subsets", *form, "--corpus-root", str(root / "corpus")]))
        assert tuple(config.subsets) == ("train-clean-100", "dev-clean")
