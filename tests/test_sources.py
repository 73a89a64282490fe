"""Embeddings by name: gensim-data:NAME and hf:ORG/REPO[/FILE][@REVISION].

Everything runs offline: the test builds a gensim-data folder (GENSIM_DATA_DIR, with gensim's
cached catalogue and a per-model __init__.py that must never run) and a Hugging Face cache in
huggingface_hub's own layout (models--ORG--REPO/{refs,blobs,snapshots}); downloads are served by
a local HTTP server on 127.0.0.1. Truth: hashlib over the files the test wrote.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import json
import threading

import numpy as np
import pytest

from audit import AuditError
from audit.core import sources
from audit.core.loaders import save_word2vec_text
from audit.core.vectors import Vectors
from homophones import load_pairs

COMMIT = "0123456789abcdef0123456789abcdef01234567"
OLDER = "89abcdef0123456789abcdef0123456789abcdef"


def glove_text(rows: int = 5, dim: int = 4, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    words = ["the", "cat", "dog", "money", "cash", "tree", "car"][:rows]
    lines = [f"{len(words)} {dim}"] + [w + " " + " ".join(f"{v:.4f}" for v in rng.standard_normal(dim)) for w in words]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def gensim_dir(tmp_path, monkeypatch):
    base = tmp_path / "gensim-data"
    folder = base / "glove-wiki-gigaword-50"
    folder.mkdir(parents=True)
    data = gzip.compress(glove_text())
    (folder / "glove-wiki-gigaword-50.gz").write_bytes(data)
    # gensim's loader script for this model: running it would leave a marker file
    marker = tmp_path / "init-ran"
    (folder / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
    catalogue = {"models": {"glove-wiki-gigaword-50": {"file_name": "glove-wiki-gigaword-50.gz", "parts": 1}},
                 "corpora": {"text8": {"file_name": "text8.gz", "parts": 1}}}
    (base / "information.json").write_text(json.dumps(catalogue), encoding="utf-8")
    monkeypatch.setenv("GENSIM_DATA_DIR", str(base))
    monkeypatch.setenv("AUDIT_OFFLINE", "1")
    return base, hashlib.sha256(data).hexdigest(), marker


def hub_repo(cache, repo_id, files: dict[str, bytes], commit=COMMIT, ref="main"):
    """A repository as huggingface_hub caches it: blobs by hash, snapshot links, a ref file."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "blobs").mkdir(exist_ok=True)
    snapshot = repo / "snapshots" / commit
    for name, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        target = snapshot / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(blob)
    if ref:
        (repo / "refs" / ref).write_text(commit, encoding="utf-8")
    return repo


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("AUDIT_OFFLINE", raising=False)
    return cache


# ------------------------------------------------------------------------------ gensim-data
def test_info_reads_a_gensim_data_file_and_records_its_source(gensim_dir, run_cli, tmp_path):
    base, sha, marker = gensim_dir
    out = tmp_path / "info.json"
    code, stdout, stderr = run_cli("info", "gensim-data:glove-wiki-gigaword-50", "--json", out)
    assert code == 0, stderr
    assert "gensim-data:glove-wiki-gigaword-50" in stdout
    source = json.loads(out.read_text(encoding="utf-8"))["source"]
    assert source["name"] == "gensim-data:glove-wiki-gigaword-50" and source["revision"] == ""
    assert source["sha256"] == sha and source["words"] == 5 and source["format"] == "word2vec-text+gzip"
    assert source["path"] == str(base / "glove-wiki-gigaword-50" / "glove-wiki-gigaword-50.gz")
    assert not marker.exists()   # the catalogue's per-model Python code never ran


def test_gensim_data_names_that_cannot_be_resolved_are_one_sentence(gensim_dir, run_cli, tmp_path):
    out = tmp_path / "info.json"
    for name, message in (("word2vec-google-news-300", "downloads are off (AUDIT_OFFLINE)"),
                          ("text8", "is a corpus in gensim's catalogue"),
                          ("../etc", "is not a gensim-data name")):
        code, stdout, stderr = run_cli("info", f"gensim-data:{name}", "--json", out)
        assert code == 2 and message in stderr and stdout == "", (name, stderr)
        assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert not out.exists()


def test_a_file_named_like_a_name_is_still_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hf:odd").write_bytes(glove_text())
    assert not sources.is_name("hf:odd") and sources.is_name("hf:acme/vectors")


@pytest.fixture
def gensim_mirror(tmp_path, monkeypatch):
    """gensim-data's catalogue and release assets served from 127.0.0.1."""
    served = tmp_path / "served"
    one = gzip.compress(glove_text(seed=1))
    two = gzip.compress(glove_text(7, seed=2))
    (served / "tiny-one").mkdir(parents=True)
    (served / "tiny-one" / "tiny-one.gz").write_bytes(one)
    (served / "tiny-one" / "__init__.py").write_text("raise SystemExit('never run')\n")
    (served / "tiny-two").mkdir()
    (served / "tiny-two" / "tiny-two.gz_00").write_bytes(two[:40])
    (served / "tiny-two" / "tiny-two.gz_01").write_bytes(two[40:])
    (served / "tiny-two" / "__init__.py").write_text("raise SystemExit('never run')\n")
    (served / "tiny-bad").mkdir()
    (served / "tiny-bad" / "tiny-bad.gz").write_bytes(one)
    (served / "tiny-bad" / "__init__.py").write_text("")
    md5 = lambda data: hashlib.md5(data).hexdigest()  # noqa: E731
    catalogue = {"corpora": {}, "models": {
        "tiny-one": {"file_name": "tiny-one.gz", "parts": 1, "checksum": md5(one)},
        "tiny-two": {"file_name": "tiny-two.gz", "parts": 2, "checksum-0": md5(two[:40]),
                     "checksum-1": md5(two[40:])},
        "tiny-bad": {"file_name": "tiny-bad.gz", "parts": 1, "checksum": md5(b"other bytes")}}}
    (served / "list.json").write_text(json.dumps(catalogue))

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(sources, "GENSIM_DATA_LIST_URL", f"{url}/list.json")
    monkeypatch.setattr(sources, "GENSIM_DOWNLOAD_BASE_URL", url)
    base = tmp_path / "gensim-data"
    monkeypatch.setenv("GENSIM_DATA_DIR", str(base))
    monkeypatch.delenv("AUDIT_OFFLINE", raising=False)
    try:
        yield base, one, two
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_gensim_data_download_checks_md5_and_keeps_gensims_layout(gensim_mirror):
    base, one, two = gensim_mirror
    first = sources.resolve("gensim-data:tiny-one")
    assert first.downloaded and first.path == base / "tiny-one" / "tiny-one.gz"
    assert first.path.read_bytes() == one and (base / "tiny-one" / "__init__.py").is_file()
    assert (base / "information.json").is_file()          # the catalogue, kept where gensim keeps it
    again = sources.resolve("gensim-data:tiny-one")        # already there: no download
    assert not again.downloaded and again.path == first.path
    joined = sources.resolve("gensim-data:tiny-two")       # two parts, each md5-checked, joined
    assert joined.path.read_bytes() == two and sorted(p.name for p in joined.path.parent.iterdir()) \
        == ["__init__.py", "tiny-two.gz"]
    with pytest.raises(AuditError, match="md5 .* nothing was kept"):
        sources.resolve("gensim-data:tiny-bad")
    assert sorted(p.name for p in base.iterdir()) == ["information.json", "tiny-one", "tiny-two"]
    with pytest.raises(AuditError, match="did you mean tiny-one"):
        sources.resolve("gensim-data:tiny-onee")


# ------------------------------------------------------------------------------ Hugging Face
def test_parse_hf_names():
    assert sources.parse_hf("acme/vec") == sources.HubName("acme/vec", None, None)
    assert sources.parse_hf("acme/vec/sub/v.txt@v1.0") == sources.HubName("acme/vec", "sub/v.txt", "v1.0")
    for bad in ("acme", "acme/vec@", "acme/vec/../x", "/vec", "acme/vec@a@b"):
        with pytest.raises(AuditError, match="is not a Hugging Face name"):
            sources.parse_hf(bad)


def test_hf_file_from_the_cache_records_name_commit_and_sha256(hub_cache, run_cli, tmp_path):
    data = glove_text()
    hub_repo(hub_cache, "acme/tiny-vectors", {"vectors.txt": data, "README.md": b"# card\n"})
    hub_repo(hub_cache, "acme/tiny-vectors", {"vectors.txt": glove_text(3, seed=9)}, commit=OLDER, ref=None)
    out = tmp_path / "info.json"
    code, stdout, stderr = run_cli("info", "hf:acme/tiny-vectors", "--json", out)
    assert code == 0, stderr
    source = json.loads(out.read_text(encoding="utf-8"))["source"]
    assert source["name"] == f"hf:acme/tiny-vectors/vectors.txt@{COMMIT}" and source["revision"] == COMMIT
    assert source["sha256"] == hashlib.sha256(data).hexdigest() and source["words"] == 5
    assert f"revision                {COMMIT}" in stdout
    # an explicit file and an explicit older commit
    code, _, stderr = run_cli("info", f"hf:acme/tiny-vectors/vectors.txt@{OLDER}", "--json", out)
    source = json.loads(out.read_text(encoding="utf-8"))["source"]
    assert code == 0 and source["revision"] == OLDER and source["words"] == 3


def test_hf_names_that_cannot_be_resolved_offline_are_one_sentence(hub_cache, run_cli, tmp_path):
    hub_repo(hub_cache, "acme/two-files", {"a.txt": glove_text(), "b.vec": glove_text()})
    out = tmp_path / "info.json"
    for name, message in (("hf:acme/absent", "is not in the Hugging Face cache"),
                          ("hf:acme/two-files/c.txt", "downloads are off (HF_HUB_OFFLINE)"),
                          ("hf:acme/two-files@v9", "is not in the Hugging Face cache"),
                          ("hf:acme/two-files", "has 2 embedding files (a.txt, b.vec); name one"),
                          ("hf:acme", "is not a Hugging Face name")):
        code, stdout, stderr = run_cli("info", name, "--json", out)
        assert code == 2 and message in stderr and stdout == "", (name, stderr)
        assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert not out.exists()


def test_homophones_reads_an_hf_name(hub_cache, run_cli, tmp_path):
    rng = np.random.default_rng(0)
    words, rows = [], []
    for pair in load_pairs("paper-307").pairs[:60]:
        base = rng.standard_normal(12)
        words += [pair.word1, pair.word2]
        rows += [base, base + 0.01 * rng.standard_normal(12)]
    words += [f"filler{i}" for i in range(100)]
    rows += list(rng.standard_normal((100, 12)))
    local = tmp_path / "phonetic.txt"
    save_word2vec_text(Vectors(words, np.array(rows)), local)
    hub_repo(hub_cache, "acme/phonetic", {"phonetic.txt": local.read_bytes()})
    out = tmp_path / "homophones.json"
    code, stdout, stderr = run_cli("homophones", "hf:acme/phonetic", "--json", out, "--k", "2")
    assert code == 0, stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["input"]["name"] == f"hf:acme/phonetic/phonetic.txt@{COMMIT}"
    assert data["input"]["sha256"] == hashlib.sha256(local.read_bytes()).hexdigest()
    assert data["pairs"]["found"] == 60


def test_gensim_native_file_on_the_hub_still_needs_allow_pickle(hub_cache, run_cli, tmp_path):
    gensim = pytest.importorskip("gensim")
    kv = gensim.models.KeyedVectors(4)
    kv.add_vectors(["the", "cat"], np.eye(2, 4, dtype=np.float32))
    kv.save(str(tmp_path / "tiny.model"))
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("tiny.model")}
    hub_repo(hub_cache, "acme/native", files)
    code, _, stderr = run_cli("info", "hf:acme/native/tiny.model")
    assert code == 2 and "pickle" in stderr and "--allow-pickle" in stderr
    code, stdout, stderr = run_cli("info", "hf:acme/native/tiny.model", "--allow-pickle")
    assert code == 0, stderr
