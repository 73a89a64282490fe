"""`audit all --provenance` decides model provenance exactly as `audit provenance` does (issue 17):
the same reference families (a recipe grid, the token-shuffled corpus, random embeddings, speech
runs when given), the same contest, the comparison and the closest recipe in the report; a
malformed corpus skips the check with one sentence instead of stopping the run.

Real text: a 40,000-token slice of gensim's Wikipedia dump (tests/support/wiki.py), 16-d, three
cheap recipes, so that the whole file runs in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from audit.core.loaders import save_word2vec_text
from audit.core.results import load_result
from audit.core.vectors import Vectors

pytest.importorskip("gensim")

TOKENS, DIM = 40_000, 16
RECIPES = ("arch=skip-gram,window=5,epochs=5", "arch=cbow,window=5,epochs=10", "arch=skip-gram,window=2,epochs=10")
AUDITED_SEED = 99


@pytest.fixture(scope="module")
def wiki(tmp_path_factory):
    """The corpus, a text model of a recipe no reference has (window 3, 20 epochs, its own sentence
    order and seed) and a Gaussian embedding over its words."""
    from audit.checks.provenance.reference_models import EncodedCorpus, Recipe, read_transcripts, train_model
    from support.wiki import write_wiki_corpus

    base = tmp_path_factory.mktemp("wiki-all")
    corpus = write_wiki_corpus(base / "corpus", max_tokens=TOKENS)
    sentences, _ = read_transcripts(corpus.root)
    text = train_model(EncodedCorpus.of(sentences).sentences("sentences", AUDITED_SEED),
                       Recipe.parse("window=3,epochs=20"), dim=DIM, min_count=5, seed=AUDITED_SEED)
    save_word2vec_text(text, base / "text.txt")
    gaussian = np.random.default_rng(AUDITED_SEED).standard_normal((len(text.words), DIM))
    save_word2vec_text(Vectors(text.words, gaussian), base / "gaussian.txt")
    return corpus.root, base


def _decision(result) -> dict:
    """Everything the decision rests on: the result without its timings, date and display name."""
    data = result.to_dict()
    for key in ("timings", "date", "input"):
        data.pop(key)
    return data


def test_audit_all_decides_as_audit_provenance(wiki, run_cli, tmp_path):
    root, base = wiki
    out = tmp_path / "report"
    code, stdout, err = run_cli("all", base / "text.txt", base / "gaussian.txt", "--names", "text", "gaussian",
                                "--corpus-root", root, "--provenance", "--recipes", *RECIPES, "--out", out,
                                "--roles", "text=released", "gaussian=reproduction")
    assert code == 0, err
    assert "Traceback" not in err
    run = json.loads((out / "results" / "run.json").read_text())
    assert run["options"]["provenance references"].startswith("3 recipes (")
    pipeline = {entry["name"]: load_result(out / "results" / entry["results"]["provenance"])
                for entry in run["embeddings"]}
    assert pipeline["text"].verdict == "text-like", pipeline["text"].reason
    assert pipeline["gaussian"].verdict == "neither", pipeline["gaussian"].reason
    # the families of `audit provenance`, not the old three same-recipe seeds and their band
    assert [f.family for f in pipeline["text"].families] == ["text", "shuffled-text", "random"]
    assert [len(f.references) for f in pipeline["text"].families] == [3, 3, 3]
    assert pipeline["text"].contests and pipeline["text"].closest_text is not None
    assert pipeline["text"].timings.trained + pipeline["text"].timings.cached == 6
    # one set of references for both embeddings (same dimension): trained once
    assert "training 6 reference models" in err and err.count("training 6 reference models") == 1

    # `audit provenance` on the same inputs: the same decision, number for number, from the run's cache
    target = tmp_path / "text.json"
    code, _, err = run_cli("provenance", base / "text.txt", "--corpus-root", root, "--recipes", *RECIPES,
                           "--json", target)
    assert code == 0, err
    alone = load_result(target)
    assert (alone.timings.trained, alone.timings.cached) == (0, 6)
    assert _decision(alone) == _decision(pipeline["text"])

    # the report shows the comparison and the closest recipe, and the provenance finding renders
    markdown = (out / "report.md").read_text()
    closest = pipeline["text"].closest_text
    assert "text: each verdict family against each rival" in markdown.replace("\\", "")      # the contest table
    assert f"text: closest text recipe {closest.recipe} ({closest.name})." in markdown.replace("\\", "")
    findings = json.loads((out / "results" / run["findings"]).read_text())
    provenance = next(f for f in findings["findings"] if f["key"] == "provenance")
    assert provenance["status"] == "supported"          # released text-like, the "reproduction" not
    assert "calls text text-like" in provenance["sentence"] and "gaussian neither" in provenance["sentence"]
    assert "Model provenance: supported." in stdout


def test_speech_folders_are_a_family_in_audit_all_too(wiki, run_cli, tmp_path):
    """--speech runs join the contest as in `audit provenance` (here two runs that are text models
    in disguise: the audited text model is then not text-like, for it cannot beat them)."""
    from audit.core.loaders import load

    root, base = wiki
    runs = []
    for seed in (1, 2, 3):
        folder = tmp_path / f"run-{seed}"
        folder.mkdir()
        text = load(base / "text.txt")
        noise = np.random.default_rng(seed).standard_normal(text.matrix.shape) * 0.01
        save_word2vec_text(Vectors(text.words, text.matrix + noise), folder / "vectors.txt")
        (folder / "config.json").write_text(json.dumps({"seed": seed}))
        runs.append(folder)
    out = tmp_path / "report"
    code, _, err = run_cli("all", base / "text.txt", "--corpus-root", root, "--provenance", "--recipes", *RECIPES,
                           "--speech", *runs, "--out", out)
    assert code == 0, err
    run = json.loads((out / "results" / "run.json").read_text())
    result = load_result(out / "results" / run["embeddings"][0]["results"]["provenance"])
    assert [f.family for f in result.families] == ["text", "shuffled-text", "random", "speech"]
    assert [r.seed for r in result.family("speech").references] == [1, 2, 3]
    assert result.verdict == "speech-like" and result.closest.family == "speech"
    alone = tmp_path / "alone.json"
    code, _, err = run_cli("provenance", base / "text.txt", "--corpus-root", root, "--recipes", *RECIPES,
                           "--speech", *runs, "--json", alone)
    assert code == 0, err
    assert _decision(load_result(alone)) == _decision(result)


def test_bad_reference_options_are_one_sentence_before_any_work(wiki, run_cli, tmp_path):
    root, base = wiki
    out = tmp_path / "out"
    cases = [(("--provenance", "--recipes", "window=3", "window=4"), "give 3 or more --recipes"),
             (("--provenance", "--recipes", "window=3", "arch=rnn"), "architecture must be one of"),
             (("--provenance", "--speech", tmp_path), "give 3 or more --speech"),
             (("--provenance", "--speech", tmp_path / "a", tmp_path / "b"), "give 3 or more --speech"),
             (("--provenance", "--speech", tmp_path / "a", tmp_path / "b", tmp_path / "c"), "is not a folder"),
             (("--recipes", "window=3", "window=2"), "add --provenance")]
    for extra, message in cases:
        code, _, err = run_cli("all", base / "text.txt", "--corpus-root", root, "--out", out, *extra)
        assert code == 2 and message in err, (extra, err)
        assert len(err.strip().split("\n")) == 1 and not out.exists()


def _malformed_corpus(root: Path) -> Path:
    from support.synthetic import write_corpus

    write_corpus(root, {"train-clean-100": {"alpha": 6, "beta": 5, "gamma": 4}}, seed=0)
    transcript = sorted((root / "LibriSpeech" / "train-clean-100").rglob("*.trans.txt"))[0]
    transcript.write_bytes(transcript.read_bytes() + b"\xff\xfe bad bytes\n")
    return transcript


def test_malformed_transcripts_skip_model_provenance_with_one_sentence(run_cli, tmp_path):
    transcript = _malformed_corpus(tmp_path / "corpus")
    save_word2vec_text(Vectors(["alpha", "beta", "gamma"], np.eye(3)), tmp_path / "v.txt")
    out = tmp_path / "out"
    code, _, err = run_cli("all", tmp_path / "v.txt", "--corpus-root", tmp_path / "corpus", "--provenance",
                           "--out", out)
    assert code == 0, err
    assert "Traceback" not in err
    entry, = json.loads((out / "results" / "run.json").read_text())["embeddings"]
    reason = entry["skipped"]["provenance"]
    assert "not UTF-8" in reason and transcript.name in reason and "\n" not in reason
    assert reason == entry["skipped"]["vocab"]               # the corpus's one sentence, as vocabulary says it
    assert "info" in entry["results"]                        # the other checks ran
    markdown = (out / "report.md").read_text()
    assert "provenance not run" in markdown and "Model provenance: text model or speech model?" not in markdown
    # the same corpus given to `audit provenance` is the same sentence, exit 2
    code, _, err = run_cli("provenance", tmp_path / "v.txt", "--corpus-root", tmp_path / "corpus")
    assert code == 2 and reason in err


def test_too_few_shared_words_skip_model_provenance(wiki, run_cli, tmp_path):
    """An embedding that shares too few words with the corpus: skipped with the sentence `audit
    provenance` gives, before any reference is trained."""
    root, _ = wiki
    save_word2vec_text(Vectors(["zzzq", "qqqz", "xxqz"], np.eye(3)), tmp_path / "v.txt")
    out = tmp_path / "out"
    code, _, err = run_cli("all", tmp_path / "v.txt", "--corpus-root", root, "--provenance", "--recipes",
                           "window=4", "window=6", "window=8", "--out", out)
    assert code == 0, err
    entry, = json.loads((out / "results" / "run.json").read_text())["embeddings"]
    assert "words are shared" in entry["skipped"]["provenance"]
    assert "training" not in err


def test_every_model_of_the_grid_has_a_token_shuffled_counterpart():
    """fastText's spelling-driven neighbours need a no-context rival: the shuffled family adds the
    grid's first fastText recipe when the first N recipes hold none."""
    from audit.checks.provenance.reference_models import DEFAULT_RECIPES, Recipe, shuffled_recipes
    from audit.checks.provenance.run import QUICK_RECIPES, QUICK_SHUFFLED, ReferenceSetup

    assert shuffled_recipes(DEFAULT_RECIPES, 3) == [*DEFAULT_RECIPES[:3], DEFAULT_RECIPES[7]]
    assert shuffled_recipes(DEFAULT_RECIPES, 0) == []
    words = [Recipe(window=2), Recipe(window=3)]
    assert shuffled_recipes(words, 2) == words                        # no fastText in the grid: nothing added
    fast = [Recipe(model="fasttext"), Recipe(window=3), Recipe(model="fasttext", window=2)]
    assert shuffled_recipes(fast, 2) == fast[:2]                      # already there: nothing added
    assert shuffled_recipes(list(reversed(fast)), 2) == [fast[2], fast[1]]   # fastText and word2vec both there
    quick = ReferenceSetup(recipes=QUICK_RECIPES, shuffled=QUICK_SHUFFLED)
    quick.check()
    assert [r.model for r in shuffled_recipes(quick.parsed_recipes(), QUICK_SHUFFLED)] == ["word2vec", "word2vec",
                                                                                           "word2vec", "fasttext"]
    assert {r.architecture for r in quick.parsed_recipes()} == {"skip-gram", "cbow"}
    assert {r.loss for r in quick.parsed_recipes()} == {"negative", "hs"}
    # the default setup: the default grid, three shuffled (capped by the recipes given)
    assert ReferenceSetup().parsed_recipes() == list(DEFAULT_RECIPES)
    assert ReferenceSetup(recipes=("window=2", "window=3")).shuffled_count(2) == 2
    assert ReferenceSetup().describe() == "the default grid, 4 token-shuffled, 3 random, min count 5"
