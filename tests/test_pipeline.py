"""audit.pipeline: the check interface, the output-folder rule (issue 15 class 1) and result
validation when a report is read back (class 8)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from audit import Vectors
from audit.core.errors import AuditError
from audit.core.loaders import save_word2vec_text

WORDS = ["ate", "eight", "meat", "meet", "sea", "see", "tale", "tail", "know", "no", "peace", "piece"] + [
    f"filler{i}" for i in range(40)]


def _write_vectors(path, seed: int = 0):
    rng = np.random.default_rng(seed)
    save_word2vec_text(Vectors(WORDS, rng.normal(size=(len(WORDS), 8))), path)
    return path


def _tree(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def report(tmp_path, run_cli):
    """An earlier report of ours, and its input outside it."""
    vectors = _write_vectors(tmp_path / "v.txt")
    code, out, err = run_cli("all", vectors, "--out", tmp_path / "report")
    assert code == 0, err
    return tmp_path / "report"


# ------------------------------------------------------------------------------ the check interface
def test_every_check_declares_the_interface():
    from audit.pipeline import CHECKS, Check

    kinds = [check.kind for check in CHECKS]
    assert len(set(kinds)) == len(kinds) and all(kinds)
    for index, check in enumerate(CHECKS):
        assert isinstance(check, Check)
        assert set(check.needs) <= set(kinds[:index]), f"{check.kind} needs a check that runs later"


def test_heavy_result_types_are_imported_on_demand():
    """`audit all` without --provenance, and `audit report` of a report without it, never import
    the provenance modules (scipy.stats); asking for them registers the result type."""
    import subprocess
    import sys

    code = ("import sys, audit.pipeline as p\n"
            "assert 'audit.checks.provenance.resemblance' not in sys.modules\n"
            "from audit.core.results import registered_kinds\n"
            "assert 'provenance' not in registered_kinds()\n"
            "p.register_result_types({'provenance'})\n"
            "assert 'provenance' in registered_kinds()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_check_order_that_breaks_needs_is_refused(tmp_path):
    from audit.pipeline import CHECKS, run_all

    reordered = [c for c in CHECKS if c.kind != "homophones"] + [c for c in CHECKS if c.kind == "homophones"]
    with pytest.raises(TypeError, match="instance-mds"):
        run_all([str(_write_vectors(tmp_path / "v.txt"))], tmp_path / "out", checks=reordered)


def test_a_check_reads_only_what_it_declares(tmp_path):
    """run() gets the earlier results it needs, nothing else; a skipped check records its reason."""
    from audit.pipeline import AuditOptions, Check, InfoCheck, run_all

    seen = {}

    class Spy(Check):
        kind = "info"          # a registered kind, so the result can be saved
        needs = ()

        def applies(self, subject, context):
            return None

        def run(self, subject, context, earlier):
            seen["earlier"] = dict(earlier)
            return InfoCheck().run(subject, context, earlier)

    class Never(Check):
        kind = "vocab"

        def applies(self, subject, context):
            return "never applies here"

    outcome = run_all([str(_write_vectors(tmp_path / "v.txt"))], tmp_path / "out", AuditOptions(),
                      checks=[Spy(), Never()], progress=lambda message: None)
    assert seen["earlier"] == {}
    audit, = outcome.embeddings
    assert list(audit.results) == ["info"] and audit.skipped == {"vocab": "never applies here"}
    manifest = json.loads((tmp_path / "out" / "results" / "run.json").read_text())
    assert manifest["embeddings"][0]["skipped"] == {"vocab": "never applies here"}


def test_homophones_on_zero_vectors_are_skipped_with_a_reason(tmp_path, run_cli):
    """Pair words present but every one a zero row: the check is skipped, the report still comes."""
    matrix = np.random.default_rng(0).normal(size=(len(WORDS), 8))
    matrix[:12] = 0.0
    save_word2vec_text(Vectors(WORDS, matrix), tmp_path / "z.txt")
    code, out, err = run_cli("all", tmp_path / "z.txt", "--out", tmp_path / "out")
    assert code == 0, err
    run = json.loads((tmp_path / "out" / "results" / "run.json").read_text())
    assert "usable" in run["embeddings"][0]["skipped"]["homophones"]


# ------------------------------------------------------------------------------ the output folder
@pytest.mark.parametrize("out", [".", ".."])
def test_out_is_never_the_current_folder_or_a_parent(tmp_path, run_cli, out):
    work = tmp_path / "work"
    work.mkdir()
    vectors = _write_vectors(work / "v.txt")
    (work / "notes.txt").write_text("mine")
    before = _tree(tmp_path)
    cwd = os.getcwd()
    os.chdir(work)
    try:
        code, stdout, err = run_cli("all", "v.txt", "--out", out)
    finally:
        os.chdir(cwd)
    assert code == 2 and "current folder or one of its parents" in err and "Traceback" not in err
    assert err.count("\n") == 1 and stdout == ""
    assert _tree(tmp_path) == before and vectors.is_file()


def test_an_earlier_report_with_user_notes_is_refused(report, run_cli, tmp_path):
    (report / "notes.md").write_text("my notes")
    before = _tree(tmp_path)
    code, out, err = run_cli("all", tmp_path / "v.txt", "--out", report)
    assert code == 2 and "notes.md" in err and "did not write" in err
    assert _tree(tmp_path) == before


def test_an_earlier_report_holding_the_input_is_refused(report, run_cli, tmp_path):
    """The issue's case: the input vectors live in the report folder (with the user's notes)."""
    shutil.copy(tmp_path / "v.txt", report / "vectors.txt")
    before = _tree(tmp_path)
    code, out, err = run_cli("all", report / "vectors.txt", "--out", report)
    assert code == 2 and "Traceback" not in err
    assert _tree(tmp_path) == before


def test_an_input_inside_an_output_subfolder_is_refused(report, run_cli, tmp_path):
    """An input that is one of the report's own files is still an input: never replaced."""
    results = report / "results"
    info = next(p for p in results.glob("*.json") if p.name != "run.json")
    before = _tree(tmp_path)
    code, out, err = run_cli("all", tmp_path / "v.txt", info, "--out", report)
    assert code == 2 and "inside the output folder" in err
    assert _tree(tmp_path) == before


def test_a_symlinked_out_is_refused(report, run_cli, tmp_path):
    (tmp_path / "link").symlink_to(report, target_is_directory=True)
    code, out, err = run_cli("all", tmp_path / "v.txt", "--out", tmp_path / "link")
    assert code == 2 and "symbolic link" in err
    assert (tmp_path / "link").is_symlink()


def test_a_forged_run_json_is_refused(tmp_path, run_cli):
    """A folder that merely holds a results/run.json naming nothing else is not ours to replace."""
    folder = tmp_path / "forged"
    (folder / "results").mkdir(parents=True)
    (folder / "results" / "run.json").write_text("{}")
    (folder / "data.csv").write_text("1,2\n")
    code, out, err = run_cli("all", _write_vectors(tmp_path / "v.txt"), "--out", folder)
    assert code == 2 and (folder / "data.csv").read_text() == "1,2\n"


def test_an_earlier_report_of_ours_is_replaced(report, run_cli, tmp_path):
    """Our own earlier report is replaced: its files go, nothing is left beside it."""
    old = set(_tree(report))
    other = _write_vectors(tmp_path / "other.txt", seed=5)
    code, out, err = run_cli("all", other, "--out", report)
    assert code == 0, err
    new = set(_tree(report))
    assert "results/01-v-txt.info.json" in old and "results/01-v-txt.info.json" not in new
    assert "results/01-other-txt.info.json" in new
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.txt", "report", "v.txt"]   # no .report.* left


def test_an_empty_folder_is_used(tmp_path, run_cli):
    (tmp_path / "empty").mkdir()
    code, out, err = run_cli("all", _write_vectors(tmp_path / "v.txt"), "--out", tmp_path / "empty")
    assert code == 0, err
    assert (tmp_path / "empty" / "report.md").is_file()


# ------------------------------------------------------------------------------ reading results back
def _first_result(report):
    run = json.loads((report / "results" / "run.json").read_text())
    kind, file = next(iter(run["embeddings"][0]["results"].items()))
    return report / "results" / file, kind


@pytest.mark.parametrize("change, words", [
    (lambda d: d.update(schema_version=99), "schema version 99"),
    (lambda d: d.update(kind="vocab"), "not 'info'"),
    (lambda d: d.pop("input"), "required field input is missing"),
    (lambda d: d["input"].pop("sha256"), "required field input.sha256 is missing"),
    (lambda d: d.update(valid_rows="many"), "valid_rows should be a whole number, not a string"),
    (lambda d: d["source"].update(format=3), "source.format should be a string, not a number"),
])
def test_a_bad_result_file_is_one_sentence(report, run_cli, change, words):
    path, kind = _first_result(report)
    assert kind == "info"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    code, out, err = run_cli("report", report)
    assert code == 2 and words in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("file", ["../../outside.json", "/etc/passwd", "..", "sub/x.json"])
def test_run_json_cannot_name_files_outside_its_folder(report, run_cli, tmp_path, file):
    (tmp_path / "outside.json").write_text(json.dumps({"kind": "info"}))
    manifest = report / "results" / "run.json"
    run = json.loads(manifest.read_text())
    run["embeddings"][0]["results"]["info"] = file
    manifest.write_text(json.dumps(run))
    code, out, err = run_cli("report", report)
    assert code == 2 and "not inside its folder" in err, err


def test_run_json_naming_a_symlink_out_of_the_folder_is_refused(report, run_cli, tmp_path):
    path, _ = _first_result(report)
    (tmp_path / "elsewhere.json").write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(tmp_path / "elsewhere.json")
    code, out, err = run_cli("report", report)
    assert code == 2 and "not inside its folder" in err, err


def test_the_validator_accepts_every_result_the_checks_write(report):
    """No false alarm: the files `audit all` just wrote read back as they are."""
    import audit.pipeline  # noqa: F401  (registers every result kind)
    from reports.run import read_result

    for path in (report / "results").glob("*.json"):
        read_result(path)


def test_the_validator_fails_on_a_wrong_type_it_would_otherwise_accept():
    """Without the type check, a dict where a string belongs would decode as its repr."""
    import audit.pipeline  # noqa: F401
    from reports.run import validate_result

    data = {"kind": "audit-run", "schema_version": 1, "title": {"not": "a string"}, "embeddings": [],
            "options": {}, "date": ""}
    with pytest.raises(AuditError, match="title should be a string, not an object"):
        validate_result(data, "x")
