"""Reference embeddings to compare an audited embedding with.

Text family: word2vec / fastText models (gensim) trained on a corpus's transcripts with the
audited embedding's dimension and the same vocabulary filter (minimum count). The recipe of a
suspect embedding is what an auditor does not know, so the references span the recipes that
published text embeddings use (:data:`DEFAULT_RECIPES`), and each reference reads the corpus in
its own sentence order with its own seed. Training uses one worker thread per model so that a
seed gives the same vectors on every run; models are trained in parallel processes instead.

Non-text families, the alternatives a ``text-like`` verdict must beat:

- ``shuffled-text``: the same recipes (the first ``shuffled`` of the grid, plus the first recipe
  of each model of the grid that those lack: :func:`shuffled_recipes`) trained on the corpus with
  its tokens shuffled across the whole corpus: the same words and counts, hence the same
  vocabulary and frequencies, but no context. What a text model knows beyond word frequency (and,
  for fastText, beyond the spelling its character n-grams see), these lack.
- ``random``: Gaussian embeddings over the text references' vocabulary: chance level.
- ``speech``: the outputs of speech reproductions (``DIR/vectors.txt`` as written by
  ``audit reproduce speech2vec``), read as they are, when given.

Trained references are cached under the data dir (``provenance-references/``), keyed by the
corpus content (the token stream, not the file names), the recipe, the dimension, the minimum
count, the seed, the corpus order (sentences or tokens shuffled) and the gensim version, so a
second audit against the same corpus reuses them.

This is a core module: it imports gensim (inside the training function) but never torch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from audit.core.errors import AuditError
from audit.checks.provenance.resemblance import MIN_FAMILY, CorpusInfo, ReferenceInfo
from audit.core.results import InputInfo
from audit.core.vectors import SourceInfo, Vectors

MODELS = ("word2vec", "fasttext")
ARCHITECTURES = ("skip-gram", "cbow")
LOSSES = ("negative", "hs")


@dataclass(frozen=True)
class Recipe:
    """How one text reference is trained (besides its dimension, minimum count and seed).

    ``loss``: ``negative`` sampling with ``negative`` noise words, or ``hs`` (hierarchical
    softmax, no negative sampling). ``sample``: the subsampling threshold of frequent words (0 =
    none). ``min_n``/``max_n``: fastText's character n-gram lengths (ignored by word2vec).
    """

    model: str = "word2vec"
    architecture: str = "skip-gram"
    window: int = 5
    epochs: int = 5
    loss: str = "negative"
    negative: int = 5
    sample: float = 1e-3
    alpha: float = 0.025
    min_n: int = 3
    max_n: int = 6

    def check(self) -> None:
        for name, allowed in (("model", MODELS), ("architecture", ARCHITECTURES), ("loss", LOSSES)):
            if getattr(self, name) not in allowed:
                raise AuditError(f"a recipe's {name} must be one of {', '.join(allowed)}, not "
                                 f"{getattr(self, name)!r}.")
        if self.window < 1 or self.epochs < 1:
            raise AuditError("a recipe's window and epochs must be at least 1.")
        if self.loss == "negative" and self.negative < 1:
            raise AuditError("a negative-sampling recipe needs at least 1 negative sample.")
        if not 0 <= self.sample < 1 or not 0 < self.alpha < 1:
            raise AuditError("a recipe's sample must be in [0, 1) and its alpha in (0, 1).")
        if self.model == "fasttext" and not 1 <= self.min_n <= self.max_n:
            raise AuditError("a fastText recipe needs 1 <= min_n <= max_n.")

    @property
    def label(self) -> str:
        """Short and unique: ``w2v-sg w5 e5 neg5 s1e-03``, ``ft-cbow w5 e5 hs s1e-04 n3-6``."""
        head = ("w2v" if self.model == "word2vec" else "ft") + ("-sg" if self.architecture == "skip-gram" else "-cbow")
        loss = f"neg{self.negative}" if self.loss == "negative" else "hs"
        parts = [head, f"w{self.window}", f"e{self.epochs}", loss, f"s{self.sample:.0e}"]
        if self.alpha != 0.025:
            parts.append(f"a{self.alpha:g}")
        if self.model == "fasttext":
            parts.append(f"n{self.min_n}-{self.max_n}")
        return " ".join(parts)

    @classmethod
    def parse(cls, text: str) -> "Recipe":
        """``key=value`` pairs separated by commas (``model=fasttext,architecture=cbow,window=8``);
        keys are the field names (``arch`` for architecture), the rest keep their defaults."""
        values: dict = {}
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        items = [part.strip() for part in text.split(",")] if text.strip() else []   # '': every default
        for item in items:
            if not item:   # 'arch=cbow,,window=3': a typo, not an empty setting
                raise AuditError(f"the recipe {text!r} has an empty part between commas.")
            key, sep, value = item.partition("=")
            key = {"arch": "architecture"}.get(key.strip(), key.strip())
            if not sep or key not in types:
                raise AuditError(f"the recipe {text!r} has {item!r}; write key=value pairs with keys "
                                 f"{', '.join(types)}.")
            if key in values:   # 'window=5,window=6' took the last silently
                raise AuditError(f"the recipe {text!r} sets {key} twice.")
            value = value.strip()
            try:
                values[key] = {"int": int, "float": float}.get(types[key], str)(value)
            except ValueError:
                raise AuditError(f"the recipe {text!r} gives {key} the value {value!r}, not a {types[key]}.") from None
        recipe = cls(**values)
        recipe.check()
        return recipe


# The default grid, a reasoned spread over what published text embeddings use:
# word2vec's two architectures at its tool's defaults (window 5, negative 5, subsampling 1e-3:
# Mikolov et al. 2013; gensim's defaults), narrow and wide windows with more epochs, more negatives
# and stronger subsampling (windows 2/5/10 and negatives 5/15 as Levy, Goldberg & Dagan 2015 searched;
# subsampling 1e-4, since the papers' 1e-5 is meant for billions of tokens: on the 453k-token Wikipedia
# test corpus a 1e-5 skip-gram matched no other model, kNN overlap 0.002), hierarchical softmax for both architectures (the word2vec papers'
# alternative to negative sampling) and fastText's own defaults (skip-gram, window 5, subsampling
# 1e-4, character n-grams 3-6: Bojanowski et al. 2017). The first three are among the cheapest to
# train and cover both architectures and two subsampling levels: the shuffled-text family reuses them,
# with the fastText recipe (see shuffled_recipes).
DEFAULT_RECIPES = (
    Recipe(architecture="skip-gram", window=5, epochs=5),
    Recipe(architecture="cbow", window=5, epochs=5),
    Recipe(architecture="skip-gram", window=10, epochs=5, negative=15, sample=1e-4),
    Recipe(architecture="skip-gram", window=2, epochs=10),
    Recipe(architecture="cbow", window=10, epochs=15, sample=1e-4),
    Recipe(architecture="skip-gram", window=5, epochs=5, loss="hs"),
    Recipe(architecture="cbow", window=3, epochs=10, loss="hs"),
    Recipe(model="fasttext", architecture="skip-gram", window=5, epochs=5, sample=1e-4),
)


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

    def recipe(self) -> Recipe:
        return Recipe(window=self.window, epochs=self.epochs, negative=self.negative, sample=self.sample,
                      alpha=self.alpha)


def reference_seeds(count: int, first: int = 1) -> list[int]:
    """``count`` consecutive seeds from ``first``; a model to test against them uses another."""
    if count < MIN_FAMILY:
        raise AuditError(f"at least {MIN_FAMILY} reference seeds are needed to measure a seed-to-seed spread.")
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
    config.check()
    return train_model(sentences, config.recipe(), dim=config.dim, min_count=config.min_count, seed=seed,
                       workers=config.workers)


def train_model(sentences: Iterable[Sequence[str]], recipe: Recipe, *, dim: int, min_count: int, seed: int,
                workers: int = 1) -> Vectors:
    """One gensim model of ``recipe``; its words in gensim's order (by decreasing count)."""
    # gensim is heavy (about 1 s to import) and only needed when references are trained
    from gensim.models import FastText, Word2Vec

    recipe.check()
    if dim < 1 or min_count < 1:
        raise AuditError("a text model's dimension and minimum count must be at least 1.")
    options = dict(vector_size=dim, window=recipe.window, min_count=min_count, sample=recipe.sample,
                   negative=recipe.negative if recipe.loss == "negative" else 0, hs=int(recipe.loss == "hs"),
                   sg=int(recipe.architecture == "skip-gram"), epochs=recipe.epochs, alpha=recipe.alpha,
                   workers=workers, seed=seed)
    if recipe.model == "fasttext":
        model = FastText(min_n=recipe.min_n, max_n=recipe.max_n, **options)
    else:
        model = Word2Vec(**options)
    model.build_vocab(sentences)
    if not model.wv.index_to_key:
        raise AuditError(f"no word of the corpus occurs at least {min_count} times; lower --min-count.")
    model.train(sentences, total_examples=model.corpus_count, epochs=recipe.epochs)
    words = list(model.wv.index_to_key)
    matrix = np.asarray(model.wv.vectors, dtype=np.float32)
    source = SourceInfo(path=f"{recipe.model}-seed-{seed}", format="memory", words=len(words), dim=dim)
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


# ------------------------------------------------------------------------------ the reference families
CACHE_FOLDER = "provenance-references"
CACHE_FORMAT = 1
TEXT, SHUFFLED, RANDOM, SPEECH = "text", "shuffled-text", "random", "speech"


@dataclass(frozen=True)
class EncodedCorpus:
    """A corpus as integer tokens: ``vocabulary[tokens[offsets[i]:offsets[i + 1]]]`` is sentence i.

    Cheap to send to worker processes and to hash; ``digest`` is the sha256 of the token stream
    (sentences as lines of space-separated words), the cache's key to the corpus content.
    """

    vocabulary: tuple[str, ...]
    tokens: np.ndarray
    offsets: np.ndarray
    digest: str

    @classmethod
    def of(cls, sentences: Sequence[Sequence[str]]) -> "EncodedCorpus":
        index: dict[str, int] = {}
        ids = [index.setdefault(word, len(index)) for sentence in sentences for word in sentence]
        lengths = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
        digest = hashlib.sha256()
        for sentence in sentences:
            digest.update((" ".join(sentence) + "\n").encode("utf-8"))
        return cls(tuple(index), np.asarray(ids, dtype=np.int32), np.concatenate([[0], np.cumsum(lengths)]),
                   digest.hexdigest())

    def sentences(self, order: str = "corpus", seed: int = 0) -> list[list[str]]:
        """The sentences in corpus order, in a seeded random ``sentences`` order, or with the
        ``tokens`` shuffled across the whole corpus (sentence lengths kept)."""
        words = np.asarray(self.vocabulary, dtype=object)
        tokens = self.tokens
        rng = np.random.default_rng(seed)
        if order == "tokens":
            tokens = tokens[rng.permutation(len(tokens))]
        bounds = list(zip(self.offsets[:-1].tolist(), self.offsets[1:].tolist()))
        if order == "sentences":
            bounds = [bounds[i] for i in rng.permutation(len(bounds))]
        elif order not in ("corpus", "tokens"):
            raise ValueError(order)
        return [words[tokens[a:b]].tolist() for a, b in bounds]


@dataclass(frozen=True)
class ReferenceTiming:
    name: str
    seconds: float            # training time, or the time to read it from the cache
    cached: bool


@dataclass(frozen=True)
class ReferenceTimings:
    """Where the time went: corpus encoding, references (wall clock, and each one), workers."""

    encode_s: float = 0.0
    references_s: float = 0.0
    workers: int = 1
    trained: int = 0
    cached: int = 0
    references: list[ReferenceTiming] = field(default_factory=list)


@dataclass(frozen=True)
class ReferenceSet:
    families: dict[str, list[tuple[ReferenceInfo, Vectors]]]
    recipes: list[Recipe]
    timings: ReferenceTimings
    cache_dir: str


@dataclass(frozen=True)
class _Job:
    name: str
    family: str
    recipe: Recipe
    seed: int
    order: str                # "sentences" (text) or "tokens" (shuffled-text)


def _cache_key(digest: str, job: _Job, dim: int, min_count: int, gensim_version: str) -> str:
    payload = {"format": CACHE_FORMAT, "corpus": digest, "recipe": dataclasses.asdict(job.recipe), "dim": dim,
               "min_count": min_count, "seed": job.seed, "order": job.order, "gensim": gensim_version}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def _read_cached(path: Path, dim: int) -> tuple[list[str], np.ndarray] | None:
    """The cached words and matrix, or None when absent or unreadable (then trained again)."""
    from audit.core.npzfile import read_npz

    if not path.is_file():
        return None
    try:
        arrays = read_npz(path, what="the cached reference", keys=("words", "matrix"))
        words, matrix = arrays["words"].tolist(), np.asarray(arrays["matrix"], dtype=np.float32)
    except (AuditError, KeyError):
        return None
    if matrix.ndim != 2 or matrix.shape != (len(words), dim):
        return None
    return words, matrix


def _train_job(corpus: EncodedCorpus, job: _Job, dim: int, min_count: int) -> tuple[list[str], np.ndarray, float]:
    start = time.perf_counter()
    vectors = train_model(corpus.sentences(job.order, job.seed), job.recipe, dim=dim, min_count=min_count,
                          seed=job.seed)
    return list(vectors.words), vectors.matrix, time.perf_counter() - start


def default_workers() -> int:
    """Processes for training: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def shuffled_recipes(recipes: Sequence[Recipe], shuffled: int) -> list[Recipe]:
    """The recipes of the token-shuffled family: the first ``shuffled`` (none when 0), then the first
    recipe of each model (word2vec, fastText) of the grid that those lack.

    Every kind of text model needs a no-context counterpart. A fastText model's neighbours are partly
    its words' spelling (character n-grams), which needs no context; with only word2vec models on the
    shuffled corpus, nothing else in the contest had it, and on the demo's 93k-token corpus a
    Speech2Vec reproduction, and the same network at random initialisation, were called text-like by
    their resemblance to the fastText reference alone (kNN overlap 0.017 against 0.003 for every
    non-text reference; sound follows spelling). With a fastText model of the shuffled corpus among
    the rivals both are neither, and the text models still text-like."""
    if not shuffled:
        return []
    chosen = list(recipes[:shuffled])
    for model in MODELS:
        if not any(r.model == model for r in chosen):
            chosen += [r for r in recipes if r.model == model][:1]
    return chosen


def build_references(sentences: Sequence[Sequence[str]], *, dim: int, min_count: int,
                     recipes: Sequence[Recipe] = DEFAULT_RECIPES, shuffled: int = 3, random: int = 3,
                     cache_dir: str | os.PathLike | None = None, workers: int | None = None,
                     progress=None) -> ReferenceSet:
    """The text family (one reference per recipe, each in its own sentence order and seed), the
    shuffled-text family (:func:`shuffled_recipes` on token-shuffled corpora) and the random
    family (``random`` Gaussian embeddings over the text references' vocabulary).

    Seeds: text reference i (from 0) uses seed i + 1, shuffled-text j seed 101 + j, random k seed
    201 + k. Missing references are trained in ``workers`` processes (default: every CPU) and
    written to ``cache_dir`` (None: no cache).
    """
    if not recipes:
        raise AuditError("at least one reference recipe is needed.")
    if len(recipes) < MIN_FAMILY:   # each family: MIN_FAMILY members or none
        raise AuditError(f"the text family needs at least {MIN_FAMILY} recipes to have a spread.")
    if not (shuffled == 0 or MIN_FAMILY <= shuffled <= len(recipes)):
        raise AuditError(f"the shuffled-text family takes 0 or {MIN_FAMILY}..{len(recipes)} of the recipes.")
    if not (random == 0 or random >= MIN_FAMILY):
        raise AuditError(f"the random family needs 0 or at least {MIN_FAMILY} members.")
    for recipe in recipes:
        recipe.check()
    import gensim  # heavy; its version is part of the cache key

    start = time.perf_counter()
    corpus = EncodedCorpus.of(sentences)
    encode_s = time.perf_counter() - start
    if corpus.tokens.size == 0:
        raise AuditError("the corpus holds no words.")
    jobs = [_Job(f"text-{i + 1}", TEXT, recipe, i + 1, "sentences") for i, recipe in enumerate(recipes)]
    jobs += [_Job(f"shuffled-{j + 1}", SHUFFLED, recipe, 101 + j, "tokens")
             for j, recipe in enumerate(shuffled_recipes(recipes, shuffled))]
    folder = Path(cache_dir) if cache_dir is not None else None
    results: dict[str, tuple[list[str], np.ndarray]] = {}
    timings: dict[str, ReferenceTiming] = {}
    todo = []
    for job in jobs:
        path = folder / f"{_cache_key(corpus.digest, job, dim, min_count, gensim.__version__)}.npz" if folder else None
        began = time.perf_counter()
        found = _read_cached(path, dim) if path is not None else None
        if found is not None:
            results[job.name] = found
            timings[job.name] = ReferenceTiming(job.name, time.perf_counter() - began, True)
        else:
            todo.append((job, path))
    workers = min(workers or default_workers(), max(1, len(todo)))
    if todo and progress:
        progress(f"training {len(todo)} reference models ({dim}-d) in {workers} processes; "
                 f"{len(jobs) - len(todo)} from the cache")
    from audit.core.progress import bar
    shown = bar(total=len(todo), desc="reference text models", unit="model")
    if workers > 1 and len(todo) > 1:
        # the longest jobs first, so that the last one to finish does not start late
        todo.sort(key=lambda item: -_cost(item[0]))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [(job, path, pool.submit(_train_job, corpus, job, dim, min_count)) for job, path in todo]
            for _, _, future in futures:
                future.add_done_callback(lambda _: shown.update(1))
            done = [(job, path, future.result()) for job, path, future in futures]
    else:
        done = []
        for job, path in todo:
            done.append((job, path, _train_job(corpus, job, dim, min_count)))
            shown.update(1)
    shown.close()
    for job, path, (words, matrix, seconds) in done:
        results[job.name] = (words, matrix)
        timings[job.name] = ReferenceTiming(job.name, seconds, False)
        if path is not None:
            _write_cache(path, words, matrix)
    families: dict[str, list[tuple[ReferenceInfo, Vectors]]] = {TEXT: [], SHUFFLED: []}
    for job in jobs:
        words, matrix = results[job.name]
        vectors = Vectors(words, matrix, SourceInfo(path=job.name, format="memory", words=len(words), dim=dim))
        families[job.family].append((ReferenceInfo(name=job.name, family=job.family,
                                                   input=InputInfo.of(vectors, name=job.name), seed=job.seed,
                                                   recipe=job.recipe.label), vectors))
    if random:
        words = list(families[TEXT][0][1].words)
        families[RANDOM] = []
        for k in range(random):
            seed = 201 + k
            matrix = np.random.default_rng(seed).standard_normal((len(words), dim)).astype(np.float32)
            vectors = Vectors(words, matrix, SourceInfo(path=f"random-{k + 1}", format="memory", words=len(words),
                                                        dim=dim))
            families[RANDOM].append((ReferenceInfo(name=f"random-{k + 1}", family=RANDOM,
                                                   input=InputInfo.of(vectors, name=f"random-{k + 1}"), seed=seed,
                                                   recipe="Gaussian N(0, 1)"), vectors))
    if not families[SHUFFLED]:
        del families[SHUFFLED]
    timing = ReferenceTimings(encode_s=encode_s, references_s=time.perf_counter() - start, workers=workers,
                              trained=len(todo), cached=len(jobs) - len(todo),
                              references=[timings[job.name] for job in jobs])
    return ReferenceSet(families=families, recipes=list(recipes), timings=timing,
                        cache_dir=str(folder) if folder else "")


def _cost(job: _Job) -> float:
    """Rough relative training cost, to start the longest jobs first."""
    recipe = job.recipe
    per_token = (2 * recipe.window if recipe.architecture == "skip-gram" else 2) * (
        recipe.negative + 1 if recipe.loss == "negative" else 8)
    return per_token * recipe.epochs * (3 if recipe.model == "fasttext" else 1) * (0.4 if recipe.sample < 1e-4 else 1)


def _write_cache(path: Path, words: list[str], matrix: np.ndarray) -> None:
    from audit.core.files import atomic_write_npz

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_npz(path, {"words": np.asarray(words, dtype=str), "matrix": np.asarray(matrix, np.float32)})
    except (OSError, AuditError):
        pass        # a cache that cannot be written only costs the next audit its training time


def cache_folder(data_dir: str | os.PathLike | None = None) -> Path:
    """Where trained references are kept: ``<data dir>/provenance-references``."""
    from audit.core.datadir import data_dir as resolve

    return resolve(data_dir) / CACHE_FOLDER


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
