"""The benchmark finding's three thresholds, each tested exactly on its border and one float step
either side (issue 18: a threshold with no case on it lets ``<=`` become ``<`` unnoticed).

The rule, as audit/checks/findings.py states it: the finding is supported when

- the reproduction's mean rho is within NEAR_RANDOM_INIT of its random initialisation's
  (``|repro - init| <= NEAR_RANDOM_INIT``: on the border is near),
- and at least FAR_BELOW_CLAIM below the claimed scores (``claim - repro >= FAR_BELOW_CLAIM``:
  on the border is far below),
- and the release's mean rho is within LIKE_TEXT_MODELS of the text models' range
  (``low - LIKE_TEXT_MODELS <= release <= high + LIKE_TEXT_MODELS``: on either border is like),

means taken over the benchmarks every embedding and the claims cover. Each case below keeps two
of the three conditions comfortably true and puts the third on its border, so the finding is
"supported" exactly when the rule says the third holds. The expected outcome comes from the
rule applied to exact values: every input is chosen so that the differences and means the rule
takes are exact in binary floating point (checked with fractions before the findings run), so
rounding cannot decide a case; "one step" is ``np.nextafter`` of one input.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from audit.checks.findings import (FAR_BELOW_CLAIM, LIKE_TEXT_MODELS, NEAR_RANDOM_INIT, EmbeddingEvidence,
                                   findings)
from audit.core.claims import Claim
from audit.core.results import InputInfo
from benchmarks.evaluation import MEAN_VECTOR, POLICIES, BenchmarkScore, SimilarityResult

UP, DOWN = np.inf, -np.inf


def step(value: float, direction: float) -> float:
    return float(np.nextafter(value, direction))


def score(name: str, rho: float, paper_claim: float | None = None) -> BenchmarkScore:
    return BenchmarkScore(name=name, file=f"{name}.txt", kind="similarity", pairs=20, found=20, not_found=0,
                          spearman=rho, spearman_zero=rho, spearman_mean=rho, missing_words=(),
                          file_sha256="0" * 64, checksum_ok=True, paper_claim=paper_claim)


def benchmarks(scores: dict[str, float], paper_claims: dict[str, float] | None = None) -> SimilarityResult:
    return SimilarityResult(input=InputInfo(path="", sha256="", format="npz", words=20, dim=3, name="hand-built"),
                            results=tuple(score(n, rho, (paper_claims or {}).get(n)) for n, rho in scores.items()),
                            lowercase=True, policies=dict(POLICIES), mean_vector=MEAN_VECTOR, data_dir="",
                            comparison_source="", date="2026-12-01")


def per_benchmark(value, names):
    """One value for every benchmark, or the given values benchmark by benchmark."""
    return dict(zip(names, value)) if isinstance(value, tuple) else dict.fromkeys(names, value)


def exact_mean(values) -> Fraction:
    return sum(map(Fraction, values)) / len(values)


def benchmark_finding(*, repro, init, claim, release, texts, names=("MEN",), claimed_from="file"):
    """The benchmark finding for hand-built results; every argument a rho (or a tuple, one per
    benchmark in ``names``); ``texts`` one such value per text model."""
    claimed = per_benchmark(claim, names)
    if claimed_from == "file":
        released_claim = Claim(name="released", kind="speech", benchmark_scores=claimed)
        released_bench = benchmarks(per_benchmark(release, names))
    else:   # the named set: the claims are the benchmark rows' paper_claim
        released_claim = Claim(name="released", kind="speech", benchmark_set="speech2vec-paper")
        released_bench = benchmarks(per_benchmark(release, names), claimed)
    embeddings = [EmbeddingEvidence("released", "released", {"benchmarks": released_bench}, released_claim),
                  EmbeddingEvidence("reproduction", "reproduction", {"benchmarks": benchmarks(per_benchmark(repro, names))}),
                  EmbeddingEvidence("random init", "random-init", {"benchmarks": benchmarks(per_benchmark(init, names))})]
    embeddings += [EmbeddingEvidence(f"text {i}", "text-model", {"benchmarks": benchmarks(per_benchmark(t, names))})
                   for i, t in enumerate(texts)]
    finding = next(f for f in findings(embeddings).findings if f.key == "benchmarks")
    assert finding.status in ("supported", "not supported"), finding.sentence
    return finding


def means(value, names) -> tuple[float, Fraction]:
    """The mean as the finding takes it (a float sum over the benchmarks, divided by their count)
    and the exact mean; a case is valid only when the two agree."""
    values = list(per_benchmark(value, names).values())
    return sum(values) / len(values), exact_mean(values)


def assert_exact(*pairs):
    for computed, exact in pairs:
        assert Fraction(computed) == exact, "the case's arithmetic is not exact: rounding would decide it"


# Comfortable values for the two conditions a case does not test (far from every border).
COMFORT = {"repro": 0.25, "init": 0.25, "claim": 0.875, "release": 0.5, "texts": (0.4375, 0.5625)}


# ------------------------------------------------------------------ NEAR_RANDOM_INIT
C = NEAR_RANDOM_INIT
NEAR_CASES = [
    # (reproduction, random init, benchmark names, the direction that takes the reproduction away
    # from its init): the reproduction's mean exactly NEAR_RANDOM_INIT from its init's
    (C, 0.0, ("MEN",), UP),                   # above its init
    (-C, 0.0, ("MEN",), DOWN),                # below its init
    (2 * C, C, ("MEN",), UP),                 # both non-zero (2C - C is exact: 2C is a doubling)
    (C, 2 * C, ("MEN",), DOWN),
    ((0.0, 2 * C), (0.0, 0.0), ("MEN", "WS-353"), UP),   # the mean is on the border, neither benchmark is
]
CLAIM_FAR_ABOVE = 0.875 + 2 * C   # far above every reproduction of these cases


def near(repro, init, names=("MEN",)) -> bool:
    """The rule on exact values: |mean repro - mean init| <= NEAR_RANDOM_INIT."""
    (r, r_exact), (i, i_exact) = means(repro, names), means(init, names)
    assert_exact((r, r_exact), (i, i_exact), (r - i, r_exact - i_exact))
    return abs(r_exact - i_exact) <= Fraction(NEAR_RANDOM_INIT)


def nudge(value, direction):
    """One float step of the value (of the last benchmark's, for one value per benchmark)."""
    if isinstance(value, tuple):
        return value[:-1] + (step(value[-1], direction),)
    return step(value, direction)


@pytest.mark.parametrize("repro, init, names, outward", NEAR_CASES)
def test_near_random_init_holds_on_its_border_and_flips_one_step_outside(repro, init, names, outward):
    inward = DOWN if outward == UP else UP
    cases = {"on the border": (repro, True), "one step inside": (nudge(repro, inward), True),
             "one step outside": (nudge(repro, outward), False)}
    for label, (value, expected) in cases.items():
        assert near(value, init, names) is expected, f"the case is not what it says ({label})"
        finding = benchmark_finding(repro=value, init=init, claim=CLAIM_FAR_ABOVE, release=COMFORT["release"],
                                    texts=COMFORT["texts"], names=names)
        assert finding.status == ("supported" if expected else "not supported"), (label, finding.sentence)
        assert Fraction(finding.numbers["reproduction"]) == means(value, names)[1]


def test_near_random_init_flips_when_the_init_moves_one_step():
    repro, init = 2 * C, C                            # exactly C apart
    away, toward = step(init, DOWN), step(init, UP)   # one step further from the reproduction, one step closer
    assert near(repro, init) and not near(repro, away) and near(repro, toward)
    for value, expected in ((init, "supported"), (away, "not supported"), (toward, "supported")):
        finding = benchmark_finding(repro=repro, init=value, claim=CLAIM_FAR_ABOVE, release=COMFORT["release"],
                                    texts=COMFORT["texts"])
        assert finding.status == expected, finding.sentence
        assert finding.numbers["random_init"] == value


# ------------------------------------------------------------------ FAR_BELOW_CLAIM
F = FAR_BELOW_CLAIM


def far_below(claim, repro, names=("MEN",)) -> bool:
    """The rule on exact values: mean claim - mean repro >= FAR_BELOW_CLAIM."""
    (c, c_exact), (r, r_exact) = means(claim, names), means(repro, names)
    assert_exact((c, c_exact), (r, r_exact), (c - r, c_exact - r_exact))
    return c_exact - r_exact >= Fraction(FAR_BELOW_CLAIM)


@pytest.mark.parametrize("claimed_from", ["file", "speech2vec-paper"])
@pytest.mark.parametrize("moved, direction, expected", [
    (None, None, True),                   # claim - repro == FAR_BELOW_CLAIM exactly: far below
    ("claim", UP, True), ("claim", DOWN, False),
    ("repro", DOWN, True), ("repro", UP, False),
])
def test_far_below_claim_holds_on_its_border_and_flips_one_step_inside(claimed_from, moved, direction, expected):
    repro, claim = F, 2 * F      # 2F - F is exact (a doubling)
    if moved == "claim":
        claim = step(claim, direction)
    elif moved == "repro":
        repro = step(repro, direction)
    assert far_below(claim, repro) is expected, "the case is not what it says"
    finding = benchmark_finding(repro=repro, init=F, claim=claim, release=COMFORT["release"], texts=COMFORT["texts"],
                                claimed_from=claimed_from)
    assert finding.status == ("supported" if expected else "not supported"), finding.sentence
    assert finding.numbers["claimed"] == claim and finding.numbers["reproduction"] == repro


def test_far_below_claim_reads_the_mean_over_benchmarks():
    names = ("MEN", "SimLex-999")
    repro, claim = (0.0, 2 * F), (0.0, 4 * F)    # means F and 2F (halvings and doublings): exactly F apart
    assert far_below(claim, repro, names) and not far_below(nudge(claim, DOWN), repro, names)
    for value, expected in ((claim, "supported"), (nudge(claim, DOWN), "not supported")):
        finding = benchmark_finding(repro=repro, init=repro, claim=value, release=COMFORT["release"],
                                    texts=COMFORT["texts"], names=names)
        assert finding.status == expected, finding.sentence


# ------------------------------------------------------------------ LIKE_TEXT_MODELS
L = LIKE_TEXT_MODELS


def like_text(release, texts) -> bool:
    """The rule on exact values: min(text means) - L <= release <= max(text means) + L."""
    low, high = min(texts), max(texts)
    return Fraction(low) - Fraction(L) <= Fraction(release) <= Fraction(high) + Fraction(L)


@pytest.mark.parametrize("texts, border, outward", [
    ((0.375, 2 * L), L, DOWN),            # low border: 2L - L = L, exact; the low model listed last
    ((2 * L, 0.375, 0.25), L, DOWN),      # three models, the low one first
    ((L, L / 2), 2 * L, UP),              # high border: L + L = 2L, exact; the high model listed first
    ((L / 2, 0.0625, L), 2 * L, UP),      # three models, the high one last
])
def test_like_text_models_holds_on_either_border_and_flips_one_step_outside(texts, border, outward):
    inward = DOWN if outward == UP else UP
    low, high = min(texts), max(texts)
    if outward == DOWN:   # the low border, as the finding computes it, is the exact one
        assert_exact((low - L, Fraction(low) - Fraction(L)))
        assert low - L == border
    else:
        assert_exact((high + L, Fraction(high) + Fraction(L)))
        assert high + L == border
    cases = {"on the border": (border, True), "one step inside": (step(border, inward), True),
             "one step outside": (step(border, outward), False)}
    for label, (release, expected) in cases.items():
        assert like_text(release, texts) is expected, f"the case is not what it says ({label})"
        # the reproduction and its init low enough that the best text model clears TEXT_ABOVE_RANDOM_INIT
        finding = benchmark_finding(repro=-0.25, init=-0.25, claim=COMFORT["claim"], release=release, texts=texts)
        assert finding.status == ("supported" if expected else "not supported"), (label, finding.sentence)
        assert finding.numbers["text_low"] == min(texts) and finding.numbers["text_high"] == max(texts)
        assert finding.numbers["released"] == release


def test_the_comfortable_values_support_the_finding_far_from_every_border():
    # the baseline every case above moves one condition of: all three hold with room to spare
    assert near(COMFORT["repro"], COMFORT["init"]) and far_below(COMFORT["claim"], COMFORT["repro"])
    assert like_text(COMFORT["release"], COMFORT["texts"])
    assert benchmark_finding(**COMFORT).status == "supported"
