"""`audit data fetch benchmarks` / `audit data list` against a local HTTP server on 127.0.0.1.

The server serves files this test writes: the real bytes of some benchmarks (so their sha256
matches the registry) and a corrupted copy of another. Nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import pytest

from audit import AuditError
from benchmarks import REGISTRY, benchmark_status, fetch_benchmarks
from support.local_http import QuietHandler, serving


@pytest.fixture
def mirror(tmp_path, word_sim_dir):
    """A folder served over HTTP with good MC-30 and RG-65 files and a corrupted YP-130."""
    served = tmp_path / "served"
    served.mkdir()
    for name in ("MC-30", "RG-65"):
        spec = REGISTRY[name]
        (served / spec.file).write_bytes((word_sim_dir / spec.file).read_bytes())
    good = (word_sim_dir / REGISTRY["YP-130"].file).read_bytes()
    (served / REGISTRY["YP-130"].file).write_bytes(good.replace(b"4.000", b"3.000", 1))
    requests = []

    class Handler(QuietHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

    with serving(served, Handler) as url:
        yield url, requests


def test_fetch_downloads_verifies_and_skips_what_is_there(tmp_path, mirror):
    url, requests = mirror
    data = tmp_path / "data"
    outcomes = fetch_benchmarks(data, only="MC-30,RG-65", mirror=url)
    assert [(o.name, o.action) for o in outcomes] == [("MC-30", "downloaded"), ("RG-65", "downloaded")]
    for name in ("MC-30", "RG-65"):
        path = data / "word-sim" / REGISTRY[name].file
        assert hashlib.sha256(path.read_bytes()).hexdigest() == REGISTRY[name].sha256
    assert sorted(p.name for p in (data / "word-sim").iterdir()) == ["EN-MC-30.txt", "EN-RG-65.txt"]
    asked = len(requests)
    again = fetch_benchmarks(data, only="MC-30", mirror=url)
    assert again[0].action == "already present" and len(requests) == asked
    assert fetch_benchmarks(data, only="MC-30", mirror=url, force=True)[0].action == "downloaded"


def test_a_corrupted_or_missing_file_leaves_nothing_behind(tmp_path, mirror):
    url, _ = mirror
    data = tmp_path / "data"
    with pytest.raises(AuditError, match="EN-YP-130.txt .*sha256"):
        fetch_benchmarks(data, only="YP-130", mirror=url)
    assert not data.exists()   # neither the file nor a .part, nor the folders the fetch made for them
    with pytest.raises(AuditError, match="EN-YP-130.txt .*sha256"):
        fetch_benchmarks(tmp_path / "nd" / "x" / "y", only="YP-130", mirror=url)
    assert not (tmp_path / "nd").exists()    # every folder it made, however deep
    (data / "word-sim").mkdir(parents=True)
    with pytest.raises(AuditError, match="EN-YP-130.txt .*sha256"):
        fetch_benchmarks(data, only="YP-130", mirror=url)
    assert list((data / "word-sim").iterdir()) == []  # a folder that was there stays
    # one failure among good files: the good ones are kept, the error names the bad ones
    with pytest.raises(AuditError, match=r"(?i)2 of 3 benchmark files could not be fetched: "
                                         r"EN-MEN-TR-3k.txt .*not found.*EN-YP-130.txt"):
        fetch_benchmarks(data, only="MC-30,MEN,YP-130", mirror=url)
    assert [p.name for p in (data / "word-sim").iterdir()] == ["EN-MC-30.txt"]


def test_the_data_dir_comes_from_the_environment(tmp_path, mirror, monkeypatch):
    url, _ = mirror
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path / "from-env"))
    fetch_benchmarks(only="RG-65", mirror=url)
    assert (tmp_path / "from-env" / "word-sim" / "EN-RG-65.txt").is_file()
    statuses = {s.name: s.status for s in benchmark_status()}
    assert statuses["RG-65"] == "verified" and statuses["MEN"] == "missing"


def test_cli_fetch_and_list(tmp_path, mirror, run_cli):
    url, _ = mirror
    data = tmp_path / "data"
    code, out, err = run_cli("data", "fetch", "benchmarks", "--data-dir", data, "--mirror", url, "--only", "MC-30")
    assert code == 0, err
    assert "MC-30: downloaded" in out
    (data / "EN-RG-65.txt").write_text("car automobile 3.9\n")  # a file that does not verify
    code, out, err = run_cli("data", "list", "--data-dir", data)
    assert code == 0, err
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith("benchmarks")}
    assert "verified" in lines["MC-30"] and "checksum mismatch" in lines["RG-65"] and "missing" in lines["MEN"]
    code, _, err = run_cli("data", "fetch", "benchmarks", "--data-dir", data, "--mirror", url, "--only", "YP-130")
    assert code == 2 and "sha256" in err and "Traceback" not in err
    assert not (data / "word-sim" / "EN-YP-130.txt").exists()
    code, _, err = run_cli("data", "fetch")
    assert code == 2 and "benchmarks" in err


def test_data_list_json_names_every_benchmark(word_sim_dir, tmp_path, run_cli):
    import json

    out = tmp_path / "list.json"
    code, _, err = run_cli("data", "list", "--data-dir", word_sim_dir, "--json", out)
    assert code == 0, err
    listing = json.loads(out.read_text(encoding="utf-8"))
    assert listing["kind"] == "data-list"
    assert len(listing["benchmarks"]) == 13
    assert {b["status"] for b in listing["benchmarks"]} == {"verified"}


@pytest.fixture
def broken_mirror(tmp_path, word_sim_dir):
    """A server with good MC-30 and RG-65 files; MEN comes chunked and stops halfway (one chunk,
    then the socket closes), YP-130 comes with a Content-Length and stops halfway, and every
    path under /loop/ redirects to itself."""
    served = tmp_path / "served"
    served.mkdir()
    for name in ("MC-30", "RG-65"):
        (served / REGISTRY[name].file).write_bytes((word_sim_dir / REGISTRY[name].file).read_bytes())
    men = (word_sim_dir / REGISTRY["MEN"].file).read_bytes()
    yp = (word_sim_dir / REGISTRY["YP-130"].file).read_bytes()
    requests = []

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            requests.append(self.path)
            if self.path.startswith("/loop/"):
                self.send_response(302)
                self.send_header("Location", self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/" + REGISTRY["MEN"].file:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                half = men[: len(men) // 2]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))  # no terminating 0-chunk
                self.wfile.flush()
                self.close_connection = True
            elif self.path == "/" + REGISTRY["YP-130"].file:
                self.send_response(200)
                self.send_header("Content-Length", str(len(yp)))
                self.end_headers()
                self.wfile.write(yp[: len(yp) // 2])
                self.wfile.flush()
                self.close_connection = True
            else:
                super().do_GET()

    with serving(served, Handler) as url:
        yield url, requests


def test_a_chunked_download_cut_short_is_one_sentence_and_leaves_nothing(tmp_path, broken_mirror, run_cli,
                                                                        word_sim_dir):
    url, requests = broken_mirror
    data = tmp_path / "data"
    men = REGISTRY["MEN"].file
    code, out, err = run_cli("data", "fetch", "benchmarks", "--data-dir", data, "--mirror", url,
                             "--only", "MC-30,MEN,RG-65")
    assert code == 2, err
    assert "internal error" not in err and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("audit: 1 of 3 benchmark files could not be fetched: ")
    assert f"{men} (could not download {url}{men} (" in err and "IncompleteRead" in err
    assert "/" + REGISTRY["RG-65"].file in requests  # the file after the broken one was still tried
    assert sorted(p.name for p in (data / "word-sim").iterdir()) == ["EN-MC-30.txt", "EN-RG-65.txt"]
    # --force over a verified copy: the copy survives, no .part is left
    good = (word_sim_dir / men).read_bytes()
    (data / "word-sim" / men).write_bytes(good)
    with pytest.raises(AuditError, match=rf"1 of 1 benchmark files could not be fetched: {men} .*IncompleteRead"):
        fetch_benchmarks(data, only="MEN", mirror=url, force=True)
    assert (data / "word-sim" / men).read_bytes() == good
    assert sorted(p.name for p in (data / "word-sim").iterdir()) == ["EN-MC-30.txt", "EN-MEN-TR-3k.txt",
                                                                      "EN-RG-65.txt"]


def test_a_download_closed_before_its_content_length_is_refused_even_without_a_checksum(tmp_path, broken_mirror):
    from audit.core.datadir import download

    url, _ = broken_mirror
    target = tmp_path / "out" / "yp.txt"
    with pytest.raises(AuditError, match=r"closed after \d+ of \d+ bytes"):
        download(url + REGISTRY["YP-130"].file, target)
    assert list(target.parent.iterdir()) == []


def test_a_redirect_loop_is_one_line(tmp_path, broken_mirror, run_cli):
    url, _ = broken_mirror
    data = tmp_path / "data"
    with pytest.raises(AuditError, match="redirect") as caught:
        fetch_benchmarks(data, only="MC-30,RG-65", mirror=url + "loop")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("2 of 2 benchmark files could not be fetched")
    assert not data.exists()       # nothing kept, not even the folders made for the downloads
    code, _, err = run_cli("data", "fetch", "benchmarks", "--data-dir", data, "--mirror", url + "loop",
                           "--only", "MC-30")
    assert code == 2 and err.count("\n") == 1 and "redirect" in err, err


def test_a_users_file_and_a_planted_link_are_never_written_through(tmp_path, mirror):
    """A benchmark file the user changed was replaced without --force; a link left at NAME.part made
    the download write the user's file through it (and NAME a link to it). The user's copy is kept
    and said so (--force replaces it); the download's temporary file is its own, made with O_EXCL."""
    url, _ = mirror
    data = tmp_path / "data"
    folder = data / "word-sim"
    folder.mkdir(parents=True)
    target = folder / REGISTRY["MC-30"].file
    target.write_text("car\tautomobile\t9.99\n")
    [kept] = fetch_benchmarks(data, only="MC-30", mirror=url)
    assert kept.action.startswith("kept, differs from the registered file") and "--force" in kept.action
    assert target.read_text() == "car\tautomobile\t9.99\n"
    target.unlink()
    user_file = tmp_path / "userfile.txt"
    user_file.write_text("USER DATA\n")
    (folder / (target.name + ".part")).symlink_to(user_file)
    [outcome] = fetch_benchmarks(data, only="MC-30", mirror=url)
    assert outcome.action == "downloaded" and user_file.read_text() == "USER DATA\n"
    assert not target.is_symlink() and hashlib.sha256(target.read_bytes()).hexdigest() == REGISTRY["MC-30"].sha256
    assert sorted(p.name for p in folder.iterdir()) == [target.name, target.name + ".part"]   # the link stays
    target.write_text("edited\n")
    assert fetch_benchmarks(data, only="MC-30", mirror=url, force=True)[0].action == "downloaded"
    assert hashlib.sha256(target.read_bytes()).hexdigest() == REGISTRY["MC-30"].sha256
