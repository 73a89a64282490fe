"""Which family does an embedding resemble? Similarity between embeddings, null bands, a verdict.

Three measures compare two embeddings over a shared vocabulary (words present and usable for
cosine in both). Each is invariant to the order of the vocabulary, to rescaling rows and to a
rotation of either space:

- ``knn_overlap``: for a seeded sample of query words, the top-k neighbours (by cosine, searched
  among all shared words) in each embedding; the mean Jaccard index of the two neighbour sets.
- ``rsa_spearman``: representational similarity; for a seeded sample of words, the Spearman
  correlation between the two embeddings' cosine matrices (upper triangles, diagonal excluded).
- ``procrustes_cosine``: the shared words are split in two seeded halves; an orthogonal map
  from the first embedding to the second is fitted on one half and scored on the other as the
  mean cosine between mapped and target vectors. Rows are unit-normalised, centred (the mean
  unit vector over the shared words is subtracted) and normalised again first: word2vec
  vectors share a large common direction, and without centring any two embeddings align on it
  alone (uncentred, a model trained on the same tokens shuffled scored 0.97 against real-text models).

A *family* is a set of reference embeddings of one kind (text skip-gram models trained with
different seeds; speech reproductions with different seeds). Its null band for a measure is the
range of that measure over pairs of family members: how alike two members of the family are
when only the seed differs. The audited embedding is compared with every member on the words
shared by it and all the members, and judged by :data:`DECISION_RULE`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from scipy.stats import rankdata

from audit.core.errors import AuditError
from audit.core.results import InputInfo, Result, result_type, today
from audit.core.vectors import Vectors

MEASURES = ("knn_overlap", "rsa_spearman", "procrustes_cosine")
MEASURE_TITLES = {"knn_overlap": "kNN overlap@k (Jaccard)", "rsa_spearman": "RSA (Spearman of cosines)",
                  "procrustes_cosine": "Procrustes cosine (held-out half)"}
FAMILIES = ("text", "speech")
VERDICTS = {"text": "text-like", "speech": "speech-like"}
# Score blocks for the kNN search: 64 MB (about 400 queries x 40,000 words) measured a little faster
# than the core's 256 MB default on the 2-core machine, and keeps several references' work small.
KNN_BLOCK_BYTES = 64 * 1024 * 1024

DECISION_RULE = (
    "For each family and measure, the null band is [low, high] over pairs of family members "
    "(same recipe, different seeds) and the audited score is the mean of its scores against the "
    "members. The audited embedding is inside a family when, on every measure, its score is at least "
    "low - (high - low) - tolerance * |low| (the band stretched down by its own width and by a relative "
    "slack, default 5%). Verdict: the family it is inside (if inside both, the one whose "
    "band it reaches with the larger worst-case margin); 'neither' when it is inside none.")


@dataclass(frozen=True)
class ResemblanceParams:
    """Parameters of the three measures and of the judgement; recorded in every result."""

    k: int = 10
    knn_queries: int | None = 5000      # None: every shared word is a query
    rsa_words: int = 2000
    seed: int = 0
    tolerance: float = 0.05           # relative slack below a band's lower end

    def check(self) -> None:
        if self.k < 1:
            raise AuditError("k for the kNN overlap must be at least 1.")
        if self.knn_queries is not None and self.knn_queries < 1:
            raise AuditError("the number of kNN query words must be at least 1.")
        if self.rsa_words < 3:
            raise AuditError("the RSA sample needs at least 3 words.")
        if not 0 <= self.tolerance < 1:
            raise AuditError("the band tolerance must be in [0, 1).")


@dataclass(frozen=True)
class PairScores:
    """The three measures between two named embeddings over ``shared_words`` words."""

    first: str
    second: str
    shared_words: int
    knn_overlap: float
    rsa_spearman: float
    procrustes_cosine: float

    def score(self, measure: str) -> float:
        return float(getattr(self, measure))


# ------------------------------------------------------------------------------ shared words
def shared_vocabulary(embeddings: Sequence[Vectors]) -> list[str]:
    """Words present and usable for cosine in every embedding, sorted (so order-independent)."""
    if not embeddings:
        raise AuditError("no embeddings were given to compare.")
    common = None
    for vectors in embeddings:
        usable = {w for w, ok in zip(vectors.words, vectors.valid) if ok}
        common = usable if common is None else common & usable
    return sorted(common)


def _sample(count: int, size: int | None, rng: np.random.Generator) -> np.ndarray:
    if size is None or size >= count:
        return np.arange(count)
    return np.sort(rng.choice(count, size=size, replace=False))


# ------------------------------------------------------------------------------ per-embedding parts
@dataclass(frozen=True)
class _Prepared:
    """What each measure needs from one embedding, computed once per family comparison."""

    neighbours: np.ndarray     # (queries, k) neighbour indices into the shared words, sorted per row
    cosine_ranks: np.ndarray   # ranks of the sampled words' pairwise cosines (upper triangle)
    centred: np.ndarray        # (shared words, dim) unit rows, centred and normalised again


@dataclass(frozen=True)
class _Plan:
    """Seeded choices shared by every embedding of one comparison."""

    words: list[str]
    queries: np.ndarray
    rsa_sample: np.ndarray
    fit_half: np.ndarray
    test_half: np.ndarray
    k: int


def _plan(words: list[str], params: ResemblanceParams) -> _Plan:
    count = len(words)
    needed = max(params.k + 2, 4)
    if count < needed:
        raise AuditError(f"only {count} words are shared by the embeddings; at least {needed} are needed "
                         "(a case mismatch? try --lowercase).")
    rng = np.random.default_rng(params.seed)
    queries = _sample(count, params.knn_queries, rng)
    rsa_sample = _sample(count, params.rsa_words, rng)
    order = rng.permutation(count)
    half = count // 2
    return _Plan(words, queries, rsa_sample, np.sort(order[:half]), np.sort(order[half:]), params.k)


def _prepare(vectors: Vectors, plan: _Plan) -> _Prepared:
    shared = vectors.subset(plan.words)
    neighbours, _ = shared.nearest(plan.queries, k=plan.k, block_bytes=KNN_BLOCK_BYTES)
    unit = np.asarray(shared.unit)
    sample = unit[plan.rsa_sample].astype(np.float64)
    upper = np.triu_indices(len(sample), k=1)
    cosines = (sample @ sample.T)[upper]
    return _Prepared(np.sort(neighbours, axis=1), rankdata(cosines), _centred_unit(unit))


def _centred_unit(unit: np.ndarray) -> np.ndarray:
    centred = unit.astype(np.float64) - unit.mean(axis=0, dtype=np.float64)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return np.divide(centred, norms, out=np.zeros_like(centred), where=norms > 0)


# ------------------------------------------------------------------------------ the measures
def jaccard_rows(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Jaccard index of the sets in each row of two (n, k) arrays of distinct ids per row."""
    both = np.sort(np.concatenate([first, second], axis=1), axis=1)
    common = (both[:, 1:] == both[:, :-1]).sum(axis=1)
    return common / (first.shape[1] + second.shape[1] - common)


def spearman_of_ranks(first_ranks: np.ndarray, second_ranks: np.ndarray) -> float:
    """Spearman's rho given the two rank vectors (Pearson correlation of the ranks)."""
    a = first_ranks - first_ranks.mean()
    b = second_ranks - second_ranks.mean()
    denominator = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / denominator) if denominator > 0 else float("nan")


def procrustes_fit(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Orthogonal (semi-orthogonal if the dimensions differ) W minimising ||source W - target||."""
    cross = np.asarray(source, dtype=np.float64).T @ np.asarray(target, dtype=np.float64)
    u, _, vt = np.linalg.svd(cross, full_matrices=False)
    return u @ vt


def mean_cosine(first: np.ndarray, second: np.ndarray) -> float:
    numerator = np.einsum("ij,ij->i", first, second)
    norms = np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.mean(np.where(norms > 0, numerator / norms, 0.0)))


def _score_pair(first: _Prepared, second: _Prepared, plan: _Plan, names: tuple[str, str]) -> PairScores:
    mapping = procrustes_fit(first.centred[plan.fit_half], second.centred[plan.fit_half])
    held_out = first.centred[plan.test_half] @ mapping
    return PairScores(first=names[0], second=names[1], shared_words=len(plan.words),
                      knn_overlap=float(jaccard_rows(first.neighbours, second.neighbours).mean()),
                      rsa_spearman=spearman_of_ranks(first.cosine_ranks, second.cosine_ranks),
                      procrustes_cosine=mean_cosine(held_out, second.centred[plan.test_half]))


def compare(first: Vectors, second: Vectors, params: ResemblanceParams = ResemblanceParams(),
            names: tuple[str, str] = ("first", "second")) -> PairScores:
    """The three measures between two embeddings over their shared vocabulary."""
    params.check()
    plan = _plan(shared_vocabulary([first, second]), params)
    return _score_pair(_prepare(first, plan), _prepare(second, plan), plan, names)


# ------------------------------------------------------------------------------ families and bands
@dataclass(frozen=True)
class ReferenceInfo:
    """One reference embedding: its name, where it came from, and the seed that made it."""

    name: str
    family: str
    input: InputInfo
    seed: int | None = None


@dataclass(frozen=True)
class MeasureJudgement:
    measure: str
    audited: float            # mean of the audited embedding's scores against the members
    audited_min: float
    audited_max: float
    band_low: float
    band_high: float
    lower_edge: float         # band_low - (band_high - band_low) - tolerance * |band_low|
    inside: bool


@dataclass(frozen=True)
class FamilyComparison:
    family: str
    references: list[ReferenceInfo]
    shared_words: int
    band_pairs: list[PairScores]
    audited_pairs: list[PairScores]
    measures: list[MeasureJudgement]
    inside: bool
    worst_margin: float       # min over measures of (audited - lower_edge); >= 0 when inside

    def measure(self, name: str) -> MeasureJudgement:
        return next(m for m in self.measures if m.measure == name)


def _judge_measure(measure: str, band_pairs: list[PairScores], audited_pairs: list[PairScores],
                   tolerance: float) -> MeasureJudgement:
    band = np.array([p.score(measure) for p in band_pairs])
    audited = np.array([p.score(measure) for p in audited_pairs])
    low, high = float(band.min()), float(band.max())
    # Three or so seed pairs under-sample the seed-to-seed spread, so the band is stretched down by
    # its own width; the relative slack keeps the rule meaningful for measures of any scale.
    lower_edge = low - (high - low) - tolerance * abs(low)
    mean = float(audited.mean())
    return MeasureJudgement(measure=measure, audited=mean, audited_min=float(audited.min()),
                            audited_max=float(audited.max()), band_low=low, band_high=high,
                            lower_edge=lower_edge, inside=bool(mean >= lower_edge))


def compare_family(audited: Vectors, family: str, references: Sequence[tuple[ReferenceInfo, Vectors]],
                   params: ResemblanceParams) -> FamilyComparison:
    """Scores of ``audited`` against each member, the within-family band, and the judgement."""
    if len(references) < 2:
        raise AuditError(f"the {family} family needs at least 2 reference embeddings (different seeds) "
                         "to measure a null band.")
    members = [vectors for _, vectors in references]
    plan = _plan(shared_vocabulary([audited, *members]), params)
    audited_parts = _prepare(audited, plan)
    member_parts = [_prepare(vectors, plan) for vectors in members]
    names = [info.name for info, _ in references]
    band_pairs = [_score_pair(member_parts[i], member_parts[j], plan, (names[i], names[j]))
                  for i, j in itertools.combinations(range(len(members)), 2)]
    audited_pairs = [_score_pair(audited_parts, part, plan, ("audited", name))
                     for part, name in zip(member_parts, names)]
    measures = [_judge_measure(m, band_pairs, audited_pairs, params.tolerance) for m in MEASURES]
    worst = min(m.audited - m.lower_edge for m in measures)
    return FamilyComparison(family=family, references=[info for info, _ in references],
                            shared_words=len(plan.words), band_pairs=band_pairs, audited_pairs=audited_pairs,
                            measures=measures, inside=all(m.inside for m in measures), worst_margin=worst)


def verdict_of(families: Sequence[FamilyComparison]) -> str:
    inside = [f for f in families if f.inside]
    if not inside:
        return "neither"
    return VERDICTS[max(inside, key=lambda f: f.worst_margin).family]


# ------------------------------------------------------------------------------ the result
@dataclass(frozen=True)
class CorpusInfo:
    """The corpus the reference models were trained on."""

    name: str = ""
    root: str = ""
    subsets: list[str] = field(default_factory=list)
    min_count: int = 0
    sentences: int = 0
    tokens: int = 0


@result_type("provenance")
@dataclass(frozen=True)
class ProvenanceResult(Result):
    input: InputInfo
    corpus: CorpusInfo
    parameters: ResemblanceParams
    text_model: dict
    families: list[FamilyComparison]
    verdict: str
    reason: str
    decision_rule: str
    date: str

    def family(self, name: str) -> FamilyComparison:
        for comparison in self.families:
            if comparison.family == name:
                return comparison
        raise KeyError(name)


def _reason(verdict: str, comparisons: Sequence[FamilyComparison]) -> str:
    """One sentence with the numbers behind the verdict."""
    parts = []
    for comparison in comparisons:
        state = "inside" if comparison.inside else "outside"
        worst = min(comparison.measures, key=lambda m: m.audited - m.lower_edge)
        parts.append(f"{state} the {comparison.family} band (tightest: {worst.measure} {worst.audited:.3f} vs "
                     f"band {worst.band_low:.3f}-{worst.band_high:.3f}, lower edge {worst.lower_edge:.3f})")
    return f"{verdict}: " + "; ".join(parts) + "."


def judge(audited: Vectors, families: Mapping[str, Sequence[tuple[ReferenceInfo, Vectors]]], *,
          params: ResemblanceParams = ResemblanceParams(), corpus: CorpusInfo = CorpusInfo(),
          text_model: Mapping | None = None) -> ProvenanceResult:
    """Compare ``audited`` with each family of references and say which one it falls into."""
    params.check()
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise AuditError(f"unknown reference family {sorted(unknown)[0]!r}; use one of {', '.join(FAMILIES)}.")
    comparisons = [compare_family(audited, name, families[name], params) for name in FAMILIES
                   if families.get(name)]
    if not comparisons:
        raise AuditError("no reference embeddings were given.")
    verdict = verdict_of(comparisons)
    return ProvenanceResult(input=InputInfo.of(audited), corpus=corpus, parameters=params,
                            text_model=dict(text_model or {}), families=comparisons, verdict=verdict,
                            reason=_reason(verdict, comparisons), decision_rule=DECISION_RULE, date=today())
