"""`audit report DIR` reads only regular result files of bounded size (a reviewer's 1 GB string
took 2.2 GB; a link to /dev/zero grew until memory ran out; a FIFO hung forever)."""

from __future__ import annotations

import os
import threading
import tracemalloc
from pathlib import Path

import pytest

import reports.run as run
from audit.core.errors import AuditError
from reports.run import MAX_RESULT_BYTES, read_result, read_results_dir


def _results(tmp_path: Path) -> Path:
    folder = tmp_path / "rep" / "results"
    folder.mkdir(parents=True)
    return folder


def _refused(call, timeout: float = 20.0) -> str:
    """The AuditError's message, with the call in a thread so that a hang fails instead of hanging."""
    box = {}

    def target():
        try:
            call()
        except AuditError as exc:
            box["message"] = str(exc)
        except BaseException as exc:    # noqa: BLE001 - reported below
            box["other"] = exc
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), "the read hung"
    assert "other" not in box, repr(box.get("other"))
    assert "message" in box, "nothing was refused"
    return box["message"]


def test_a_result_file_past_the_cap_is_refused_before_reading(tmp_path):
    path = _results(tmp_path) / "a.json"
    path.write_bytes(b"")
    os.truncate(path, 2**30)     # sparse
    tracemalloc.start()
    try:
        message = _refused(lambda: read_results_dir(tmp_path / "rep"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message == f"the result file {path} is 1.0 GB; result files are read up to {MAX_RESULT_BYTES // 2**20} MB."
    assert peak < 2**20, f"{peak / 2**20:.0f} MB"


def test_the_cap_is_exact(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "MAX_RESULT_BYTES", 100)
    path = _results(tmp_path) / "a.json"
    path.write_bytes(b"{" + b" " * 98 + b"}")
    assert "unknown result kind" in _refused(lambda: read_result(path))     # read: 100 bytes
    path.write_bytes(b"{" + b" " * 99 + b"}")
    assert "is 101 bytes; result files are read up to 0 MB" in _refused(lambda: read_result(path))


def test_a_link_to_dev_zero_is_refused(tmp_path):
    path = _results(tmp_path) / "a.json"
    path.symlink_to("/dev/zero")
    message = _refused(lambda: read_results_dir(tmp_path / "rep"))
    assert message == f"the result file {path} is not a regular file, so it is not a result file."


def test_a_fifo_is_refused_without_waiting(tmp_path):
    path = _results(tmp_path) / "a.json"
    os.mkfifo(path)
    message = _refused(lambda: read_results_dir(tmp_path / "rep"), timeout=10)
    assert message == f"the result file {path} is not a regular file, so it is not a result file."


def test_a_manifest_naming_a_fifo_is_refused(tmp_path):
    folder = _results(tmp_path)
    os.mkfifo(folder / "run.json")
    assert "is not a regular file" in _refused(lambda: read_results_dir(tmp_path / "rep"), timeout=10)


@pytest.mark.parametrize("data, says", [
    (b"\xef\xbb\xbf{\"kind\": 3}", "unknown result kind 3"),     # a byte-order mark is skipped, as before
    (b"{\"kind\": \"x\"\r\n}", "unknown result kind 'x'"),
    (b"{", "is not valid UTF-8 JSON"),
    (b"\xff{}", "is not valid UTF-8 JSON"),
    (b"[" * 200_000, "nests its values too deeply"),
    (b"[]", "does not hold a JSON object"),
])
def test_the_messages_for_bad_json_are_unchanged(tmp_path, data, says):
    path = _results(tmp_path) / "a.json"
    path.write_bytes(data)
    assert says in _refused(lambda: read_result(path))


def test_missing_file_and_directory(tmp_path):
    folder = _results(tmp_path)
    assert _refused(lambda: read_result(folder / "none.json")).endswith("does not exist.")
    (folder / "d.json").mkdir()
    assert _refused(lambda: read_result(folder / "d.json")).endswith("is a directory, not a file.")


def test_the_cli_says_one_sentence_and_exits_2(tmp_path, run_cli):
    path = _results(tmp_path) / "a.json"
    path.write_bytes(b"")
    os.truncate(path, 2**31)
    code, out, err = run_cli("report", tmp_path / "rep")
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "is 2.0 GB; result files are read up to" in err
    assert not (tmp_path / "rep" / "report.md").exists() and not (tmp_path / "rep" / "index.html").exists()
