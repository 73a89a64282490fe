"""Report sections, in the paper's order, each built from typed results only.

A section returns a list of blocks; it returns nothing when no embedding has its result, so a
check that did not run simply leaves its section out. Numbers are shown exactly as stored
(rounded for display); no section computes a new statistic.
"""

from __future__ import annotations

from audit.core.evidence import FEW_BENCHMARK_PAIRS
from reports import homophone_sections, other_sections
from reports.findings_section import findings_section, role_text
from reports.document import Card, Heading, Number, Table
from reports.fields import number, short_sha
from reports.run import EmbeddingResults, ReportData


def _n(value, digits: int = 3) -> Number:
    return Number(number(value), digits)


# ------------------------------------------------------------------------------ verdict cards
def verdict_cards(data: ReportData) -> list:
    blocks: list = [Heading("Verdict", anchor="verdict")]
    for embedding in data.embeddings:
        role = role_text(data.findings, embedding.name) if data.findings is not None else ""
        blocks.append(_card(embedding, role))
    return blocks


def _card(embedding: EmbeddingResults, role: str = "") -> Card:
    info = embedding.results.get("info")
    source = info.input if info is not None else None
    homophones = embedding.results.get("homophones")
    facts: list[tuple[str, object]] = [("role", role)] if role else []   # its role in the findings, when computed
    facts += [
        ("file", (source.path if source else None) or embedding.path or "-"),
        ("words", _n(source.words if source else None)),
        ("dimension", _n(source.dim if source else None)),
        ("sha256", short_sha(source.sha256 if source else None)),
    ]
    verdict, reason = "not checked", "The homophone check did not run for this embedding."
    if homophones is not None:
        verdict, reason = homophones.verdict, homophones.verdict_reason
        facts += [("homophone cosine (mean)", _n(homophones.homophone_similarity.mean)),
                  ("random-pair cosine (mean)", _n(homophones.random_similarity.mean)),
                  # all found pairs; the verdict's reason quotes the median over its own pairs (spelling
                  # variants left out): two medians, each labelled with its pairs
                  ("homophone rank (median, all found pairs)", _n(homophones.homophone_rank.median, 1))]
    benchmarks = embedding.results.get("benchmarks")
    if benchmarks is not None:
        # a benchmark with no pair found was counted as evaluated, and one with 2 pairs (rho +-1) as scored
        facts.append((f"benchmarks scored on {FEW_BENCHMARK_PAIRS}+ pairs",
                      _n(sum(row.spearman is not None and not row.few_pairs for row in benchmarks.results))))
    vocab = embedding.results.get("vocab")
    if vocab is not None:
        facts.append(("closest corpus vocabulary", _vocab_candidate_label(vocab.best)))
    provenance = embedding.results.get("provenance")
    if provenance is not None:
        facts.append(("resembles", provenance.verdict))
    for kind, why in sorted(embedding.skipped.items()):
        facts.append((f"{kind} not run", why))
    return Card(title=embedding.name, verdict=verdict, reason=reason, facts=tuple(facts))


def _vocab_candidate_label(best) -> str:
    if not best.subsets:
        return "-"
    exact = " (exact match)" if best.exact else ""
    return f"{' + '.join(best.subsets)}, count >= {best.min_count}{exact}"


# ------------------------------------------------------------------------------ inputs
def inputs_section(data: ReportData) -> list:
    having = data.having("info")
    if not having:
        return []
    rows = []
    for e in having:
        info = e.results["info"]
        rows.append([e.name, info.source.format, _n(info.input.words), _n(info.input.dim),
                     _n(info.source.duplicates_dropped), _n(info.source.zero_rows), _n(info.source.nonfinite_rows),
                     _n(info.valid_rows), _n(info.norms.median), short_sha(info.input.sha256)])
    table = Table(["embedding", "format", "words", "dim", "duplicates dropped", "zero rows", "NaN/inf rows",
                   "usable rows", "median norm", "sha256"], rows)
    blocks = [Heading("Inputs", anchor="inputs"), table]
    if data.options:
        blocks.append(Table(["option", "value"], [[k, v] for k, v in sorted(data.options.items())],
                            caption="Options of this run."))
    return blocks


# ------------------------------------------------------------------------------ registry
def all_sections(data: ReportData) -> list:
    builders = [findings_section, verdict_cards, inputs_section,
                homophone_sections.summary_section, homophone_sections.pair_section,
                homophone_sections.knn_section, other_sections.vocab_section,
                other_sections.benchmark_section, other_sections.training_section,
                other_sections.awe_training_section,
                other_sections.mds_section, other_sections.acoustic_section,
                other_sections.provenance_section]
    blocks: list = []
    for build in builders:
        blocks += build(data)
    return blocks
