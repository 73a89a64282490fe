"""The verdict: does this embedding place homophones as a model of spoken words must?

A model that embeds single spoken words cannot tell "ate" from "eight", so in a speech-derived
embedding most homophones sit among each other's nearest neighbours (the paper's reproduction:
ranks 1, 9, 3, 15, 1, 7, 100, 2, 1, 4), however crowded the space is (its random pairs have
cosine 0.77). A text model keeps them apart (official vectors: ranks in the tens of thousands).

Mean similarity is not evidence either way: a badly spread speech space makes every pair
similar, and text models put spelling variants and related homophones close. So the rule uses
ranks only, against a control: the same words paired with other words of the list (the same
kind of words, not matched for frequency), whose ranks show how often "within 10" happens by chance in
this vocabulary. Spelling variants are left out of the evidence.

Rule, applied in order (``share`` = share of homophone ranks <= 10, both directions;
``lift`` = share - the control's share <= 10):

1. fewer than ``min_pairs`` evidence pairs found -> inconclusive (too little evidence);
2. share >= ``phonetic_min_share`` and lift >= ``phonetic_min_lift`` -> phonetic;
3. share < ``non_phonetic_max_share``, or share < ``phonetic_min_share`` and
   lift < ``non_phonetic_max_lift`` -> non-phonetic;
4. share < ``phonetic_min_share`` and lift >= ``partly_phonetic_min_lift`` -> partly-phonetic:
   far more homophones near each other than control pairs, but too few for a space in which
   every homophone is indistinguishable (measured for issue 17: GloVe with 40% of the paper's
   homophone pairs merged has a share of 40.7%, control 0.6%). A space built partly from speech,
   or edited, looks like this;
5. otherwise -> inconclusive: a lift between 10 and 20 points below the phonetic share, or a
   share at the phonetic level that chance alone explains (a vocabulary so small that control
   pairs are also within 10).

``partly_phonetic_min_lift`` (0.2) lies halfway between the lift that counts as no better than
the control (0.1) and the phonetic lift (0.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from homophones.stats import RANK_CUTOFF, RankStats

PHONETIC, NON_PHONETIC, INCONCLUSIVE = "phonetic", "non-phonetic", "inconclusive"
PARTLY_PHONETIC = "partly-phonetic"
VERDICTS = (PHONETIC, PARTLY_PHONETIC, NON_PHONETIC, INCONCLUSIVE)


@dataclass(frozen=True)
class VerdictRule:
    """The thresholds the verdict used, and the rule in words."""

    rank_cutoff: int = RANK_CUTOFF
    min_pairs: int = 10
    phonetic_min_share: float = 0.5
    phonetic_min_lift: float = 0.3
    non_phonetic_max_share: float = 0.2
    non_phonetic_max_lift: float = 0.1
    partly_phonetic_min_lift: float = 0.2
    text: str = ("share = share of homophone ranks <= 10 (both directions, spelling variants excluded); "
                 "lift = share minus the control pairs' share <= 10. Fewer than 10 pairs: inconclusive. "
                 "share >= 0.5 and lift >= 0.3: phonetic. share < 0.2, or share < 0.5 and lift < 0.1: "
                 "non-phonetic. share < 0.5 and lift >= 0.2: partly-phonetic (far more homophones near "
                 "each other than control pairs, fewer than in a speech space). Otherwise inconclusive. "
                 "Mean similarity is reported, never used.")


@dataclass(frozen=True)
class VerdictEvidence:
    """The numbers the rule read: evidence pairs (found, not spelling variants) and the
    homophone and control rank summaries over them."""

    pairs: int
    homophone: RankStats
    control: RankStats
    lift: float


def decide(evidence: VerdictEvidence, rule: VerdictRule) -> tuple[str, str]:
    """(verdict, one-sentence reason)."""
    share, control_share, lift = evidence.homophone.share_within_cutoff, evidence.control.share_within_cutoff, evidence.lift
    cutoff = rule.rank_cutoff
    facts = (f"{_pct(share)} of homophone ranks are <= {cutoff} (control {_pct(control_share)}), "
             f"median homophone rank {_num(evidence.homophone.median)} of {evidence.homophone.candidates:,} words "
             f"({evidence.pairs} pairs, spelling variants excluded)")
    if evidence.pairs < rule.min_pairs:
        return INCONCLUSIVE, (f"only {evidence.pairs} homophone pairs (spelling variants excluded) are in the "
                              f"vocabulary; at least {rule.min_pairs} are needed.")
    if share >= rule.phonetic_min_share and lift >= rule.phonetic_min_lift:
        return PHONETIC, f"homophones are each other's near neighbours, as from speech: {facts}."
    if share < rule.non_phonetic_max_share or (share < rule.phonetic_min_share and lift < rule.non_phonetic_max_lift):
        return NON_PHONETIC, f"homophones are not each other's near neighbours, unlike speech: {facts}."
    if share < rule.phonetic_min_share and lift >= rule.partly_phonetic_min_lift:
        return PARTLY_PHONETIC, (f"many more homophones are each other's near neighbours than control pairs "
                                 f"(lift {_points(lift)} points), but fewer than the {_pct(rule.phonetic_min_share)} "
                                 f"of a speech space: {facts}.")
    return INCONCLUSIVE, f"the ranks are between the phonetic and the non-phonetic pattern: {facts}."


def _pct(value: float) -> str:
    return "n/a" if value != value else f"{100 * value:.1f}%"


def _points(value: float) -> str:
    return f"{100 * value:.1f}"   # only for a lift that passed ``>=`` a threshold: never NaN


def _num(value: float) -> str:
    return "n/a" if value != value else f"{value:,.1f}".rstrip("0").rstrip(".")
