"""`audit provenance` end to end on the embedded spoken corpus, and the reference models.

The corpus is the reproduction's embedded eSpeak corpus (size ``tiny``: 100 utterances, 1,760
words). The text models are trained with many epochs because the corpus is so small; on real
LibriSpeech word2vec's default 5 epochs are plenty.
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
from audit.checks.provenance.reference_models import (TextModelConfig, read_transcripts, reference_seeds, speech_references,
                                    train_text_model)
from audit.core.results import load_result
from audit.core.vectors import Vectors

EPOCHS = 50
MIN_COUNT = 4                 # the reproduction's vocabulary filter (the paper's), used by both families
AUDITED_SEED = 99             # not among the reference seeds 1..3
REPRODUCTION_SEEDS = (0, 1, 2)
REPRODUCTION_EPOCHS = 1


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
                   "--min-count", MIN_COUNT, "--epochs", EPOCHS, "--seeds", 3, "--json", json_out, *extra)


# ------------------------------------------------------------------------------ acceptance
@pytest.mark.slow
def test_a_text_model_with_an_unused_seed_is_text_like_inside_the_band(embedded, audited_text_model, run_cli):
    _, view, base = embedded
    code, out, err = provenance(run_cli, audited_text_model, view, base / "text.json")
    assert code == 0, err
    result = load_result(base / "text.json")
    assert result.verdict == "text-like"
    text = result.family("text")
    assert text.inside and [r.seed for r in text.references] == [1, 2, 3]
    for measure in text.measures:
        assert measure.audited >= measure.lower_edge
        assert measure.audited_max >= measure.band_low      # its best pair reaches the band itself
    assert "text-like" in out and "lower edge" in out
    assert result.corpus.min_count == MIN_COUNT and result.text_model["epochs"] == EPOCHS


@pytest.mark.slow
def test_speech_reproductions_are_unlike_the_text_models(embedded, reproductions, audited_text_model, run_cli):
    _, view, base = embedded
    audited, speech_band = reproductions[0], reproductions[1:]
    code, _, err = provenance(run_cli, audited / "vectors.txt", view, base / "speech.json")
    assert code == 0, err
    result = load_result(base / "speech.json")
    assert result.verdict == "neither"
    text = result.family("text")
    assert not text.inside
    rsa = text.measure("rsa_spearman")
    assert rsa.audited < rsa.lower_edge

    code, out, err = provenance(run_cli, audited / "vectors.txt", view, base / "speech-both.json",
                                "--speech", *speech_band)
    assert code == 0, err
    both = load_result(base / "speech-both.json")
    assert both.verdict == "speech-like"        # other seeds of the same reproduction are its family
    assert not both.family("text").inside and both.family("speech").inside
    assert [r.seed for r in both.family("speech").references] == [1, 2]
    assert "speech family" in out

    code, _, err = provenance(run_cli, audited_text_model, view, base / "text-both.json", "--speech", *speech_band)
    assert code == 0, err
    text_both = load_result(base / "text-both.json")
    assert text_both.verdict == "text-like" and not text_both.family("speech").inside


# ------------------------------------------------------------------------------ bad input
def test_bad_input_is_one_sentence_and_no_json(embedded, audited_text_model, tmp_path, run_cli):
    _, view, _ = embedded
    target = tmp_path / "out.json"
    code, _, err = provenance(run_cli, audited_text_model, tmp_path / "missing", target)
    assert code == 2 and "no such folder" in err
    code, _, err = provenance(run_cli, audited_text_model, view, target, "--speech", tmp_path)
    assert code == 2 and "two or more --speech" in err
    code, _, err = provenance(run_cli, audited_text_model, view, target, "--seeds", 1)
    assert code == 2 and "at least 2 reference seeds" in err
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
