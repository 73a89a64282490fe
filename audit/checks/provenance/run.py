"""Model provenance from a corpus root to a typed result, shared by `audit provenance` and
`audit all --provenance` (and so `audit demo`): one setup, one set of reference families, one
decision, whichever command asks.

1. :func:`read_corpus`: the transcripts of the corpus the embedding claims (timed), with the word
   counts the vocabulary check needs;
2. :func:`check_vocabulary`: before any training, the references' vocabulary (the corpus's words
   at the setup's minimum count) must meet the audited embedding's;
3. :func:`references`: the text family over the recipe grid, the token-shuffled family and the
   random family (:func:`audit.checks.provenance.reference_models.build_references`: parallel
   processes, cached under the data dir by corpus content and recipe); :func:`speech_family`: the
   speech reproductions given;
4. :func:`decide`: the families' contest (:func:`audit.checks.provenance.resemblance.judge`) with
   the comparison, the closest recipe and the timings in the result.

:class:`ReferenceSetup` is the one description of the references; it imports nothing heavy, so a
caller may hold one without importing scipy or gensim.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from audit.core.errors import AuditError

if TYPE_CHECKING:     # scipy.stats and gensim behind them: imported only when references are built
    from audit.checks.provenance.reference_models import Recipe, ReferenceSet
    from audit.checks.provenance.resemblance import CorpusInfo, ProvenanceResult, ResemblanceParams
    from audit.core.vectors import Vectors


SHUFFLED_DEFAULT = 3     # token-shuffled references: the first three recipes (the default grid's cheapest)

# A smaller grid for quick runs (`audit demo`): both architectures, both losses, two windows and
# epoch counts, and fastText, from the cheapest recipes of the default grid (hierarchical softmax
# with the narrow window). With two shuffled recipes (plus the fastText one) it trains 7 models instead
# of 12 and compares with 10 references instead of 15. Measured on the demo's 93k-token corpus, cold,
# the four 50-d demo embeddings, both grids in one run under a load average of 8-10 on 2 cores:
# references 54 s vs 108 s, the four comparisons 96 s vs about 210 s; the same verdicts (release
# and text model text-like, reproduction and its random init neither).
QUICK_RECIPES = ("arch=skip-gram,window=5,epochs=5", "arch=cbow,window=5,epochs=5",
                 "arch=skip-gram,window=2,epochs=10,loss=hs",
                 "model=fasttext,arch=skip-gram,window=5,epochs=5,sample=1e-4")
QUICK_SHUFFLED = 3       # a family needs three members for a spread (resemblance.MIN_FAMILY)


@dataclass(frozen=True)
class ReferenceSetup:
    """Which references model provenance builds.

    ``recipes``: text recipes as ``key=value`` texts (:meth:`Recipe.parse`); empty: the default grid
    (:data:`audit.checks.provenance.reference_models.DEFAULT_RECIPES`). ``shuffled``: the first N
    recipes again on the token-shuffled corpus (None: the first :data:`SHUFFLED_DEFAULT`, or every
    recipe when fewer are given); ``random``: N Gaussian embeddings; ``speech``:
    speech reproduction output folders (their ``vectors.txt``), three or more. ``min_count``: the
    references' vocabulary filter. ``cache``: read and write trained references under
    ``data_dir``'s ``provenance-references/`` (None: the default data dir). ``workers``: training
    processes (0: every CPU).
    """

    recipes: tuple[str, ...] = ()
    min_count: int = 5
    shuffled: int | None = None       # None: the first min(3, recipes)
    random: int = 3
    speech: tuple[str, ...] = ()
    subsets: tuple[str, ...] | None = None
    cache: bool = True
    data_dir: str | None = None
    workers: int = 0

    def check(self) -> None:
        """The setup's errors, each one sentence naming the flag that sets it."""
        if self.min_count < 1:
            raise AuditError("--min-count must be at least 1.")
        if self.workers < 0:
            raise AuditError("--workers must be 0 (every CPU) or a positive number.")
        from audit.checks.provenance.resemblance import MIN_FAMILY   # why three: there

        recipes = self.parsed_recipes()
        if len(recipes) < MIN_FAMILY:
            raise AuditError(f"give {MIN_FAMILY} or more --recipes so that the text family has a spread.")
        shuffled = self.shuffled_count(len(recipes))
        if not (shuffled == 0 or MIN_FAMILY <= shuffled <= len(recipes)):
            raise AuditError(f"--shuffled must be 0 or {MIN_FAMILY}..{len(recipes)} (it reuses the first N recipes).")
        if not (self.random == 0 or self.random >= MIN_FAMILY):
            raise AuditError(f"--random must be 0 or at least {MIN_FAMILY}.")
        if 0 < len(self.speech) < MIN_FAMILY:
            raise AuditError(f"give {MIN_FAMILY} or more --speech folders (different seeds) so that they have a spread.")

    def shuffled_count(self, recipes: int) -> int:
        return min(SHUFFLED_DEFAULT, recipes) if self.shuffled is None else self.shuffled

    def parsed_recipes(self) -> list[Recipe]:
        """The text recipes (:class:`Recipe`), parsed; the default grid when none are given."""
        from audit.checks.provenance.reference_models import DEFAULT_RECIPES, Recipe

        return [Recipe.parse(text) for text in self.recipes] if self.recipes else list(DEFAULT_RECIPES)

    def cache_dir(self) -> Path | None:
        from audit.checks.provenance.reference_models import cache_folder

        return cache_folder(self.data_dir) if self.cache else None

    def describe(self) -> str:
        """One line for a report's options: the grid, the non-text families, the filter."""
        from audit.checks.provenance.reference_models import shuffled_recipes

        recipes = self.parsed_recipes()
        grid = f"{len(self.recipes)} recipes ({'; '.join(self.recipes)})" if self.recipes else "the default grid"
        speech = f", {len(self.speech)} speech reproductions" if self.speech else ""
        shuffled = len(shuffled_recipes(recipes, self.shuffled_count(len(recipes))))
        return (f"{grid}, {shuffled} token-shuffled, {self.random} random{speech}, "
                f"min count {self.min_count}")


@dataclass(frozen=True)
class CorpusText:
    """The corpus's sentences, what the result records about it, and its word counts."""

    sentences: list[list[str]]
    info: CorpusInfo              # with the references' minimum count
    read_s: float
    counts: Counter = field(default_factory=Counter)


def read_corpus(root: str | os.PathLike, setup: ReferenceSetup = ReferenceSetup()) -> CorpusText:
    """The transcripts of ``setup.subsets`` (all present when None) under ``root``, timed."""
    from audit.checks.provenance.reference_models import read_transcripts

    start = time.perf_counter()
    sentences, info = read_transcripts(root, list(setup.subsets) if setup.subsets is not None else None)
    read_s = time.perf_counter() - start
    counts = Counter(word for sentence in sentences for word in sentence)
    return CorpusText(sentences, dataclasses.replace(info, min_count=setup.min_count), read_s, counts)


def check_vocabulary(audited: Vectors, corpus: CorpusText, setup: ReferenceSetup, params: ResemblanceParams
                     ) -> None:
    """Before any training: enough of the corpus's words at the minimum count are usable words of
    ``audited`` (else one sentence, as the comparison itself would say after the training)."""
    from audit.checks.provenance.resemblance import check_shared_count

    usable = {word for word, ok in zip(audited.words, audited.valid) if ok}
    check_shared_count(sum(1 for word, n in corpus.counts.items() if n >= setup.min_count and word in usable), params)


def references(corpus: CorpusText, dim: int, setup: ReferenceSetup = ReferenceSetup(),
               progress: Callable[[str], None] | None = None) -> ReferenceSet:
    """The text, token-shuffled and random families for embeddings of dimension ``dim``."""
    from audit.checks.provenance.reference_models import build_references

    recipes = setup.parsed_recipes()
    return build_references(corpus.sentences, dim=dim, min_count=setup.min_count, recipes=recipes,
                            shuffled=setup.shuffled_count(len(recipes)), random=setup.random,
                            cache_dir=setup.cache_dir(), workers=setup.workers or None, progress=progress)


def speech_family(setup: ReferenceSetup, load_options: Mapping | None = None) -> list:
    """The speech reproductions of ``setup.speech``, read with ``load_options`` (case, duplicates,
    non-finite rows)."""
    from audit.checks.provenance.reference_models import speech_references

    return speech_references(list(setup.speech), **dict(load_options or {}))


def decide(audited: Vectors, corpus: CorpusText, reference_set: ReferenceSet, speech: Sequence,
           setup: ReferenceSetup, params: ResemblanceParams) -> ProvenanceResult:
    """The families' contest for ``audited`` (a :class:`ProvenanceResult`): every family of
    ``reference_set`` plus ``speech``, the recipes, the corpus and the timings recorded."""
    from audit.checks.provenance.resemblance import TimingInfo, judge

    t = reference_set.timings
    timings = TimingInfo(read_corpus_s=corpus.read_s, references_s=t.references_s, workers=t.workers,
                         trained=t.trained, cached=t.cached, cache_dir=reference_set.cache_dir,
                         per_reference={r.name: r.seconds for r in t.references})
    families = {**reference_set.families, "speech": list(speech)}
    return judge(audited, families, params=params, corpus=corpus.info, timings=timings,
                 text_model={"dim": audited.dim, "min_count": setup.min_count,
                             "shuffled": len(reference_set.families.get("shuffled-text", [])),
                             "random": setup.random, "algorithm": "gensim word2vec / fastText, one thread each"},
                 recipes=[{"name": f"text-{i + 1}", "label": r.label, **dataclasses.asdict(r)}
                          for i, r in enumerate(reference_set.recipes)])


def model_provenance(audited: Vectors, corpus_root: str | os.PathLike, setup: ReferenceSetup = ReferenceSetup(),
                     params: ResemblanceParams | None = None, *, load_options: Mapping | None = None,
                     progress: Callable[[str], None] | None = None) -> ProvenanceResult:
    """Everything for one embedding: setup checked, speech read, corpus read, vocabulary checked,
    references built (or read from the cache), the decision."""
    from audit.checks.provenance.resemblance import ResemblanceParams

    params = params if params is not None else ResemblanceParams()
    params.check()
    setup.check()
    speech = speech_family(setup, load_options)
    corpus = read_corpus(corpus_root, setup)
    check_vocabulary(audited, corpus, setup, params)
    return decide(audited, corpus, references(corpus, audited.dim, setup, progress), speech, setup, params)
