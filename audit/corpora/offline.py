"""An offline text corpus in LibriSpeech's shape: seven subsets, transcripts only.

LibriSpeech itself cannot be downloaded here, yet the reality check's argument needs its shape:
several subsets of very different sizes, read by disjoint speakers, whose unions give different
vocabularies at each minimum count (the released Speech2Vec vocabulary is *all* subsets at count
>= 5, not the claimed clean training subsets). This module builds such a corpus from text that
installed dependencies ship:

- gensim's shortened English Wikipedia dump (106 articles, ~453k tokens through gensim's
  ``WikiCorpus`` tokenizer) and its Lee news corpora (``source="wiki+lee"``, the default), or
  the Lee corpora alone (``source="lee"``, ~70k tokens, for quick tests);
- sentences that use every word of ``extra_words`` (e.g. the homophone list and the words of the
  offline benchmarks) ``extra_repeats`` times, in the clean training subsets, so that those words
  are really covered at the minimum counts the audit searches.

Tokens are kept when they are lowercase ASCII letters (and apostrophes), the characters of
LibriSpeech transcripts. The text is cut into chapters of :data:`CHAPTER_TOKENS` tokens, shuffled
with the seed and dealt to the subsets in proportion to LibriSpeech's hours (Table 4 of the
reality-check paper); each subset has its own speakers, two chapters each, and utterances of
10-35 words, written upper-case like LibriSpeech's ``*.trans.txt``. A ``manifest.json`` records the
parameters and the token counts; a folder built with the same parameters is reused as it is.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from audit.core.errors import AuditError
from audit.core.files import atomic_write_json, atomic_write_text, read_json
from audit.corpora.librispeech import SUBSETS, TRANSCRIPT_SUFFIX

# LibriSpeech's hours per subset (Table 4 of the reality-check paper; OpenSLR's listing).
SUBSET_HOURS = {"train-clean-100": 100.6, "train-clean-360": 363.6, "dev-clean": 5.4, "test-clean": 5.4,
                "train-other-500": 496.7, "dev-other": 5.3, "test-other": 5.1}
CLEAN_TRAINING = ("train-clean-100", "train-clean-360")
SOURCES = ("wiki+lee", "lee")
CHAPTER_TOKENS = 400
CHAPTERS_PER_SPEAKER = 2
UTTERANCE_WORDS = (10, 35)
MANIFEST = "manifest.json"
CORPUS_VERSION = 1
WIKI_DUMP = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
_WORD = re.compile(r"[a-z][a-z']*")


def build_offline_corpus(root: str | Path, *, source: str = "wiki+lee", seed: int = 0,
                         extra_words: Iterable[str] = (), extra_repeats: int = 6) -> Path:
    """Write the corpus under ``root`` (``root/LibriSpeech/<subset>/...``) and return ``root``."""
    if source not in SOURCES:
        raise AuditError(f"unknown offline corpus source {source!r}; choose one of {', '.join(SOURCES)}.")
    if extra_repeats < 1:
        raise AuditError("extra_repeats must be at least 1.")
    extra = sorted({w.lower() for w in extra_words if _WORD.fullmatch(w.lower())})
    root = Path(root)
    parameters = {"version": CORPUS_VERSION, "source": source, "seed": seed, "extra_repeats": extra_repeats,
                  "extra_words": len(extra), "extra_words_hash": _hash_words(extra),
                  "chapter_tokens": CHAPTER_TOKENS, "hours": SUBSET_HOURS}
    manifest_path = root / MANIFEST
    if manifest_path.is_file():
        try:
            if read_json(manifest_path).get("parameters") == parameters:
                return root
        except (AuditError, AttributeError):
            pass
    base = root / "LibriSpeech"
    if manifest_path.exists() or base.exists():
        _remove_own_build(root)
    rng = np.random.default_rng([seed, 11])
    chapters = _chapters(text_documents(source), rng)
    dealt = _deal(chapters, rng)
    _add_extra_sentences(dealt, extra, extra_repeats, rng)
    tokens = {}
    for index, subset in enumerate(SUBSETS):
        tokens[subset] = _write_subset(base / subset, dealt[subset], first_speaker=1000 * (index + 1), rng=rng)
    atomic_write_json(manifest_path, {"parameters": parameters, "tokens": tokens,
                                      "extra_words": extra}, what="corpus manifest")
    return root


def _remove_own_build(root: Path) -> None:
    """Remove an earlier build of ours (a manifest of this module, or subsets it names) only."""
    base = root / "LibriSpeech"
    if base.exists():
        unknown = [p.name for p in base.iterdir() if p.name not in SUBSETS]
        if unknown:
            raise AuditError(f"{base} holds {', '.join(sorted(unknown)[:3])}, which this corpus builder did not "
                             f"write; choose another folder.")
        shutil.rmtree(base)
    (root / MANIFEST).unlink(missing_ok=True)


def _hash_words(words: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(words).encode("utf-8")).hexdigest()[:16]


# ------------------------------------------------------------------------------------ text
def text_documents(source: str = "wiki+lee") -> list[list[str]]:
    """The source's documents as lists of lowercase ASCII words (apostrophes kept)."""
    documents = [_clean(tokens) for tokens in _lee_documents()]
    if source == "wiki+lee":
        documents = [_clean(tokens) for tokens in _wiki_documents()] + documents
    return [d for d in documents if d]


def _clean(tokens: Iterable[str]) -> list[str]:
    return [t for t in (token.lower() for token in tokens) if _WORD.fullmatch(t)]


def _lee_documents() -> list[list[str]]:
    """Each line of the Lee background and Lee test corpora is one news document."""
    documents = []
    for name in ("lee_background.cor", "lee.cor"):
        # lee.cor holds a few Latin-1 bytes (a pound sign); only ASCII words are kept anyway
        for line in gensim_test_file(name).read_bytes().decode("latin-1").splitlines():
            words = re.findall(r"[A-Za-z][A-Za-z']*", line)
            if words:
                documents.append(words)
    return documents


def _wiki_documents() -> list[list[str]]:
    """The articles of gensim's shortened Wikipedia dump through gensim's own tokenizer."""
    from gensim.corpora.wikicorpus import WikiCorpus   # heavy (gensim ~1.5 s): only for this source

    path = gensim_test_file(WIKI_DUMP)
    try:
        corpus = WikiCorpus(str(path), dictionary={}, processes=1)
        return [list(tokens) for tokens in corpus.get_texts()]
    except (OSError, EOFError, ValueError) as exc:   # a damaged install of gensim
        raise AuditError(f"gensim's Wikipedia test file {path} cannot be read ({exc}).") from None


def gensim_test_file(name: str) -> Path:
    """A file of gensim's test data, found without importing gensim."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise AuditError("the embedded corpora need the gensim package, which ships their text.")
    path = Path(list(spec.submodule_search_locations)[0]) / "test" / "test_data" / name
    if not path.is_file():
        raise AuditError(f"gensim's test file {name} is missing from the installed gensim.")
    return path


# ---------------------------------------------------------------------------------- layout
def _chapters(documents: list[list[str]], rng: np.random.Generator) -> list[list[str]]:
    """Consecutive runs of CHAPTER_TOKENS tokens of each document (a shorter tail is its own)."""
    chapters = [doc[i:i + CHAPTER_TOKENS] for doc in documents for i in range(0, len(doc), CHAPTER_TOKENS)]
    order = rng.permutation(len(chapters))
    return [chapters[i] for i in order]


def _deal(chapters: list[list[str]], rng: np.random.Generator) -> dict[str, list[list[str]]]:
    """Chapters to subsets in proportion to the hours, every subset at least one chapter."""
    if len(chapters) < len(SUBSETS):
        raise AuditError(f"the text has {len(chapters)} chapters, fewer than the {len(SUBSETS)} subsets.")
    hours = np.array([SUBSET_HOURS[s] for s in SUBSETS])
    share = hours / hours.sum() * len(chapters)
    counts = np.maximum(1, np.floor(share).astype(int))
    while counts.sum() < len(chapters):      # the largest remainders get the chapters left over
        counts[np.argmax(share - counts)] += 1
    while counts.sum() > len(chapters):
        counts[np.argmax(counts)] -= 1
    ends = np.cumsum(counts)
    return {s: chapters[e - c:e] for s, c, e in zip(SUBSETS, counts, ends)}


def _add_extra_sentences(dealt, extra: list[str], repeats: int, rng: np.random.Generator) -> None:
    """Chapters of sentences that each carry three extra words in five words of running text,
    every extra word ``repeats`` times, shared between the clean training subsets."""
    if not extra:
        return
    stream = [w for subset in CLEAN_TRAINING for chapter in dealt[subset] for w in chapter]
    if len(stream) < 10:
        raise AuditError("the clean training subsets hold too little text for the extra sentences.")
    slots = [w for w in extra for _ in range(repeats)]
    rng.shuffle(slots)
    chapter, target = [], 0
    for start in range(0, len(slots), 3):
        at = int(rng.integers(0, len(stream) - 5))
        sentence = list(stream[at:at + 5])
        for word in slots[start:start + 3]:
            sentence.insert(int(rng.integers(0, len(sentence) + 1)), word)
        chapter += sentence
        if len(chapter) >= CHAPTER_TOKENS:
            dealt[CLEAN_TRAINING[target % 2]].append(chapter)
            chapter, target = [], target + 1
    if chapter:
        dealt[CLEAN_TRAINING[target % 2]].append(chapter)


def _write_subset(folder: Path, chapters: list[list[str]], *, first_speaker: int,
                  rng: np.random.Generator) -> int:
    """Write the transcripts; return the number of tokens written."""
    low, high = UTTERANCE_WORDS
    written = 0
    for number, words in enumerate(chapters):
        speaker = first_speaker + number // CHAPTERS_PER_SPEAKER
        chapter_id = 100 + number
        lines, at, utterance = [], 0, 0
        while at < len(words):
            size = int(rng.integers(low, high + 1))
            piece = words[at:at + size]
            lines.append(f"{speaker}-{chapter_id}-{utterance:04d} " + " ".join(piece).upper())
            at, utterance = at + size, utterance + 1
        chapter_dir = folder / str(speaker) / str(chapter_id)
        chapter_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(chapter_dir / f"{speaker}-{chapter_id}{TRANSCRIPT_SUFFIX}", "\n".join(lines) + "\n",
                          what="transcript")
        written += len(words)
    return written
