"""Spelling variants: one word spelt two ways (meter/metre, practice/practise, check/cheque).

A text model learns that two spellings of one word occur in the same contexts, so it puts them
close together although it never heard them. Such pairs say nothing about whether an
embedding came from speech, so they are tagged and kept out of the verdict.

Sources: the ``breame`` package's American -> British spelling table (1,706 pairs), plus
:data:`EXTRA_SPELLING_VARIANTS`, a short list of variants ``breame`` lacks. Without ``breame``
installed only the extra list is used, and :func:`variant_source` says so.
"""

from __future__ import annotations

from functools import lru_cache

# Variants missing from breame 0.1.2 that occur among English homophones. clew/clue: 'clew' is
# the older spelling of 'clue' (Merriam-Webster lists it as a variant); the released Speech2Vec
# vectors give it their highest homophone similarity (0.83), as a text model would.
EXTRA_SPELLING_VARIANTS: tuple[tuple[str, str], ...] = (
    ("check", "cheque"), ("checks", "cheques"), ("checkbook", "chequebook"),
    ("story", "storey"), ("stories", "storeys"),
    ("curb", "kerb"), ("curbs", "kerbs"),
    ("whiskey", "whisky"), ("racket", "racquet"), ("hiccup", "hiccough"),
    ("clue", "clew"), ("clues", "clews"),
)


@lru_cache(maxsize=1)
def _variant_table() -> tuple[frozenset, str]:
    pairs = {frozenset(p) for p in EXTRA_SPELLING_VARIANTS}
    try:
        from breame.data.spelling_constants import AMERICAN_ENGLISH_SPELLINGS, BRITISH_ENGLISH_SPELLINGS
    except ImportError:
        return frozenset(pairs), f"built-in list of {len(EXTRA_SPELLING_VARIANTS)} pairs (breame not installed)"
    for table in (AMERICAN_ENGLISH_SPELLINGS, BRITISH_ENGLISH_SPELLINGS):
        pairs.update(frozenset((a, b)) for a, b in table.items() if a != b)
    return frozenset(pairs), f"breame spelling table + built-in list of {len(EXTRA_SPELLING_VARIANTS)} pairs"


def is_spelling_variant(first: str, second: str) -> bool:
    """True when the two words are one word spelt two ways (case-insensitive)."""
    return frozenset((first.lower(), second.lower())) in _variant_table()[0]


def variant_source() -> str:
    """Where the variant tags come from, for the record in a PairSet."""
    return _variant_table()[1]
