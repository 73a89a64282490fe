"""`audit homophones`: the table, --json, and one-sentence errors without partial output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit.core.loaders import save_word2vec_text
from audit.core.vectors import Vectors
from homophones import load_pairs


@pytest.fixture(scope="module")
def phonetic_file(tmp_path_factory):
    """Every pair of the paper's list with identical vectors, plus unrelated words."""
    rng = np.random.default_rng(0)
    words, rows = [], []
    for pair in load_pairs("paper-307").pairs:
        base = rng.standard_normal(20)
        words += [pair.word1, pair.word2]
        rows += [base, base]
    words += [f"filler{i}" for i in range(300)]
    rows += list(rng.standard_normal((300, 20)))
    path = tmp_path_factory.mktemp("vectors") / "phonetic.txt"
    save_word2vec_text(Vectors(words, np.array(rows)), path)
    return path


def test_command_prints_the_summary_and_writes_json(run_cli, phonetic_file, tmp_path):
    out = tmp_path / "result.json"
    code, stdout, stderr = run_cli("homophones", phonetic_file, "--json", out, "--seed", "5", "--k", "2")
    assert code == 0, stderr
    assert "verdict: PHONETIC" in stdout and "rule: share = share of homophone ranks" in stdout
    assert "paper-307: 307 of 307 found" in stdout and "most similar pairs" in stdout
    assert "ate    eight, " in stdout  # Table 3 row: the homophone is the nearest neighbour
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["verdict"] == "phonetic" and data["seed"] == 5 and data["parameters"]["k"] == 2
    assert data["pairs"]["source"] == "paper-307" and data["homophone_rank"]["median"] == 1


def test_user_pair_file_and_random_pairs(run_cli, phonetic_file, tmp_path):
    pair_file = tmp_path / "pairs.tsv"
    pair_file.write_text("ate\teight\nmeat\tmeet\nnotaword\tnorthis\n", encoding="utf-8")
    out = tmp_path / "result.json"
    code, stdout, _ = run_cli("homophones", phonetic_file, "--pairs", pair_file, "--random-pairs", "50",
                              "--json", out)
    assert code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["pairs"]["found"] == 2 and data["pairs"]["missing"] == 1
    assert data["random_similarity"]["n"] == 50 and data["verdict"] == "inconclusive"
    assert "missing pairs: notaword/northis" in stdout


@pytest.mark.parametrize("extra, message", [(["--pairs", "paper-308"], "did you mean 'paper-307'"),
                                            (["--k", "0"], "k must be at least 1"),
                                            (["--random-pairs", "0"], "random pairs")])
def test_bad_input_exits_2_without_output_file(run_cli, phonetic_file, tmp_path, extra, message):
    out = tmp_path / "result.json"
    code, stdout, stderr = run_cli("homophones", phonetic_file, *extra, "--json", out)
    assert code == 2 and message in stderr and "Traceback" not in stderr
    assert not out.exists()


def test_missing_vectors_file_is_one_sentence(run_cli, tmp_path):
    code, _, stderr = run_cli("homophones", tmp_path / "nope.txt")
    assert code == 2 and stderr.startswith("audit: ") and stderr.count("\n") == 1


def test_no_pair_in_the_vocabulary_is_one_sentence(tmp_path, run_cli):
    path = tmp_path / "v.txt"
    path.write_text("zzz 1 2\nyyy 3 4\nxxx 1 1\n", encoding="utf-8")
    out = tmp_path / "out.json"
    code, _, err = run_cli("homophones", path, "--json", out)
    assert code == 2 and "nothing to audit" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("target, message", [("missing-folder/result.json", "does not exist"),
                                             (".", "is a directory")])
def test_unwritable_json_target_fails_before_any_work(run_cli, phonetic_file, tmp_path, target, message):
    code, stdout, stderr = run_cli("homophones", phonetic_file, "--json", tmp_path / target)
    assert code == 2 and message in stderr and stderr.count("\n") == 1
    assert stdout == ""   # nothing audited, nothing printed
