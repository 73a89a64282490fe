"""Sections that need a reproduction's folder or a corpus: learning curves, instance MDS,
vocabulary provenance; each appears when its input is there and is absent otherwise."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit import Vectors
from audit.core.loaders import save_word2vec_text


@pytest.fixture(scope="module")
def reproduction_dir(tmp_path_factory):
    """A folder shaped like a reproduction's output: vectors, epochs/, history.json, instances.npz."""
    folder = tmp_path_factory.mktemp("repro")
    rng = np.random.default_rng(3)
    words = ["ate", "eight", "need", "thus", "meat", "meet"] + [f"x{i}" for i in range(40)]
    save_word2vec_text(Vectors(words, rng.normal(size=(len(words), 6))), folder / "vectors.txt")
    (folder / "epochs").mkdir()
    save_word2vec_text(Vectors(words, rng.normal(size=(len(words), 6))), folder / "epochs" / "epoch_000.txt")
    labels, rows = [], []
    centres = {"ate": 0, "eight": 0, "need": 1, "thus": 2, "meat": 3, "meet": 3}
    basis = np.eye(6)
    for word, centre in centres.items():
        for _ in range(7):
            labels.append(word)
            rows.append(basis[centre] + 0.05 * rng.normal(size=6))
    np.savez(folder / "instances.npz", embeddings=np.array(rows), labels=np.array(labels),
             speakers=np.array([f"s{i % 3}" for i in range(len(labels))]))
    np.savez(folder / "instances_epoch_000.npz", embeddings=rng.normal(size=(len(labels), 6)),
             labels=np.array(labels), speakers=np.array([f"s{i % 3}" for i in range(len(labels))]))
    # a complete training history (the report reads it as a typed, validated result)
    corpus = {"root": str(folder), "subsets": ["train-clean-100"], "frame_store": "frames.npz", "utterances": 7,
              "instances": len(labels), "vocabulary": 6, "speakers": 3, "mean_frames": 20.0, "truncated_share": 0.0}
    history = {"kind": "training-history", "schema_version": 1, "config": {"epochs": 2}, "corpus": corpus,
               "seed": 0, "device": "cpu", "world_size": 1, "date": "2026-01-01",
               "epochs": [{"epoch": e, "loss": 1.0 / (e + 1), "pairs": 10, "pairs_per_second": 1000 + e,
                           "seconds": 1.0, "vectors": f"epochs/epoch_{e:03d}.txt",
                           "benchmarks": [{"name": "MEN", "pairs": 3000, "found": 20, "spearman": 0.01 * e,
                                           "spearman_zero": None, "spearman_mean": None},
                                          {"name": "WS-353", "pairs": 353, "found": 9, "spearman": 0.02 * e,
                                           "spearman_zero": None, "spearman_mean": None}],
                           "homophones": {"verdict": "inconclusive", "pairs_found": 3, "homophone_mean": 0.5 + 0.1 * e,
                                          "homophone_std": 0.1, "random_mean": 0.1, "random_std": 0.1},
                           "same_different_ap": 0.3 + 0.01 * e, "same_different_chance": 0.05}
                          for e in range(3)]}
    (folder / "history.json").write_text(json.dumps(history))
    return folder


def test_mds_coordinates_are_sklearns(reproduction_dir):
    from sklearn.manifold import MDS
    from sklearn.metrics import pairwise_distances

    from audit.checks.mds import instance_mds

    result = instance_mds(reproduction_dir / "instances.npz", [("homophones", "ate", "eight")], seed=5)
    with np.load(reproduction_dir / "instances.npz") as archive:
        embeddings, labels = archive["embeddings"], archive["labels"].astype(str)
    rows = np.concatenate([np.flatnonzero(labels == "ate"), np.flatnonzero(labels == "eight")])
    expected = MDS(n_components=2, metric="precomputed", metric_mds=True, init="random", n_init=1, max_iter=300,
                   random_state=5).fit_transform(pairwise_distances(embeddings[rows], metric="cosine"))
    got = np.array([p for w in result.panels[0].words for p in w.points])
    np.testing.assert_allclose(got, expected, atol=1e-9)
    assert [w.word for w in result.panels[0].words] == ["ate", "eight"]


def test_reproduction_folder_gets_learning_curves_and_mds(reproduction_dir, tmp_path, run_cli):
    out = tmp_path / "out"
    code, stdout, err = run_cli("all", reproduction_dir / "vectors.txt", reproduction_dir / "epochs" / "epoch_000.txt",
                                "--names", "trained", "random init", "--out", out)
    assert code == 0, err
    run = json.loads((out / "results" / "run.json").read_text())
    trained, random_init = run["embeddings"]
    assert {"training-history", "instance-mds"} <= set(trained["results"])
    assert "training-history" in random_init["skipped"]       # epochs/*.txt is not the final output
    assert {"acoustic", "instance-mds"} <= set(random_init["results"])   # from instances_epoch_000.npz
    assert "acoustic" in trained["results"]
    trained_ap = json.loads((out / "results" / trained["results"]["acoustic"]).read_text())
    random_ap = json.loads((out / "results" / random_init["results"]["acoustic"]).read_text())
    # clustered instances discriminate words better than random ones, and the report shows both
    assert trained_ap["same_different"]["average_precision"] > random_ap["same_different"]["average_precision"]
    markdown = (out / "report.md").read_text()
    assert "Reproduction training (Fig. 3)" in markdown and "Per-instance embeddings (Fig. 4)" in markdown
    assert "Acoustic word discrimination" in markdown and (out / "figures" / "same-different-pr.svg").is_file()
    # the per-epoch table shows the history's numbers
    # (pairs/s is a float field: shown as a float with no decimals, as for every trainer-written history)
    assert "| 2 | 0.3333 | 1002 | 0.020 | 0.040 | 0.700 | 0.100 | 0.3200 |" in markdown
    assert "same-different AP" in markdown
    mds = json.loads((out / "results" / trained["results"]["instance-mds"]).read_text())
    assert [p["label"] for p in mds["panels"]] == ["homophones", "homophones", "different sounds"]
    assert (out / "figures" / "learning-curves-trained.svg").is_file()
    assert (out / "figures" / "instances-mds-trained.svg").is_file()


def test_vocabulary_section_from_a_corpus(tmp_path, run_cli):
    pytest.importorskip("audit.checks.vocab")
    from support.synthetic import write_corpus

    counts = {"train-clean-100": {"alpha": 6, "beta": 5, "gamma": 4}, "train-clean-360": {"alpha": 1, "delta": 7},
              "train-other-500": {"epsilon": 9}}
    write_corpus(tmp_path / "corpus", counts, seed=0)
    words = ["alpha", "beta", "delta"]                       # clean-100 + clean-360 at count >= 5
    save_word2vec_text(Vectors(words, np.eye(3)), tmp_path / "v.txt")
    code, stdout, err = run_cli("all", tmp_path / "v.txt", "--corpus-root", tmp_path / "corpus",
                                "--out", tmp_path / "out")
    assert code == 0, err
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "Vocabulary provenance (Tables 5 and 6)" in markdown
    assert r"train-clean-100 + train-clean-360, count \>= 5 (exact match)" in markdown


def test_provenance_section_when_asked(tmp_path, run_cli):
    pytest.importorskip("audit.checks.provenance.resemblance")
    from audit.checks.provenance.reference_models import TextModelConfig, read_transcripts, train_text_model
    from support.synthetic import design_counts, write_corpus

    counts = design_counts(seed=1, shared_words=150, tail_words=50, max_min_count=5,
                           subsets=("train-clean-100", "dev-clean"))
    write_corpus(tmp_path / "corpus", counts, seed=1)
    sentences, _ = read_transcripts(tmp_path / "corpus")
    audited = train_text_model(sentences, TextModelConfig(dim=12), seed=99)   # a text model, unseen seed
    save_word2vec_text(audited, tmp_path / "text.txt")
    code, stdout, err = run_cli("all", tmp_path / "text.txt", "--corpus-root", tmp_path / "corpus", "--provenance",
                                "--out", tmp_path / "out")
    assert code == 0, err
    run = json.loads((tmp_path / "out" / "results" / "run.json").read_text())
    result = json.loads((tmp_path / "out" / "results" / run["embeddings"][0]["results"]["provenance"]).read_text())
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert result["verdict"] == "text-like"   # a text model with an unused seed
    assert "Model provenance" in markdown
    assert f"text.txt: {result['verdict']}." in markdown.replace("\\", "")
    assert (tmp_path / "out" / "figures" / "provenance-bands.svg").is_file()
    # a fresh process re-renders it (the provenance result type is imported on demand), byte for byte
    import shutil
    import subprocess
    import sys

    shutil.copytree(tmp_path / "out", tmp_path / "copy")
    (tmp_path / "copy" / "report.md").unlink()
    done = subprocess.run([sys.executable, "-m", "audit", "report", str(tmp_path / "copy")], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "copy" / "report.md").read_bytes() == (tmp_path / "out" / "report.md").read_bytes()


def test_provenance_without_corpus_is_a_clear_error(tmp_path, run_cli):
    save_word2vec_text(Vectors(["a", "b"], np.eye(2)), tmp_path / "v.txt")
    code, stdout, err = run_cli("all", tmp_path / "v.txt", "--provenance", "--out", tmp_path / "out")
    assert code == 2 and "--provenance needs --corpus-root" in err
    assert not (tmp_path / "out").exists()


def test_a_learning_curve_that_barely_moves_is_drawn_flat():
    """The demo's reproduction (AP 0.3629058 -> 0.3629123) was drawn as a full-height rise: a panel's
    y-axis spans at least 10% of its largest value, centred on the values; a real change keeps
    matplotlib's own range."""
    import numpy as np
    from matplotlib.figure import Figure as MplFigure
    from reports.figures import LEAST_SPAN, _least_span

    assert LEAST_SPAN == 0.1
    ax = MplFigure().subplots()
    flat = np.array([0.3629058, 0.3629100, 0.3629123])
    ax.plot([0, 1, 2], flat)
    _least_span(ax, flat)
    low, high = ax.get_ylim()
    assert high - low == pytest.approx(0.1 * 0.3629123) and (low + high) / 2 == pytest.approx(flat.mean(), abs=1e-6)
    ax = MplFigure().subplots()
    moving = np.array([0.711, 0.9, 0.968])
    ax.plot([0, 1, 2], moving)
    before = ax.get_ylim()
    _least_span(ax, moving)
    assert ax.get_ylim() == before
    _least_span(ax, np.array([np.nan, np.nan]))          # no value: nothing to do
    # on the border (a range of exactly 10% of the largest value: 9 to 10) matplotlib's range stays;
    # one float step less and the panel is widened to the least span
    for low, widened in ((9.0, False), (float(np.nextafter(9.0, 10.0)), True)):
        ax = MplFigure().subplots()
        ax.plot([0, 1], [low, 10.0])
        before = ax.get_ylim()
        _least_span(ax, np.array([low, 10.0]))
        assert (ax.get_ylim() != before) is widened and (not widened or ax.get_ylim()[1] - ax.get_ylim()[0] ==
                                                         pytest.approx(1.0))


def test_provenance_band_rows_keep_their_family_and_measure_and_read_top_down():
    """Labels were cut at their end, so an embedding's nine rows showed three identical labels, the
    family or measure lost; the name part is cut instead."""
    from reports import figures

    name = "Speech2Vec reproduction at random initialisation"
    rows = [(f"{figures.cut(name, 18)} / {family} / {measure}", 0.5, 0.1, 0.9)
            for family in ("text", "shuffled", "random") for measure in ("knn_overlap", "procrustes_cosine")]
    svg = figures.score_bands(rows, "score")
    labels = [label for label, *_ in rows]
    assert len(set(labels)) == 6 and all(label in svg for label in labels)
    assert labels[0].startswith("Speech2Vec reprod\u2026 / text")
