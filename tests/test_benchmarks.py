"""Word-similarity benchmarks: registry, parsing, Spearman, missing-word policies, CLI.

Truth comes from outside our code: the files' own bytes and line counts, scipy.stats.spearmanr,
an independent pure-Python wordvectors.org-style Spearman, values computed by hand, the
paper's Tables 6 and 7, and invariances.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.stats

from audit import AuditError, Vectors
from audit.core.loaders import save_word2vec_text
from audit.core.results import load_result
from benchmarks import (REGISTRY, average_ranks, benchmark_pairs, evaluate, load_benchmark, parse_pairs,
                        speech2vec_figures, spearman)

PAPER_ORDER = ["MC-30", "MEN", "MTurk-287", "MTurk-771", "RG-65", "Rare-Word", "SimLex-999", "SimVerb-3500",
               "Verb-143", "WS-353", "WS-353-REL", "WS-353-SIM", "YP-130"]


# ----------------------------------------------------------------------------- helpers
def wordvectors_org_rho(gold, auto):
    """Independent Spearman as wordvectors.org computes it: average ranks by scanning, Pearson on ranks."""
    def ranks(values):
        ordered = sorted(values, reverse=True)
        out = []
        for value in values:
            positions = [i + 1 for i, other in enumerate(ordered) if other == value]
            out.append(sum(positions) / len(positions))
        return out
    x, y = ranks(list(gold)), ranks(list(auto))
    mx, my = sum(x) / len(x), sum(y) / len(y)
    num = sum((a - mx) * (b - my) for a, b in zip(x, y))
    return num / math.sqrt(sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y))


def random_vectors_for(word_sim_dir, seed=0, keep_every=1, dim=20):
    words = sorted({w for pairs in benchmark_pairs(word_sim_dir).values() for a, b, _ in pairs for w in (a, b)})
    words = [w for i, w in enumerate(words) if i % keep_every] if keep_every > 1 else words
    rng = np.random.default_rng(seed)
    return Vectors(words, rng.standard_normal((len(words), dim)))


def write_benchmark(folder, file_name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file_name).write_bytes(text.encode("utf-8"))
    return folder


# ----------------------------------------------------------------------------- registry
def test_registry_is_in_the_papers_order_and_matches_table_7():
    assert list(REGISTRY) == PAPER_ORDER
    figures = speech2vec_figures()
    assert list(figures) == PAPER_ORDER
    # Table 7 and Table 6 of the reality-check paper, read off the paper text
    assert (figures["MC-30"].paper_claim, figures["MC-30"].rc_sgd_500_epoch, figures["MC-30"].rc_adam_500_epoch) \
        == (0.85, 0.24, -0.28)
    assert figures["SimVerb-3500"].paper_claim == 0.16
    assert (figures["Rare-Word"].paper_not_found, figures["Rare-Word"].libri_clean_not_found) == (783, 1027)
    assert (figures["MEN"].paper_not_found, figures["MEN"].libri_clean_not_found) == (122, 231)
    assert figures["MC-30"].paper_not_found is None  # Table 6 has no MC-30 row
    for spec in REGISTRY.values():
        assert spec.url.endswith("/data/word-sim/" + spec.file) and spec.url.startswith("https://")
        assert spec.kind in ("similarity", "relatedness") and spec.citation


def test_registered_checksums_and_pair_counts_match_the_files(word_sim_dir):
    for spec in REGISTRY.values():
        raw = (word_sim_dir / spec.file).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == spec.sha256, spec.name
        # count pair lines independently: non-blank lines, whatever the line endings
        assert sum(1 for line in raw.decode().splitlines() if line.strip()) == spec.pairs, spec.name
        bench = load_benchmark(spec.name, word_sim_dir)
        assert len(bench) == spec.pairs and bench.checksum_ok
        low, high = spec.score_scale
        assert low <= bench.scores.min() and bench.scores.max() <= high, spec.name


def test_lookup_accepts_case_and_file_names_and_suggests_close_names():
    assert REGISTRY["simlex999"].name == "SimLex-999"
    assert REGISTRY["EN-SIMLEX-999.txt"].name == "SimLex-999"
    assert "ws_353_sim" in REGISTRY and "nonsense" not in REGISTRY
    with pytest.raises(AuditError, match="did you mean SimLex-999"):
        REGISTRY["simlx-999"]
    with pytest.raises(AuditError, match="no benchmark called 'xyzzy'"):
        REGISTRY.select("MEN,xyzzy")
    assert [s.name for s in REGISTRY.select(["yp-130", "MEN"])] == ["MEN", "YP-130"]  # registry order


# ----------------------------------------------------------------------------- parsing and files
def test_parsing_accepts_crlf_spaces_tabs_blank_lines_and_no_final_newline():
    expected = (["old", "smart"], ["new", "intelligent"], [1.58, 9.2])
    variants = ["old\tnew\t1.58\nsmart\tintelligent\t9.2\n",
                "old\tnew\t1.58\r\nsmart\tintelligent\t9.2\r\n",
                "old new 1.58\nsmart  intelligent   9.2",
                "\ufeffold \t new\t 1.58\r\n\r\n  smart\tintelligent\t9.2"]
    for text in variants:
        assert parse_pairs(text) == expected, repr(text)


@pytest.mark.parametrize("text, message", [("a b c 1\n", "line 1: expected"), ("a b\n", "found 2 fields"),
                                           ("a b 1\nc d high\n", "line 2: the score 'high'"),
                                           ("a b nan\n", "not finite"), ("\n \n", "no word pairs")])
def test_parsing_rejects_malformed_lines(text, message):
    with pytest.raises(AuditError, match=message):
        parse_pairs(text, "x.txt")


def test_files_are_found_in_dir_or_dir_word_sim_and_lowercased_by_default(word_sim_dir):
    direct = load_benchmark("WS-353", word_sim_dir)
    nested = load_benchmark("WS-353", word_sim_dir.parent)
    assert direct is nested  # same file, same cached object
    assert "jerusalem" in direct.left and "Jerusalem" not in direct.left
    kept = load_benchmark("WS-353", word_sim_dir, lowercase=False)
    assert "Jerusalem" in kept.left and not kept.lowercase
    assert np.array_equal(kept.scores, direct.scores)
    pairs = benchmark_pairs(word_sim_dir, only="MC-30")
    assert list(pairs) == ["MC-30"] and pairs["MC-30"][0] == ("car", "automobile", 3.92)


def test_missing_data_gives_one_sentence_with_the_fetch_command(tmp_path):
    with pytest.raises(AuditError, match="does not exist.*audit data fetch benchmarks.*--data-dir"):
        load_benchmark("MEN", tmp_path / "nowhere")
    with pytest.raises(AuditError, match="EN-MEN-TR-3k.txt .*neither.*audit data fetch benchmarks"):
        load_benchmark("MEN", tmp_path)


def test_the_file_cache_notices_a_replaced_file(tmp_path):
    folder = write_benchmark(tmp_path, "EN-RG-65.txt", "a b 1\nc d 2\n")
    first = load_benchmark("RG-65", folder)
    assert load_benchmark("RG-65", folder) is first
    write_benchmark(tmp_path, "EN-RG-65.txt", "a b 1\nc d 2\ne f 3\n")
    second = load_benchmark("RG-65", folder)
    assert len(second) == 3 and not second.checksum_ok


# ----------------------------------------------------------------------------- Spearman
def test_spearman_matches_the_wordvectors_org_algorithm_on_a_tie_heavy_fixture():
    rng = np.random.default_rng(7)
    gold = rng.integers(0, 5, size=300).astype(float)      # 5 distinct values: big tie groups
    auto = np.round(rng.normal(size=300), 1) + 0.3 * gold   # rounded: many ties here too
    assert len(np.unique(auto)) < 100
    assert abs(spearman(gold, auto) - wordvectors_org_rho(gold, auto)) < 1e-9
    assert abs(spearman(gold, auto) - scipy.stats.spearmanr(gold, auto).statistic) < 1e-12


def test_average_ranks_match_scipy_and_undefined_cases_are_nan():
    values = np.array([3.0, 1.0, 3.0, 2.0, 3.0, 1.0])
    assert np.array_equal(average_ranks(values), [5.0, 1.5, 5.0, 3.0, 5.0, 1.5])
    assert np.array_equal(average_ranks(values), scipy.stats.rankdata(values))
    assert math.isnan(spearman([1.0], [2.0]))
    assert math.isnan(spearman([1.0, 2.0, 3.0], [4.0, 4.0, 4.0]))  # constant side: undefined, not 0


# ----------------------------------------------------------------------------- missing-word policies
@pytest.fixture
def toy_case(tmp_path):
    """Hand-made benchmark (under a registered file name) and vectors with known cosines."""
    folder = write_benchmark(tmp_path / "data", "EN-RG-65.txt", "a b 4\nA c 3\na d 2\nb x 1\n")
    vectors = Vectors(["a", "b", "c", "d"], np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [-1.0, 0.0]]))
    return folder, vectors


def test_missing_word_policies_by_hand(toy_case):
    folder, vectors = toy_case
    score = evaluate(vectors, data_dir=folder, only="RG-65").results[0]
    assert (score.pairs, score.found, score.not_found, score.missing_words) == (4, 3, 1, ("x",))
    # drop: cosines .707, 0, -1 fall as the gold 4, 3, 2 does -> rho 1
    assert score.spearman == pytest.approx(1.0, abs=1e-12)
    # zero: cosines (.707, 0, -1, 0) -> ranks (4, 2.5, 1, 2.5) vs gold ranks (4, 3, 2, 1):
    # sum of products of deviations 3, squares 4.5 and 5 -> 3 / sqrt(22.5)
    assert score.spearman_zero == pytest.approx(3 / math.sqrt(22.5), abs=1e-12)
    # mean: unit rows sum to (0.7071, 1.7071); cos(b, that) = 0.9239 becomes the largest cosine,
    # ranks (3, 2, 1, 4) vs (4, 3, 2, 1): products -1, squares 5 and 5 -> -0.2
    assert score.spearman_mean == pytest.approx(-0.2, abs=1e-12)
    assert not score.checksum_ok  # not the registered RG-65 file, and the result says so


def test_a_zero_row_counts_as_not_found(toy_case):
    folder, vectors = toy_case
    with_zero = Vectors(["a", "b", "c", "d", "x"], np.vstack([vectors.matrix, [[0.0, 0.0]]]))
    plain = evaluate(vectors, data_dir=folder, only="RG-65").results[0]
    zero_row = evaluate(with_zero, data_dir=folder, only="RG-65").results[0]
    assert (zero_row.found, zero_row.missing_words) == (3, ("x",))
    assert (zero_row.spearman, zero_row.spearman_zero, zero_row.spearman_mean) == \
        pytest.approx((plain.spearman, plain.spearman_zero, plain.spearman_mean), abs=1e-12)


def test_identical_vectors_tie_exactly_under_every_policy(tmp_path):
    folder = write_benchmark(tmp_path, "EN-MC-30.txt", "a a 3\nx y 2\nb c 1\nd c 2.5\n")
    vectors = Vectors(["a", "b", "c", "d"], np.array([[0.1, 0.7], [1.0, 1.0], [0.0, 1.0], [3.0, 0.3]]))
    score = evaluate(vectors, data_dir=folder, only="MC-30").results[0]
    # "a a" has cosine 1; under the mean policy "x y" is mean vs mean, also exactly 1: a tie
    mean_cosines = [1.0, 1.0, 1 / math.sqrt(2), 0.3 / math.sqrt(9.09)]
    assert score.spearman_mean == pytest.approx(
        scipy.stats.spearmanr([3, 2, 1, 2.5], mean_cosines).statistic, abs=1e-12)
    assert score.spearman_zero == pytest.approx(
        scipy.stats.spearmanr([3, 2, 1, 2.5], [1.0, 0.0] + mean_cosines[2:]).statistic, abs=1e-12)


def test_no_coverage_is_null_never_zero(toy_case, tmp_path):
    folder, _ = toy_case
    other = Vectors(["p", "q"], np.eye(2))
    result = evaluate(other, data_dir=folder, only="RG-65")
    score = result.results[0]
    assert score.found == 0 and score.spearman is None and score.spearman_zero is None
    assert score.spearman_mean is None
    row = json.loads(result.to_json())["results"][0]
    assert row["spearman"] is None and row["spearman_zero"] is None and row["spearman_mean"] is None


def test_duplicate_vocabulary_words_are_an_error(toy_case):
    folder, _ = toy_case
    with pytest.raises(AuditError, match="duplicate words"):
        evaluate(Vectors(["a", "b", "a"], np.eye(3)), data_dir=folder, only="RG-65")


def test_importing_the_checks_stays_light():
    code = "import sys, benchmarks; print(sorted(m for m in ('torch', 'scipy', 'pandas') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


# ----------------------------------------------------------------------------- real files
def dict_keyed_pairs(path):
    """The reference scripts' reading of a benchmark file (wordvectors.org's all_wordsim.py, the
    reality check): each line lowercased and split; pairs keyed by (word1, word2), so a pair
    listed twice keeps its last score."""
    pairs = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                word1, word2, value = line.strip().lower().split()
                pairs[(word1, word2)] = float(value)
    return pairs


def test_default_rho_equals_a_dict_keyed_reimplementation_on_all_13(word_sim_dir):
    """The reference convention: duplicate pairs, last wins (WS-353's money/cash: 9.15, then 9.08)."""
    words = sorted({w for pairs in benchmark_pairs(word_sim_dir).values() for a, b, _ in pairs for w in (a, b)})
    kept = [w for i, w in enumerate(words) if i % 7 or w in ("money", "cash")]  # money/cash must be scored
    vectors = Vectors(kept, np.random.default_rng(11).standard_normal((len(kept), 16)))
    result = evaluate(vectors, data_dir=word_sim_dir)
    assert result.duplicates == "duplicate pairs: last wins"
    for score in result.results:
        pairs = dict_keyed_pairs(word_sim_dir / REGISTRY[score.name].file)
        gold, auto = [], []
        for (a, b), value in pairs.items():
            if a in vectors and b in vectors:
                u, v = vectors.vector(a).astype(float), vectors.vector(b).astype(float)
                gold.append(value)
                auto.append(float(u @ v / math.sqrt((u @ u) * (v @ v))))
        assert (score.pairs, score.found) == (len(pairs), len(gold)), score.name
        assert score.spearman == pytest.approx(scipy.stats.spearmanr(gold, auto).statistic, abs=1e-9), score.name
        assert score.duplicate_pairs == (1 if score.name == "WS-353" else 0)
    ws353 = result.by_name("WS-353")
    assert (ws353.pairs, ws353.duplicate_pairs) == (352, 1)
    # keeping both lines is still available, and it is a different number
    both = evaluate(vectors, data_dir=word_sim_dir, only="WS-353", duplicates="keep")
    assert both.duplicates == "duplicate pairs: every line kept"
    assert (both.results[0].pairs, both.results[0].duplicate_pairs) == (353, 1)
    assert abs(both.results[0].spearman - ws353.spearman) > 1e-6
    assert [s.spearman for s in evaluate(vectors, data_dir=word_sim_dir, only="MEN", duplicates="keep").results] \
        == [result.by_name("MEN").spearman]  # no duplicates: the policies agree


def test_last_wins_keeps_the_last_score_and_file_order(tmp_path):
    folder = write_benchmark(tmp_path / "dup", "EN-RG-65.txt",
                             "car automobile 3.9\ngem jewel 3.8\nCar Automobile 1.0\nautomobile car 2.0\n")
    last = load_benchmark("RG-65", folder, duplicates="last")
    assert last.pairs() == [("gem", "jewel", 3.8), ("car", "automobile", 1.0), ("automobile", "car", 2.0)]
    assert last.duplicate_pairs == 1 and load_benchmark("RG-65", folder).duplicate_pairs == 1
    assert len(load_benchmark("RG-65", folder)) == 4                      # the file as written
    assert load_benchmark("RG-65", folder, lowercase=False, duplicates="last").duplicate_pairs == 0
    assert load_benchmark("RG-65", folder, duplicates="last") is last     # cached: the word index stays cached
    with pytest.raises(AuditError, match="duplicate-pair policy"):
        load_benchmark("RG-65", folder, duplicates="first")


def test_drop_policy_agrees_with_wordvectors_org_on_every_benchmark(word_sim_dir):
    vectors = random_vectors_for(word_sim_dir, keep_every=2)  # ~1/4 of pairs found: both policies busy, quick
    result = evaluate(vectors, data_dir=word_sim_dir)
    assert [s.name for s in result.results] == PAPER_ORDER
    for score in result.results:
        bench = load_benchmark(score.name, word_sim_dir, duplicates="last")
        gold, auto = [], []
        for a, b, value in bench.pairs():
            if a in vectors and b in vectors:
                u, v = vectors.vector(a).astype(float), vectors.vector(b).astype(float)
                gold.append(value)
                auto.append(float(u @ v / math.sqrt((u @ u) * (v @ v))))
        assert score.found == len(gold) and score.not_found == score.pairs - len(gold)
        assert score.spearman == pytest.approx(wordvectors_org_rho(gold, auto), abs=1e-9), score.name
        assert score.spearman == pytest.approx(scipy.stats.spearmanr(gold, auto).statistic, abs=1e-9)


def test_coefficients_do_not_depend_on_scale_or_vocabulary_order(word_sim_dir):
    vectors = random_vectors_for(word_sim_dir, seed=3, keep_every=5)
    rng = np.random.default_rng(4)
    scaled = Vectors(vectors.words, vectors.matrix * rng.uniform(0.1, 10.0, size=(len(vectors), 1)))
    order = rng.permutation(len(vectors))
    shuffled = Vectors([vectors.words[i] for i in order], vectors.matrix[order])
    base = evaluate(vectors, data_dir=word_sim_dir)
    for other in (vectors.normalized(), scaled, shuffled):
        for mine, theirs in zip(base.results, evaluate(other, data_dir=word_sim_dir).results):
            assert (mine.found, mine.missing_words) == (theirs.found, theirs.missing_words)
            for policy in ("drop", "zero", "mean"):
                assert mine.coefficient(policy) == pytest.approx(theirs.coefficient(policy), abs=1e-9)


def test_result_round_trips_json_with_the_papers_figures_beside(word_sim_dir):
    vectors = random_vectors_for(word_sim_dir, keep_every=3)
    result = evaluate(vectors, data_dir=word_sim_dir, only=["MEN", "Rare-Word"])
    data = json.loads(result.to_json())
    assert data["kind"] == "benchmarks" and data["lowercase"] is True
    assert data["policies"] == {"spearman": "drop", "spearman_zero": "zero", "spearman_mean": "mean"}
    men = data["results"][0]
    assert {"name", "pairs", "found", "not_found", "spearman", "spearman_zero", "spearman_mean"} <= set(men)
    assert (men["name"], men["pairs"], men["paper_claim"], men["paper_not_found"]) == ("MEN", 3000, 0.62, 122)
    assert data["input"]["words"] == len(vectors)
    assert load_result(data) == result


# ----------------------------------------------------------------------------- CLI
def test_cli_prints_the_table_and_writes_json(word_sim_dir, tmp_path, run_cli):
    vectors = random_vectors_for(word_sim_dir, keep_every=4)
    path = tmp_path / "vectors.txt"
    save_word2vec_text(vectors, path)
    out_json = tmp_path / "out.json"
    code, out, err = run_cli("benchmarks", path, "--data-dir", word_sim_dir.parent, "--only", "MC-30,WS-353",
                             "--json", out_json)
    assert code == 0, err
    assert "MC-30" in out and "WS-353" in out and "MEN" not in out and "0.850" in out  # the paper's claim
    assert "Duplicate pairs: last wins (lines repeating a pair: WS-353 1)" in out
    saved = load_result(out_json)
    assert [s.name for s in saved.results] == ["MC-30", "WS-353"]
    assert [(s.pairs, s.duplicate_pairs) for s in saved.results] == [(30, 0), (352, 1)]
    code, out, _ = run_cli("benchmarks", path, "--data-dir", word_sim_dir, "--only", "WS-353",
                           "--duplicate-pairs", "keep")
    assert code == 0 and "Duplicate pairs: every line kept (lines repeating a pair: WS-353 1)" in out
    assert " 353 " in out.splitlines()[2]
    assert saved.results[0].spearman == pytest.approx(
        evaluate(vectors, data_dir=word_sim_dir, only="MC-30").results[0].spearman, abs=1e-6)
    code, out, _ = run_cli("benchmarks", path, "--data-dir", word_sim_dir, "--only", "MC-30", "--oov", "zero")
    assert code == 0 and "rho zero" in out and "rho drop" not in out


def test_cli_bad_input_exits_2_without_a_json_file(word_sim_dir, tmp_path, run_cli):
    path = tmp_path / "vectors.txt"
    save_word2vec_text(Vectors(["car", "automobile"], np.eye(2)), path)
    out_json = tmp_path / "out.json"
    code, _, err = run_cli("benchmarks", path, "--data-dir", tmp_path / "missing", "--json", out_json)
    assert code == 2 and "audit data fetch benchmarks" in err and "Traceback" not in err
    code, _, err = run_cli("benchmarks", path, "--data-dir", word_sim_dir, "--only", "simlex", "--json", out_json)
    assert code == 2 and "did you mean SimLex-999" in err
    assert not out_json.exists()


def test_a_rho_found_on_few_pairs_is_flagged_and_left_out_of_the_figure(tmp_path, run_cli, word_sim_dir,
                                                                           monkeypatch):
    """Two pairs always give rho +-1: RG-65 from 2 of its 65 pairs printed 1.000 beside the paper's
    0.790 and drew the tallest bar. The table flags it (CLI: '*' and a footnote; report: the caption
    names it), the figure leaves it out, and the footnote's '-' no longer says 'no pair found' (one
    pair found shows '-' too)."""
    from audit.core.evidence import FEW_BENCHMARK_PAIRS
    from reports import figures

    path = tmp_path / "two.txt"
    path.write_text("3 3\ncord 1 0 0\nstring 0.9 0.1 0\nnoon 0 1 1\n", encoding="utf-8")
    code, out, _ = run_cli("benchmarks", path, "--data-dir", word_sim_dir.parent, "--only", "RG-65,MC-30",
                           "--oov", "drop")
    assert code == 0 and FEW_BENCHMARK_PAIRS == 20
    row = next(line.split() for line in out.splitlines() if line.startswith("RG-65"))
    assert row[:5] == ["RG-65", "65", "2", "63", "1.000*"]
    assert "* found on fewer than 20 pairs (RG-65): too few to read" in out
    # a benchmark whose drop-policy rho is undefined but whose zero/mean ones are shown is flagged too
    code, out, _ = run_cli("benchmarks", path, "--data-dir", word_sim_dir.parent, "--only", "RG-65,MC-30")
    assert code == 0 and "* found on fewer than 20 pairs (MC-30, RG-65): too few to read" in out, out
    assert "'-' = undefined (fewer than 2 pairs scored" in out and "no pair found" not in out
    drawn = {}
    real = figures.benchmark_bars
    monkeypatch.setattr(figures, "benchmark_bars", lambda names, series: drawn.update(zip(names, zip(*series.values())))
                        or real(names, series))
    code, _, err = run_cli("--quiet", "all", path, "--data-dir", word_sim_dir.parent, "--out", tmp_path / "report")
    assert code == 0, err
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "too few to read (two pairs always give ±1): two.txt on RG-65;" in report
    assert drawn["RG-65"][-1] is None and drawn["RG-65"][0] == pytest.approx(0.79)   # the claim stays, ours is left out
