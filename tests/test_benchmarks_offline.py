"""The benchmark copies gensim ships (WS-353, SimLex-999), scored under their own names when the
wordvectors.org files are absent, and labelled as such in the result and the report."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from audit import Vectors
from audit.core.errors import AuditError
from audit.core.loaders import save_word2vec_text
from benchmarks import OFFLINE_COPIES, REGISTRY, evaluate, load_benchmark, load_offline_benchmarks
from benchmarks.datasets import any_file_present, offline_copy_path

GENSIM = Path(importlib.util.find_spec("gensim").submodule_search_locations[0])


def _lines(path: Path) -> list[list[str]]:
    """The copy read by hand: tab-separated, header lines starting with '#'."""
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("copy", OFFLINE_COPIES, ids=lambda c: c.copy_of)
def test_each_copy_is_its_own_entry_with_the_installed_files_checksum(copy):
    path = GENSIM / copy.spec.file
    assert offline_copy_path(copy) == path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == copy.spec.sha256
    assert len(_lines(path)) == copy.spec.pairs
    assert copy.spec.name != copy.copy_of and "gensim test copy" in copy.spec.name
    assert REGISTRY[copy.copy_of].citation in copy.spec.citation and "gensim" in copy.spec.citation
    assert copy.spec.name not in REGISTRY          # the 13 wordvectors.org entries are unchanged


@pytest.mark.parametrize("copy", OFFLINE_COPIES, ids=lambda c: c.copy_of)
def test_the_copies_hold_the_same_pairs_as_the_wordvectors_org_files(copy, word_sim_dir):
    """Independent truth: the copy and the wordvectors.org file rate the same pairs the same."""
    bench = next(b for b in load_offline_benchmarks() if b.name == copy.spec.name)
    assert bench.checksum_ok
    assert sorted(bench.pairs()) == sorted(load_benchmark(copy.copy_of, word_sim_dir).pairs())


def test_offline_scores_equal_scipy_on_the_file_read_by_hand():
    rng = np.random.default_rng(0)
    rows = {}
    for copy in OFFLINE_COPIES:
        for w1, w2, _ in _lines(GENSIM / copy.spec.file):
            for w in (w1.lower(), w2.lower()):
                rows.setdefault(w, rng.standard_normal(12))
    words = sorted(rows)[: int(len(rows) * 0.9)]          # some words missing: the drop policy matters
    vectors = Vectors(words, np.array([rows[w] for w in words]))
    result = evaluate(vectors, offline=True)
    assert [r.name for r in result.results] == [c.spec.name for c in OFFLINE_COPIES]
    assert "gensim" in result.offline and result.data_dir == ""
    present = set(words)
    for copy, row in zip(OFFLINE_COPIES, result.results):
        last = {}
        for w1, w2, score in _lines(GENSIM / copy.spec.file):       # a pair listed twice: the last line wins
            last[(w1.lower(), w2.lower())] = float(score)
        kept = [(a, b, s) for (a, b), s in last.items() if a in present and b in present]
        unit = {w: rows[w] / np.linalg.norm(rows[w]) for w in present}
        cosines = [1.0 if a == b else float(unit[a] @ unit[b]) for a, b, _ in kept]
        assert row.found == len(kept) and row.pairs == len(last)
        assert row.spearman == pytest.approx(spearmanr([s for *_, s in kept], cosines).statistic, abs=1e-12)
        assert row.paper_claim == REGISTRY_FIGURES()[copy.copy_of].paper_claim   # the benchmark's claim beside
        assert row.paper_not_found is None       # the paper's not-found counts are about the other file
        assert row.libri_clean_not_found is None
    # where each copy came from: its name, the installed file and the package's version
    assert result.offline.split("; ") == [f"{c.spec.name}: {offline_copy_path(c)} ({c.package} {version(c.package)})"
                                          for c in OFFLINE_COPIES]


def REGISTRY_FIGURES():
    from benchmarks import speech2vec_figures
    return speech2vec_figures()


def test_offline_refuses_a_selection():
    with pytest.raises(AuditError, match=r"^the offline benchmark copies are scored all together; leave out the "
                                         r"selection\.$"):
        evaluate(Vectors(["a"], np.ones((1, 2))), offline=True, only="MEN")


def test_audit_all_uses_the_copies_only_when_the_files_are_absent(tmp_path, word_sim_dir):
    from audit.cli.main import main

    rng = np.random.default_rng(1)
    words = ["tiger", "cat", "old", "new", "smart", "intelligent", "ate", "eight"] + [f"w{i}" for i in range(50)]
    save_word2vec_text(Vectors(words, rng.standard_normal((len(words), 8))), tmp_path / "v.txt")
    empty = tmp_path / "no-benchmarks"
    empty.mkdir()
    assert not any_file_present(empty) and any_file_present(word_sim_dir)
    assert main(["all", str(tmp_path / "v.txt"), "--data-dir", str(empty), "--out", str(tmp_path / "off")]) == 0
    result = json.loads(next((tmp_path / "off" / "results").glob("*.benchmarks.json")).read_text(encoding="utf-8"))
    assert [r["name"] for r in result["results"]] == ["WS-353 (gensim test copy)", "SimLex-999 (gensim test copy)"]
    assert "wordsim353.tsv" in result["offline"]
    report = (tmp_path / "off" / "report.md").read_text(encoding="utf-8")
    assert "| WS-353 (gensim test copy) |" in report and "| SimLex-999 (gensim test copy) |" in report
    assert main(["all", str(tmp_path / "v.txt"), "--data-dir", str(word_sim_dir), "--out", str(tmp_path / "on")]) == 0
    result = json.loads(next((tmp_path / "on" / "results").glob("*.benchmarks.json")).read_text(encoding="utf-8"))
    assert result["offline"] == "" and len(result["results"]) == 13
