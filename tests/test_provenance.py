"""`audit provenance` end to end: real text (a slice of gensim's Wikipedia dump), recipes the
references do not contain, non-text embeddings, speech reproductions, the cache, bad input.

Real-text cases run on a slice of the dump (TOKENS tokens, DIM-d, the reduced grid TEST_RECIPES
so that the default run stays short); the default grid on the whole 453k-token corpus is checked
by tests/perf/bench_provenance.py --acceptance. Speech2Vec reproductions run on the embedded eSpeak
corpus (size ``tiny``: 100 utterances, 1,760 words), where text models need many epochs.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from audit.corpora.librispeech import LibriSpeechCorpus
from audit.core.errors import AuditError
from audit.core.loaders import save_word2vec_text
from audit.checks.provenance.reference_models import (EncodedCorpus, Recipe, TextModelConfig, build_references,
                                                      cache_folder, read_transcripts, reference_seeds,
                                                      speech_references, train_model, train_text_model)
from audit.checks.provenance.resemblance import ResemblanceParams, beats_every_rival, judge
from audit.core.results import load_result
from audit.core.vectors import Vectors

EPOCHS = 50
MIN_COUNT = 4                 # the reproduction's vocabulary filter (the paper's), used by both families
AUDITED_SEED = 99             # not among the reference seeds
REPRODUCTION_SEEDS = (0, 1, 2, 3)   # the audited run, then a speech family of three (a spread needs three)
REPRODUCTION_EPOCHS = 1

TOKENS, DIM = 150_000, 20
# A reduced grid for the tests: both architectures, both losses, narrow and default windows, fastText;
# CBOW with 10 epochs because the slice is small.
TEST_RECIPES = ("arch=skip-gram,window=5,epochs=5", "arch=cbow,window=5,epochs=10", "arch=skip-gram,window=2,epochs=10",
                "arch=skip-gram,window=5,epochs=5,loss=hs", "arch=cbow,window=3,epochs=10,loss=hs",
                "model=fasttext,arch=skip-gram,window=5,epochs=5,sample=1e-4")
PARAMS = ResemblanceParams(knn_queries=1000, rsa_words=500)   # smaller samples than the CLI's: a short test run
TINY_RECIPES = (f"arch=skip-gram,window=5,epochs={EPOCHS}", f"arch=skip-gram,window=2,epochs={EPOCHS}",
                f"arch=cbow,window=5,epochs={EPOCHS}")


def transcript_sentences(root: Path) -> list[list[str]]:
    """Transcript words read straight from the files (independently of audit.corpora.librispeech)."""
    sentences = []
    for path in sorted(root.rglob("*.trans.txt")):
        for line in path.read_text(encoding="utf-8").split("\n"):
            if line.strip():
                sentences.append(line.lower().split()[1:])
    return sentences


def text_view(root: Path, scratch: Path) -> Path:
    """A root that audit.corpora.librispeech reads: the spoken corpus's subset under a standard subset name.

    The embedded corpus writes its audio and transcripts to the subset ``train-espeak``, which
    audit.corpora.librispeech (the seven LibriSpeech subsets only) does not accept; a symlink presents the
    same transcripts as ``train-clean-100`` without copying them.
    """
    try:
        if LibriSpeechCorpus(root).subset_names():
            return root
    except AuditError:
        pass
    subset = next((root / "LibriSpeech").iterdir())
    view = scratch / "LibriSpeech"
    view.mkdir(parents=True)
    (view / "train-clean-100").symlink_to(subset.resolve(), target_is_directory=True)
    return scratch


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    from audit.corpora.spoken import build_corpus

    base = tmp_path_factory.mktemp("provenance")
    root = build_corpus(base / "corpus", size="tiny", seed=0)
    return root, text_view(root, base / "view"), base


@pytest.fixture(scope="module")
def audited_text_model(embedded):
    """gensim word2vec on the transcripts, the reference recipe, a seed no reference model uses."""
    from gensim.models import Word2Vec

    root, _, base = embedded
    model = Word2Vec(transcript_sentences(root), vector_size=50, window=5, min_count=MIN_COUNT, sample=1e-3,
                     negative=5, sg=1, hs=0, epochs=EPOCHS, workers=1, seed=AUDITED_SEED)
    path = base / "text-model.txt"
    save_word2vec_text(Vectors(model.wv.index_to_key, model.wv.vectors), path)
    return path


@pytest.fixture(scope="module")
def reproductions(embedded):
    """Short Speech2Vec reproduction runs on the same corpus, one per seed."""
    pytest.importorskip("torch")
    from reproductions.speech2vec.config import TrainConfig
    from reproductions.speech2vec.train import train

    root, _, base = embedded
    folders = []
    for seed in REPRODUCTION_SEEDS:
        out = base / f"speech2vec-seed{seed}"
        train(TrainConfig(corpus_root=str(root), epochs=REPRODUCTION_EPOCHS, seed=seed, min_count=MIN_COUNT),
              out, cache_dir=base / "cache", quiet=True)
        folders.append(out)
    return folders


def provenance(run_cli, vectors, view, json_out, *extra):
    return run_cli("provenance", vectors, "--corpus", "librispeech", "--corpus-root", view,
                   "--min-count", MIN_COUNT, "--recipes", *TINY_RECIPES, "--shuffled", 3, "--json", json_out, *extra)


# ------------------------------------------------------------------------------ real text, unknown recipes
@pytest.fixture(scope="module")
def wiki(tmp_path_factory):
    from support.wiki import write_wiki_corpus

    base = tmp_path_factory.mktemp("wiki")
    corpus = write_wiki_corpus(base / "corpus", max_tokens=TOKENS)
    sentences, _ = read_transcripts(corpus.root)
    references = build_references(sentences, dim=DIM, min_count=5, recipes=[Recipe.parse(r) for r in TEST_RECIPES],
                                  cache_dir=cache_folder())
    return corpus.root, EncodedCorpus.of(sentences), references, base


_AUDITED: dict = {}


def audited_model(corpus: EncodedCorpus, recipe: str, order: str = "sentences") -> Vectors:
    """A model the references do not contain: its own recipe, seed and sentence order (trained once
    per test session)."""
    key = (corpus.digest, recipe, order)
    if key not in _AUDITED:
        _AUDITED[key] = train_model(corpus.sentences(order, AUDITED_SEED), Recipe.parse(recipe), dim=DIM,
                                    min_count=5, seed=AUDITED_SEED)
    return _AUDITED[key]


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["window=3,epochs=20", "arch=cbow,window=8,epochs=10", "loss=hs,window=7",
                                    "model=fasttext,arch=cbow,epochs=10"])
def test_text_models_of_recipes_no_reference_has_are_text_like(wiki, recipe):
    _, corpus, references, _ = wiki
    result = judge(audited_model(corpus, recipe), references.families, params=PARAMS)
    assert result.verdict == "text-like", result.reason
    assert beats_every_rival("text", result.contests)
    assert result.closest_text is not None and result.closest.family == "text"
    labels = {Recipe.parse(r).label for r in TEST_RECIPES}
    assert Recipe.parse(recipe).label not in labels and result.closest_text.recipe in labels


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["window=3,epochs=20", "arch=cbow,window=8,epochs=10"])
def test_text_models_of_the_token_shuffled_corpus_are_not_text_like(wiki, recipe):
    _, corpus, references, _ = wiki
    result = judge(audited_model(corpus, recipe, order="tokens"), references.families, params=PARAMS)
    assert result.verdict == "neither", result.reason
    lost = [c for c in result.contests if not c.beats]
    assert any(c.rival == "shuffled-text" for c in lost)


def test_a_gaussian_embedding_over_the_same_words_is_not_text_like(wiki):
    _, _, references, _ = wiki
    words = references.families["text"][0][1].words
    gaussian = Vectors(words, np.random.default_rng(AUDITED_SEED).standard_normal((len(words), DIM)))
    result = judge(gaussian, references.families, params=PARAMS)
    assert result.verdict == "neither"
    knn = result.family("text").spread("knn_overlap")
    assert knn.best < 0.02       # chance level: about k / words


@pytest.mark.slow
def test_cli_reuses_the_cache_shows_the_comparison_and_round_trips(wiki, run_cli):
    root, corpus, references, base = wiki
    path = base / "sg-w3.txt"
    save_word2vec_text(audited_model(corpus, "window=3,epochs=20"), path)
    code, out, err = run_cli("provenance", path, "--corpus-root", root, "--recipes", *TEST_RECIPES,
                             "--knn-queries", PARAMS.knn_queries, "--rsa-words", PARAMS.rsa_words,
                             "--json", base / "sg-w3.json")
    assert code == 0, err
    result = load_result(base / "sg-w3.json")
    assert result.verdict == "text-like" and result.result_version == 2
    assert (result.timings.trained, result.timings.cached) == (0, len(TEST_RECIPES) + 4)   # the fixture's models (3 + fastText shuffled)
    assert [f.family for f in result.families] == ["text", "shuffled-text", "random"]
    assert [r["label"] for r in result.recipes] == [Recipe.parse(r).label for r in TEST_RECIPES]
    for block in ("contests", "audited vs each text reference", "closest text recipe:", "timings:", "verdict: text-like"):
        assert block in out
    assert load_result(result.to_dict()) == result
    # the same references as the fixture's, so the same verdict numbers as in-process
    again = judge(load_vectors_plain(path), references.families, params=PARAMS)
    assert [(c.gap, c.margin) for c in again.contests] == [(c.gap, c.margin) for c in result.contests]


def load_vectors_plain(path: Path) -> Vectors:
    from audit.core.loaders import load

    return load(path)


# ------------------------------------------------------------------------------ speech reproductions
@pytest.mark.slow
def test_speech_reproductions_are_not_text_like(embedded, reproductions, run_cli):
    _, view, base = embedded
    audited, speech_band = reproductions[0], reproductions[1:]
    code, out, err = provenance(run_cli, audited / "vectors.txt", view, base / "speech.json")
    assert code == 0, err
    result = load_result(base / "speech.json")
    assert result.verdict == "neither"
    assert not all(c.beats for c in result.contests)
    # no family won: no nearest text recipe is named (it read as a resemblance); the band table says
    # where the mean lies against the lower edge, under a header
    assert "closest text recipe" not in out and result.closest_text is not None
    assert "mean vs lower edge" in out and " inside" not in out

    code, out, err = provenance(run_cli, audited / "vectors.txt", view, base / "speech-both.json",
                                "--speech", *speech_band)
    assert code == 0, err
    both = load_result(base / "speech-both.json")
    assert both.verdict == "speech-like", both.reason    # other seeds of the same reproduction are its family
    assert [r.seed for r in both.family("speech").references] == [1, 2, 3]
    assert both.closest.family == "speech"
    assert "speech" in out


# ------------------------------------------------------------------------------ bad input
def test_bad_input_is_one_sentence_and_no_json(embedded, audited_text_model, tmp_path, run_cli):
    _, view, _ = embedded
    target = tmp_path / "out.json"
    code, _, err = provenance(run_cli, audited_text_model, tmp_path / "missing", target)
    assert code == 2 and "no such folder" in err
    (tmp_path / "run").mkdir()
    code, _, err = provenance(run_cli, audited_text_model, view, target, "--speech", tmp_path / "run")
    assert code == 2 and "give 3 or more --speech" in err
    code, _, err = run_cli("provenance", audited_text_model, "--corpus-root", view, "--recipes", "window=3",
                           "window=4", "--json", target)
    assert code == 2 and "give 3 or more --recipes" in err
    code, _, err = provenance(run_cli, audited_text_model, view, target, "--recipes", "window=3", "arch=rnn")
    assert code == 2 and "architecture must be one of" in err
    code, _, err = provenance(run_cli, audited_text_model, view, target, "--random", 2)
    assert code == 2 and "--random must be 0 or at least 3" in err
    upper = tmp_path / "upper.txt"
    lines = audited_text_model.read_text(encoding="utf-8").split("\n")
    upper.write_text("\n".join([lines[0]] + [line.upper() for line in lines[1:]]), encoding="utf-8")
    code, _, err = provenance(run_cli, upper, view, target)
    assert code == 2 and "shared" in err and len(err.strip().split("\n")) == 1
    assert not target.exists()


# ------------------------------------------------------------------------------ reference models
def test_read_transcripts_gives_every_utterance_once(embedded):
    root, view, _ = embedded
    sentences, info = read_transcripts(view)
    assert sentences == transcript_sentences(root)
    assert info.tokens == sum(len(s) for s in sentences) and info.sentences == len(sentences)
    with pytest.raises(AuditError, match="is not in"):
        read_transcripts(view, ["train-clean-101"])


def test_text_model_vocabulary_dimension_and_seed(embedded):
    root, _, _ = embedded
    sentences = transcript_sentences(root)
    config = TextModelConfig(dim=12, min_count=MIN_COUNT, epochs=2)
    first = train_text_model(sentences, config, seed=1)
    counts = Counter(w for s in sentences for w in s)
    assert set(first.words) == {w for w, c in counts.items() if c >= MIN_COUNT}
    assert first.dim == 12
    np.testing.assert_array_equal(train_text_model(sentences, config, seed=1).matrix, first.matrix)
    assert not np.array_equal(train_text_model(sentences, config, seed=2).matrix, first.matrix)
    with pytest.raises(AuditError, match="lower --min-count"):
        train_text_model([["once"]], TextModelConfig(dim=4, min_count=2), seed=1)
    assert reference_seeds(3) == [1, 2, 3]


def test_speech_references_read_vectors_and_recorded_seed(tmp_path):
    run = tmp_path / "run-a"
    run.mkdir()
    save_word2vec_text(Vectors(["a", "b"], np.eye(2)), run / "vectors.txt")
    (run / "config.json").write_text(json.dumps({"seed": 7}), encoding="utf-8")
    [(info, vectors)] = speech_references([run])
    assert (info.name, info.family, info.seed, vectors.words) == ("run-a", "speech", 7, ("a", "b"))
    os.remove(run / "vectors.txt")
    with pytest.raises(AuditError, match="has no vectors.txt"):
        speech_references([run])
