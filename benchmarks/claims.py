"""The Speech2Vec figures shipped with the package, shown beside measured values.

Two tables of the reality-check paper: Table 7 (the Speech2Vec paper's claimed Spearman per
benchmark and the reality check's reproduction), shipped here as package data, and Table 6 (pairs
not found, as reported by Speech2Vec and with all LibriSpeech clean words), read from the one copy
in :mod:`audit.core.paper` that the vocabulary audit also shows. They are facts quoted from the paper,
never recomputed here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from benchmarks.registry import REGISTRY

CLAIMS_FILE = "speech2vec_similarity_claims.tsv"
SOURCE = ("Speech2Vec reality check (seed 002), Table 7 (claimed and reproduced Spearman) and "
          "Table 6 (pairs not found)")


@dataclass(frozen=True)
class Speech2VecFigures:
    """What the papers say about one benchmark; None where a table has no entry."""

    paper_claim: float | None = None
    rc_sgd_rand_init: float | None = None
    rc_sgd_500_epoch: float | None = None
    rc_adam_rand_init: float | None = None
    rc_adam_500_epoch: float | None = None
    paper_not_found: int | None = None
    libri_clean_not_found: int | None = None


_CLAIM_COLUMNS = ("paper_claim", "rc_sgd_rand_init", "rc_sgd_500_epoch", "rc_adam_rand_init", "rc_adam_500_epoch")
_NOT_FOUND_COLUMNS = {"paper_reported_not_found": "paper_not_found",
                      "libri_clean_all_words_not_found": "libri_clean_not_found"}


@functools.lru_cache(maxsize=1)
def speech2vec_figures() -> dict[str, Speech2VecFigures]:
    """Display name -> figures, for every registered benchmark (registry order)."""
    values: dict[str, dict] = {name: {} for name in REGISTRY}
    for row in _read_table(CLAIMS_FILE):
        spec = REGISTRY[row["benchmark"]]
        if row["file"] != spec.file:
            raise ValueError(f"{CLAIMS_FILE}: {spec.name} is listed with file {row['file']}, not {spec.file}")
        values[spec.name].update({column: float(row[column]) for column in _CLAIM_COLUMNS})
    from audit.core.paper import paper_not_found_table

    for benchmark, row in paper_not_found_table().items():
        spec = REGISTRY[benchmark]
        values[spec.name].update({field: row[column] for column, field in _NOT_FOUND_COLUMNS.items()})
    return {name: Speech2VecFigures(**fields) for name, fields in values.items()}


def _read_table(name: str) -> list[dict[str, str]]:
    text = resources.files("benchmarks").joinpath(name).read_text(encoding="utf-8")
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip() and not line.startswith("#")]
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
    return rows
