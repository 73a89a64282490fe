"""The vocabulary search against brute force with Python sets (issue 18): every candidate's
figures, the whole ranking and its documented tie-breaks, the ties with the best candidate,
the search done in several blocks, and the count-pattern coding on both of its paths."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import audit.checks.vocab as vocab
from audit.checks.vocab import provenance

NAMES = ("dev-clean", "test-clean", "dev-other", "test-other")


def brute_force(counts, vocabulary, max_min_count):
    """Every (union, min count) with its figures, in the documented order: Jaccard (high first),
    then missing + extra, fewer subsets, the union's bit mask (subset i = bit i), the min count."""
    names = list(counts)
    rows = []
    for r in range(1, len(names) + 1):
        for combo in itertools.combinations(range(len(names)), r):
            totals: dict[str, int] = {}
            for i in combo:
                for word, count in counts[names[i]].items():
                    totals[word] = totals.get(word, 0) + count
            mask = sum(1 << i for i in combo)
            for k in range(1, max_min_count + 1):
                words = {w for w, c in totals.items() if c >= k}
                shared = len(words & vocabulary)
                missing, extra = len(vocabulary - words), len(words - vocabulary)
                jaccard = shared / len(words | vocabulary)
                rows.append({"subsets": tuple(names[i] for i in combo), "min_count": k, "words": len(words),
                             "shared": shared, "missing": missing, "extra": extra, "jaccard": jaccard,
                             "key": (-jaccard, missing + extra, len(combo), mask, k)})
    return sorted(rows, key=lambda row: row["key"])


def random_counts(seed, tie_subset=False):
    rng = np.random.default_rng(seed)
    words = [f"w{i:03d}" for i in range(400)]
    counts = {name: {w: int(c) for w, c in zip(words, rng.poisson(1.5, len(words)) * rng.integers(0, 2, len(words)))
                     if c > 0} for name in NAMES}
    if tie_subset:
        # test-other only repeats words dev-clean already has, at count 1: adding it to dev-clean
        # at min count 1 gives the very same word set (an exact tie)
        counts["test-other"] = {w: 1 for w in list(counts["dev-clean"])[:50]}
    return counts


def figures(candidate):
    return {"subsets": candidate.subsets, "min_count": candidate.min_count, "words": candidate.words,
            "shared": candidate.shared, "missing": candidate.missing, "extra": candidate.extra}


@pytest.mark.parametrize("seed", [1, 2])
def test_the_whole_ranking_equals_brute_force(seed):
    counts = random_counts(seed)
    rng = np.random.default_rng(seed + 10)
    vocabulary = set(rng.choice(sorted(counts["dev-clean"]), size=80, replace=False).tolist()) | {"zzz-outside"}
    truth = brute_force(counts, vocabulary, 5)
    result = provenance(vocabulary, counts, max_min_count=5, top=len(truth), examples=0)
    assert result.searched == len(truth) == 15 * 5
    assert [figures(c) for c in result.candidates] == [{k: row[k] for k in ("subsets", "min_count", "words", "shared",
                                                                             "missing", "extra")} for row in truth]
    assert [c.rank for c in result.candidates] == list(range(1, len(truth) + 1))
    assert [c.jaccard for c in result.candidates] == pytest.approx([row["jaccard"] for row in truth])
    assert result.best == result.candidates[0]
    assert result.exact_matches == 0 and not result.best.exact
    best = truth[0]
    tied = [row for row in truth[1:] if (row["shared"], row["words"]) == (best["shared"], best["words"])]
    assert [(c.subsets, c.min_count) for c in result.ties] == [(row["subsets"], row["min_count"]) for row in tied]
    assert result.unique == (not tied) and result.tied_with_best == len(tied)


def test_an_exact_match_with_an_exact_tie():
    counts = random_counts(3, tie_subset=True)
    vocabulary = set(counts["dev-clean"])                  # exactly dev-clean at min count 1
    truth = brute_force(counts, vocabulary, 4)
    result = provenance(vocabulary, counts, max_min_count=4, top=5, examples=3)
    assert result.best.exact and (result.best.subsets, result.best.min_count) == (("dev-clean",), 1)
    assert result.exact_matches == sum(row["missing"] + row["extra"] == 0 for row in truth) >= 2
    assert not result.unique
    tied = [(row["subsets"], row["min_count"]) for row in truth[1:]
            if (row["shared"], row["words"]) == (truth[0]["shared"], truth[0]["words"])]
    assert (("dev-clean", "test-other"), 1) in tied
    assert [(c.subsets, c.min_count) for c in result.ties] == tied[:5]
    ranks = {(c.subsets, c.min_count): c.rank for c in result.candidates}
    assert all(ranks[key] == position + 2 for position, key in enumerate(tied) if key in ranks)


def test_the_search_in_several_blocks_gives_the_same_table(monkeypatch):
    counts = random_counts(4)
    vocabulary = set(list(counts["test-clean"])[:60])
    whole = provenance(vocabulary, counts, max_min_count=6, top=90, examples=0)
    monkeypatch.setattr(vocab, "_BLOCK_ROWS", 7)
    blocks = provenance(vocabulary, counts, max_min_count=6, top=90, examples=0)
    assert [figures(c) for c in blocks.candidates] == [figures(c) for c in whole.candidates]
    truth = brute_force(counts, vocabulary, 6)
    assert [figures(c)["words"] for c in blocks.candidates] == [row["words"] for row in truth]


@pytest.mark.parametrize("cap, subsets", [(3, 4), (20, 16)])   # one int64 code per row / np.unique(axis=0)
def test_count_patterns_on_both_paths(cap, subsets):
    rng = np.random.default_rng(cap)
    capped = rng.integers(0, cap + 1, size=(300, subsets))
    capped[100:150] = capped[:50]                        # repeated rows share a pattern
    patterns, inverse = vocab._count_patterns(capped, cap)
    assert len(patterns) == len({tuple(row) for row in capped.tolist()})
    np.testing.assert_array_equal(patterns[inverse], capped)
    assert len({tuple(row) for row in patterns.tolist()}) == len(patterns)
    assert patterns.shape[1] == subsets and inverse.shape == (300,)


def test_reverse_cumsum_counts_items_at_least_each_value():
    hist = np.array([[1, 0, 2, 3], [0, 0, 0, 5]])
    np.testing.assert_array_equal(vocab._reverse_cumsum(hist), [[6, 5, 5, 3], [5, 5, 5, 5]])
