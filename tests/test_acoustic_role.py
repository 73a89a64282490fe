"""The role of a genuine acoustic word embedding (issue 19 item 3): `audit all` infers it for an AWE
run's final vectors (its history says kind awe-training-history), accepts it with --roles
NAME=acoustic-model, and the report shows its label, "genuine acoustic word embedding", beside the
name on the verdict card and in the findings' role table (Markdown and HTML)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from audit import Vectors
from audit.core.claims import load_claims
from audit.core.loaders import save_word2vec_text
from audit.pipeline import CHECKS, AuditOptions, EmbeddingAudit, infer_role, run_all
from homophones import load_pairs

PAIRS = load_pairs("paper-307").pairs[:60]
CHECKS_USED = tuple(c for c in CHECKS if c.kind in ("info", "homophones"))
LABEL = "genuine acoustic word embedding (acoustic-model)"


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


def _run_folder(folder, kind):
    """A training run's layout: vectors.txt, epochs/epoch_000.txt and a history.json of ``kind``
    (only its kind is read by the role inference)."""
    (folder / "epochs").mkdir(parents=True)
    save_word2vec_text(_vectors(True, 2), folder / "vectors.txt")
    save_word2vec_text(_vectors(True, 3), folder / "epochs" / "epoch_000.txt")
    if kind is not None:
        (folder / "history.json").write_text(kind if kind.startswith("not") else json.dumps({"kind": kind}),
                                             encoding="utf-8")
    return folder


def _role(path, name="x", **options):
    return infer_role(EmbeddingAudit(name=name, path=str(path), sha256=""), AuditOptions(**options))


def test_the_awe_history_kind_is_what_the_inference_reads():
    from reproductions.awe.history import AweHistory
    from reproductions.speech2vec.history import TrainingHistory

    assert AweHistory.kind == "awe-training-history" and TrainingHistory.kind == "training-history"


@pytest.mark.parametrize("kind, final, first", [
    ("awe-training-history", "acoustic-model", "other"),      # an AWE run: the trained vectors, its init is no
    ("training-history", "reproduction", "random-init"),      # reproduction's random init
    ("not json {", "reproduction", "random-init"),            # unreadable history: as before, a reproduction
    ("[1, 2]", "reproduction", "random-init"),                # a JSON list: no kind
    (None, "other", "random-init"),                           # no history beside the final vectors
])
def test_roles_inferred_from_the_run_folder(tmp_path, kind, final, first):
    folder = _run_folder(tmp_path / "run", kind if kind != "[1, 2]" else None)
    if kind == "[1, 2]":
        (folder / "history.json").write_text(kind, encoding="utf-8")
    assert _role(folder / "vectors.txt") == final
    assert _role(folder / "epochs" / "epoch_000.txt") == first
    assert _role(folder / "vectors.txt", roles={"x": "released"}) == "released"     # given beats inferred


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """`audit all` of a release claimed to be speech and an AWE run's final vectors, role inferred."""
    folder = tmp_path_factory.mktemp("acoustic-role")
    save_word2vec_text(_vectors(False, 1), folder / "released.txt")
    awe = _run_folder(folder / "awe-run", "awe-training-history")
    (folder / "claims.toml").write_text('[[embedding]]\nname = "released"\nkind = "speech"\n', encoding="utf-8")
    out = folder / "out"
    run_all([folder / "released.txt", awe / "vectors.txt"], out, AuditOptions(claims=load_claims(folder / "claims.toml")),
            names=["released", "awe"], checks=CHECKS_USED, progress=lambda m: None)
    return out


def test_audit_all_infers_the_role_and_the_homophone_finding_uses_it(report):
    data = json.loads((report / "results" / "findings.json").read_text(encoding="utf-8"))
    assert data["roles"] == {"released": "released", "awe": "acoustic-model"}
    assert data["labels"]["acoustic-model"] == "genuine acoustic word embedding"
    homophones = next(f for f in data["findings"] if f["key"] == "homophones")
    assert homophones["status"] == "supported"            # no reproduction: the acoustic embedding is the comparison
    assert "awe, a genuine acoustic word embedding, is phonetic with" in homophones["sentence"]


def test_the_report_shows_the_label_beside_the_name(report):
    markdown = (report / "report.md").read_text(encoding="utf-8")
    card = markdown[markdown.index("**awe: "):]
    assert card.split("\n- ")[1] == f"role: {LABEL}"              # the card's first fact
    assert f"| {LABEL} | awe |" in markdown                        # the findings' role table
    assert "| released embedding under audit (released) | released |" in markdown
    html = (report / "index.html").read_text(encoding="utf-8")
    assert re.search(r"<h3>awe</h3><span[^>]*>phonetic</span>(<p>[^<]*</p>)?<ul><li>role: <b>"
                     + re.escape(LABEL) + "</b></li>", html)
    assert f"<td>{LABEL}</td><td>awe</td>" in html


def test_the_report_rerenders_the_label_from_the_json(report, run_cli, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(report, copy)
    (copy / "report.md").unlink()
    (copy / "index.html").unlink()
    code, _, err = run_cli("report", copy)
    assert code == 0, err
    assert (copy / "report.md").read_bytes() == (report / "report.md").read_bytes()


def test_roles_option_accepts_acoustic_model_and_names_it_in_its_errors(tmp_path, run_cli):
    save_word2vec_text(_vectors(True, 4), tmp_path / "a.txt")
    save_word2vec_text(_vectors(False, 5), tmp_path / "b.txt")
    code, out, err = run_cli("all", tmp_path / "a.txt", tmp_path / "b.txt", "--names", "awe", "plain",
                             "--roles", "awe=acoustic-model", "--out", tmp_path / "out")
    assert code == 0, err
    data = json.loads((tmp_path / "out" / "results" / "findings.json").read_text(encoding="utf-8"))
    assert data["roles"]["awe"] == "acoustic-model"
    assert f"- role: {LABEL}" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    code, _, err = run_cli("all", tmp_path / "a.txt", "--names", "a", "--roles", "a=acoustic", "--out", tmp_path / "bad")
    assert code == 2 and "acoustic-model" in err and "Traceback" not in err
    assert not (tmp_path / "bad").exists()


def test_two_embeddings_inferred_to_one_single_role_are_refused_before_any_work(tmp_path):
    """Two reproduction runs' vectors (or their two epoch_000 files) were both inferred as the
    reproduction, and the findings silently compared the first: refused with the remedy, nothing
    written; --roles naming one of them settles it."""
    from audit.core.errors import AuditError

    first = _run_folder(tmp_path / "a", "training-history")
    second = _run_folder(tmp_path / "b", "training-history")
    out = tmp_path / "report"
    for paths, role in (([first / "vectors.txt", second / "vectors.txt"], "reproduction"),
                        ([first / "epochs" / "epoch_000.txt", second / "epochs" / "epoch_000.txt"], "random-init")):
        with pytest.raises(AuditError, match=f"both 'one' and 'two' would be the {role} .* --roles two=other"):
            run_all(paths, out, names=["one", "two"], checks=CHECKS_USED, progress=lambda m: None)
        assert not out.exists()
    outcome = run_all([first / "vectors.txt", second / "vectors.txt"], out, AuditOptions(roles={"two": "other"}),
                      names=["one", "two"], checks=CHECKS_USED, progress=lambda m: None)
    assert outcome.out == out and (out / "report.md").is_file()
