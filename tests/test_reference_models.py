"""Reference models for model provenance: recipes, corpus orders, parallel training and the cache."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

from audit.checks.provenance.reference_models import (DEFAULT_RECIPES, RANDOM, SHUFFLED, TEXT, EncodedCorpus, Recipe,
                                                      build_references, train_model)
from audit.core.errors import AuditError
from support.wiki import wiki_articles

pytest.importorskip("gensim")

CHEAP = (Recipe(window=2, epochs=1), Recipe(architecture="cbow", window=2, epochs=1, loss="hs"),
         Recipe(window=3, epochs=1, sample=1e-4))


@pytest.fixture(scope="module")
def sentences():
    """About 8,000 tokens of real text cut into 20-word sentences."""
    words = [w for article in wiki_articles(max_tokens=8000) for w in article]
    return [words[i:i + 20] for i in range(0, len(words), 20)]


# ------------------------------------------------------------------------------ recipes
def test_default_grid_spans_the_recipe_and_labels_are_unique():
    assert len({r.label for r in DEFAULT_RECIPES}) == len(DEFAULT_RECIPES)
    assert {r.architecture for r in DEFAULT_RECIPES} == {"skip-gram", "cbow"}
    assert {r.loss for r in DEFAULT_RECIPES} == {"negative", "hs"}
    assert {r.model for r in DEFAULT_RECIPES} == {"word2vec", "fasttext"}
    assert min(r.window for r in DEFAULT_RECIPES) == 2 and max(r.window for r in DEFAULT_RECIPES) == 10
    assert len({r.sample for r in DEFAULT_RECIPES}) >= 2 and len({r.epochs for r in DEFAULT_RECIPES}) >= 3
    # the shuffled-text family reuses the first three: both architectures and two subsampling levels
    assert {r.architecture for r in DEFAULT_RECIPES[:3]} == {"skip-gram", "cbow"}
    assert len({r.sample for r in DEFAULT_RECIPES[:3]}) == 2


def test_recipe_parse():
    assert Recipe.parse("arch=cbow, window=8") == Recipe(architecture="cbow", window=8)
    assert Recipe.parse("model=fasttext,loss=hs,sample=1e-4,min_n=2") == Recipe(model="fasttext", loss="hs",
                                                                                sample=1e-4, min_n=2)
    assert Recipe.parse("") == Recipe()
    for bad, message in (("window", "key=value"), ("colour=red", "key=value"), ("window=big", "not a int"),
                         ("arch=rnn", "architecture must be one of"), ("window=0", "at least 1"),
                         ("loss=negative,negative=0", "at least 1 negative"), ("sample=2", "sample must be")):
        with pytest.raises(AuditError, match=message):
            Recipe.parse(bad)


def test_each_recipe_reaches_gensim(sentences):
    """The recipe's fields are what gensim trained with (read back from the model would need the
    model; instead: different architectures, losses and models give different vectors from one seed)."""
    base = dict(dim=8, min_count=2, seed=3)
    plain = train_model(sentences, Recipe(epochs=1), **base)
    for other in (Recipe(epochs=1, architecture="cbow"), Recipe(epochs=1, loss="hs"), Recipe(epochs=1, window=2),
                  Recipe(epochs=1, model="fasttext"), Recipe(epochs=2), Recipe(epochs=1, sample=0)):
        again = train_model(sentences, other, **base)
        assert again.words == plain.words or set(again.words) == set(plain.words)
        assert not np.allclose(again.matrix, plain.matrix), other.label


# ------------------------------------------------------------------------------ corpus orders
def test_encoded_corpus_orders(sentences):
    corpus = EncodedCorpus.of(sentences)
    assert corpus.sentences() == sentences
    reordered = corpus.sentences("sentences", seed=4)
    assert reordered != sentences and sorted(map(tuple, reordered)) == sorted(map(tuple, sentences))
    assert corpus.sentences("sentences", seed=4) == reordered and corpus.sentences("sentences", seed=5) != reordered
    shuffled = corpus.sentences("tokens", seed=4)
    assert [len(s) for s in shuffled] == [len(s) for s in sentences]
    assert Counter(w for s in shuffled for w in s) == Counter(w for s in sentences for w in s)
    bigrams = lambda ss: Counter((a, b) for s in ss for a, b in zip(s, s[1:]))   # noqa: E731
    assert sum((bigrams(shuffled) & bigrams(sentences)).values()) < 0.2 * sum(bigrams(sentences).values())


def test_corpus_digest_is_the_content():
    one = EncodedCorpus.of([["a", "b"], ["c"]])
    assert EncodedCorpus.of([["a", "b"], ["c"]]).digest == one.digest
    assert EncodedCorpus.of([["a"], ["b", "c"]]).digest != one.digest          # same tokens, other sentences
    assert EncodedCorpus.of([["a", "b"], ["d"]]).digest != one.digest


# ------------------------------------------------------------------------------ families, parallel, cache
def test_families_seeds_orders_and_cache(sentences, tmp_path):
    cache = tmp_path / "cache"
    first = build_references(sentences, dim=8, min_count=2, recipes=CHEAP, shuffled=3, random=3, cache_dir=cache,
                             workers=2)
    assert [info.name for info, _ in first.families[TEXT]] == ["text-1", "text-2", "text-3"]
    assert [info.seed for info, _ in first.families[SHUFFLED]] == [101, 102, 103]
    assert [info.recipe for info, _ in first.families[TEXT]] == [r.label for r in CHEAP]
    assert (first.timings.trained, first.timings.cached) == (6, 0) and len(list(cache.glob("*.npz"))) == 6
    # each text reference is its recipe on its own sentence order, with its own seed (trained here,
    # in this process: the worker processes gave the same vectors)
    corpus = EncodedCorpus.of(sentences)
    for index, (info, vectors) in enumerate(first.families[TEXT]):
        direct = train_model(corpus.sentences("sentences", index + 1), CHEAP[index], dim=8, min_count=2,
                             seed=index + 1)
        assert direct.words == vectors.words
        np.testing.assert_array_equal(direct.matrix, vectors.matrix)
    shuffled_direct = train_model(corpus.sentences("tokens", 101), CHEAP[0], dim=8, min_count=2, seed=101)
    np.testing.assert_array_equal(shuffled_direct.matrix, first.families[SHUFFLED][0][1].matrix)
    # random: Gaussian over the text vocabulary
    random_words = first.families[RANDOM][0][1].words
    assert random_words == first.families[TEXT][0][1].words and len(first.families[RANDOM]) == 3

    second = build_references(sentences, dim=8, min_count=2, recipes=CHEAP, shuffled=3, random=3, cache_dir=cache)
    assert (second.timings.trained, second.timings.cached) == (0, 6)
    for name in (TEXT, SHUFFLED):
        for (_, a), (_, b) in zip(first.families[name], second.families[name]):
            assert a.words == b.words
            np.testing.assert_array_equal(a.matrix, b.matrix)

    # another dimension, recipe or corpus content is trained anew; a damaged cache file too
    other = build_references(sentences[:-1], dim=8, min_count=2, recipes=CHEAP, shuffled=0, random=0,
                             cache_dir=cache, workers=1)
    assert other.timings.trained == 3 and SHUFFLED not in other.families and RANDOM not in other.families
    changed = build_references(sentences, dim=8, min_count=2,
                               recipes=(CHEAP[0], dataclasses.replace(CHEAP[1], window=3), CHEAP[2]),
                               shuffled=0, random=0, cache_dir=cache, workers=1)
    assert changed.timings.trained == 1 and changed.timings.cached == 2
    for path in cache.glob("*.npz"):
        path.write_bytes(b"not a zip")
    damaged = build_references(sentences, dim=8, min_count=2, recipes=CHEAP, shuffled=0, random=0, cache_dir=cache,
                               workers=1)
    assert damaged.timings.trained == 3
    np.testing.assert_array_equal(damaged.families[TEXT][0][1].matrix, first.families[TEXT][0][1].matrix)


def test_build_references_refuses_families_without_spread(sentences):
    # three members each: two have one pair score between them, so no spread
    for options, message in (({"recipes": CHEAP[:2]}, "at least 3 recipes"), ({"shuffled": 1}, "shuffled-text"),
                             ({"shuffled": 2}, "shuffled-text"), ({"shuffled": 4}, "shuffled-text"),
                             ({"shuffled": 0, "random": 2}, "random family")):
        with pytest.raises(AuditError, match=message):
            build_references(sentences, dim=4, min_count=2, **{"recipes": CHEAP, **options})


@pytest.mark.parametrize("text, message", [("window=5,window=6", "sets window twice"),
                                           ("arch=cbow,,window=3", "empty part between commas"),
                                           (" , ", "empty part between commas"), ("window=3,", "empty part")])
def test_a_recipe_with_a_repeated_key_or_an_empty_part_is_refused(text, message):
    """'window=5,window=6' took the last value silently; an empty part was skipped (an empty
    recipe is still every default, test_recipe_parse)."""
    with pytest.raises(AuditError, match=message):
        Recipe.parse(text)
