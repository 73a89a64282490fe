"""Reports: `audit all` writes a report, `audit report` rebuilds it byte for byte, every number
shown traces to a result JSON field, and input-derived strings are escaped."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from audit import Vectors
from audit.core.loaders import save_word2vec_text

EVIL_WORD = "<img src=x onerror=alert(1)>"
HOMOPHONE_WORDS = ["ate", "eight", "meat", "meet", "sea", "see", "tale", "tail", "know", "no", "peace", "piece"]


def _vectors(seed: int, words: list[str], dim: int = 16) -> Vectors:
    rng = np.random.default_rng(seed)
    return Vectors(words, rng.normal(size=(len(words), dim)))


@pytest.fixture(scope="module")
def audited(tmp_path_factory, word_sim_dir):
    """One `audit all` run over two small embeddings, one with a hostile word and file name."""
    from audit.cli.main import main

    folder = tmp_path_factory.mktemp("reports")
    words = HOMOPHONE_WORDS + [EVIL_WORD, "tiger", "cat", "car", "train"] + [f"filler{i}" for i in range(150)]
    first = folder / "evil<name>.txt"
    second = folder / "plain.txt"
    hostile = _vectors(1, words)
    matrix = np.array(hostile.matrix)
    matrix[words.index(EVIL_WORD)] = matrix[words.index("ate")] * 1.01   # ate's nearest neighbour
    save_word2vec_text(Vectors(words, matrix), first)
    save_word2vec_text(_vectors(2, words), second)
    out = folder / "out"
    code = main(["all", str(first), str(second), "--names", "evil <b>one</b>", "plain", "--data-dir",
                 str(word_sim_dir), "--out", str(out), "--json", str(folder / "run.json")])
    assert code == 0
    return out


def test_all_json_is_the_run_manifest(audited):
    import json

    written = json.loads((audited.parent / "run.json").read_text(encoding="utf-8"))
    assert written == json.loads((audited / "results" / "run.json").read_text(encoding="utf-8"))
    assert written["kind"] == "audit-run"
    assert [e["name"] for e in written["embeddings"]] == ["evil <b>one</b>", "plain"]


def test_all_writes_every_output(audited):
    assert (audited / "index.html").is_file() and (audited / "report.md").is_file()
    results = sorted(p.name for p in (audited / "results").glob("*.json"))
    assert "run.json" in results
    assert any(name.endswith(".info.json") for name in results)
    assert any(name.endswith(".benchmarks.json") for name in results)
    figures = list((audited / "figures").glob("*.svg"))
    assert figures, "at least the benchmark figure is drawn"
    # the Markdown links exactly the figures that exist
    linked = set(re.findall(r"\(figures/([^)]+\.svg)\)", (audited / "report.md").read_text()))
    assert linked == {p.name for p in figures}
    assert not list(audited.parent.glob(".out.*")), "no staging folder is left behind"


def test_report_rebuilds_identical_files(audited, run_cli, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(audited, copy)
    for path in [copy / "index.html", copy / "report.md", *copy.glob("figures/*")]:
        path.unlink()
    code, out, err = run_cli("report", copy)
    assert code == 0, err
    for relative in ["index.html", "report.md", *[f"figures/{p.name}" for p in audited.glob("figures/*")]]:
        assert (copy / relative).read_bytes() == (audited / relative).read_bytes(), relative


def test_input_strings_are_escaped_in_html(audited):
    page = (audited / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page
    assert "<b>one</b>" not in page
    assert html.escape("evil <b>one</b>") in page
    assert html.escape(str(audited.parent / "evil<name>.txt")) in page
    # the only tags are the report's own
    tags = set(re.findall(r"<([a-zA-Z0-9]+)", page))
    assert tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "div", "section", "span",
                    "p", "ul", "li", "b", "table", "caption", "thead", "tbody", "tr", "th", "td", "figure", "img",
                    "figcaption", "a"}
    # the only links are the findings' links to the report's own sections
    assert set(re.findall(r'<a href="([^"]*)"', page)) <= {"#homophones", "#vocabulary", "#benchmarks", "#provenance"}
    assert page.count("<a ") == len(re.findall(r'<a href="#', page))
    # the hostile word is ate's nearest neighbour: it is on the page, as text
    assert html.escape(EVIL_WORD) in page
    assert "<script" not in page and "http://" not in page.split("</style>")[1].replace("http://www.w3.org", "")


def test_hostile_word_is_escaped_when_shown(tmp_path):
    """A per-pair result whose word is an HTML tag renders as text in HTML and Markdown."""
    import dataclasses

    from homophones import check, load_pairs
    from reports import render

    checked = check(_vectors(3, HOMOPHONE_WORDS + [f"filler{i}" for i in range(20)]), load_pairs("paper-307"))
    row = dataclasses.replace(checked.pair_table[0], word1=EVIL_WORD, word2="b", similarity=0.5)
    result = dataclasses.replace(checked, pair_table=[row]).to_dict()   # a valid result whose pair is hostile
    page = render([result], fmt="html")
    assert EVIL_WORD not in page and html.escape(EVIL_WORD) in page
    markdown = render([result], fmt="md")
    assert EVIL_WORD not in markdown and r"\<img src=x onerror=alert(1)\>" in markdown


def test_render_is_deterministic_and_skips_absent_sections(audited):
    from reports import render

    first, second = render(audited, fmt="html"), render(audited, fmt="html")
    assert first == second
    markdown = render(audited, fmt="md")
    assert "Word-similarity benchmarks" in markdown
    assert "Vocabulary provenance" not in markdown        # no --corpus-root: the section is absent
    assert "Reproduction training" not in markdown


def test_report_on_a_folder_without_results_is_a_clear_error(run_cli, tmp_path):
    code, out, err = run_cli("report", tmp_path)
    assert code == 2 and "no result JSON" in err and "Traceback" not in err


def test_all_refuses_a_foreign_non_empty_out_folder(run_cli, tmp_path):
    path = tmp_path / "v.txt"
    save_word2vec_text(_vectors(0, ["a", "b", "c"]), path)
    (tmp_path / "precious.txt").write_text("keep me")
    code, out, err = run_cli("all", path, "--out", tmp_path)
    assert code == 2 and "not an audit report" in err
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_all_failure_leaves_no_partial_report(run_cli, tmp_path):
    good = tmp_path / "good.txt"
    save_word2vec_text(_vectors(0, ["a", "b", "c"]), good)
    code, out, err = run_cli("all", good, tmp_path / "missing.txt", "--out", tmp_path / "out")
    assert code == 2 and "no such file" in err
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["good.txt"]
