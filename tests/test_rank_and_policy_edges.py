"""Edge cases the decision logic must get exactly right (issue 18): a rank exactly on the cutoff,
and missing-word policies on fixtures whose ranks depend on the substituted value.

Truth is computed here independently: plain Python counts, numpy in float64, scipy.stats.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from audit import Vectors
from benchmarks import benchmark_pairs, evaluate, load_benchmark
from homophones.stats import RANK_CUTOFF, rank_stats, similarity_stats


# ----------------------------------------------------------------------------- rank cutoff
def test_rank_exactly_on_the_cutoff_is_within_it():
    assert RANK_CUTOFF == 10
    stats = rank_stats([10], candidates=100)
    assert stats.share_within_cutoff == 1.0            # rank 10 is "within 10"
    assert rank_stats([11], candidates=100).share_within_cutoff == 0.0
    stats = rank_stats([1, 9, 10, 11, 12, 10.5], candidates=200)
    assert stats.share_within_cutoff == pytest.approx(3 / 6)
    assert (stats.n, stats.cutoff, stats.candidates) == (6, 10, 200)


@pytest.mark.parametrize("cutoff", [1, 3, 5, 50])
def test_the_cutoff_argument_is_the_one_used(cutoff):
    ranks = [1, 2, 3, 4, 5, 6, 49, 50, 51]
    stats = rank_stats(ranks, candidates=1000, cutoff=cutoff)
    assert stats.cutoff == cutoff
    assert stats.share_within_cutoff == pytest.approx(sum(r <= cutoff for r in ranks) / len(ranks))


def test_rank_summary_by_hand():
    stats = rank_stats([4, 1, 30, 7, float("nan")], candidates=50)   # NaN: a pair with no rank
    assert stats.n == 4
    assert stats.median == 5.5 and stats.mean == pytest.approx(10.5)
    assert stats.median_share_of_vocabulary == pytest.approx(5.5 / 50)
    assert math.isnan(rank_stats([3, 4], candidates=0).median_share_of_vocabulary)
    empty = rank_stats([float("nan")], candidates=9, cutoff=4)
    assert (empty.n, empty.cutoff, empty.candidates) == (0, 4, 9)
    assert all(math.isnan(v) for v in (empty.median, empty.mean, empty.share_within_cutoff,
                                       empty.median_share_of_vocabulary))


def test_similarity_summary_by_hand():
    stats = similarity_stats([0.5, -0.25, 1.0, float("inf"), float("nan")])
    assert stats.n == 3
    assert stats.mean == pytest.approx(1.25 / 3)
    assert stats.median == 0.5
    mean = 1.25 / 3
    assert stats.std == pytest.approx(math.sqrt(sum((v - mean) ** 2 for v in (0.5, -0.25, 1.0)) / 3))
    empty = similarity_stats([])
    assert empty.n == 0 and all(math.isnan(v) for v in (empty.mean, empty.std, empty.median))


# ----------------------------------------------------------------------------- missing-word policies
def _expected_policies(vectors: Vectors, pairs, matrix_rows: dict[str, np.ndarray], mean_direction):
    """(drop, zero, mean) Spearman computed from scratch with scipy, pair by pair."""
    gold, drop_gold, drop_auto, zero_auto, mean_auto = [], [], [], [], []
    for a, b, score in pairs:
        ua, ub = matrix_rows.get(a), matrix_rows.get(b)
        gold.append(score)
        if a == b:
            cos = 1.0
        elif ua is not None and ub is not None:
            cos = float(ua @ ub)
        else:
            cos = None
        if ua is not None and ub is not None:
            drop_gold.append(score)
            drop_auto.append(cos)
            zero_auto.append(cos)
            mean_auto.append(cos)
        else:
            zero_auto.append(0.0)
            if ua is None and ub is None:
                mean_auto.append(1.0)
            else:
                known = ua if ua is not None else ub
                mean_auto.append(float(known @ mean_direction))
    rho = lambda x, y: scipy.stats.spearmanr(x, y).statistic   # noqa: E731
    return rho(drop_gold, drop_auto), rho(gold, zero_auto), rho(gold, mean_auto), gold, mean_auto, zero_auto


@pytest.fixture(scope="module")
def half_vocabulary(word_sim_dir):
    words = sorted({w for pairs in benchmark_pairs(word_sim_dir).values() for a, b, _ in pairs for w in (a, b)})
    kept = [w for i, w in enumerate(words) if i % 3]          # about 4 in 9 pairs have a missing word
    rng = np.random.default_rng(18)
    # a common offset: the mean direction is far from orthogonal to the rows, so the cosine
    # given to a half-missing pair differs clearly from 0 and 1 and moves its rank
    matrix = rng.standard_normal((len(kept), 12)) + 1.5
    return Vectors(kept, matrix)


def test_zero_and_mean_policies_equal_scipy_on_every_benchmark(word_sim_dir, half_vocabulary):
    vectors = half_vocabulary
    matrix = np.asarray(vectors.matrix, dtype=np.float64)
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    rows = dict(zip(vectors.words, unit))
    mean_direction = unit.mean(axis=0)
    mean_direction /= np.linalg.norm(mean_direction)
    result = evaluate(vectors, data_dir=word_sim_dir, duplicates="last")
    checked = 0
    for score in result.results:
        pairs = load_benchmark(score.name, word_sim_dir, duplicates="last").pairs()
        drop, zero, mean, gold, mean_auto, zero_auto = _expected_policies(vectors, pairs, rows, mean_direction)
        assert score.spearman == pytest.approx(drop, abs=1e-9), score.name
        assert score.spearman_zero == pytest.approx(zero, abs=1e-9), score.name
        assert score.spearman_mean == pytest.approx(mean, abs=1e-9), score.name
        # the fixture can tell substituted values apart: any other value for a half-missing pair
        # (0, 1, or the cosine of the zero policy) moves the ranks and the coefficient
        half = [i for i, (a, b, _) in enumerate(pairs) if (a in rows) != (b in rows)]
        if len(half) >= 3:
            checked += 1
            for other in (0.0, 1.0):
                changed = [other if i in set(half) else v for i, v in enumerate(mean_auto)]
                assert abs(scipy.stats.spearmanr(gold, changed).statistic - mean) > 1e-3, (score.name, other)
            ones = [1.0 if i in set(half) else v for i, v in enumerate(zero_auto)]
            assert abs(scipy.stats.spearmanr(gold, ones).statistic - zero) > 1e-3, score.name
    assert checked >= 10


def test_mean_policy_pair_with_one_missing_word_gets_its_cosine_with_the_mean_direction(tmp_path):
    """Hand-worked: 4 pairs, "x" missing. The mean of the unit rows a=(1,0), b=(0,1), c=(-1,0)
    is (0, 1/3): the mean direction is (0, 1). Cosines: a-b 0, a-c -1, b-x 1 (b is along the
    mean), c-x 0, x-x 1. A substituted value of 0 or -1 would reorder them."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "EN-RG-65.txt").write_text("a b 1\na c 2\nb x 5\nc x 3\nx x 4\n", encoding="utf-8")
    vectors = Vectors(["a", "b", "c"], np.array([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]]))
    score = evaluate(vectors, data_dir=folder, only="RG-65").results[0]
    gold = [1, 2, 5, 3, 4]
    assert score.found == 2 and score.missing_words == ("x",)
    assert score.spearman == pytest.approx(-1.0)                                 # a-b 0 > a-c -1
    assert score.spearman_mean == pytest.approx(scipy.stats.spearmanr(gold, [0, -1, 1, 0, 1]).statistic)
    assert score.spearman_zero == pytest.approx(scipy.stats.spearmanr(gold, [0, -1, 0, 0, 0]).statistic)
    # the values differ from what a wrong substitution would give
    assert score.spearman_mean != pytest.approx(scipy.stats.spearmanr(gold, [0, -1, 1, 1, 1]).statistic)
    assert score.spearman_zero != pytest.approx(scipy.stats.spearmanr(gold, [0, -1, 1, 1, 1]).statistic)
    assert score.spearman_zero != pytest.approx(scipy.stats.spearmanr(gold, [0, -1, 0, 0, 1]).statistic)


def test_mean_direction_over_many_blocks_with_unusable_rows(word_sim_dir):
    """More rows than one summing block (8,192), NaN and zero rows in later blocks: the mean
    direction is still the mean of the usable unit rows, and the mean policy uses it."""
    pairs = load_benchmark("RG-65", word_sim_dir, duplicates="last").pairs()
    bench_words = sorted({w for a, b, _ in pairs for w in (a, b)})
    kept = bench_words[::2]
    rng = np.random.default_rng(65)
    fillers = [f"filler{i}" for i in range(20_000)]
    words = fillers[:9000] + kept + fillers[9000:]
    matrix = rng.standard_normal((len(words), 6)) + np.array([2.0, -1.0, 0.5, 0.0, 0.0, 1.0])
    matrix[9000 + len(kept):] += np.array([-4.0, 3.0, 0.0, 2.0, -1.0, 0.0])   # later blocks pull elsewhere
    matrix[[100, 9500, 17000]] = np.nan            # unusable rows in the first, second and third block
    matrix[[8300, 16500]] = 0.0
    vectors = Vectors(words, matrix)
    score = evaluate(vectors, data_dir=word_sim_dir, only="RG-65", duplicates="last").results[0]
    stored = np.asarray(vectors.matrix, dtype=np.float64)
    norms = np.linalg.norm(stored, axis=1)
    usable = np.isfinite(norms) & (norms > 0)
    unit = stored[usable] / norms[usable, None]
    direction = unit.mean(axis=0)
    direction /= np.linalg.norm(direction)
    rows = {w: stored[i] / norms[i] for i, w in enumerate(words) if w in set(kept)}
    _, _, mean, *_ = _expected_policies(vectors, pairs, rows, direction)
    assert score.spearman_mean == pytest.approx(mean, abs=1e-9)
    assert score.found < score.pairs                  # the mean policy had pairs to fill
    # the fixture tells the blocks apart: the first block's mean direction alone gives another rho
    early = unit[:8000].mean(axis=0)
    assert abs(_expected_policies(vectors, pairs, rows, early / np.linalg.norm(early))[2] - mean) > 1e-3


def _toy(tmp_path, text):
    folder = tmp_path / "toy"
    folder.mkdir(exist_ok=True)
    (folder / "EN-RG-65.txt").write_text(text, encoding="utf-8")
    return folder


def test_a_word_with_itself_ties_exactly_with_identical_vectors(tmp_path):
    """'a a' has cosine exactly 1 (computed, a=(.63,.74) gives 1 - 1 ulp); 'b c' (equal vectors
    (1, 0)) has exactly 1 too: the two tie, below neither and above nothing else."""
    folder = _toy(tmp_path, "a a 4\nb c 3\nd e 1\n")
    matrix = np.array([[0.63, 0.74], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    unit = matrix[:1].astype(np.float32).astype(np.float64)
    unit /= np.sqrt(np.einsum("ij,ij->i", unit, unit))[:, None]
    assert np.einsum("ij,ij->i", unit, unit)[0] != 1.0                      # the fixture: computed, 'a a' would not tie
    score = evaluate(Vectors(list("abcde"), matrix), data_dir=folder, only="RG-65").results[0]
    expected = scipy.stats.spearmanr([4, 3, 1], [1.0, 1.0, 0.0]).statistic
    assert score.spearman == pytest.approx(expected) and score.spearman != pytest.approx(1.0)
    # nothing is missing: every policy scores the same pairs
    assert score.spearman_zero == score.spearman_mean == score.spearman


def test_a_coefficient_that_is_undefined_is_null_not_nan(tmp_path):
    folder = _toy(tmp_path, "a b 2\nc x 1\nd y 3\n")
    vectors = Vectors(["a", "b", "c", "d"], np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [1.0, 1.0]]))
    score = evaluate(vectors, data_dir=folder, only="RG-65").results[0]
    assert score.found == 1 and score.spearman is None        # one pair: no coefficient
    assert score.spearman_zero is not None and score.spearman_mean is not None


def test_mean_policy_without_a_mean_direction_is_null_and_quiet(tmp_path):
    """Unit rows that cancel (a = -b) have no mean direction: the mean policy has no
    coefficient (null), and nothing warns on the way."""
    import warnings

    folder = _toy(tmp_path, "a b 1\na x 2\nb y 3\n")
    vectors = Vectors(["a", "b"], np.array([[1.0, 0.0], [-2.0, 0.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score = evaluate(vectors, data_dir=folder, only="RG-65").results[0]
    assert score.found == 1 and score.spearman_mean is None and score.spearman_zero is not None


def test_the_result_records_its_data_dir_and_a_duplicate_vocabulary_is_one_sentence(tmp_path, word_sim_dir):
    from audit import AuditError

    result = evaluate(Vectors(["cat", "dog"], np.eye(2)), data_dir=word_sim_dir, only="RG-65")
    assert result.data_dir == str(word_sim_dir)
    with pytest.raises(AuditError, match=r"^the vocabulary has duplicate words; load it with a duplicate policy\.$"):
        evaluate(Vectors(["a", "b", "a"], np.eye(3)), data_dir=_toy(tmp_path, "a b 1\nb c 2\n"), only="RG-65")


def test_mean_policy_when_every_row_points_one_way_has_no_coefficient(tmp_path):
    """Every row (1, 2, 3): the mean direction is each word's direction, so every cosine is 1 and
    Spearman is undefined under every policy. Computed, a word's cosine with the mean direction
    came out 1 - 1e-16 and that noise ranked the pairs (rho -0.127 on RG-65 in the review)."""
    folder = _toy(tmp_path, "a b 4\nc x 3\nd e 1\ny f 2\n")
    vectors = Vectors(list("abcdef"), np.tile(np.array([1.0, 2.0, 3.0], dtype=np.float32), (6, 1)))
    from benchmarks.evaluation import _mean_direction
    unit = vectors.matrix[:1].astype(np.float64) / np.linalg.norm(vectors.matrix[0].astype(np.float64))
    assert float(unit[0] @ _mean_direction(vectors)) != 1.0                 # the fixture: the noise is there
    score = evaluate(vectors, data_dir=folder, only="RG-65").results[0]
    assert score.found == 2 and score.spearman is None
    assert score.spearman_mean is None                                      # all four cosines are 1
    assert score.spearman_zero is not None                                  # 1, 1 and two zeros: defined
