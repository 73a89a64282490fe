"""Homophone sections: Table 1 (summary), Table 2 (per pair), Table 3 (kNN and rank), figures."""

from __future__ import annotations

from reports import figures
from reports.document import Figure, Heading, Number, Paragraph, Table
from reports.fields import number
from reports.run import ReportData

# Per-pair rows shown in Table 2 when a result has many pairs: the paper's ten examples first
# (when present), then the rest in the result's order up to this many.
MAX_PAIR_ROWS = 40
PAPER_EXAMPLES = (("ate", "eight"), ("hail", "hale"), ("know", "no"), ("made", "maid"), ("meat", "meet"),
                  ("peace", "piece"), ("sea", "see"), ("steal", "steel"), ("tale", "tail"), ("whine", "wine"))
# The paper's per-pair columns (PairRow.paper), with their labels in the paper's Table 2.
PAPER_COLUMNS = (("raw_wav2vec", "paper Raw"), ("official_50d", "paper Official"), ("reproduced_50d", "paper Ours"))


def _n(value, digits: int = 3) -> Number:
    return Number(number(value), digits)


def _pair_key(row) -> tuple[str, str]:
    return (row.word1, row.word2)


# ------------------------------------------------------------------------------ Table 1
def summary_section(data: ReportData) -> list:
    having = data.having("homophones")
    if not having:
        return []
    rows = []
    for e in having:
        r = e.results["homophones"]
        rows.append([e.name, r.pairs.source, _n(r.pairs.found), _n(r.pairs.missing),
                     _n(r.homophone_similarity.mean), _n(r.homophone_similarity.std),
                     _n(r.random_similarity.mean), _n(r.random_similarity.std),
                     _n(r.control_similarity.mean), _n(r.control_similarity.std), r.verdict])
    blocks = [Heading("Homophones: pair similarity (Table 1)", anchor="homophones"),
              Table(["embedding", "pairs", "found", "missing", "homophone mean", "homophone std", "random mean",
                     "random std", "control mean", "control std", "verdict"], rows,
                    caption="Cosine similarity of homophone pairs vs random pairs and control pairs (each pair's first "
                            "word with another pair's second word: the same list's words) (the paper's Table 1 "
                            "layout).")]
    blocks += _test_rows(having)
    blocks += _rule_paragraphs(having)
    blocks += _distribution_figure(having)
    return blocks


def _test_rows(having) -> list:
    rows = []
    for e in having:
        r = e.results["homophones"]
        for test in (r.test_vs_random, r.test_vs_control):
            rows.append([e.name, f"homophone vs {test.against}", f"{test.test} ({test.alternative})",
                         _n(test.statistic, 1), Number(number(test.p_value), 4, small=True), _n(test.effect_size),
                         _n(test.ci_low), _n(test.ci_high)])
    if not rows:
        return []
    return [Table(["embedding", "comparison", "test", "statistic", "p", "effect size", "95% low", "95% high"], rows,
                  caption="Are homophone pairs more similar than random / control pairs? Effect size: rank-biserial "
                          "correlation with a bootstrap 95% interval.")]


def _rule_paragraphs(having) -> list:
    rules = {e.results["homophones"].rule.text for e in having}
    return [Paragraph(f"Verdict rule: {rule}", emphasis=True) for rule in sorted(rules) if rule]


def _distribution_figure(having) -> list:
    groups, summaries = {}, {}
    for e in having:
        r = e.results["homophones"]
        values = [number(row.similarity) for row in r.pair_table]
        if values:
            groups[e.name] = {"homophone": values}
            summaries[e.name] = {"random": (number(r.random_similarity.mean), number(r.random_similarity.std)),
                                 "control": (number(r.control_similarity.mean), number(r.control_similarity.std))}
    if not groups:
        return []
    return [Figure("homophone-similarity", figures.similarity_distributions(groups, summaries),
                   "Cosine similarity of each homophone pair (histogram) against the mean ± std of random and "
                   "control pairs, per embedding.")]


# ------------------------------------------------------------------------------ Table 2
def pair_section(data: ReportData) -> list:
    having = [e for e in data.having("homophones") if e.results["homophones"].pair_table]
    if not having:
        return []
    tables = [e.results["homophones"].pair_table for e in having]
    by_embedding = [{_pair_key(row): row for row in table} for table in tables]
    all_rows = [row for table in tables for row in table]
    paper = [(column, label) for column, label in PAPER_COLUMNS
             if any(row.paper is not None and number(getattr(row.paper, column)) is not None for row in all_rows)]
    headers = ["pair"] + [label for _, label in paper] + [e.name for e in having]
    rows = []
    for key in _pair_order(all_rows):
        source = next(table[key] for table in by_embedding if key in table)
        row = [f"{key[0]} / {key[1]}"]
        row += [Number(number(getattr(source.paper, column, None)), 2) for column, _ in paper]
        row += [_n(table[key].similarity if key in table else None) for table in by_embedding]
        rows.append(row)
    caption = ("Cosine similarity per homophone pair (the paper's Table 2 columns: Raw = wav2vec, "
               "Official = released 50-d, Ours = the paper's reproduction) beside each audited embedding; "
               f"the paper's Table 2 examples first, then the other pairs in the result's order, up to "
               f"{MAX_PAIR_ROWS}; every pair is in the result JSON.")
    return [Heading("Homophones: per pair (Table 2)", anchor="homophone-pairs"),
            Table(headers, rows, caption=caption)]


def _pair_order(rows) -> list[tuple[str, str]]:
    keys = [_pair_key(r) for r in rows]
    present = set(keys)
    ordered = [k for k in PAPER_EXAMPLES if k in present]
    ordered += list(dict.fromkeys(k for k in keys if k not in set(ordered)))
    return ordered[:MAX_PAIR_ROWS]


# ------------------------------------------------------------------------------ Table 3
def knn_section(data: ReportData) -> list:
    having = data.having("homophones")
    if not having:
        return []
    blocks = [Heading("Homophones: nearest neighbours and homophone rank (Table 3)", anchor="homophone-ranks")]
    summary = []
    for e in having:
        ranks = e.results["homophones"].homophone_rank
        summary.append([e.name, _n(ranks.mean, 1), _n(ranks.median, 1), _n(ranks.share_within_cutoff),
                        _n(ranks.median_share_of_vocabulary, 4)])
    blocks.append(Table(["embedding", "mean rank", "median rank", "share with rank <= 10",
                         "median rank / vocabulary"], summary,
                        caption="Rank of each word's homophone partner among all words by cosine (1 = nearest), "
                                "as in the paper's Table 3."))
    for e in having:
        blocks += _knn_table(e.name, e.results["homophones"])
    blocks += _rank_figure(having)
    return blocks


def _knn_table(name: str, result) -> list:
    examples = result.knn_examples[:MAX_PAIR_ROWS]
    if not examples:
        return []
    with_paper = any(x.paper_official_neighbours for x in examples)
    headers = ["word", "homophone", "nearest neighbours", "homophone rank"]
    if with_paper:
        headers += ["paper Official neighbours", "paper Official rank", "paper Ours neighbours", "paper Ours rank"]
    rows = []
    for x in examples:
        row = [x.word, x.partner, ", ".join(x.neighbours), _n(x.homophone_rank, 0)]
        if with_paper:
            row += [", ".join(x.paper_official_neighbours or []), _n(x.paper_official_rank),
                    ", ".join(x.paper_reproduced_neighbours or []), _n(x.paper_reproduced_rank)]
        rows.append(row)
    return [Table(headers, rows, caption=f"{name}: k nearest neighbours (self excluded) and the rank of the "
                                         f"homophone partner, beside the paper's Table 3 where it has the word.")]


def _rank_figure(having) -> list:
    ranks, vocabulary = {}, {}
    for e in having:
        r = e.results["homophones"]
        values = [number(value) for row in r.pair_table for value in (row.rank_1_to_2, row.rank_2_to_1)]
        values = [v for v in values if v is not None]
        if values:
            ranks[e.name] = values
            vocabulary[e.name] = int(number(r.homophone_rank.candidates) or max(values))
    if not ranks:
        return []
    return [Figure("homophone-ranks", figures.rank_histograms(ranks, vocabulary),
                   "Rank of the homophone partner, both directions of every found pair (log scale): a model of "
                   "spoken words puts partners near rank 1.")]
