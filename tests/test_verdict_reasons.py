"""The homophone verdict's reason sentences, word for word (issue 18; the thresholds' borders
are tested in test_homophones.py): each verdict names its facts, numbers formatted by hand."""

from __future__ import annotations

import math

import pytest

from homophones.stats import RankStats
from homophones.verdict import (INCONCLUSIVE, NON_PHONETIC, PARTLY_PHONETIC, PHONETIC, VerdictEvidence, VerdictRule,
                                decide)


def evidence(pairs, share, control_share, median=3.0, candidates=30787):
    def ranks(value):
        return RankStats(n=2 * pairs, median=median, mean=median, cutoff=10, share_within_cutoff=value,
                         median_share_of_vocabulary=median / candidates, candidates=candidates)
    return VerdictEvidence(pairs, ranks(share), ranks(control_share), share - control_share)


FACTS = ("80.0% of homophone ranks are <= 10 (control 2.5%), median homophone rank 3.5 of 30,787 words (40 pairs, "
         "spelling variants excluded)")


def test_phonetic_reason():
    verdict, reason = decide(evidence(40, 0.8, 0.025, median=3.5), VerdictRule())
    assert (verdict, reason) == (PHONETIC, f"homophones are each other's near neighbours, as from speech: {FACTS}.")


def test_non_phonetic_reason():
    verdict, reason = decide(evidence(300, 0.0, 0.0, median=25626.0, candidates=37621), VerdictRule())
    assert verdict == NON_PHONETIC
    assert reason == ("homophones are not each other's near neighbours, unlike speech: 0.0% of homophone ranks are "
                      "<= 10 (control 0.0%), median homophone rank 25,626 of 37,621 words (300 pairs, spelling variants "
                      "excluded).")


def test_partly_phonetic_reason():
    verdict, reason = decide(evidence(50, 0.4, 0.01, median=40.0), VerdictRule())
    assert verdict == PARTLY_PHONETIC
    assert reason == ("many more homophones are each other's near neighbours than control pairs (lift 39.0 points), "
                      "but fewer than the 50.0% of a speech space: 40.0% of homophone ranks are <= 10 (control 1.0%), "
                      "median homophone rank 40 of 30,787 words (50 pairs, spelling variants excluded).")


def test_inconclusive_reasons():
    verdict, reason = decide(evidence(9, 0.9, 0.0), VerdictRule())
    assert (verdict, reason) == (INCONCLUSIVE, "only 9 homophone pairs (spelling variants excluded) are in the "
                                               "vocabulary; at least 10 are needed.")
    verdict, reason = decide(evidence(20, 0.45, 0.3, median=12.25), VerdictRule())
    assert verdict == INCONCLUSIVE
    assert reason == ("the ranks are between the phonetic and the non-phonetic pattern: 45.0% of homophone ranks are "
                      "<= 10 (control 30.0%), median homophone rank 12.2 of 30,787 words (20 pairs, spelling variants "
                      "excluded).")


def test_missing_figures_read_n_a():
    nan = math.nan
    verdict, reason = decide(evidence(12, nan, nan, median=nan), VerdictRule())
    assert "n/a of homophone ranks are <= 10 (control n/a), median homophone rank n/a of" in reason


@pytest.mark.parametrize("cutoff", [5, 20])
def test_the_rule_cutoff_is_named(cutoff):
    _, reason = decide(evidence(40, 0.8, 0.025, median=3.5), VerdictRule(rank_cutoff=cutoff))
    assert f"ranks are <= {cutoff} (control" in reason
