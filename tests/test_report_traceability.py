"""Each number in the report is its own result JSON field (issue 18).

The Markdown report of an `audit all` run is read back table by table; every cell of a known
table is mapped to the one JSON field it shows (by the embedding, benchmark, pair or word of
its row and the meaning of its column) and must be that field rounded to the decimals shown.
A numeric cell in a table or card fact that nothing maps fails the test, so a new table must
say where its numbers come from. The negative test changes one number at a time, in every
numeric cell of the report, and the check must name that cell each time.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import numpy as np
import pytest

from audit import Vectors
from audit.core.loaders import save_word2vec_text

NUMBER = re.compile(r"-?[\d,]+(\.\d+)?")
HOMOPHONES = ["ate", "eight", "meat", "meet", "sea", "see", "tale", "tail", "know", "no", "peace", "piece",
              "right", "write", "night", "knight"]
BENCHMARK_WORDS = ["tiger", "cat", "car", "automobile", "gem", "jewel", "journey", "voyage", "boy", "lad",
                   "coast", "shore", "money", "cash", "king", "queen", "bird", "cock", "food", "fruit", "noon"]


# ----------------------------------------------------------------------------- reading the report
def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def split_row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [unescape(c.strip()) for c in cells]


def markdown_tables(markdown: str) -> list[tuple[list[str], list[list[str]]]]:
    tables, current = [], []
    for line in markdown.split("\n") + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            rows = [split_row(x) for x in current if not x.startswith("|---")]
            tables.append((rows[0], rows[1:]))
            current = []
    return tables


def card_facts(markdown: str) -> list[tuple[str, str, str]]:
    """(embedding, label, value) of each verdict card's '- label: value' lines."""
    facts, embedding = [], None
    for line in markdown.split("\n"):
        title = re.fullmatch(r"\*\*(.+?): [^*]+\*\*", line)
        if title:
            embedding = unescape(title.group(1))
        elif line.startswith("## "):
            embedding = None
        elif embedding and line.startswith("- ") and ": " in line:
            label, value = unescape(line[2:]).split(": ", 1)
            facts.append((embedding, label, value))
    return facts


# ----------------------------------------------------------------------------- comparing a cell
def shows(text: str, value) -> bool:
    """Is ``text`` the field ``value`` as the report prints it (same rounding, '-' for null)?"""
    if value is None or (isinstance(value, float) and value != value):
        return text == "-"
    if isinstance(value, str):
        return text == value
    if text == "< 1e-300":                              # a p-value that underflowed
        return value == 0.0
    if re.fullmatch(r"-?\d\.\d+e[+-]\d+", text):      # a small p-value in scientific notation
        digits = len(text.split("e")[0].split(".")[1])
        return isinstance(value, float) and f"{value:.{digits}e}" == text
    if not NUMBER.fullmatch(text):
        return False
    plain = text.replace(",", "")
    decimals = len(plain.split(".")[1]) if "." in plain else 0
    if "," in text and f"{round(value, decimals):,.{decimals}f}" != text:
        return False
    return f"{value:.{decimals}f}" == plain


class Results:
    def __init__(self, folder: Path):
        self.folder = folder
        self.run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        self.names = [e["name"] for e in self.run["embeddings"]]
        self.loaded = {}

    def of(self, embedding: str, kind: str) -> dict:
        if (embedding, kind) not in self.loaded:
            entry = next(e for e in self.run["embeddings"] if e["name"] == embedding)
            self.loaded[embedding, kind] = json.loads((self.folder / entry["results"][kind]).read_text(encoding="utf-8"))
        return self.loaded[embedding, kind]


def field(data, path: str):
    for step in path.split("."):
        data = data[step]
    return data


# Per table (recognised by its first header cells): how a row and a column find their field.
def check_tables(markdown: str, results: Results) -> tuple[list[str], int]:
    """(mismatches and unmapped numeric cells, number of numeric cells checked)."""
    problems, checked = [], 0
    knn_tables = 0
    for header, rows in markdown_tables(markdown):
        mapper = None
        key = tuple(header[:3])
        if key == ("embedding", "format", "words"):
            columns = {"format": "input.format", "words": "source.words", "dim": "input.dim",
                       "duplicates dropped": "source.duplicates_dropped", "zero rows": "source.zero_rows",
                       "NaN/inf rows": "source.nonfinite_rows", "usable rows": "valid_rows",
                       "median norm": "norms.median"}

            def mapper(row, column, columns=columns):
                data = results.of(row[0], "info")
                if column == "sha256":
                    return data["input"]["sha256"][:12]
                return field(data, columns[column])
        elif key[:2] == ("option", "value"):
            def mapper(row, column):
                return results.run["options"][row[0]]
        elif key == ("embedding", "pairs", "found"):
            columns = {"pairs": "pairs.source", "found": "pairs.found", "missing": "pairs.missing",
                       "homophone mean": "homophone_similarity.mean", "homophone std": "homophone_similarity.std",
                       "random mean": "random_similarity.mean", "random std": "random_similarity.std",
                       "control mean": "control_similarity.mean", "control std": "control_similarity.std",
                       "verdict": "verdict"}

            def mapper(row, column, columns=columns):
                return field(results.of(row[0], "homophones"), columns[column])
        elif key == ("embedding", "comparison", "test"):
            columns = {"statistic": "statistic", "p": "p_value", "effect size": "effect_size",
                       "95% low": "ci_low", "95% high": "ci_high"}

            def mapper(row, column, columns=columns):
                against = row[1].split(" vs ")[1]
                test = results.of(row[0], "homophones")[f"test_vs_{against}"]
                if column == "test":
                    return f"{test['test']} ({test['alternative']})"
                if column == "comparison":
                    return f"homophone vs {test['against']}"
                return test[columns[column]]
        elif key == ("pair", "paper Raw", "paper Official"):
            paper = {"paper Raw": "raw_wav2vec", "paper Official": "official_50d", "paper Ours": "reproduced_50d"}

            def mapper(row, column, paper=paper):
                first, second = row[0].split(" / ")
                for embedding in results.names:
                    for pair in results.of(embedding, "homophones")["pair_table"]:
                        if (pair["word1"], pair["word2"]) == (first, second):
                            if column in paper:
                                return pair["paper"][paper[column]]
                            if column == embedding:
                                return pair["similarity"]
                raise KeyError((row[0], column))
        elif key == ("embedding", "mean rank", "median rank"):
            columns = {"mean rank": "mean", "median rank": "median", "share with rank <= 10": "share_within_cutoff",
                       "median rank / vocabulary": "median_share_of_vocabulary"}

            def mapper(row, column, columns=columns):
                return results.of(row[0], "homophones")["homophone_rank"][columns[column]]
        elif key == ("word", "homophone", "nearest neighbours"):
            embedding = results.names[knn_tables]
            knn_tables += 1

            def mapper(row, column, embedding=embedding):
                example = next(x for x in results.of(embedding, "homophones")["knn_examples"]
                               if (x["word"], x["partner"]) == (row[0], row[1]))
                return {"homophone": example["partner"], "nearest neighbours": ", ".join(example["neighbours"]),
                        "homophone rank": example["homophone_rank"],
                        "paper Official neighbours": ", ".join(example["paper_official_neighbours"]) or "-",
                        "paper Official rank": example["paper_official_rank"],
                        "paper Ours neighbours": ", ".join(example["paper_reproduced_neighbours"]) or "-",
                        "paper Ours rank": example["paper_reproduced_rank"]}[column]
        elif key == ("benchmark", "Speech2Vec paper", "RC SGD rand init"):
            paper = {"Speech2Vec paper": "paper_claim", "RC SGD rand init": "rc_sgd_rand_init",
                     "RC SGD 500 ep": "rc_sgd_500_epoch", "RC Adam rand init": "rc_adam_rand_init",
                     "RC Adam 500 ep": "rc_adam_500_epoch"}

            def mapper(row, column, paper=paper):
                embedding, _, what = column.rpartition(" ") if column not in paper else (results.names[0], "", None)
                if what == "found" and embedding.endswith(" not"):
                    embedding, what = embedding[:-4], "not_found"
                score = next(s for s in results.of(embedding, "benchmarks")["results"] if s["name"] == row[0])
                return score[paper[column]] if column in paper else score[{"ρ": "spearman"}.get(what, what)]
        elif key[:1] == ("benchmark",) and header[1].endswith(" drop"):
            policy = {"drop": "spearman", "zero": "spearman_zero", "mean": "spearman_mean"}

            def mapper(row, column, policy=policy):
                embedding, _, name = column.rpartition(" ")
                score = next(s for s in results.of(embedding, "benchmarks")["results"] if s["name"] == row[0])
                return score[policy[name]]
        elif header[0] == "measure" and len(header) > 1 and set(header[1:]) <= set(results.names):
            mapper = functools.partial(acoustic_measure, results)    # the acoustic section: measures x embeddings
        elif key == ("embedding", "measure", "value"):
            mapper = functools.partial(samediff_measure, results)    # Kamper's samediff: SW / SWSP / SWDP, best F1
        elif key == ("embedding", "written-word embedding", "cross-view AP"):
            mapper = functools.partial(cross_view_measure, results)
        for row in rows:
            for column, text in zip(header[1:], row[1:]):
                numeric = bool(NUMBER.fullmatch(text))
                if mapper is None:
                    if numeric:
                        problems.append(f"unmapped table {header}: {row[0]} / {column} = {text}")
                    continue
                try:
                    value = mapper(row, column)
                except (KeyError, StopIteration, IndexError) as exc:
                    problems.append(f"{header[0]} {row[0]} / {column}: no field ({exc!r})")
                    continue
                checked += numeric
                if not shows(text, value):
                    problems.append(f"{header[0]} {row[0]} / {column}: shows {text!r}, the field is {value!r}")
    return problems, checked


# The acoustic section (issue 19): each row label's field in the acoustic result of the column's embedding.
ACOUSTIC_ROWS = {"tokens": "tokens", "words": "words", "same-different AP (cosine)": "same_different.average_precision",
                 "same-different chance": "same_different.chance", "QbE mAP": "retrieval.mean_average_precision",
                 "QbE MRR": "retrieval.mean_reciprocal_rank", "k-means silhouette (cosine)": "clustering.silhouette_kmeans",
                 "word silhouette (cosine)": "clustering.silhouette_words", "k-means ARI": "clustering.adjusted_rand",
                 "k-means AMI": "clustering.adjusted_mutual_info"}
SAMEDIFF_ROWS = {"SWDP AP": ("swdp", "average_precision"), "SWDP precision-recall breakeven":
                 ("swdp", "precision_recall_breakeven"), "SWSP AP": ("swsp", "average_precision"),
                 "SWSP precision-recall breakeven": ("swsp", "precision_recall_breakeven"),
                 "SW AP": ("sw", "average_precision"), "SW precision-recall breakeven": ("sw", "precision_recall_breakeven")}
BEST_F1_ROWS = {"best F1": "f1", "best F1 threshold": "threshold", "best F1 precision": "precision",
                "best F1 recall": "recall"}
CROSS_VIEW_COLUMNS = {"cross-view AP": "average_precision", "chance": "chance",
                      "acoustic -> written mAP": "acoustic_to_written", "written -> acoustic mAP": "written_to_acoustic",
                      "words": "words", "words missing": "words_missing", "tokens": "tokens",
                      "tokens missing": "tokens_missing", "pairs scored": "pairs_scored", "pairs in all": "pairs_total"}


def acoustic_measure(results, row, column):
    data = results.of(column, "acoustic")
    label = row[0]
    if label == "same-different AP (MFCC DTW)":
        return None if data["dtw"] is None else data["dtw"]["same_different"]["average_precision"]
    if label.startswith("QbE recall@"):
        return data["retrieval"]["recall_at"][label.removeprefix("QbE recall@")]
    if label.startswith("kNN accuracy k="):
        return data["knn"]["accuracy"][label.removeprefix("kNN accuracy k=")]
    return field(data, ACOUSTIC_ROWS[label])


def samediff_measure(results, row, column):
    data = results.of(row[0], "acoustic")
    chance = data["same_different"]["chance"]
    name = row[1].split(" (")[0]
    if column == "measure":
        return row[1] if name in BEST_F1_ROWS or name in SAMEDIFF_ROWS else None
    if name in BEST_F1_ROWS:
        value = data["samediff"]["best_f1"][BEST_F1_ROWS[name]]
        if column == "value":
            return value
        return 2 * chance / (1 + chance) if column == "chance" and name == "best F1" else None
    variant = data["samediff"][SAMEDIFF_ROWS[name][0]]
    return {"value": variant[SAMEDIFF_ROWS[name][1]], "chance": chance,
            "same-word pairs scored": variant["positive_pairs_scored"],
            "same-word pairs in all": variant["positive_pairs_total"]}[column]


def cross_view_measure(results, row, column):
    data = results.of(row[0], "acoustic")["cross_view"]
    if column == "written-word embedding":
        return data["written"]["name"] or data["written"]["path"] or "-"
    return data[CROSS_VIEW_COLUMNS[column]]


def check_cards(markdown: str, results: Results) -> tuple[list[str], int]:
    paths = {"words": ("info", "input.words"), "dimension": ("info", "input.dim"),
             "homophone cosine (mean)": ("homophones", "homophone_similarity.mean"),
             "random-pair cosine (mean)": ("homophones", "random_similarity.mean"),
             "homophone rank (median, all found pairs)": ("homophones", "homophone_rank.median")}
    problems, checked = [], 0
    for embedding, label, text in card_facts(markdown):
        if label == "file":
            continue
        if label == "sha256":
            value = results.of(embedding, "info")["input"]["sha256"][:12]
        elif label == "benchmarks scored on 20+ pairs":
            value = sum(row["spearman"] is not None and row["found"] >= 20
                        for row in results.of(embedding, "benchmarks")["results"])
        elif label in paths:
            kind, path = paths[label]
            value = field(results.of(embedding, kind), path)
        else:
            if NUMBER.fullmatch(text):
                problems.append(f"unmapped card fact {embedding} / {label} = {text}")
            continue
        checked += bool(NUMBER.fullmatch(text))
        if not shows(text, value):
            problems.append(f"card {embedding} / {label}: shows {text!r}, the field is {value!r}")
    return problems, checked


def check(markdown: str, results: Results) -> tuple[list[str], int]:
    table_problems, table_cells = check_tables(markdown, results)
    card_problems, card_cells = check_cards(markdown, results)
    return table_problems + card_problems, table_cells + card_cells


# ----------------------------------------------------------------------------- the report
@pytest.fixture(scope="module")
def report(tmp_path_factory, word_sim_dir):
    from audit.cli.main import main

    folder = tmp_path_factory.mktemp("trace")
    words = HOMOPHONES + BENCHMARK_WORDS + [f"filler{i}" for i in range(120)]
    paths = []
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        paths.append(folder / f"e{seed}.txt")
        save_word2vec_text(Vectors(words, rng.normal(size=(len(words), 12))), paths[-1])
    out = folder / "out"
    code = main(["all", *map(str, paths), "--names", "first", "second", "--data-dir", str(word_sim_dir),
                 "--out", str(out)])
    assert code == 0
    return (out / "report.md").read_text(encoding="utf-8"), Results(out / "results")


def test_every_report_cell_is_its_own_json_field(report):
    markdown, results = report
    problems, checked = check(markdown, results)
    assert not problems, "\n".join(problems[:20])
    assert checked > 150
    # every table the report has was recognised
    headers = {tuple(h[:3]) for h, _ in markdown_tables(markdown)}
    assert ("benchmark", "Speech2Vec paper", "RC SGD rand init") in headers
    assert ("embedding", "comparison", "test") in headers


def numeric_cell_positions(markdown: str):
    """(start, end) of each number in a table cell or a card fact."""
    spans = []
    offset = 0
    for line in markdown.split("\n"):
        if line.startswith("|") and not line.startswith("|---"):
            for match in re.finditer(r"(?<=\| )(-?[\d,]+(?:\.\d+)?)(?= \|)", line):
                spans.append((offset + match.start(1), offset + match.end(1)))
        elif line.startswith("- ") and ": " in line:
            match = re.search(r": (-?[\d,]+(?:\.\d+)?)$", line)
            if match:
                spans.append((offset + match.start(1), offset + match.end(1)))
        offset += len(line) + 1
    return spans


def altered(text: str) -> str:
    """The same number with its last digit changed (9 -> 8, else +1)."""
    last = text[-1]
    return text[:-1] + ("8" if last == "9" else str(int(last) + 1))


def test_one_changed_number_anywhere_is_caught(report):
    markdown, results = report
    assert not check(markdown, results)[0]          # the report as written passes: every catch is new
    spans = numeric_cell_positions(markdown)
    assert len(spans) > 150
    missed = []
    for start, end in spans:
        changed = markdown[:start] + altered(markdown[start:end]) + markdown[end:]
        problems, _ = check(changed, results)
        if not problems:
            missed.append(markdown[start:end])
    assert not missed, f"{len(missed)} changed numbers not caught: {missed[:10]}"


def test_a_sign_flip_and_a_swapped_row_are_caught(report):
    markdown, results = report
    assert not check(markdown, results)[0]
    # a sign flip on a benchmark coefficient
    lines = markdown.split("\n")
    for k, line in enumerate(lines):
        if line.startswith("| WS-353 |"):
            cells = line.split(" | ")
            target = next(i for i, c in enumerate(cells) if re.fullmatch(r"-?\d\.\d{3}", c) and float(c) != 0)
            cells[target] = cells[target][1:] if cells[target].startswith("-") else "-" + cells[target]
            flipped = "\n".join(lines[:k] + [" | ".join(cells)] + lines[k + 1:])
            assert check(flipped, results)[0]
            break
    else:
        pytest.fail("no WS-353 row")
    # the two embeddings' rows of the inputs table swapped: names stay, numbers move
    first = next(k for k, line in enumerate(lines) if line.startswith("| first | "))
    second = next(k for k, line in enumerate(lines) if line.startswith("| second | "))
    swapped = list(lines)
    swapped[first] = "| first | " + lines[second].split(" | ", 1)[1]
    swapped[second] = "| second | " + lines[first].split(" | ", 1)[1]
    assert check("\n".join(swapped), results)[0]
