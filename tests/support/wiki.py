"""A real-text corpus in LibriSpeech layout, offline: gensim's shortened English Wikipedia dump.

gensim's test data ships ``enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2``
(106 articles). Read through gensim's :class:`~gensim.corpora.wikicorpus.WikiCorpus` tokenizer
(lowercase words of 2-15 letters, markup removed) it gives about 453,000 tokens; the few
non-ASCII words (about 30 tokens) are dropped, since LibriSpeech transcripts are upper-case ASCII and
a word such as "bakı" does not come back from upper case unchanged. Each article is
cut into utterances of at most ``utterance_words`` words, and the articles are dealt in turn to
the subsets (LibriSpeech names), so every subset holds whole articles: a transcripts-only corpus
with real word order for model-provenance tests and benchmarks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from audit.corpora.librispeech import TRANSCRIPT_SUFFIX

WIKI_DUMP = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
DEFAULT_SUBSETS = ("train-clean-100", "train-clean-360", "train-other-500", "dev-clean", "test-clean")


def wiki_dump_path() -> Path:
    """The dump inside the installed gensim (its test data)."""
    from gensim.test.utils import datapath  # heavy optional dependency

    return Path(datapath(WIKI_DUMP))


def wiki_articles(max_tokens: int | None = None) -> list[list[str]]:
    """The dump's articles as token lists (gensim's WikiCorpus tokenizer), in dump order;
    with ``max_tokens``, whole articles up to that many tokens (the last one cut)."""
    from gensim.corpora.wikicorpus import WikiCorpus  # heavy optional dependency

    wiki = WikiCorpus(str(wiki_dump_path()), dictionary={}, processes=1)
    articles, total = [], 0
    for tokens in wiki.get_texts():
        tokens = [word for word in tokens if word.isascii()]
        if max_tokens is not None and total + len(tokens) > max_tokens:
            tokens = tokens[:max_tokens - total]
        if tokens:
            articles.append(list(tokens))
            total += len(tokens)
        if max_tokens is not None and total >= max_tokens:
            break
    return articles


@dataclass(frozen=True)
class WikiCorpus:
    """Where the corpus was written, and its utterances in file order (the truth to compare with)."""

    root: Path
    utterances: dict[str, list[list[str]]]

    @property
    def tokens(self) -> int:
        return sum(len(u) for subset in self.utterances.values() for u in subset)

    def sentences(self) -> list[list[str]]:
        return [u for name in sorted(self.utterances) for u in self.utterances[name]]


def write_wiki_corpus(root: str | os.PathLike, *, max_tokens: int | None = None,
                      subsets: Sequence[str] = DEFAULT_SUBSETS, utterance_words: int = 40,
                      utterances_per_chapter: int = 50) -> WikiCorpus:
    """Write ``ROOT/LibriSpeech/<subset>/<speaker>/<chapter>/*.trans.txt`` from the dump."""
    root = Path(root)
    articles = wiki_articles(max_tokens)
    per_subset: dict[str, list[list[str]]] = {name: [] for name in subsets}
    for index, article in enumerate(articles):
        name = subsets[index % len(subsets)]
        per_subset[name] += [article[i:i + utterance_words] for i in range(0, len(article), utterance_words)]
    for index, (name, utterances) in enumerate(per_subset.items()):
        speaker_base = 1000 * (index + 1)
        for chapter_index, first in enumerate(range(0, len(utterances), utterances_per_chapter)):
            speaker, chapter = speaker_base + chapter_index // 2, 100 + chapter_index
            folder = root / "LibriSpeech" / name / str(speaker) / str(chapter)
            folder.mkdir(parents=True, exist_ok=True)
            lines = [f"{speaker}-{chapter}-{number:04d} {' '.join(words).upper()}\n"
                     for number, words in enumerate(utterances[first:first + utterances_per_chapter])]
            (folder / f"{speaker}-{chapter}{TRANSCRIPT_SUFFIX}").write_text("".join(lines), encoding="utf-8")
    return WikiCorpus(root=root, utterances={k: v for k, v in per_subset.items() if v})
