"""Transcripts-only LibriSpeech fetch against a local HTTP server serving archives the test builds."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from audit.corpora.librispeech import LibriSpeechCorpus
from audit.core.errors import AuditError
from audit.corpora.fetch import MARKER, OFFICIAL_MD5, fetch_transcripts

TRANSCRIPTS = {
    "dev-clean": {("84", "121123"): "84-121123-0000 GO DO YOU HEAR\n84-121123-0001 DON'T GO\n",
                  ("174", "50561"): "174-50561-0000 FORGOTTEN TOO THE NAME OF GILLIAN\n"},
    "test-clean": {("61", "70968"): "61-70968-0000 HE BEGAN A CONFUSED COMPLAINT\n"},
}


def _add(archive: tarfile.TarFile, name: str, data: bytes = b"", **fields) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    archive.addfile(info, io.BytesIO(data) if data else None)


def build_archive(subset: str, extra=None) -> bytes:
    """A tar.gz shaped like the official one: folders, flac audio, transcripts, top-level TXT files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        _add(archive, "LibriSpeech/README.TXT", b"LibriSpeech ASR corpus\n")
        for (speaker, chapter), text in TRANSCRIPTS[subset].items():
            folder = f"LibriSpeech/{subset}/{speaker}/{chapter}"
            _add(archive, folder, type=tarfile.DIRTYPE)
            _add(archive, f"{folder}/{speaker}-{chapter}-0000.flac", b"fLaC" + bytes(5000))
            _add(archive, f"{folder}/{speaker}-{chapter}.trans.txt", text.encode())
        for name, data, fields in extra or ():
            _add(archive, name, data, **fields)
    return buffer.getvalue()


class _Handler(SimpleHTTPRequestHandler):
    truncate: set = set()
    requests: list = []

    def log_message(self, *args):   # keep pytest output clean
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        name = self.path.lstrip("/")
        path = Path(self.directory) / name
        if not path.is_file():
            self.send_error(404, "Not Found")
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        # A truncated body: the connection drops half-way, as on a network failure.
        self.wfile.write(data[:len(data) // 2] if name in type(self).truncate else data)


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = type("Handler", (_Handler,), {"truncate": set(), "requests": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}/", handler
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _serve(served: Path, subset: str, data: bytes) -> str:
    (served / f"{subset}.tar.gz").write_bytes(data)
    return hashlib.md5(data).hexdigest()


def test_fetch_keeps_only_transcripts(server, tmp_path):
    served, url, handler = server
    md5 = _serve(served, "dev-clean", build_archive("dev-clean"))
    root = tmp_path / "corpus"
    [outcome] = fetch_transcripts(root, ["dev-clean"], base_url=url, expected_md5={"dev-clean": md5})
    assert (outcome.action, outcome.transcripts, outcome.md5, outcome.md5_verified) == ("fetched", 2, md5, True)
    kept = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert kept == ["LibriSpeech/dev-clean/.transcripts-complete.json",
                    "LibriSpeech/dev-clean/174/50561/174-50561.trans.txt",
                    "LibriSpeech/dev-clean/84/121123/84-121123.trans.txt"]
    text = (root / "LibriSpeech/dev-clean/84/121123/84-121123.trans.txt").read_text()
    assert text == TRANSCRIPTS["dev-clean"][("84", "121123")]
    assert LibriSpeechCorpus(root).count().subset("dev-clean").as_dict()["go"] == 2
    # A second run finds the marker and does not download again.
    before = len(handler.requests)
    [again] = fetch_transcripts(root, ["dev-clean"], base_url=url, expected_md5={"dev-clean": md5})
    assert again.action == "skipped" and again.md5 == md5 and len(handler.requests) == before


@pytest.mark.parametrize("name, fields", [
    ("LibriSpeech/dev-clean/../../../escaped.trans.txt", {}),
    ("/tmp/absolute.trans.txt", {}),
    ("LibriSpeech/dev-clean/84/121123/84-121123.trans.txt", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}),
    ("LibriSpeech/dev-clean/9/9/9-9.trans.txt", {"type": tarfile.LNKTYPE, "linkname": "LibriSpeech/README.TXT"}),
])
def test_malicious_members_are_refused(server, tmp_path, name, fields):
    served, url, _ = server
    _serve(served, "dev-clean", build_archive("dev-clean", extra=[(name, b"0 EVIL\n", fields)]))
    root = tmp_path / "deep" / "corpus"
    with pytest.raises(AuditError, match="refusing the dev-clean archive"):
        fetch_transcripts(root, ["dev-clean"], base_url=url, expected_md5=None)
    assert not list(tmp_path.rglob("*escaped*")) and not Path("/tmp/absolute.trans.txt").exists()
    assert [p.name for p in (root / "LibriSpeech").iterdir()] == []    # no subset, no staging left


def test_interrupted_fetch_resumes_with_the_unfinished_subset(server, tmp_path):
    served, url, handler = server
    md5 = {"dev-clean": _serve(served, "dev-clean", build_archive("dev-clean")),
           "test-clean": _serve(served, "test-clean", build_archive("test-clean"))}
    handler.truncate.add("test-clean.tar.gz")
    root = tmp_path / "corpus"
    with pytest.raises(AuditError, match="nothing was kept for test-clean; run the command again to retry"):
        fetch_transcripts(root, ["dev-clean", "test-clean"], base_url=url, expected_md5=md5)
    assert (root / "LibriSpeech/dev-clean" / MARKER).is_file()
    assert sorted(p.name for p in (root / "LibriSpeech").iterdir()) == ["dev-clean"]
    handler.truncate.clear()
    handler.requests.clear()
    outcomes = fetch_transcripts(root, ["dev-clean", "test-clean"], base_url=url, expected_md5=md5)
    assert [(o.subset, o.action) for o in outcomes] == [("dev-clean", "skipped"), ("test-clean", "fetched")]
    assert handler.requests == ["/test-clean.tar.gz"]
    assert LibriSpeechCorpus(root).subset_names() == ("dev-clean", "test-clean")


def test_md5_mismatch_keeps_nothing(server, tmp_path):
    served, url, _ = server
    _serve(served, "dev-clean", build_archive("dev-clean"))
    root = tmp_path / "corpus"
    # The official md5 belongs to the real 337 MB archive, not to this one.
    with pytest.raises(AuditError, match=f"OpenSLR publishes {OFFICIAL_MD5['dev-clean']}"):
        fetch_transcripts(root, ["dev-clean"], base_url=url)
    assert list((root / "LibriSpeech").iterdir()) == []


def test_missing_archive_and_archive_without_transcripts(server, tmp_path):
    served, url, _ = server
    with pytest.raises(AuditError, match="HTTP 404"):
        fetch_transcripts(tmp_path / "c", ["dev-other"], base_url=url, expected_md5=None)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        _add(archive, "LibriSpeech/README.TXT", b"x")
    _serve(served, "dev-other", buffer.getvalue())
    with pytest.raises(AuditError, match="holds no .trans.txt files"):
        fetch_transcripts(tmp_path / "c", ["dev-other"], base_url=url, expected_md5=None)


def test_cli_fetch(server, tmp_path, run_cli):
    served, url, _ = server
    _serve(served, "test-clean", build_archive("test-clean"))
    root = tmp_path / "corpus"
    code, out, err = run_cli("data", "fetch", "librispeech", "--subsets", "test-clean", "--transcripts-only",
                             "--root", root, "--mirror", url, "--skip-md5")
    assert code == 0, err
    assert "test-clean: fetched, 1 transcript files" in out and "md5 recorded, not checked" in out
    code, out, err = run_cli("data", "fetch", "librispeech", "--subsets", "test-clean", "--root", root)
    assert code == 2 and "pass --transcripts-only" in err
    _serve(served, "dev-clean", build_archive("dev-clean", extra=[("../x.trans.txt", b"1", {})]))
    code, out, err = run_cli("data", "fetch", "librispeech", "--subsets", "dev-clean", "--transcripts-only",
                             "--root", root, "--mirror", url, "--skip-md5")
    assert code == 2 and err.count("\n") == 1 and "leaves the target folder" in err
    assert not (tmp_path / "x.trans.txt").exists()


def test_a_transcript_of_the_users_is_never_replaced_and_an_equal_one_is_kept(server, tmp_path):
    """The fetch replaced a user's edited transcript (and a link) with the archive's by os.replace:
    a differing transcript refuses the fetch before anything moves; an equal one stays as it is."""
    served, url, _ = server
    md5 = _serve(served, "dev-clean", build_archive("dev-clean"))
    root = tmp_path / "corpus"
    mine = root / "LibriSpeech/dev-clean/84/121123/84-121123.trans.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("84-121123-0000 MY OWN EDITED TRANSCRIPT\n")
    (mine.parent / "84-121123-0000.flac").write_bytes(b"AUDIO")
    with pytest.raises(AuditError, match=r"84-121123.trans.txt is already there and differs .*nothing was changed"):
        fetch_transcripts(root, ["dev-clean"], base_url=url, expected_md5={"dev-clean": md5})
    assert mine.read_text() == "84-121123-0000 MY OWN EDITED TRANSCRIPT\n"
    assert not (root / "LibriSpeech/dev-clean/174").exists() and not (root / "LibriSpeech/dev-clean" / MARKER).exists()
    assert [p.name for p in (root / "LibriSpeech").iterdir()] == ["dev-clean"]      # no staging left
    mine.unlink()
    mine.symlink_to(tmp_path / "elsewhere.txt")
    with pytest.raises(AuditError, match="already there and differs"):
        fetch_transcripts(root, ["dev-clean"], base_url=url, expected_md5={"dev-clean": md5})
    assert mine.is_symlink()
    mine.unlink()
    mine.write_text(TRANSCRIPTS["dev-clean"][("84", "121123")])                      # as the archive has it
    inode = mine.stat().st_ino
    [outcome] = fetch_transcripts(root, ["dev-clean"], base_url=url, expected_md5={"dev-clean": md5})
    assert outcome.action == "fetched" and mine.stat().st_ino == inode
    assert (root / "LibriSpeech/dev-clean/174/50561/174-50561.trans.txt").is_file()
    assert (mine.parent / "84-121123-0000.flac").read_bytes() == b"AUDIO"


def test_each_fetch_stages_in_a_folder_of_its_own(server, tmp_path, monkeypatch):
    """The staging folder had a fixed name that a second fetch removed at its start and end, so a
    fetch could mark a subset complete with transcripts missing: a second fetch running while the
    first streams leaves the first's staging alone, and both complete the subset."""
    import audit.corpora.fetch as fetch
    served, url, _ = server
    md5 = _serve(served, "dev-clean", build_archive("dev-clean"))
    root = tmp_path / "corpus"
    real = fetch._stream_transcripts
    inner = []

    def streaming(url_, subset, staging, timeout):
        result = real(url_, subset, staging, timeout)
        if not inner:          # the first fetch has staged its files: a second one runs to its end now
            inner.append(None)
            inner[0] = fetch_transcripts(root, ["dev-clean"], base_url=url, expected_md5={"dev-clean": md5},
                                         force=True)
            assert staging.is_dir() and len(list(staging.rglob("*.trans.txt"))) == 2
        return result
    monkeypatch.setattr(fetch, "_stream_transcripts", streaming)
    [outcome] = fetch_transcripts(root, ["dev-clean"], base_url=url, expected_md5={"dev-clean": md5}, force=True)
    assert outcome.action == "fetched" and inner[0][0].action == "fetched"
    assert len(list((root / "LibriSpeech/dev-clean").rglob("*.trans.txt"))) == 2
    assert [p.name for p in (root / "LibriSpeech").iterdir()] == ["dev-clean"]


def test_data_list_shows_the_fetched_librispeech_subsets(server, tmp_path, run_cli):
    """`audit data list` ("what is in the data dir and verified") listed benchmark files only: it now
    lists each LibriSpeech subset under DATA_DIR/librispeech with its completion marker's status."""
    import json
    served, url, _ = server
    _serve(served, "test-clean", build_archive("test-clean"))
    data = tmp_path / "data"
    fetch_transcripts(data / "librispeech", ["test-clean"], base_url=url, expected_md5=None)
    (data / "librispeech" / "LibriSpeech" / "dev-other" / "1" / "2").mkdir(parents=True)   # unfinished, by hand
    (data / "librispeech" / "LibriSpeech" / "dev-other" / "1" / "2" / "1-2.trans.txt").write_text("1-2-0 A\n")
    code, out, err = run_cli("data", "list", "--data-dir", data, "--json", tmp_path / "list.json")
    assert code == 0, err
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("librispeech")}
    assert "1 transcripts" in rows["test-clean"] and "complete, md5 recorded" in rows["test-clean"]
    assert "no completion marker" in rows["dev-other"]
    listed = json.loads((tmp_path / "list.json").read_text())["librispeech"]
    assert [(s["subset"], s["status"], s["transcripts"]) for s in listed] == [
        ("test-clean", "complete, md5 recorded", 1), ("dev-other", "no completion marker", 1)]


def test_an_oversized_transcript_member_is_refused_from_its_tar_header(server, tmp_path, monkeypatch):
    """A member was read whole whatever its size (the tar header states it first); the bound is the
    transcript reader's own (64 MB; made small here)."""
    import audit.corpora.fetch as fetch
    served, url, _ = server
    _serve(served, "dev-clean", build_archive("dev-clean"))
    monkeypatch.setattr(fetch, "MAX_TRANSCRIPT_BYTES", 20)
    root = tmp_path / "corpus"
    with pytest.raises(AuditError, match=r"holds a transcript of \d+ bytes \(LibriSpeech/dev-clean/.*\.trans\.txt\); "
                                         r"a chapter transcript is a few KB .* nothing was kept for dev-clean"):
        fetch_transcripts(root, ["dev-clean"], base_url=url, expected_md5=None)
    assert [p.name for p in (root / "LibriSpeech").iterdir()] == []
