"""Homophone audit: do homophones sit together, as in an embedding of spoken words?

``load_pairs(source)`` gives a :class:`PairSet` (``paper-307``, ``cmudict`` or a TSV path);
``check(vectors, pairs)`` gives a :class:`HomophoneResult` (JSON kind ``homophones``).
"""

from homophones.check import HomophoneResult, check
from homophones.pairs import SOURCES, HomophonePair, PairSet, load_pairs

__all__ = ["HomophonePair", "HomophoneResult", "PairSet", "SOURCES", "check", "load_pairs"]
