"""A forged "released speech embedding", made the way the reality check suspects the real one was.

The reality check found that the released Speech2Vec vectors behave like a text model and that
their vocabulary is every LibriSpeech word with count >= 5 over *all* subsets, while the paper
claims speech features from the 500 h of clean training subsets. This module re-enacts that:
a gensim skip-gram trained on the transcripts of every subset of a LibriSpeech-layout corpus at
minimum count 5, written as ``vectors.txt`` together with ``claims.toml`` saying what such a
release would claim (speech, the clean training subsets, minimum count 5, the Speech2Vec
paper's benchmark scores). The audit should then contradict each claim from the numbers alone.

Built on demand (the demo, tests), never shipped: the text comes from the corpus given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audit.core.errors import AuditError
from audit.core.files import atomic_write, atomic_write_text
from audit.core.vectors import Vectors
from audit.corpora.librispeech import LibriSpeechCorpus

CLAIMED_SUBSETS = ("train-clean-100", "train-clean-360")


@dataclass(frozen=True)
class ForgedRecipe:
    """gensim's word2vec skip-gram with its defaults, at the release's dimension and min count."""

    dim: int = 50
    min_count: int = 5
    window: int = 5
    negative: int = 5
    sample: float = 1e-3
    epochs: int = 5
    seed: int = 0


def build_forged_release(corpus_root: str | os.PathLike, out: str | os.PathLike,
                         recipe: ForgedRecipe = ForgedRecipe(), *, name: str = "released") -> tuple[Path, Path]:
    """Train on every subset of ``corpus_root``; write ``out/vectors.txt`` and ``out/claims.toml``."""
    corpus = LibriSpeechCorpus(corpus_root)
    subsets = corpus.subset_names()
    if not subsets:
        raise AuditError(f"{corpus_root} holds no LibriSpeech subsets to train the forged release on.")
    sentences = [u.words for subset in subsets for u in corpus.utterances(subset)]
    vectors = train_skipgram(sentences, recipe)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vectors_path = out / "vectors.txt"
    atomic_write(vectors_path, lambda handle: _write_word2vec(handle, vectors), what="forged vectors")
    claims_path = out / "claims.toml"
    atomic_write_text(claims_path, claims_text(name, recipe), what="forged claims")
    return vectors_path, claims_path


def train_skipgram(sentences, recipe: ForgedRecipe) -> Vectors:
    from gensim.models import Word2Vec   # heavy (gensim ~1.5 s): only when training

    if not sentences:
        raise AuditError("the corpus has no transcripts to train on.")
    model = Word2Vec(sentences=sentences, vector_size=recipe.dim, window=recipe.window, min_count=recipe.min_count,
                     negative=recipe.negative, sample=recipe.sample, epochs=recipe.epochs, sg=1, workers=1,
                     seed=recipe.seed)
    if not len(model.wv):
        raise AuditError(f"no word of the corpus occurs {recipe.min_count} times; nothing to embed.")
    return Vectors(list(model.wv.index_to_key), np.asarray(model.wv.vectors, dtype=np.float32))


def _write_word2vec(handle, vectors: Vectors) -> None:
    handle.write(f"{len(vectors)} {vectors.dim}\n".encode("ascii"))
    for word, row in zip(vectors.words, vectors.matrix):
        handle.write((word + " " + " ".join(f"{v:.6f}" for v in row) + "\n").encode("utf-8"))


def claims_text(name: str, recipe: ForgedRecipe) -> str:
    """What a release like the audited one claims (see the module docstring)."""
    subsets = ", ".join(f'"{s}"' for s in CLAIMED_SUBSETS)
    return (f'# Claims of the forged release: what its "paper" says, for audit all --claims.\n'
            f'[[embedding]]\nname = "{name}"\nkind = "speech"\ncorpus = "librispeech"\nsubsets = [{subsets}]\n'
            f'min_count = {recipe.min_count}\ndim = {recipe.dim}\nbenchmarks = "speech2vec-paper"\n'
            f'source = "forged for the demo: a text skip-gram on all subsets, claimed as speech"\n')
