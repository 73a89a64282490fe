"""The reality check's conclusions, computed from an audit's typed results: claimed X, found Y.

Four findings, each one sentence with its numbers and the section it rests on, each either
``supported`` (the numbers show it), ``not supported`` (the numbers were there and do not show
it) or ``not tested`` (the audit lacks the results it needs; the sentence says which):

(a) homophones: the embedding claimed to be learned from speech does not place homophones
    together (verdict ``non-phonetic``; ``partly-phonetic`` is evidence of speech, against it),
    while a reproduction trained on speech does; an ``inconclusive`` verdict on either side (too
    few pairs, or ranks between the patterns) leaves the finding not tested;
(b) vocabulary: its vocabulary is exactly one (subsets, minimum count) of the corpus, and not the
    claimed one;
(c) benchmarks: a reproduction stays near its random initialisation and far below the claimed
    scores, while the released embedding scores like text models;
(d) model provenance: the released embedding is text-like, the reproduction is not.

A genuine acoustic word embedding (role ``acoustic-model``: an AWE trained on speech, as
``audit reproduce awe`` trains one) is the positive control of (a) and (d): when the audit holds one,
it must be phonetic and not text-like for those findings to be supported (a check that calls a
genuine acoustic embedding non-phonetic or text-like cannot be trusted on the release), and it is
the speech-trained comparison when there is no reproduction. The sentences then name it with its
numbers; without one, (a) and (d) read as before.

Nothing here is a canned sentence: every clause is built from the results and every threshold
is a named constant shown in the finding's rule. Roles (which embedding is the release, the
reproduction, its random initialisation, a text model, a genuine acoustic word embedding) come from
the caller; :data:`ROLE_LABELS` is what the reader is shown for each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from audit.core.claims import Claim
from audit.core.evidence import FEW_BENCHMARK_PAIRS
from audit.core.results import Result, result_type, today

# The homophone verdicts the findings read (homophones.verdict's names; that package is a sibling layer)
PHONETIC, NON_PHONETIC, INCONCLUSIVE = "phonetic", "non-phonetic", "inconclusive"

ROLES = ("released", "reproduction", "random-init", "text-model", "acoustic-model", "other")
# what the report and the sentences call each role (the results record them beside the roles)
ROLE_LABELS = {"released": "released embedding under audit", "reproduction": "reproduction",
               "random-init": "reproduction at random init", "text-model": "text model",
               "acoustic-model": "genuine acoustic word embedding", "other": "other"}
STATUSES = ("supported", "not supported", "not tested")
NEAR_RANDOM_INIT = 0.10     # mean |rho(reproduction) - rho(random init)| at most this: "near its random init"
FAR_BELOW_CLAIM = 0.20      # mean claimed rho - reproduced rho at least this: "far below the claims"
LIKE_TEXT_MODELS = 0.10     # the release's mean rho within this of the text models' range: "like text models"
# The best text model's mean rho above the random init's by at least this, or the benchmarks cannot
# tell a text model from an untrained one on this corpus (the demo's small corpus: 0.070 vs 0.018)
# and the finding is not tested.
TEXT_ABOVE_RANDOM_INIT = 0.10
CLAIMED_SETS = ("speech2vec-paper",)   # a named set of claimed scores: the benchmark rows' paper_claim


@dataclass(frozen=True)
class EmbeddingEvidence:
    """One audited embedding as the findings read it."""

    name: str
    role: str
    results: Mapping[str, Result]
    claim: Claim | None = None


@dataclass(frozen=True)
class Finding:
    key: str                 # homophones | vocabulary | benchmarks | provenance
    title: str
    status: str              # supported | not supported | not tested
    sentence: str
    section: str             # the result kind whose section backs it
    rule: str
    numbers: dict[str, float | bool | str | None] = field(default_factory=dict)


@result_type("findings")
@dataclass(frozen=True)
class FindingsResult(Result):
    roles: dict[str, str]    # embedding name -> role
    findings: tuple[Finding, ...]
    date: str
    labels: dict[str, str] = field(default_factory=dict)   # role -> what the reader is shown (roles of this run)


def findings(embeddings: Sequence[EmbeddingEvidence]) -> FindingsResult:
    for e in embeddings:
        if e.role not in ROLES:
            raise ValueError(f"unknown role {e.role!r}")
    released = _first(embeddings, "released")
    reproduction = _first(embeddings, "reproduction")
    random_init = _first(embeddings, "random-init")
    text_models = [e for e in embeddings if e.role == "text-model"]
    acoustic = [e for e in embeddings if e.role == "acoustic-model"]
    return FindingsResult(roles={e.name: e.role for e in embeddings},
                          findings=(_homophones(released, reproduction, acoustic), _vocabulary(released),
                                    _benchmarks(released, reproduction, random_init, text_models),
                                    _provenance(released, reproduction, acoustic)),
                          date=today(), labels={e.role: ROLE_LABELS[e.role] for e in embeddings})


def _first(embeddings, role):
    return next((e for e in embeddings if e.role == role), None)


def _without(released, reproduction, kind: str) -> list[str]:
    """Which of the release and the reproduction lack a ``kind`` result (by name, or by role when absent)."""
    return [e.name if e else role for e, role in ((released, "a released embedding"), (reproduction, "a reproduction"))
            if e is None or kind not in e.results]


def _share(result) -> float:
    return float(result.evidence.homophone.share_within_cutoff)


def _pairs(result) -> int:
    """The evidence pairs the verdict read (found, spelling variants left out)."""
    return int(result.evidence.pairs)


def _controls(acoustic, kind: str) -> list:
    """The genuine acoustic word embeddings that have a ``kind`` result (the positive controls)."""
    return [e for e in acoustic if kind in e.results]


def _control_key(index: int) -> str:
    return "acoustic" if index == 0 else f"acoustic_{index + 1}"


def _joined(clauses: list[str]) -> str:
    return clauses[0] if len(clauses) == 1 else f"{', '.join(clauses[:-1])} and {clauses[-1]}"


_ACOUSTIC = ROLE_LABELS["acoustic-model"]


# ------------------------------------------------------------------------------ (a) homophones
def _homophones(released, reproduction, acoustic=()) -> Finding:
    rule = ("supported when the release (claimed speech) is non-phonetic and a reproduction trained on speech is "
            "phonetic; not tested when a verdict is inconclusive (too few pairs, or between the patterns); the "
            "verdicts come from the homophone rank rule")
    controls = _controls(acoustic, "homophones")
    if controls:
        rule = ("supported when the release (claimed speech) is non-phonetic, a reproduction trained on speech (when "
                f"audited) is phonetic and every {_ACOUSTIC} (the positive control; the comparison when no "
                "reproduction is audited) is phonetic; not tested when a verdict is inconclusive (too few pairs, or "
                "between the patterns); the verdicts come from the homophone rank rule")
    title = "Homophones"
    # with a positive control, only the release can lack a result: the control is the comparison
    missing = _without(released, controls[0] if controls else reproduction, "homophones")
    if missing:
        return Finding("homophones", title, "not tested", f"Homophones not compared: no homophone result for "
                       f"{' or '.join(missing)}.", "homophones", rule)
    ours = released.results["homophones"]
    claimed = released.claim.kind if released.claim and released.claim.kind else "not stated"
    if claimed not in ("speech", "not stated"):
        # a release that claims to be a text model and places homophones apart is what it claims
        return Finding("homophones", title, "not tested", f"Homophones not compared: {released.name} claims kind "
                       f"{claimed}, and the finding concerns a release claimed to be learned from speech.",
                       "homophones", rule)
    numbers = {"released_verdict": ours.verdict, "released_share": _share(ours), "released_pairs": _pairs(ours)}
    cutoff = ours.rule.rank_cutoff
    sentence = (f"{released.name} (claimed kind: {claimed}) is {ours.verdict}: {100 * _share(ours):.1f}% of its "
                f"homophone ranks ({_pairs(ours)} pairs) are within {cutoff}")
    clauses, verdicts = [], [ours.verdict]
    if reproduction is not None and "homophones" in reproduction.results:
        theirs = reproduction.results["homophones"]
        numbers.update(reproduction_verdict=theirs.verdict, reproduction_share=_share(theirs),
                       reproduction_pairs=_pairs(theirs))
        clauses.append(f"{reproduction.name} is {theirs.verdict} with {100 * _share(theirs):.1f}% ({_pairs(theirs)} pairs)")
        verdicts.append(theirs.verdict)
    for index, control in enumerate(controls):
        result = control.results["homophones"]
        numbers.update({f"{_control_key(index)}_verdict": result.verdict,
                        f"{_control_key(index)}_share": _share(result),
                        f"{_control_key(index)}_pairs": _pairs(result)})
        clauses.append(f"{control.name}, a {_ACOUSTIC}, is {result.verdict} with {100 * _share(result):.1f}% "
                       f"({_pairs(result)} pairs)")
        verdicts.append(result.verdict)
    sentence += f"; {_joined(clauses)}."
    if INCONCLUSIVE in verdicts:
        # an inconclusive verdict (too few pairs, or ranks between the patterns) is no evidence either way
        return Finding("homophones", title, "not tested", sentence, "homophones", rule, numbers)
    supported = ours.verdict == NON_PHONETIC and all(v == PHONETIC for v in verdicts[1:])
    return Finding("homophones", title, "supported" if supported else "not supported", sentence, "homophones",
                   rule, numbers)


# ------------------------------------------------------------------------------ (b) vocabulary
def _vocabulary(released) -> Finding:
    rule = ("supported when the vocabulary search finds one exact, unique (subsets, minimum count) and it differs "
            "from the claimed subsets or minimum count")
    title = "Vocabulary"
    if released is None or "vocab" not in released.results:
        return Finding("vocabulary", title, "not tested", "Vocabulary not traced: no vocabulary result for a "
                       "released embedding (a corpus is needed).", "vocab", rule)
    result = released.results["vocab"]
    best = result.best
    found = f"{' + '.join(best.subsets)} at minimum count {best.min_count}"
    claim = released.claim
    claimed_subsets = tuple(claim.subsets) if claim and claim.subsets else None
    claimed_count = claim.min_count if claim else None
    claimed = (f"{' + '.join(claimed_subsets) if claimed_subsets else 'subsets not stated'}"
               f"{f' at minimum count {claimed_count}' if claimed_count else ''}")
    numbers = {"found_subsets": " + ".join(best.subsets), "found_min_count": best.min_count,
               "exact": bool(best.exact), "unique": bool(result.unique), "jaccard": float(best.jaccard),
               "claimed_subsets": " + ".join(claimed_subsets) if claimed_subsets else None,
               "claimed_min_count": claimed_count}
    if not best.exact:
        return Finding("vocabulary", title, "not supported",
                       f"{released.name}'s vocabulary matches no candidate exactly (closest: {found}, Jaccard "
                       f"{best.jaccard:.4f}); the claim said {claimed}.", "vocab", rule, numbers)
    if claimed_subsets is None and claimed_count is None:
        return Finding("vocabulary", title, "not tested",
                       f"{released.name}'s vocabulary is exactly {found}{'' if result.unique else ' (not unique)'}; "
                       f"no claimed subsets or minimum count to compare with.", "vocab", rule, numbers)
    differs = (claimed_subsets is not None and set(claimed_subsets) != set(best.subsets)) or \
              (claimed_count is not None and claimed_count != best.min_count)
    supported = differs and result.unique
    verb = "contradicting" if differs else "as"
    sentence = (f"{released.name}'s vocabulary ({best.words:,} words) is exactly {found}"
                f"{'' if result.unique else f', one of {result.tied_with_best + 1} equally exact candidates'}, "
                f"{verb} the claim of {claimed}.")
    return Finding("vocabulary", title, "supported" if supported else "not supported", sentence, "vocab", rule,
                   numbers)


# ------------------------------------------------------------------------------ (c) benchmarks
def _scores(evidence) -> dict[str, float]:
    """rho per benchmark found on at least FEW_BENCHMARK_PAIRS pairs (fewer: flagged in the benchmark
    tables, left out of the figure and of this finding)."""
    return {row.name: float(row.spearman) for row in _rows(evidence)
            if row.spearman is not None and math.isfinite(row.spearman) and row.found >= FEW_BENCHMARK_PAIRS}


def _rows(evidence) -> tuple:
    if evidence is None or "benchmarks" not in evidence.results:
        return ()
    return evidence.results["benchmarks"].results


def _unscored(evidence) -> str:
    """Why an embedding has no benchmark score the finding can use."""
    return f"no benchmark with {FEW_BENCHMARK_PAIRS} pairs found" if _rows(evidence) else "not scored"


def _coverage(evidence, names) -> tuple[int, int]:
    """(pairs found, pairs) over the named benchmarks."""
    rows = [row for row in _rows(evidence) if row.name in names]
    return sum(row.found for row in rows), sum(row.pairs for row in rows)


def _claimed_scores(released) -> tuple[dict[str, float], str]:
    """The claimed rho per benchmark, and where the claims come from."""
    claim = released.claim if released else None
    if claim is None:
        return {}, "no claims"
    if claim.benchmark_scores:
        return dict(claim.benchmark_scores), "the claims file"
    if claim.benchmark_set in CLAIMED_SETS and "benchmarks" in released.results:
        return ({row.name: float(row.paper_claim) for row in released.results["benchmarks"].results
                 if row.paper_claim is not None}, f"the {claim.benchmark_set} set")
    return {}, f"an unknown claimed set {claim.benchmark_set!r}" if claim.benchmark_set else "no claimed scores"


def _mean_over(common, *tables) -> list[float]:
    return [sum(t[name] for name in common) / len(common) for t in tables]


def _benchmarks(released, reproduction, random_init, text_models) -> Finding:
    rule = (f"supported when the reproduction's mean rho is within {NEAR_RANDOM_INIT} of its random init and at "
            f"least {FAR_BELOW_CLAIM} below the claimed scores, and the release's mean rho is within "
            f"{LIKE_TEXT_MODELS} of the text models' range (means over the benchmarks of which every embedding found "
            f"at least {FEW_BENCHMARK_PAIRS} pairs and that are claimed); not tested when no text model scores at least "
            f"{TEXT_ABOVE_RANDOM_INIT} above the random init (the benchmarks cannot tell text from an untrained model)")
    title = "Benchmarks"
    ours, repro, init = _scores(released), _scores(reproduction), _scores(random_init)
    texts = [_scores(e) for e in text_models]
    claimed, claimed_from = _claimed_scores(released)
    needed = {"a released embedding": (ours, released), "a reproduction": (repro, reproduction),
              "its random initialisation": (init, random_init), "claimed scores": (claimed, None)}
    # an embedding audited whose benchmarks all found too few pairs is named as such (the sentence
    # read as if there were no reproduction at all)
    lacking = [label if evidence is None or not _rows(evidence) else f"{evidence.name} ({_unscored(evidence)})"
               for label, (table, evidence) in needed.items() if not table]
    lacking += [] if any(texts) else ["text models"]
    if lacking:
        return Finding("benchmarks", title, "not tested", f"Benchmarks not compared: no scores for "
                       f"{', '.join(lacking)}.", "benchmarks", rule)
    left_out = [f"{e.name} ({_unscored(e)})" for e, t in zip(text_models, texts) if not t]
    texts = [t for t in texts if t]
    common = sorted(set(ours) & set(repro) & set(init) & set(claimed) & set.intersection(*(set(t) for t in texts)))
    if not common:
        return Finding("benchmarks", title, "not tested", f"Benchmarks not compared: no benchmark is scored (at least "
                       f"{FEW_BENCHMARK_PAIRS} pairs found) for every embedding and claimed.", "benchmarks", rule)
    mean_ours, mean_repro, mean_init, mean_claim = _mean_over(common, ours, repro, init, claimed)
    text_means = _mean_over(common, *texts)
    low, high = min(text_means), max(text_means)
    near_init = abs(mean_repro - mean_init) <= NEAR_RANDOM_INIT
    far_below = mean_claim - mean_repro >= FAR_BELOW_CLAIM
    like_text = low - LIKE_TEXT_MODELS <= mean_ours <= high + LIKE_TEXT_MODELS
    found, total = _coverage(reproduction, common)
    numbers = {"benchmarks": len(common), "reproduction": mean_repro, "random_init": mean_init,
               "claimed": mean_claim, "released": mean_ours, "text_low": low, "text_high": high,
               "reproduction_pairs_found": found, "pairs": total}
    text_range = f"{low:.3f}" if low == high else f"{low:.3f} to {high:.3f}"
    sentence = (f"Over {len(common)} benchmark{'s' if len(common) != 1 else ''} ({', '.join(common)}; "
                f"{reproduction.name} found {found:,} of their {total:,} pairs) the mean Spearman rho of "
                f"{reproduction.name} is {mean_repro:.3f} against {mean_init:.3f} at random initialisation and "
                f"{mean_claim:.3f} claimed ({claimed_from}); {released.name} scores {mean_ours:.3f}, text model"
                f"{'s' if len(texts) != 1 else ''} {text_range}"
                f"{f'; left out: {_joined(left_out)}' if left_out else ''}.")
    if high - mean_init < TEXT_ABOVE_RANDOM_INIT:
        return Finding("benchmarks", title, "not tested", sentence[:-1] + f": no text model scores "
                       f"{TEXT_ABOVE_RANDOM_INIT} above the random initialisation, so these benchmarks cannot tell a "
                       f"text model from an untrained one here.", "benchmarks", rule, numbers)
    supported = near_init and far_below and like_text
    return Finding("benchmarks", title, "supported" if supported else "not supported", sentence, "benchmarks",
                   rule, numbers)


# ------------------------------------------------------------------------------ (d) provenance
def _text_measure(result, name: str):
    """The text family's judgement on one measure (audited value and band), when the result has it."""
    for family in getattr(result, "families", None) or ():
        if getattr(family, "family", None) == "text":
            return next((m for m in family.measures if m.measure == name), None)
    return None


def _text_contests(result) -> list:
    """The text family's contests against its rivals (empty without rivals)."""
    return [c for c in getattr(result, "contests", None) or () if getattr(c, "family", None) == "text"]


def _provenance(released, reproduction, acoustic=()) -> Finding:
    rule = "supported when model provenance calls the release text-like and the reproduction not text-like"
    controls = _controls(acoustic, "provenance")
    if controls:
        rule = ("supported when model provenance calls the release text-like, the reproduction (when audited) not "
                f"text-like and every {_ACOUSTIC} (the positive control; the comparison when no reproduction is "
                "audited) not text-like")
    title = "Model provenance"
    # with a positive control, only the release can lack a result: the control is the comparison
    missing = _without(released, controls[0] if controls else reproduction, "provenance")
    if missing:
        return Finding("provenance", title, "not tested", f"Model provenance not compared: no provenance result "
                       f"for {' or '.join(missing)}.", "provenance", rule)
    ours = released.results["provenance"]
    numbers = {"released_verdict": ours.verdict}
    compared = [("released", released, ours, "")]
    if reproduction is not None and "provenance" in reproduction.results:
        numbers["reproduction_verdict"] = reproduction.results["provenance"].verdict
        compared.append(("reproduction", reproduction, reproduction.results["provenance"], ""))
    for index, control in enumerate(controls):
        numbers[f"{_control_key(index)}_verdict"] = control.results["provenance"].verdict
        compared.append((_control_key(index), control, control.results["provenance"], f", a {_ACOUSTIC},"))
    # What decided each verdict: the text family's contests against the rival families (token-shuffled,
    # random), when there are rivals. The kNN overlap beside the text band alone can point the other way
    # (a release above the band's top called text-like, a reproduction inside it called neither).
    # Without rivals the band rule decided, and the band is quoted. Each embedding is compared over the
    # words it shares with the references, so each has its own band: one is quoted only when all agree.
    measured = [(label, evidence, result, called, _text_measure(result, "knn_overlap"))
                for label, evidence, result, called in compared]
    bands = {(float(m.band_low), float(m.band_high)) for _, _, result, _, m in measured
             if m is not None and not _text_contests(result)}
    clauses = []
    for label, evidence, result, called, measure in measured:
        contests = _text_contests(result)
        if contests:
            won = [c for c in contests if c.beats]
            # a text-like verdict's weakest win, or the contest that kept another verdict from text-like
            decisive = min(won if len(won) == len(contests) else [c for c in contests if not c.beats],
                           key=lambda c: c.gap - c.margin)
            numbers[f"{label}_text_contests_won"] = len(won)
            numbers[f"{label}_text_contests"] = len(contests)
            numbers[f"{label}_decisive_gap"] = float(decisive.gap)
            numbers[f"{label}_decisive_margin"] = float(decisive.margin)
            relation = ">" if decisive.beats else "<="
            clauses.append(f"{evidence.name}{called} {result.verdict} (text models beat the "
                           f"{_joined(list(dict.fromkeys(c.rival for c in contests)))} models on {len(won)} of "
                           f"{len(contests)} comparisons; {'tightest' if decisive.beats else 'short'}: "
                           f"{decisive.measure.replace('_', ' ')} vs {decisive.rival}, gap {decisive.gap:.3f} "
                           f"{relation} margin {decisive.margin:.3f})")
        elif measure is not None:
            numbers[f"{label}_knn_overlap"] = float(measure.audited)
            numbers[f"{label}_text_band_low"] = float(measure.band_low)
            numbers[f"{label}_text_band_high"] = float(measure.band_high)
            own_band = "" if len(bands) == 1 else \
                f"; text models among themselves {measure.band_low:.3f} to {measure.band_high:.3f}"
            clauses.append(f"{evidence.name}{called} {result.verdict} (kNN overlap {measure.audited:.3f}{own_band})")
        else:
            clauses.append(f"{evidence.name}{called} {result.verdict}")
    band = (f"; the text models agree among themselves at {min(bands)[0]:.3f} to {min(bands)[1]:.3f}"
            if len(bands) == 1 else "")
    sentence = (f"Model provenance against text models trained on the corpus calls {_joined(clauses)}"
                f"{band}.")
    supported = ours.verdict == "text-like" and all(r.verdict != "text-like" for _, _, r, _ in compared[1:])
    return Finding("provenance", title, "supported" if supported else "not supported", sentence, "provenance",
                   rule, numbers)
