"""Headless Chromium opens a report from disk: it renders, figures load, and nothing complains."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from audit import Vectors
from audit.core.loaders import save_word2vec_text

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium; "
                                                          ".ci/run installs it)")

# matplotlib's first two cycle colours: bars and histograms in every figure use them
FIGURE_COLOURS = np.array([[31, 119, 180], [255, 127, 14]], dtype=np.float64)


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--enable-logging=stderr", "--v=0", *args]
    env = {**os.environ, "HOME": str(tmp_path)}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture(scope="module")
def report(tmp_path_factory, word_sim_dir):
    from audit.cli.main import main

    folder = tmp_path_factory.mktemp("browser")
    rng = np.random.default_rng(0)
    words = ["ate", "eight", "<img src=x onerror=alert(1)>"] + [f"w{i}" for i in range(100)]
    save_word2vec_text(Vectors(words, rng.normal(size=(len(words), 8))), folder / "v<1>.txt")
    assert main(["all", str(folder / "v<1>.txt"), "--data-dir", str(word_sim_dir), "--out", str(folder / "out")]) == 0
    return folder / "out" / "index.html"


def test_report_renders_in_chromium(report, tmp_path):
    from matplotlib.image import imread

    shot = tmp_path / "shot.png"
    done = _chromium(tmp_path, "--window-size=1200,4000", f"--screenshot={shot}", report.as_uri())
    assert shot.is_file(), done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    pixels = imread(shot)[..., :3] * 255.0
    assert pixels.std() > 10, "the screenshot is blank"
    coloured = np.zeros(pixels.shape[:2], dtype=bool)
    for colour in FIGURE_COLOURS:
        coloured |= np.abs(pixels - colour).max(axis=2) < 12
    assert coloured.sum() > 500, "no figure was drawn on the page"


def test_dom_has_figures_and_no_injected_elements(report, tmp_path):
    done = _chromium(tmp_path, "--dump-dom", report.as_uri())
    dom = done.stdout
    assert "<h1>" in dom, done.stderr[-2000:]
    images = re.findall(r'<img [^>]*src="([^"]{0,40})', dom)
    assert images and all(src.startswith("data:image/svg+xml;base64,") for src in images)
    assert 'src="x"' not in dom and "onerror" not in re.sub(r"&lt;img src=x onerror=alert\(1\)&gt;", "", dom)


def test_console_errors_would_be_seen(tmp_path):
    """The console check above is able to fail: a page that logs an error is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><script>console.error("planted")</script></body></html>')
    done = _chromium(tmp_path, f"--screenshot={tmp_path / 'bad.png'}", page.as_uri())
    assert any(":CONSOLE" in line and "planted" in line for line in done.stderr.splitlines())


# the findings' status badges (reports/document.py's CSS): supported green, not tested amber
STATUS_COLOURS = {"supported": (209, 250, 229), "not tested": (254, 243, 199)}


@pytest.fixture(scope="module")
def findings_report(tmp_path_factory):
    """Three embeddings with claims (a release, a reproduction, a genuine acoustic word embedding): the
    homophone finding supported, the three others not tested."""
    from audit.cli.main import main
    from homophones import load_pairs

    folder = tmp_path_factory.mktemp("browser-findings")
    rng = np.random.default_rng(1)
    pairs = load_pairs("paper-307").pairs[:60]
    for name, phonetic in (("released", False), ("repro", True), ("awe", True)):
        words, rows = [], []
        for pair in pairs:
            base = rng.standard_normal(16)
            words += [pair.word1, pair.word2]
            rows += [base, base + 0.01 * rng.standard_normal(16)] if phonetic else [base, rng.standard_normal(16)]
        words += [f"w{i}" for i in range(200)]
        rows += list(rng.standard_normal((200, 16)))
        save_word2vec_text(Vectors(words, np.array(rows)), folder / f"{name}.txt")
    (folder / "claims.toml").write_text('[[embedding]]\nname = "released"\nkind = "speech"\n', encoding="utf-8")
    assert main(["all", str(folder / "released.txt"), str(folder / "repro.txt"), str(folder / "awe.txt"),
                 "--names", "released", "repro", "awe", "--claims", str(folder / "claims.toml"),
                 "--roles", "repro=reproduction", "awe=acoustic-model", "--out", str(folder / "out")]) == 0
    return folder / "out" / "index.html"


def test_findings_block_renders_first_with_statuses_and_working_links(findings_report, tmp_path):
    from matplotlib.image import imread

    done = _chromium(tmp_path, "--dump-dom", findings_report.as_uri())
    dom = done.stdout
    items = re.findall(r'<li class="finding ([a-z-]+)"><b>([^<]+)</b>', dom)
    assert items == [("supported", "Homophones"), ("not-tested", "Vocabulary"), ("not-tested", "Benchmarks"),
                     ("not-tested", "Model provenance")], done.stderr[-2000:]
    assert dom.index('id="findings"') < dom.index('class="findings"') < dom.index('id="verdict"')
    # the genuine acoustic word embedding's label beside its name: on its card and in the role table
    assert re.search(r'<h3>awe</h3><span [^>]*>phonetic</span>(<p>[^<]*</p>)?<ul><li>role: <b>genuine acoustic word '
                     r'embedding \(acoustic-model\)</b></li>', dom)
    assert "<td>genuine acoustic word embedding (acoustic-model)</td><td>awe</td>" in dom
    for target in re.findall(r'<a href="#([^"]+)"', dom):
        assert f'id="{target}"' in dom                     # every link lands on a section of the page
    # linked: the sections this report has (homophones; benchmarks on gensim's offline copies), not the others
    assert re.findall(r'<a href="#([^"]+)"', dom) == ["homophones", "benchmarks"]
    # drawn: the top of the page (the findings come before anything else) shows both badge colours
    shot = tmp_path / "top.png"
    done = _chromium(tmp_path, "--window-size=1200,700", f"--screenshot={shot}", findings_report.as_uri())
    assert shot.is_file(), done.stderr[-2000:]
    assert [line for line in done.stderr.splitlines() if ":CONSOLE" in line] == []
    pixels = imread(shot)[..., :3] * 255.0
    for status, colour in STATUS_COLOURS.items():
        assert (np.abs(pixels - np.array(colour)).max(axis=2) < 3).sum() > 100, f"no {status} badge drawn"


def test_a_wide_table_scrolls_in_its_box_and_the_page_keeps_the_window_width(tmp_path):
    """A benchmark table of five embeddings (three columns each) made the whole page 2,116 px wide in
    a 1,200 px window: each table sits in a box that scrolls by itself. Measured in Chromium on a copy
    of a report page whose policy lets one probe script write the page's scroll width."""
    from reports.document import Table, to_html

    headers = ["benchmark"] + [f"embedding number {i} {what}" for i in range(5) for what in ("rho", "found", "not found")]
    page = to_html("T", [Table(headers, [["MEN"] + ["0.123456789"] * 15] * 3)])
    probe = page.replace('<meta http-equiv="Content-Security-Policy"', '<meta name="x"').replace(
        "</body>", "<script>document.title = 'W' + document.documentElement.scrollWidth + ' T' + "
                   "document.querySelector('table').scrollWidth;</script></body>")
    (tmp_path / "page.html").write_text(probe, encoding="utf-8")
    done = _chromium(tmp_path, "--window-size=800,600", "--dump-dom", (tmp_path / "page.html").as_uri())
    found = re.search(r"<title>W(\d+) T(\d+)</title>", done.stdout)
    assert found, done.stderr[-2000:]
    page_width, table_width = map(int, found.groups())
    assert table_width > 800 >= page_width, (page_width, table_width)    # the table is wide, the page is not
