"""Package data: facts and figures from the reality-check paper (tables shipped as TSV files).

``speech2vec-vocabulary.tsv`` is Table 5 (vocabulary sizes) and ``speech2vec-not-found-pairs.tsv``
is Table 6 (benchmark pairs not found); :mod:`audit.checks.vocab` and :mod:`benchmarks` show them beside
computed values. One copy of each table, read here, so the two views cannot drift apart.
"""

from __future__ import annotations

import csv
import io
from importlib import resources


def _read_paper_tsv(name: str) -> list[dict[str, str]]:
    text = resources.files("audit.core.paper").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def read_table(name: str) -> list[dict[str, str]]:
    """A shipped table with ``#`` comment lines and a tab-separated header, as row dicts of text.

    ``homophones-307.tsv`` is the paper's appendix Table 8 (307 homophone pairs with its three
    similarity columns); ``homophones-table3.tsv`` its Table 3 (neighbours and homophone ranks).
    """
    text = resources.files("audit.core.paper").joinpath(name).read_text(encoding="utf-8")
    lines = [line for line in text.split("\n") if line and not line.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value not in (None, "", "-") else None


def paper_vocabulary_table() -> dict[str, dict[str, int | None]]:
    """Table 5 of the reality-check paper: vocabulary key -> words, official words missing."""
    return {row["vocabulary"]: {"words": _int_or_none(row["words"]),
                                "official_words_missing": _int_or_none(row["official_words_missing"])}
            for row in _read_paper_tsv("speech2vec-vocabulary.tsv")}


def paper_not_found_table() -> dict[str, dict[str, int | None]]:
    """Table 6: benchmark -> pairs not found as the Speech2Vec paper reported / with Libri-Clean."""
    return {row["benchmark"]: {"paper_reported_not_found": _int_or_none(row["paper_reported_not_found"]),
                               "libri_clean_all_words_not_found": _int_or_none(row["libri_clean_all_words_not_found"])}
            for row in _read_paper_tsv("speech2vec-not-found-pairs.tsv")}
