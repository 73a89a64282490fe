"""Reference embeddings to compare an audited embedding with.

Text family: skip-gram word2vec models (gensim) trained on a corpus's transcripts, one per seed,
with the audited embedding's dimension and the same vocabulary filter (minimum count). Training
uses one worker thread so that a seed gives the same vectors on every run.

Speech family: the outputs of speech reproductions (``DIR/vectors.txt`` as written by
``audit reproduce speech2vec``), read as they are.

This is a core module: it imports gensim (inside the training function) but never torch.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from audit.core.errors import AuditError
from audit.checks.provenance.resemblance import CorpusInfo, ReferenceInfo
from audit.core.results import InputInfo
from audit.core.vectors import SourceInfo, Vectors


@dataclass(frozen=True)
class TextModelConfig:
    """The text skip-gram recipe; word2vec's own defaults except the dimension and min count."""

    dim: int
    min_count: int = 5
    window: int = 5
    negative: int = 5
    sample: float = 1e-3
    epochs: int = 5
    alpha: float = 0.025
    workers: int = 1          # more threads train faster but make the vectors depend on timing

    def check(self) -> None:
        for name in ("dim", "min_count", "window", "epochs", "workers"):
            if getattr(self, name) < 1:
                raise AuditError(f"the text model's {name.replace('_', ' ')} must be at least 1.")
        if self.negative < 1:
            raise AuditError("the text model needs at least 1 negative sample.")

    def to_dict(self) -> dict:
        return {"algorithm": "gensim word2vec skip-gram (negative sampling)", **dataclasses.asdict(self)}


def reference_seeds(count: int, first: int = 1) -> list[int]:
    """``count`` consecutive seeds from ``first``; a model to test against them uses another."""
    if count < 2:
        raise AuditError("at least 2 reference seeds are needed to measure a seed-to-seed band.")
    return list(range(first, first + count))


# ------------------------------------------------------------------------------ corpus text
def read_transcripts(root: str | os.PathLike, subsets: Sequence[str] | None = None
                     ) -> tuple[list[list[str]], CorpusInfo]:
    """Every utterance of the chosen subsets as a list of normalised words (see audit.corpora.librispeech).

    Equal words share one string object, so the whole of LibriSpeech (9.4 million words) is held
    as pointers to about 90,000 strings rather than 9.4 million separate strings.
    """
    from audit.corpora.librispeech import LibriSpeechCorpus

    corpus = LibriSpeechCorpus(root)
    present = corpus.subset_names()
    for name in subsets or ():
        if name not in present:
            raise AuditError(f"the subset {name} is not in {corpus.base}.")
    names = [name for name in present if subsets is None or name in subsets]
    shared: dict[str, str] = {}
    sentences = []
    for name in names:
        for utterance in corpus.utterances(name):
            sentences.append([shared.setdefault(word, word) for word in utterance.words])
    tokens = sum(len(s) for s in sentences)
    if tokens == 0:
        raise AuditError(f"the subsets {', '.join(names)} of {corpus.base} hold no words.")
    info = CorpusInfo(name="librispeech", root=str(root), subsets=list(names), sentences=len(sentences),
                      tokens=tokens)
    return sentences, info


# ------------------------------------------------------------------------------ text models
def train_text_model(sentences: Iterable[Sequence[str]], config: TextModelConfig, seed: int) -> Vectors:
    """One skip-gram word2vec model; its words in gensim's order (by decreasing count)."""
    from gensim.models import Word2Vec

    config.check()
    model = Word2Vec(vector_size=config.dim, window=config.window, min_count=config.min_count,
                     sample=config.sample, negative=config.negative, hs=0, sg=1, epochs=config.epochs,
                     alpha=config.alpha, workers=config.workers, seed=seed)
    model.build_vocab(sentences)
    if not model.wv.index_to_key:
        raise AuditError(f"no word of the corpus occurs at least {config.min_count} times; lower --min-count.")
    model.train(sentences, total_examples=model.corpus_count, epochs=config.epochs)
    words = list(model.wv.index_to_key)
    matrix = np.asarray(model.wv.vectors, dtype=np.float32)
    source = SourceInfo(path=f"word2vec-seed-{seed}", format="memory", words=len(words), dim=config.dim)
    return Vectors(words, matrix, source)


def text_references(sentences: Sequence[Sequence[str]], config: TextModelConfig, seeds: Sequence[int]
                    ) -> list[tuple[ReferenceInfo, Vectors]]:
    """One trained text model per seed, each with its :class:`ReferenceInfo`."""
    from audit.core.progress import bar
    references = []
    for seed in bar(seeds, desc="reference text models", unit="model"):
        vectors = train_text_model(sentences, config, seed)
        name = f"text-seed-{seed}"
        references.append((ReferenceInfo(name=name, family="text", input=InputInfo.of(vectors, name=name),
                                          seed=int(seed)), vectors))
    return references


# ------------------------------------------------------------------------------ speech reproductions
def speech_references(folders: Sequence[str | os.PathLike], **load_options) -> list[tuple[ReferenceInfo, Vectors]]:
    """The final ``vectors.txt`` of each reproduction output folder, with the seed its config records."""
    from audit.core.loaders import load

    references = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise AuditError(f"--speech {folder} is not a folder; give a reproduction's output folder.")
        path = folder / "vectors.txt"
        if not path.exists():
            raise AuditError(f"{folder} has no vectors.txt; is it the output folder of a reproduction run?")
        vectors = load(path, **load_options)
        name = folder.name or str(folder)
        references.append((ReferenceInfo(name=name, family="speech", input=InputInfo.of(vectors, name=name),
                                          seed=_recorded_seed(folder)), vectors))
    return references


def _recorded_seed(folder: Path) -> int | None:
    """The seed from the run's saved config (``config.json``), when the folder has one."""
    for name in ("config.json", "config_used.json"):
        path = folder / name
        if not path.exists():
            continue
        try:
            seed = json.loads(path.read_text(encoding="utf-8")).get("seed")
        except (OSError, ValueError, AttributeError):
            return None
        return int(seed) if isinstance(seed, (int, float)) else None
    return None
