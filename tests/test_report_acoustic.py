"""The report's acoustic section (issue 19 item 1): Kamper's samediff (SW / SWSP / SWDP AP and
breakeven, best F1 with its threshold) and the cross-view block, each number its own JSON field.

Read back through issue 18's cell-by-cell check (tests/test_report_traceability.py), which maps
every acoustic cell to its field; one changed number in the acoustic section is caught each time.
Old results written before the fields existed still render; strings are escaped.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit import Vectors
from audit.core.loaders import save_word2vec_text
from test_report_traceability import (Results, altered, check, markdown_tables,  # noqa: E402  (tests/ is on the path)
                                      numeric_cell_positions)

WORDS = ["ate", "eight", "meat", "meet", "sea", "see"]
SPOKEN = WORDS[:5]


def _instances(seed: int, noise: float, speakers: bool = True) -> dict:
    """Five spoken words, 3 speakers x 3 tokens each, around one centre per word."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(SPOKEN), 8))
    labels = np.repeat(np.array(SPOKEN), 9)
    embeddings = centres[np.repeat(np.arange(len(SPOKEN)), 9)] + noise * rng.normal(size=(len(labels), 8))
    arrays = {"embeddings": embeddings, "labels": labels}
    if speakers:
        arrays["speakers"] = np.array([f"s{i % 3}" for i in range(len(labels))])
    return arrays


def _folder(root, name: str, seed: int, noise: float, speakers: bool = True):
    folder = root / name
    folder.mkdir()
    rng = np.random.default_rng(seed + 100)
    words = WORDS + [f"filler{i}" for i in range(30)]
    save_word2vec_text(Vectors(words, rng.normal(size=(len(words), 8))), folder / "vectors.txt")
    np.savez(folder / "instances.npz", **_instances(seed, noise, speakers))
    return folder / "vectors.txt"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """`audit all` over two reproductions' outputs (instances with speakers), one without speakers."""
    from audit.cli.main import main

    root = tmp_path_factory.mktemp("acoustic-report")
    paths = [_folder(root, "clear", 1, 0.4), _folder(root, "noisy", 2, 2.0), _folder(root, "mute", 3, 0.6, False)]
    out = root / "out"
    assert main(["all", *map(str, paths), "--names", "clear", "noisy", "mute", "--out", str(out)]) == 0
    return out


def _acoustic_section(markdown: str) -> str:
    """The acoustic section's text (the instance MDS table of these reports is not issue 19's)."""
    start = markdown.index("## Acoustic word discrimination")
    end = markdown.find("\n## ", start + 1)
    return markdown[start:] if end < 0 else markdown[start:end]


def traced(markdown: str, results: Results) -> tuple[list[str], int]:
    """Issue 18's cell-by-cell check over the acoustic section."""
    return check(_acoustic_section(markdown), results)


def _table(markdown: str, first_headers: tuple[str, ...]):
    found = [(h, rows) for h, rows in markdown_tables(markdown) if tuple(h[:len(first_headers)]) == first_headers]
    assert len(found) == 1, [h for h, _ in markdown_tables(markdown)]
    return found[0]


def _json(out, name: str) -> dict:
    return Results(out / "results").of(name, "acoustic")


def test_samediff_rows_show_their_fields(report):
    markdown = (report / "report.md").read_text(encoding="utf-8")
    problems, checked = traced(markdown, Results(report / "results"))
    assert not problems, "\n".join(problems[:20])
    header, rows = _table(markdown, ("embedding", "measure", "value"))
    assert header == ["embedding", "measure", "value", "chance", "same-word pairs scored", "same-word pairs in all"]
    clear = _json(report, "clear")
    kamper, chance = clear["samediff"], clear["same_different"]["chance"]
    mine = {row[1].split(" (")[0]: row for row in rows if row[0] == "clear"}
    # SWDP first, named as the honest figure; figures and chance with four decimals, by hand
    first = next(row for row in rows if row[0] == "clear")
    assert first[1].startswith("SWDP AP") and "honest" in first[1]
    assert mine["SWDP AP"][2:] == [f"{kamper['swdp']['average_precision']:.4f}", f"{chance:.4f}",
                                   f"{kamper['swdp']['positive_pairs_scored']:,}",
                                   f"{kamper['swdp']['positive_pairs_total']:,}"]
    assert mine["SWSP AP"][2] == f"{kamper['swsp']['average_precision']:.4f}"
    assert mine["SW precision-recall breakeven"][2] == f"{kamper['sw']['precision_recall_breakeven']:.4f}"
    assert mine["SWDP precision-recall breakeven"][2] == f"{kamper['swdp']['precision_recall_breakeven']:.4f}"
    assert mine["best F1"][2:4] == [f"{kamper['best_f1']['f1']:.4f}", f"{2 * chance / (1 + chance):.4f}"]
    assert mine["best F1 threshold"][2:4] == [f"{kamper['best_f1']['threshold']:.4f}", "-"]
    assert "pairs at or above" in mine["best F1 threshold"][1]
    # 3 speakers x 3 tokens per word: 36 same-word pairs per word, 9 of them same-speaker
    assert mine["SWSP AP"][4:] == [str(5 * 9)] * 2 and mine["SWDP AP"][4:] == [str(5 * 27)] * 2
    # a clearly clustered embedding beats a noisy one on SWDP, and the report shows it
    noisy = {row[1].split(" (")[0]: row for row in rows if row[0] == "noisy"}
    assert float(mine["SWDP AP"][2]) > float(noisy["SWDP AP"][2])
    assert checked > 50


def test_instances_without_speakers_have_no_swsp_or_swdp_rows(report):
    markdown = (report / "report.md").read_text(encoding="utf-8")
    _, rows = _table(markdown, ("embedding", "measure", "value"))
    mute = [row[1].split(" (")[0] for row in rows if row[0] == "mute"]
    assert mute == ["SW AP", "SW precision-recall breakeven", "best F1", "best F1 threshold", "best F1 precision",
                    "best F1 recall"]
    assert _json(report, "mute")["samediff"]["swdp"] is None
    assert "mute: the instances record no speakers, so SWSP and SWDP" in markdown
    assert "clear: the instances record no speakers" not in markdown


def test_one_changed_number_in_the_acoustic_section_is_caught(report):
    markdown = _acoustic_section((report / "report.md").read_text(encoding="utf-8"))
    results = Results(report / "results")
    spans = numeric_cell_positions(markdown)
    assert len(spans) > 50
    missed = []
    for a, b in spans:
        if not check(markdown[:a] + altered(markdown[a:b]) + markdown[b:], results)[0]:
            missed.append(markdown[a:b])
    assert not missed


def _rewrite_acoustic(folder, name: str, change) -> None:
    """Replace one embedding's acoustic result file in a report folder by ``change(data)``."""
    run = json.loads((folder / "results" / "run.json").read_text(encoding="utf-8"))
    entry = next(e for e in run["embeddings"] if e["name"] == name)
    path = folder / "results" / entry["results"]["acoustic"]
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(change(data)), encoding="utf-8")


@pytest.fixture()
def copied(report, tmp_path):
    import shutil

    shutil.copytree(report, tmp_path / "copy")
    return tmp_path / "copy"


def test_old_results_without_the_new_fields_still_render(copied, run_cli):
    def old(data):
        data.pop("samediff")
        data.pop("cross_view")
        return data

    for name in ("clear", "noisy", "mute"):
        _rewrite_acoustic(copied, name, old)
    code, out, err = run_cli("report", copied)
    assert code == 0, err
    markdown = (copied / "report.md").read_text(encoding="utf-8")
    assert "## Acoustic word discrimination" in markdown and "| same-different AP (cosine) |" in markdown
    assert "samediff" not in markdown and "SWDP" not in markdown
    assert not [h for h, _ in markdown_tables(markdown) if h[:3] == ["embedding", "measure", "value"]]
    assert not traced(markdown, Results(copied / "results"))[0]
    assert "Acoustic word discrimination" in (copied / "index.html").read_text(encoding="utf-8")


def test_one_old_result_beside_new_ones(copied, run_cli):
    """An old result among new ones: only the new ones get samediff rows."""
    _rewrite_acoustic(copied, "noisy", lambda d: {k: v for k, v in d.items() if k not in ("samediff", "cross_view")})
    code, out, err = run_cli("report", copied)
    assert code == 0, err
    markdown = (copied / "report.md").read_text(encoding="utf-8")
    _, rows = _table(markdown, ("embedding", "measure", "value"))
    assert {row[0] for row in rows} == {"clear", "mute"}
    assert not traced(markdown, Results(copied / "results"))[0]


def _with_cross_view(folder, name: str, written_name: str) -> dict:
    """The acoustic result of ``name`` recomputed with a written-word embedding (two of its words
    missing from it), written in place of the report's file; returns its cross_view."""
    from audit.checks.acoustic import audit_instances, make_instances

    seed = {"clear": 1, "noisy": 2}[name]
    arrays = _instances(seed, 0.4 if name == "clear" else 2.0)
    instances = make_instances(arrays["embeddings"], arrays["labels"], arrays["speakers"])
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(SPOKEN), 8))       # the same centres _instances drew first
    written = Vectors(SPOKEN[:3] + ["other"], np.vstack([centres[:3], rng.normal(size=(1, 8))]))
    result = audit_instances(instances, written=written, seed=0).to_dict()
    result["cross_view"]["written"]["name"] = written_name

    def replace(data):
        data["cross_view"] = result["cross_view"]
        return data

    _rewrite_acoustic(folder, name, replace)
    return result["cross_view"]


def test_cross_view_block_shows_its_fields(copied, run_cli):
    cv = _with_cross_view(copied, "clear", "agwe.txt")
    code, out, err = run_cli("report", copied)
    assert code == 0, err
    markdown = (copied / "report.md").read_text(encoding="utf-8")
    results = Results(copied / "results")
    assert not traced(markdown, results)[0]
    header, rows = _table(markdown, ("embedding", "written-word embedding", "cross-view AP"))
    assert len(rows) == 1 and rows[0][:2] == ["clear", "agwe.txt"]
    shown = dict(zip(header, rows[0]))
    assert cv["words"] == 3 and cv["words_missing"] == 2 and cv["tokens"] == 27 and cv["tokens_missing"] == 18
    assert shown["cross-view AP"] == f"{cv['average_precision']:.4f}" and shown["chance"] == f"{1 / 3:.4f}"
    assert shown["acoustic -> written mAP"] == f"{cv['acoustic_to_written']:.4f}"
    assert shown["written -> acoustic mAP"] == f"{cv['written_to_acoustic']:.4f}"
    assert [shown[c] for c in ("words", "words missing", "tokens", "tokens missing", "pairs scored",
                               "pairs in all")] == ["3", "2", "27", "18", str(27 * 3), str(27 * 3)]
    assert "Audited words without a written embedding (examples): meet, sea" in markdown
    # every number of the block is checked: change each, and the check names it
    start = markdown.index("| embedding | written-word embedding |")
    end = markdown.index("\n\n", start)
    spans = [(a, b) for a, b in numeric_cell_positions(markdown) if start <= a < end]
    assert len(spans) == 10
    for a, b in spans:
        assert traced(markdown[:a] + altered(markdown[a:b]) + markdown[b:], results)[0], markdown[a:b]


def test_without_agwe_there_is_no_cross_view_block(report):
    markdown = (report / "report.md").read_text(encoding="utf-8")
    assert "written-word embedding" not in _acoustic_section(markdown)
    assert all(_json(report, n)["cross_view"] is None for n in ("clear", "noisy", "mute"))


def test_strings_are_escaped_in_html_and_markdown(copied, run_cli):
    hostile = '<script>alert("x")</script>|*_'
    cv = _with_cross_view(copied, "clear", hostile)
    _rewrite_acoustic(copied, "clear", lambda d: {**d, "cross_view": {**cv, "missing_examples": ["<b>bold</b>"],
                                                                      "match": "<i>how</i>"}})
    code, out, err = run_cli("report", copied)
    assert code == 0, err
    page = (copied / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "<b>bold" not in page and "<i>how" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    markdown = (copied / "report.md").read_text(encoding="utf-8")
    assert r'\<script\>alert("x")\</script\>\|\*\_' in markdown and "<script>" not in markdown
    _, rows = _table(markdown, ("embedding", "written-word embedding", "cross-view AP"))
    assert rows[0][1] == hostile                        # the cell reads back as the literal name
    assert not traced(markdown, Results(copied / "results"))[0]


def test_the_best_f1_row_says_what_it_is(report):
    """It read 'best F1 (seed 000's figure)', which a reader cannot interpret."""
    _, rows = _table((report / "report.md").read_text(encoding="utf-8"), ("embedding", "measure", "value"))
    labels = {row[1] for row in rows if row[1].startswith("best F1 (")}
    assert labels == {"best F1 (the highest F1 over all cosine thresholds, as seed paper 000 reports it)"}


def test_a_variant_without_pairs_shows_no_chance(tmp_path):
    """One speaker: no same-word pair of different speakers, so the SWDP rows show '-' for the
    value and the chance both (the chance was printed beside a missing value)."""
    from audit.cli.main import main

    folder = tmp_path / "one"
    folder.mkdir()
    words = WORDS + [f"filler{i}" for i in range(30)]
    save_word2vec_text(Vectors(words, np.random.default_rng(5).normal(size=(len(words), 8))), folder / "vectors.txt")
    arrays = _instances(4, 0.4)
    np.savez(folder / "instances.npz", **{**arrays, "speakers": np.array(["s0"] * len(arrays["labels"]))})
    assert main(["all", str(folder / "vectors.txt"), "--names", "one", "--out", str(tmp_path / "out")]) == 0
    _, rows = _table((tmp_path / "out" / "report.md").read_text(encoding="utf-8"), ("embedding", "measure", "value"))
    shown = {row[1].split(" (")[0]: row for row in rows}
    chance = f"{_json(tmp_path / 'out', 'one')['same_different']['chance']:.4f}"
    for name in ("SWDP AP", "SWDP precision-recall breakeven"):
        assert shown[name][2:] == ["-", "-", "0", "0"], shown[name]
    for name in ("SWSP AP", "SW AP", "SW precision-recall breakeven"):     # every same-word pair is same-speaker
        assert shown[name][3] == chance and shown[name][2] != "-", shown[name]


def test_the_caption_says_what_part_of_a_file_was_audited():
    """A re-reviewer's case: a result of `--speakers x,y --keep-singletons` rendered like one of the
    whole file. The caption now says which speakers and how single-token words were treated."""
    from types import SimpleNamespace

    from audit.checks import acoustic
    from reports.other_sections import acoustic_section

    arrays = _instances(3, 0.5)
    speakers = np.array(["x", "y", "z"])[np.arange(len(arrays["labels"])) % 3]
    instances = acoustic.make_instances(arrays["embeddings"], arrays["labels"], speakers)
    part = acoustic.audit_instances(instances, speakers=["x", "y"], keep_singletons=True)
    whole = acoustic.audit_instances(instances)
    entries = [SimpleNamespace(name="part", results={"acoustic": part}),
               SimpleNamespace(name="whole", results={"acoustic": whole})]
    data = SimpleNamespace(having=lambda kind: [e for e in entries if kind in e.results])
    caption = acoustic_section(data)[1].caption
    assert caption.endswith(" Audited: part: only the tokens of speaker(s) x, y; single-token words kept as "
                            "different-word partners.")
    entries.pop(0)
    assert "Audited" not in acoustic_section(data)[1].caption
