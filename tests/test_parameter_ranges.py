"""User-given sizes are checked against the data up front (issue 15 class 4), the library names
its parameters and the CLI its options (issue 14), and memory does not grow with the sizes."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from audit.core.errors import AuditError, ParameterError
from audit.core.loaders import save_word2vec_text
from audit.core.vectors import Vectors
from homophones import check
from homophones.pairs import HomophonePair, PairSet
from homophones.stats import compare


def small_vectors(n_words: int = 27, dim: int = 8, seed: int = 0) -> Vectors:
    words = ["ate", "eight", "meat", "meet"] + [f"w{i}" for i in range(n_words - 4)]
    return Vectors(words, np.random.default_rng(seed).standard_normal((n_words, dim)))


PAIRS = PairSet("test", "two pairs", (HomophonePair("ate", "eight"), HomophonePair("meat", "meet")))


@pytest.mark.parametrize("kwargs, parameter, words", [
    ({"k": 0}, "k", "at least 1"),
    ({"k": 27}, "k", "is 27, more than the 26 other usable words"),
    ({"k": 10**9}, "k", "1,000,000,000, more than the 26"),
    ({"random_pairs": 0}, "random_pairs", "at least 1"),
    ({"random_pairs": 10**9}, "random_pairs", "at most 1,000,000 random pairs"),
    ({"seed": -1}, "seed", "non-negative"),
    ({"bootstrap_resamples": 0}, "bootstrap_resamples", "between 1 and"),
])
def test_homophone_sizes_are_checked_against_the_data(kwargs, parameter, words):
    with pytest.raises(ParameterError) as caught:
        check(small_vectors(), PAIRS, **kwargs)
    assert caught.value.parameter == parameter and words in str(caught.value)
    assert "--" not in str(caught.value)   # the library never names a command-line flag


def test_k_equal_to_the_other_words_is_allowed():
    result = check(small_vectors(), PAIRS, k=26, bootstrap_resamples=10)   # every other word: on the border
    assert result.parameters.k == 26


@pytest.mark.parametrize("argv, message", [
    (["--k", "1000000000"], "--k is 1,000,000,000, more than the 26 other usable words"),
    (["--random-pairs", "1000000000"], "--random-pairs is 1,000,000,000; at most 1,000,000"),
])
def test_the_cli_names_the_option(run_cli, tmp_path, argv, message):
    path = tmp_path / "v.txt"
    save_word2vec_text(small_vectors(), path)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("ate\teight\nmeat\tmeet\n", encoding="utf-8")
    code, stdout, stderr = run_cli("homophones", path, "--pairs", pairs, *argv)
    assert code == 2 and stderr.strip() == f"audit: {message}" + stderr.strip().split(message, 1)[1]
    assert stderr.count("\n") == 1 and "Traceback" not in stderr


def test_vocab_max_min_count_is_bounded_by_the_search_size():
    from audit.checks.vocab import MAX_CANDIDATES, provenance
    counts = {"dev-clean": {"a": 3, "b": 1}, "dev-other": {"a": 1}}
    with pytest.raises(ParameterError) as caught:
        provenance(["a"], counts, max_min_count=10**9)
    assert caught.value.parameter == "max_min_count"
    assert f"choose at most {MAX_CANDIDATES // 3:,}" in str(caught.value)
    assert provenance(["a"], counts, max_min_count=MAX_CANDIDATES // 3).max_min_count == MAX_CANDIDATES // 3


def test_pair_similarities_in_blocks_equal_one_block(monkeypatch):
    import audit.core.vectors as module
    vectors = small_vectors(200, 16, seed=3)
    rng = np.random.default_rng(1)
    left, right = rng.integers(0, 200, 5000), rng.integers(0, 200, 5000)
    whole = vectors.pair_similarities(left, right)
    monkeypatch.setattr(module, "PAIR_BLOCK_VALUES", 16 * 7)   # 7 pairs a block, a ragged last block
    assert np.array_equal(vectors.pair_similarities(left, right), whole)
    a, b = vectors.matrix[left].astype(float), vectors.matrix[right].astype(float)
    expected = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(whole, expected, rtol=1e-12)


def test_bootstrap_in_blocks_is_one_draw_when_small_and_bounded_when_large(monkeypatch):
    import homophones.stats as stats
    rng = np.random.default_rng(0)
    first, second = rng.normal(0.3, 1, 40), rng.normal(0, 1, 60)
    one = compare(first, second, "random", np.random.default_rng(5), resamples=200)
    monkeypatch.setattr(stats, "BOOTSTRAP_BLOCK_VALUES", 60 * 7)   # blocks of 7 resamples
    blocked = compare(first, second, "random", np.random.default_rng(5), resamples=200)
    assert (blocked.statistic, blocked.p_value, blocked.effect_size) == (one.statistic, one.p_value, one.effect_size)
    # a different draw order, the same distribution: intervals agree to the bootstrap's precision
    assert abs(blocked.ci_low - one.ci_low) < 0.12 and abs(blocked.ci_high - one.ci_high) < 0.12


def test_many_random_pairs_stay_within_bounded_memory(tmp_path):
    """A million random pairs (the most allowed) in a child limited to 1.5 GB of address space."""
    code = textwrap.dedent("""
        import resource, sys
        import numpy as np
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
        from audit.core.vectors import Vectors
        from homophones import check
        from homophones.pairs import HomophonePair, PairSet
        words = ["ate", "eight", "meat", "meet"] + [f"w{i}" for i in range(996)]
        vectors = Vectors(words, np.random.default_rng(0).standard_normal((1000, 300)))
        pairs = PairSet("t", "t", (HomophonePair("ate", "eight"), HomophonePair("meat", "meet")))
        result = check(vectors, pairs, random_pairs=1_000_000, bootstrap_resamples=20)
        print(result.test_vs_random.n_other)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1000000"]


def test_check_seed_takes_exactly_the_whole_numbers_below_2_63():
    """One check for every seed of the library (homophones, acoustic, provenance, audit all):
    numpy refuses a negative seed and torch one past 2**64, both once internal errors."""
    from audit.core.errors import ParameterError, check_seed
    assert check_seed(0) == 0 and check_seed(2**63 - 1) == 2**63 - 1
    for bad in (-1, 2**63, True, 1.0, "1"):
        with pytest.raises(ParameterError) as caught:
            check_seed(bad, "split_seed")
        assert str(caught.value) == f"split_seed is {bad!r}; it must be a non-negative integer below 2**63."


@pytest.mark.parametrize("argv, message", [
    (("--k", "0"), "audit: --k is 0; the kNN overlap needs at least 1 neighbour."),
    (("--rsa-words", "1"), "audit: --rsa-words is 1; the RSA sample needs at least 3 words."),
    (("--tolerance", "-1"), "audit: --tolerance is -1.0; the band tolerance must be in [0, 1)."),
])
def test_provenance_measure_settings_are_refused_by_the_option_that_sets_them(tmp_path, run_cli, argv, message):
    """They were refused in the library's words ('k for the kNN overlap must be at least 1')."""
    vectors = tmp_path / "v.txt"
    vectors.write_text("2 3\na 1 2 3\nb 4 5 6\n", encoding="utf-8")
    code, _, err = run_cli("provenance", vectors, "--corpus-root", tmp_path / "none", *argv)
    assert code == 2 and err.strip() == message



def _float_settings(config_class) -> list[str]:
    import dataclasses
    return [f.name for f in dataclasses.fields(config_class) if isinstance(f.default, float)]


@pytest.mark.parametrize("model", ["awe", "speech2vec"])
def test_every_float_setting_refuses_non_finite_numbers(model):
    """'--lr inf' passed 'lr > 0' and trained a diverged run that exited 0 (nan and -1 were refused).
    Every float setting of both trainers, as inf, -inf, NaN or a whole number past float's range."""
    from reproductions.awe.config import AweConfig
    from reproductions.speech2vec.config import TrainConfig
    config_class = {"awe": AweConfig, "speech2vec": TrainConfig}[model]
    names = _float_settings(config_class)
    assert ("lr" in names) and (model == "speech2vec" or {"margin", "alpha", "beta", "test_fraction"} <= set(names))
    for name in names:
        for bad in (math.inf, -math.inf, math.nan, 10**400):
            with pytest.raises(AuditError) as caught:
                config_class(**{name: bad})
            assert str(caught.value) == f"bad training configuration: {name} must be a finite number, not {bad!r}."


@pytest.mark.parametrize("model, option", [("awe", "--lr"), ("awe", "--margin"), ("awe", "--test-fraction"),
                                           ("speech2vec", "--lr")])
def test_the_cli_refuses_a_non_finite_setting_before_any_work(tmp_path, run_cli, model, option):
    code, _, err = run_cli("reproduce", model, option, "inf", "--out", tmp_path / "o")
    field = option[2:].replace("-", "_")
    assert code == 2 and err == f"audit: bad training configuration: {field} must be a finite number, not inf.\n"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("model, setting", [("awe", "alpha"), ("awe", "proxy_margin"), ("speech2vec", "subsample")])
def test_a_config_file_with_infinity_is_refused(tmp_path, run_cli, model, setting):
    """Python's JSON reader takes Infinity and NaN, and a whole number past float's range."""
    for text in ("Infinity", "NaN", "1" + "0" * 400):
        (tmp_path / "c.json").write_text(f'{{"{setting}": {text}}}', encoding="utf-8")
        code, _, err = run_cli("reproduce", model, "--config", tmp_path / "c.json", "--out", tmp_path / "o")
        assert code == 2 and f"{setting} must be a finite number" in err and "Traceback" not in err, err
