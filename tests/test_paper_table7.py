"""The whole of the paper's Table 7 as shipped (issue 18): every one of its 65 cells, against the
shared copy of the table (../shared/data/paper), through the package's reader and into every
benchmark score, and the file names against the registry."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from audit import Vectors
from benchmarks import REGISTRY, evaluate, speech2vec_figures

COLUMNS = ("paper_claim", "rc_sgd_rand_init", "rc_sgd_500_epoch", "rc_adam_rand_init", "rc_adam_500_epoch")


@pytest.fixture(scope="module")
def shared_table7(shared_data):
    path = shared_data / "paper" / "speech2vec-similarity-claims.tsv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert len(rows) == 13 and set(COLUMNS) <= set(rows[0])
    return rows


def test_every_cell_of_table7_is_the_shared_copys(shared_table7):
    figures = speech2vec_figures()
    assert list(figures) == [row["benchmark"] for row in shared_table7]
    compared = 0
    for row in shared_table7:
        assert REGISTRY[row["benchmark"]].file == row["file"]
        for column in COLUMNS:
            assert getattr(figures[row["benchmark"]], column) == float(row[column]), (row["benchmark"], column)
            compared += 1
    assert compared == 65


def test_the_shipped_file_holds_the_shared_rows_verbatim(shared_table7, shared_data):
    from importlib import resources

    shipped = resources.files("benchmarks").joinpath("speech2vec_similarity_claims.tsv").read_text(encoding="utf-8")
    data = [line for line in shipped.splitlines() if line.strip() and not line.startswith("#")]
    shared = (shared_data / "paper" / "speech2vec-similarity-claims.tsv").read_text(encoding="utf-8").splitlines()
    assert data == [line for line in shared if line.strip()]


def test_every_benchmark_score_carries_its_table7_row(shared_table7, word_sim_dir):
    vectors = Vectors(["cat", "dog", "car", "tiger", "money", "bank"],
                      np.random.default_rng(7).normal(size=(6, 4)))
    result = evaluate(vectors, data_dir=word_sim_dir)
    by_name = {score.name: score for score in result.results}
    for row in shared_table7:
        score = by_name[row["benchmark"]]
        assert score.file == row["file"]
        assert [getattr(score, column) for column in COLUMNS] == [float(row[column]) for column in COLUMNS]
