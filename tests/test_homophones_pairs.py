"""Homophone pair sources: the paper's list, CMUdict-derived pairs, user TSV files."""

from __future__ import annotations

import csv
import importlib.util
import math

import pytest

from audit.core.errors import AuditError
from homophones import load_pairs
from homophones.pairs import SOURCES, paper_table3
from homophones.variants import EXTRA_SPELLING_VARIANTS, is_spelling_variant


@pytest.fixture(scope="module")
def cmudict_set():
    return load_pairs("cmudict")


def test_registry_lists_the_sources_in_order():
    assert list(SOURCES) == ["paper-307", "cmudict"]


def test_paper_list_has_307_pairs_identical_to_the_shared_table(shared_data):
    pairs = load_pairs("paper-307")
    with open(shared_data / "homophones" / "homophones-307.tsv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert len(pairs) == len(rows) == 307

    def cell(text):
        return math.nan if text == "-" else float(text)

    for pair, row in zip(pairs.pairs, rows):
        assert (pair.word1, pair.word2) == (row["word1"], row["word2"])
        for ours, theirs in ((pair.paper.raw_wav2vec, row["raw_wav2vec"]),
                             (pair.paper.official_50d, row["official_50d"]),
                             (pair.paper.reproduced_50d, row["reproduced_50d"])):
            assert ours == cell(theirs) or (math.isnan(ours) and theirs == "-")


def test_paper_list_facts():
    pairs = load_pairs("paper-307")
    words = {(p.word1, p.word2) for p in pairs.pairs}
    assert ("censer", "censor") in words and ("told", "tolled") in words  # the corrected misprints
    # Appendix C: 33 pairs are missing from the paper's reproduction.
    assert sum(math.isnan(p.paper.reproduced_50d) for p in pairs.pairs) == 33
    variants = {(p.word1, p.word2) for p in pairs.pairs if p.spelling_variant}
    assert variants == {("check", "cheque"), ("clew", "clue"), ("draft", "draught"), ("licence", "license"),
                        ("meter", "metre"), ("practice", "practise"), ("storey", "story"), ("tire", "tyre")}


def test_paper_variant_tags_agree_with_the_tagger():
    pytest.importorskip("breame")
    for pair in load_pairs("paper-307").pairs:
        assert pair.spelling_variant == is_spelling_variant(pair.word1, pair.word2), pair


def test_paper_table3_rows():
    rows = paper_table3()
    assert [r["word"] for r in rows] == ["ate", "hail", "know", "made", "meat", "peace", "sea", "steal", "tale", "whine"]
    # Table 3's MEAN row: 25,626 (official) and 14 (reproduction).
    assert round(sum(r["official_homophone_rank"] for r in rows) / 10) == 25626
    assert round(sum(r["reproduced_homophone_rank"] for r in rows) / 10) == 14


def test_extra_variants_are_tagged_without_breame_too():
    for first, second in EXTRA_SPELLING_VARIANTS:
        assert is_spelling_variant(first, second) and is_spelling_variant(second.upper(), first)
    assert not is_spelling_variant("ate", "eight")


def test_cmudict_pairs_are_plain_word_homophones(cmudict_set):
    pairs = {(p.word1, p.word2) for p in cmudict_set.pairs}
    words = {w for pair in pairs for w in pair}
    assert {("ate", "eight"), ("meat", "meet"), ("it's", "its"), ("eye", "i")} <= pairs
    assert not any("." in w or "-" in w or any(c.isdigit() for c in w) for w in words)
    assert not any(len(w) == 1 and w not in ("a", "i") for w in words)
    assert "aaron's" not in words and not any(w.endswith("'") or w.startswith("'") for w in words)
    assert cmudict_set.excluded["possessives"] > 1000 and cmudict_set.excluded["single letters"] == 24
    assert len(pairs) == len(cmudict_set.pairs)  # no pair listed twice


def test_cmudict_tags_spelling_variants(cmudict_set):
    tagged = {(p.word1, p.word2) for p in cmudict_set.pairs if p.spelling_variant}
    assert ("check", "cheque") in tagged
    assert ("ate", "eight") not in tagged
    if importlib.util.find_spec("breame"):
        assert ("meter", "metre") in tagged and ("gray", "grey") in tagged


def test_user_tsv(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("\ufeffword1\tword2\n# a comment\nate\teight\t\n\nmeat\tmeet\r\neight\tate\n"
                    "meter\tmetre\n", encoding="utf-8")   # a BOM, an empty trailing column, CRLF
    pairs = load_pairs(str(path))
    assert [(p.word1, p.word2) for p in pairs.pairs] == [("ate", "eight"), ("meat", "meet"), ("meter", "metre")]
    assert pairs.excluded == {"repeated pairs": 1}
    assert [p.spelling_variant for p in pairs.pairs] == [False, False, True]


@pytest.mark.parametrize("text, message", [("ate eight\n", "two tab-separated"), ("ate\tate\n", "two different"),
                                           ("# only a comment\n", "no pairs"),
                                           ("ate\teight\textra column\n", "3 columns"),
                                           ("to\ttoo\ttwo\n", "three pairs")])
def test_bad_tsv_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AuditError, match=message):
        load_pairs(str(path))


def test_a_bom_does_not_eat_the_first_pair(tmp_path):
    path = tmp_path / "bom.tsv"
    path.write_bytes("\ufeffate\teight\nmeat\tmeet\n".encode("utf-8"))
    assert [(p.word1, p.word2) for p in load_pairs(str(path)).pairs] == [("ate", "eight"), ("meat", "meet")]


def test_a_non_utf8_pair_file_is_one_sentence(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("caf\xe9\tcafe\n".encode("latin-1"))
    with pytest.raises(AuditError, match="is not UTF-8 text"):
        load_pairs(str(path))


def test_unknown_source_suggests_a_name():
    with pytest.raises(AuditError, match="did you mean 'paper-307'"):
        load_pairs("paper307")
