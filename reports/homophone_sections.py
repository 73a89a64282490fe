"""Homophone sections: Table 1 (summary), Table 2 (per pair), Table 3 (kNN and rank), figures."""

from __future__ import annotations

from reports import figures
from reports.document import Figure, Heading, Number, Paragraph, Table
from reports.fields import first, get, number
from reports.run import ReportData

# Per-pair rows shown in Table 2 when a result has many pairs: the paper's ten examples first
# (when present), then the rest in the result's order up to this many.
MAX_PAIR_ROWS = 40
PAPER_EXAMPLES = (("ate", "eight"), ("hail", "hale"), ("know", "no"), ("made", "maid"), ("meat", "meet"),
                  ("peace", "piece"), ("sea", "see"), ("steal", "steel"), ("tale", "tail"), ("whine", "wine"))


def _n(value, digits: int = 3) -> Number:
    return Number(number(value), digits)


def pair_rows(result: dict) -> list[dict]:
    rows = first(result, ["pair_table", "pairs.rows", "pairs.table", "per_pair", "pair_rows"], [])
    return [r for r in rows if isinstance(r, dict)]


def _pair_key(row: dict) -> tuple[str, str]:
    return (str(first(row, ["first", "word1", "left", "a"], "")), str(first(row, ["second", "word2", "right", "b"], "")))


# ------------------------------------------------------------------------------ Table 1
def summary_section(data: ReportData) -> list:
    having = data.having("homophones")
    if not having:
        return []
    rows = []
    for e in having:
        r = e.results["homophones"]
        rows.append([e.name, get(r, "pairs.source", "-"), _n(get(r, "pairs.found")), _n(get(r, "pairs.missing")),
                     _n(get(r, "homophone_similarity.mean")), _n(get(r, "homophone_similarity.std")),
                     _n(get(r, "random_similarity.mean")), _n(get(r, "random_similarity.std")),
                     _n(get(r, "control_similarity.mean")), _n(get(r, "control_similarity.std")),
                     str(r.get("verdict", "-"))])
    blocks = [Heading("Homophones: pair similarity (Table 1)", anchor="homophones"),
              Table(["embedding", "pairs", "found", "missing", "homophone mean", "homophone std", "random mean",
                     "random std", "control mean", "control std", "verdict"], rows,
                    caption="Cosine similarity of homophone pairs vs random and frequency-matched control pairs "
                            "(the paper's Table 1 layout).")]
    blocks += _test_rows(having)
    blocks += _rule_paragraphs(having)
    blocks += _distribution_figure(having)
    return blocks


def _test_rows(having) -> list:
    rows = []
    for e in having:
        r = e.results["homophones"]
        for field in ("test_vs_random", "test_vs_control"):
            test = r.get(field)
            if not isinstance(test, dict):
                continue
            rows.append([e.name, f"homophone vs {test.get('against', field[8:])}",
                         f"{test.get('test', '-')} ({test.get('alternative', '-')})", _n(test.get("statistic"), 1),
                         Number(number(test.get("p_value")), 4), _n(test.get("effect_size")),
                         _n(test.get("ci_low")), _n(test.get("ci_high"))])
    if not rows:
        return []
    return [Table(["embedding", "comparison", "test", "statistic", "p", "effect size", "95% low", "95% high"], rows,
                  caption="Are homophone pairs more similar than random / control pairs? Effect size: rank-biserial "
                          "correlation with a bootstrap 95% interval.")]


def _rule_paragraphs(having) -> list:
    rules = {str(first(e.results["homophones"], ["rule.text", "verdict_rule", "rule"], "")) for e in having}
    return [Paragraph(f"Verdict rule: {rule}", emphasis=True) for rule in sorted(rules) if rule]


def _distribution_figure(having) -> list:
    groups, summaries = {}, {}
    for e in having:
        r = e.results["homophones"]
        values = [first(row, ["similarity", "cosine"]) for row in pair_rows(r)]
        if values:
            groups[e.name] = {"homophone": values}
            summaries[e.name] = {label: (number(get(r, f"{label}_similarity.mean")),
                                         number(get(r, f"{label}_similarity.std")))
                                 for label in ("random", "control")}
    if not groups:
        return []
    return [Figure("homophone-similarity", figures.similarity_distributions(groups, summaries),
                   "Cosine similarity of each homophone pair (histogram) against the mean ± std of random and "
                   "control pairs, per embedding.")]


# ------------------------------------------------------------------------------ Table 2
def pair_section(data: ReportData) -> list:
    having = [e for e in data.having("homophones") if pair_rows(e.results["homophones"])]
    if not having:
        return []
    by_embedding = [{_pair_key(row): row for row in pair_rows(e.results["homophones"])} for e in having]
    all_rows = [row for e in having for row in pair_rows(e.results["homophones"])]
    order = _pair_order(all_rows)
    paper = _paper_columns(all_rows)
    headers = ["pair"] + [label for _, label in paper] + [e.name for e in having]
    rows = []
    for key in order:
        source = next((table[key] for table in by_embedding if key in table), {})
        row = [f"{key[0]} / {key[1]}"]
        row += [Number(number(get(source, field)), 2) for field, _ in paper]
        row += [_n(first(table.get(key, {}), ["similarity", "cosine"])) for table in by_embedding]
        rows.append(row)
    caption = ("Cosine similarity per homophone pair (the paper's Table 2 columns: Raw = wav2vec, "
               "Official = released 50-d, Ours = the paper's reproduction) beside each audited embedding; "
               f"the paper's Table 2 examples first, then the other pairs in the result's order, up to "
               f"{MAX_PAIR_ROWS}; every pair is in the result JSON.")
    return [Heading("Homophones: per pair (Table 2)", anchor="homophone-pairs"),
            Table(headers, rows, caption=caption)]


def _pair_order(rows: list[dict]) -> list[tuple[str, str]]:
    keys = [_pair_key(r) for r in rows]
    present = set(keys)
    ordered = [k for k in PAPER_EXAMPLES if k in present]
    ordered += list(dict.fromkeys(k for k in keys if k not in set(ordered)))
    return ordered[:MAX_PAIR_ROWS]


_PAPER_FIELDS = (("paper_raw", "paper Raw"), ("paper_official", "paper Official"),
                 ("paper_reproduced", "paper Ours"), ("raw_wav2vec", "paper Raw"),
                 ("official_50d", "paper Official"), ("reproduced_50d", "paper Ours"))


def _paper_columns(rows: list[dict]) -> list[tuple[str, str]]:
    """The paper's per-pair columns that the result carries, as (field path, label)."""
    columns = []
    for field, label in _PAPER_FIELDS:
        for prefix in ("", "paper."):
            if any(get(r, prefix + field) is not None for r in rows):
                columns.append((prefix + field, label.replace("paper ", "")))
                break
    return [(path, f"paper {label}") for path, label in columns]


# ------------------------------------------------------------------------------ Table 3
def knn_section(data: ReportData) -> list:
    having = data.having("homophones")
    if not having:
        return []
    blocks = [Heading("Homophones: nearest neighbours and homophone rank (Table 3)", anchor="homophone-ranks")]
    summary = []
    for e in having:
        r = e.results["homophones"]
        summary.append([e.name, _n(get(r, "homophone_rank.mean"), 1), _n(get(r, "homophone_rank.median"), 1),
                        _n(first(r, ["homophone_rank.share_within_cutoff", "homophone_rank.share_top10",
                                     "homophone_rank.top10_share"])),
                        _n(first(r, ["homophone_rank.median_share_of_vocabulary", "homophone_rank.median_share",
                                     "homophone_rank.share_of_vocabulary"]), 4)])
    blocks.append(Table(["embedding", "mean rank", "median rank", "share with rank <= 10",
                         "median rank / vocabulary"], summary,
                        caption="Rank of each word's homophone partner among all words by cosine (1 = nearest), "
                                "as in the paper's Table 3."))
    for e in having:
        blocks += _knn_table(e.name, e.results["homophones"])
    blocks += _rank_figure(having)
    return blocks


def _knn_table(name: str, result: dict) -> list:
    examples = [x for x in first(result, ["knn_examples", "knn"], []) if isinstance(x, dict)][:MAX_PAIR_ROWS]
    if not examples:
        return []
    with_paper = any(x.get("paper_official_neighbours") for x in examples)
    headers = ["word", "homophone", "nearest neighbours", "homophone rank"]
    if with_paper:
        headers += ["paper Official neighbours", "paper Official rank", "paper Ours neighbours", "paper Ours rank"]
    rows = []
    for x in examples:
        row = [str(x.get("word", "-")), str(x.get("partner", "-")), ", ".join(map(str, x.get("neighbours") or [])),
               _n(x.get("homophone_rank"), 0)]
        if with_paper:
            row += [", ".join(map(str, x.get("paper_official_neighbours") or [])), _n(x.get("paper_official_rank")),
                    ", ".join(map(str, x.get("paper_reproduced_neighbours") or [])),
                    _n(x.get("paper_reproduced_rank"))]
        rows.append(row)
    return [Table(headers, rows, caption=f"{name}: k nearest neighbours (self excluded) and the rank of the "
                                         f"homophone partner, beside the paper's Table 3 where it has the word.")]


def _rank_figure(having) -> list:
    ranks, vocabulary = {}, {}
    for e in having:
        r = e.results["homophones"]
        values = [row.get(field) for row in pair_rows(r) for field in ("rank_1_to_2", "rank_2_to_1")]
        values = [v for v in values if number(v) is not None]
        if values:
            ranks[e.name] = values
            vocabulary[e.name] = int(number(get(r, "homophone_rank.candidates")) or max(values))
    if not ranks:
        return []
    return [Figure("homophone-ranks", figures.rank_histograms(ranks, vocabulary),
                   "Rank of the homophone partner, both directions of every found pair (log scale): a model of "
                   "spoken words puts partners near rank 1.")]
