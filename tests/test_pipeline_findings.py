"""`audit all --claims`: the findings computed after every check, written as results/findings.json,
opening the report and ending the terminal output; a finding flips when its evidence goes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit import Vectors
from audit.cli.main import main
from audit.core.claims import load_claims
from audit.core.loaders import save_word2vec_text
from audit.pipeline import CHECKS, AuditOptions, run_all
from homophones import load_pairs
from reports import render

PAIRS = load_pairs("paper-307").pairs[:60]
CHECKS_USED = tuple(c for c in CHECKS if c.kind in ("info", "homophones"))   # what the homophone finding reads


def _vectors(phonetic: bool, seed: int) -> Vectors:
    rng = np.random.default_rng(seed)
    words, rows = [], []
    for pair in PAIRS:
        base = rng.standard_normal(16)
        words += [pair.word1, pair.word2]
        rows += [base, base + 0.01 * rng.standard_normal(16)] if phonetic else [base, rng.standard_normal(16)]
    words += [f"filler{i}" for i in range(200)]
    rows += list(rng.standard_normal((200, 16)))
    return Vectors(words, np.array(rows))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("findings")
    save_word2vec_text(_vectors(False, 1), folder / "released.txt")
    save_word2vec_text(_vectors(True, 2), folder / "phonetic.txt")
    save_word2vec_text(_vectors(False, 3), folder / "unphonetic.txt")
    (folder / "claims.toml").write_text('[[embedding]]\nname = "released"\nkind = "speech"\n'
                                        'subsets = ["train-clean-100"]\nmin_count = 5\n', encoding="utf-8")
    return folder


def _audit(folder, out, reproduction: str | None):
    paths = [folder / "released.txt"] + ([folder / f"{reproduction}.txt"] if reproduction else [])
    names = ["released"] + (["repro"] if reproduction else [])
    options = AuditOptions(claims=load_claims(folder / "claims.toml"),
                           roles={"repro": "reproduction"} if reproduction else {})
    outcome = run_all(paths, out, options, names=names, checks=CHECKS_USED, progress=lambda m: None)
    data = json.loads((out / "results" / "findings.json").read_text(encoding="utf-8"))
    return outcome, {f["key"]: f for f in data["findings"]}, data


def test_findings_json_records_roles_and_claims_and_flips(inputs, tmp_path):
    outcome, found, data = _audit(inputs, tmp_path / "a", "phonetic")
    assert data["kind"] == "findings"
    assert data["roles"] == {"released": "released", "repro": "reproduction"}   # given, and inferred from the claim
    assert found["homophones"]["status"] == "supported"
    assert found["homophones"]["numbers"]["reproduction_verdict"] == "phonetic"
    assert found["homophones"]["numbers"]["released_verdict"] != "phonetic"
    for key in ("vocabulary", "benchmarks", "provenance"):     # their checks did not run: said, not hidden
        assert found[key]["status"] == "not tested"
    run = json.loads((tmp_path / "a" / "results" / "run.json").read_text(encoding="utf-8"))
    assert run["findings"] == "findings.json"
    assert run["claims"]["released"]["kind"] == "speech" and run["claims"]["released"]["min_count"] == 5
    assert len(run["claims_sha256"]) == 64
    # the evidence reversed: the reproduction is not phonetic either -> not supported
    _, reversed_, _ = _audit(inputs, tmp_path / "b", "unphonetic")
    assert reversed_["homophones"]["status"] == "not supported"
    # the evidence removed: no reproduction -> not tested, naming what is missing
    _, removed, _ = _audit(inputs, tmp_path / "c", None)
    assert removed["homophones"]["status"] == "not tested"
    assert "a reproduction" in removed["homophones"]["sentence"]


def test_report_opens_with_the_findings_and_rerenders_the_same(inputs, tmp_path):
    out = tmp_path / "r"
    _audit(inputs, out, "phonetic")
    markdown = (out / "report.md").read_text(encoding="utf-8")
    headings = [line for line in markdown.split("\n") if line.startswith("## ")]
    assert headings[0] == "## Findings"
    block = markdown.split("## Findings", 1)[1].split("\n## ", 1)[0]
    assert "- **Homophones: supported.**" in block and "(#homophones)" in block
    assert block.count("not tested.**") == 3      # vocabulary, benchmarks, provenance: shown as not tested
    assert "(#vocabulary)" not in block             # no link to a section the report does not have
    page = (out / "index.html").read_text(encoding="utf-8")
    assert '<li class="finding supported"><b>Homophones</b>' in page and 'href="#homophones"' in page
    assert page.index('id="findings"') < page.index('id="verdict"')
    # re-rendered from the JSON alone: the same bytes, findings included
    assert render(out, "md") == markdown


def test_cli_claims_roles_and_terminal_findings(inputs, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["all", str(inputs / "released.txt"), str(inputs / "phonetic.txt"), "--names", "released", "repro",
                 "--claims", str(inputs / "claims.toml"), "--roles", "repro=reproduction", "--out", str(out)])
    assert code == 0
    lines = capsys.readouterr().out.rstrip("\n").split("\n")
    assert lines[-5] == "findings:"
    assert lines[-4].startswith("  Homophones: supported. released (claimed kind: speech) is ")
    assert [line.split(":")[0].strip() for line in lines[-4:]] == ["Homophones", "Vocabulary", "Benchmarks",
                                                                   "Model provenance"]


@pytest.mark.parametrize("extra, message", [
    (["--roles", "repro=releazed"], "'releazed' is not a role"),
    (["--roles", "nobody=released"], "'nobody', which is not the name of an embedding"),
    (["--roles", "repro"], "--roles takes NAME=ROLE"),
])
def test_bad_roles_are_one_sentence(inputs, tmp_path, capsys, extra, message):
    code = main(["all", str(inputs / "released.txt"), str(inputs / "phonetic.txt"), "--names", "released", "repro",
                 "--out", str(tmp_path / "x"), *extra])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_claims_for_an_unknown_name_are_refused(inputs, tmp_path, capsys):
    code = main(["all", str(inputs / "phonetic.txt"), "--claims", str(inputs / "claims.toml"),
                 "--out", str(tmp_path / "x")])
    assert code == 2
    assert "has claims for 'released', which is not the name of an embedding" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("claim, message", [
    # a misspelt subset once made the vocabulary finding compare against a subset no corpus has
    ('subsets = ["train-clean-100", "train-clean-3600"]', "'train-clean-3600' is not a LibriSpeech subset "
                                                          "(did you mean 'train-clean-360'?)"),
    ('benchmarks = "speech2vec-papr"', "there is no claimed set 'speech2vec-papr' (did you mean 'speech2vec-paper'?)"),
    ('benchmarks = { MENN = 0.9 }', "there is no benchmark called 'MENN'"),
    ('benchmarks = { MEN = 0.9, men = 0.8 }', "two claimed scores name MEN"),
])
def test_claims_naming_what_does_not_exist_are_refused(inputs, tmp_path, capsys, claim, message):
    claims = tmp_path / "claims.toml"
    claims.write_text(f'[[embedding]]\nname = "released"\nkind = "speech"\n{claim}\n', encoding="utf-8")
    code = main(["all", str(inputs / "released.txt"), "--names", "released", "--claims", str(claims),
                 "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x").exists()


def test_claimed_benchmark_names_are_taken_in_any_registry_spelling(inputs, tmp_path):
    """'ws353' and 'simlex999' are the registry's WS-353 and SimLex-999: the findings compare by those names."""
    claims = tmp_path / "claims.toml"
    claims.write_text('[[embedding]]\nname = "released"\nsubsets = ["train-other-500"]\ncorpus = "LibriSpeech"\n'
                      'benchmarks = { ws353 = 0.5, "simlex999" = 0.2, "WS-353 (gensim test copy)" = 0.4 }\n',
                      encoding="utf-8")
    run_all([inputs / "released.txt"], tmp_path / "a", AuditOptions(claims=load_claims(claims)),
            names=["released"], checks=CHECKS_USED, progress=lambda m: None)
    manifest = json.loads((tmp_path / "a" / "results" / "run.json").read_text(encoding="utf-8"))
    assert manifest["claims"]["released"]["benchmark_scores"] == {
        "WS-353": 0.5, "SimLex-999": 0.2, "WS-353 (gensim test copy)": 0.4}
    assert manifest["claims"]["released"]["subsets"] == ["train-other-500"]


@pytest.mark.parametrize("extra, message", [
    (["--seed", "-1"], "--seed is -1; it must be a non-negative integer"),
    (["--names", " "], "released.txt) is blank; each needs a name to be shown by"),
])
def test_bad_seed_or_blank_name_is_refused_before_any_work(inputs, tmp_path, capsys, extra, message):
    code = main(["all", str(inputs / "released.txt"), "--out", str(tmp_path / "x"), *extra])
    assert code == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"audit: {err.strip().splitlines()[-1][7:]}"] and message in err, err
    assert not (tmp_path / "x").exists()


def test_two_embeddings_given_one_single_role_are_refused(inputs, tmp_path, capsys):
    """The findings compare one released embedding; a second one given the role was left out silently."""
    code = main(["all", str(inputs / "released.txt"), str(inputs / "phonetic.txt"), "--names", "a", "b",
                 "--roles", "a=released", "b=released", "--out", str(tmp_path / "x")])
    assert code == 2
    assert "makes both 'a' and 'b' the released" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
