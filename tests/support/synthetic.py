"""Synthetic transcripts-only corpora in LibriSpeech layout, with known word counts.

:func:`write_corpus` turns a plan ``{subset: {word: count}}`` into transcript files that
:class:`audit.corpora.librispeech.LibriSpeechCorpus` reads back to exactly those counts: every token of
the plan is written once, shuffled into utterances, chapters and speakers (words are written
in upper case, as LibriSpeech does; the corpus normalisation lowercases them back).

:func:`design_counts` builds plans for provenance tests and demos. Its *marker* words make
every candidate vocabulary distinguishable: for each marked subset ``s`` and each count
``c`` in ``1..max_min_count`` there is one word that occurs only in ``s``, exactly ``c``
times. Then two candidates (union of subsets, min count) that differ in a marked subset or
in the min count always differ by a marker word, so a vocabulary taken from one candidate
matches it and no other. Leaving a subset out of ``marker_subsets`` (it then holds only
*shared* words, which are frequent everywhere) makes candidates with and without it
identical: the ambiguous case a provenance search must report rather than hide.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from audit.corpora.librispeech import SUBSETS, TRANSCRIPT_SUFFIX
from audit.core.errors import AuditError

_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
_SYLLABLES = [c + v for c in _CONSONANTS for v in _VOWELS]


@dataclass(frozen=True)
class SyntheticCorpus:
    """Where a synthetic corpus was written and the counts it was written from (the truth)."""

    root: Path
    counts: dict[str, dict[str, int]]
    utterances: dict[str, int]
    seed: int

    def vocabulary(self, subsets: Sequence[str], min_count: int) -> set[str]:
        """Words whose count summed over ``subsets`` is at least ``min_count`` (plain Python)."""
        totals: dict[str, int] = {}
        for name in subsets:
            for word, count in self.counts.get(name, {}).items():
                totals[word] = totals.get(word, 0) + count
        return {word for word, total in totals.items() if total >= min_count}


def synthetic_words(n: int, *, start: int = 0) -> list[str]:
    """``n`` distinct lowercase pseudo-words; every seventh ends in ``'s`` (apostrophes are kept)."""
    width = 3
    while len(_SYLLABLES) ** width < start + n:
        width += 1
    words = []
    for index in range(start, start + n):
        digits, value = [], index
        for _ in range(width):
            value, digit = divmod(value, len(_SYLLABLES))
            digits.append(_SYLLABLES[digit])
        word = "".join(reversed(digits))
        words.append(word + "'s" if index % 7 == 3 else word)
    return words


def design_counts(*, seed: int = 0, shared_words: int = 200, tail_words: int = 400, max_min_count: int = 20,
                  subsets: Sequence[str] = SUBSETS, marker_subsets: Sequence[str] | None = None
                  ) -> dict[str, dict[str, int]]:
    """A plan ``{subset: {word: count}}`` with shared, tail and marker words (see the module doc).

    Shared words occur in every subset, at least ``max_min_count`` times in each, so they are
    in every candidate. Tail words occur in one to three marked subsets with counts 1..8,
    which gives candidates realistic partial overlaps. Markers: one word per (marked subset,
    count 1..max_min_count) occurring only there.
    """
    marker_subsets = tuple(subsets if marker_subsets is None else marker_subsets)
    unknown = [s for s in (*subsets, *marker_subsets) if s not in SUBSETS]
    if unknown:
        raise AuditError(f"unknown LibriSpeech subset {unknown[0]!r}.")
    if not set(marker_subsets) <= set(subsets):
        raise AuditError("every marker subset must be one of the subsets.")
    rng = np.random.default_rng(seed)
    plan: dict[str, dict[str, int]] = {name: {} for name in subsets}
    n_markers = len(marker_subsets) * max_min_count
    words = synthetic_words(shared_words + tail_words + n_markers)
    shared, tail, markers = (words[:shared_words], words[shared_words:shared_words + tail_words],
                             words[shared_words + tail_words:])
    for name in subsets:
        for word in shared:
            plan[name][word] = int(rng.integers(max_min_count, 3 * max_min_count + 1))
    if marker_subsets:
        for word in tail:
            k = int(rng.integers(1, min(3, len(marker_subsets)) + 1))
            for name in rng.choice(marker_subsets, size=k, replace=False):
                plan[str(name)][word] = int(rng.integers(1, 9))
    for i, name in enumerate(marker_subsets):
        for count in range(1, max_min_count + 1):
            plan[name][markers[i * max_min_count + count - 1]] = count
    return plan


def write_corpus(root: str | os.PathLike, counts: Mapping[str, Mapping[str, int]], *, seed: int = 0,
                 utterance_words: tuple[int, int] = (8, 60), utterances_per_chapter: int = 60,
                 chapters_per_speaker: int = 2) -> SyntheticCorpus:
    """Write ``ROOT/LibriSpeech/<subset>/...`` transcripts holding exactly ``counts``.

    Utterance lengths are uniform in ``utterance_words`` (inclusive); the last utterance of a
    subset takes what is left. Words must already be normalised (lowercase, no whitespace),
    so that reading the corpus back gives exactly ``counts``.
    """
    root = Path(root)
    lo, hi = utterance_words
    if not 1 <= lo <= hi:
        raise AuditError("utterance_words must be (low, high) with 1 <= low <= high.")
    rng = np.random.default_rng(seed)
    utterances = {}
    truth = {}
    for index, (subset, plan) in enumerate(counts.items()):
        if subset not in SUBSETS:
            raise AuditError(f"unknown LibriSpeech subset {subset!r}.")
        words, values = _checked_plan(subset, plan)
        tokens = np.repeat(np.arange(len(words)), values)
        rng.shuffle(tokens)
        upper = np.array([w.upper() for w in words], dtype=object)
        lengths = _utterance_lengths(len(tokens), lo, hi, rng)
        utterances[subset] = _write_subset(root / "LibriSpeech" / subset, upper, tokens, lengths,
                                           first_speaker=100_000 * (index + 1), utterances_per_chapter=utterances_per_chapter,
                                           chapters_per_speaker=chapters_per_speaker)
        truth[subset] = {w: int(c) for w, c in zip(words, values) if c > 0}
    return SyntheticCorpus(root=root, counts=truth, utterances=utterances, seed=seed)


def _checked_plan(subset: str, plan: Mapping[str, int]) -> tuple[list[str], np.ndarray]:
    words = list(plan.keys())
    values = np.fromiter((int(plan[w]) for w in words), dtype=np.int64, count=len(words))
    for word in words:
        if not word or word != word.lower() or len(word.split()) != 1 or word.split()[0] != word:
            raise AuditError(f"the synthetic word {word!r} is not normalised (lowercase, no whitespace).")
    if (values < 0).any():
        raise AuditError(f"the plan for {subset} has a negative count.")
    if values.sum() == 0:
        raise AuditError(f"the plan for {subset} has no words; LibriSpeech subsets are never empty.")
    return words, values


def _utterance_lengths(total: int, lo: int, hi: int, rng: np.random.Generator) -> list[int]:
    lengths = rng.integers(lo, hi + 1, size=total // lo + 1)
    ends = np.cumsum(lengths)
    cut = int(np.searchsorted(ends, total))  # first utterance reaching the total
    lengths = lengths[:cut + 1].tolist()
    lengths[-1] = total - (int(ends[cut - 1]) if cut else 0)
    return [n for n in lengths if n > 0]


def _write_subset(folder: Path, upper: np.ndarray, tokens: np.ndarray, lengths: list[int], *,
                  first_speaker: int, utterances_per_chapter: int, chapters_per_speaker: int) -> int:
    starts = np.concatenate([[0], np.cumsum(lengths)])
    per_chapter = max(1, utterances_per_chapter)
    for chapter_index, first in enumerate(range(0, len(lengths), per_chapter)):
        speaker = first_speaker + chapter_index // max(1, chapters_per_speaker)
        chapter = 1000 + chapter_index
        directory = folder / str(speaker) / str(chapter)
        directory.mkdir(parents=True, exist_ok=True)
        lines = []
        for number, u in enumerate(range(first, min(first + per_chapter, len(lengths)))):
            text = " ".join(upper[tokens[starts[u]:starts[u + 1]]])
            lines.append(f"{speaker}-{chapter}-{number:04d} {text}\n")
        (directory / f"{speaker}-{chapter}{TRANSCRIPT_SUFFIX}").write_text("".join(lines), encoding="utf-8")
    return len(lengths)
