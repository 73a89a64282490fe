"""The CLI shell: version, help, usage errors and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from audit import __version__
from audit.cli.main import COMMAND_MODULES, build_parser


def test_version_and_every_command_is_registered(run_cli, capsys):
    try:
        run_cli("--version")
    except SystemExit as exit_:
        assert exit_.code == 0
    assert capsys.readouterr().out.strip() == f"audit {__version__}"
    names = set(build_parser()._subparsers._group_actions[0].choices)
    assert names == {m.rsplit(".", 1)[1] for m in COMMAND_MODULES}


def test_no_command_prints_help_and_exits_2(run_cli):
    code, out, _ = run_cli()
    assert code == 2 and "COMMAND" in out


def test_unknown_command_is_one_sentence(run_cli):
    code, _, err = run_cli("frobnicate")
    assert code == 2 and err.startswith("audit: ") and err.count("\n") == 1


def test_registering_commands_imports_no_torch():
    code = ("import sys; from audit.cli.main import build_parser; build_parser(); "
            "print('torch' in sys.modules, 'homophones' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_internal_error_is_exit_1_without_traceback(run_cli, monkeypatch):
    import audit.checks.info

    def broken(vectors):
        raise RuntimeError("boom")

    monkeypatch.setattr(audit.checks.info, "describe", broken)
    from pathlib import Path
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.txt"
        path.write_text("a 1 2\n", encoding="utf-8")
        code, _, err = run_cli("info", path)
    assert code == 1 and "internal error" in err and "Traceback" not in err


def _module_cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "audit", *map(str, args)], capture_output=True, text=True,
                          **kwargs)


def test_console_entry_flushes_output_and_keeps_the_exit_code(tmp_path):
    # The entry point leaves with os._exit after flushing: nothing printed may be lost.
    path = tmp_path / "v.txt"
    path.write_text("".join(f"w{i} {i % 7} {i % 5 + 1}\n" for i in range(2000)), encoding="utf-8")
    ok = _module_cli("info", path, "--json", tmp_path / "info.json")
    assert ok.returncode == 0 and ok.stdout == _in_process_output(path) and ok.stderr == ""
    assert (tmp_path / "info.json").read_text(encoding="utf-8").endswith("}\n")
    bad = _module_cli("info", tmp_path / "absent.txt")
    assert bad.returncode == 2 and bad.stderr.startswith("audit: ") and bad.stderr.count("\n") == 1


def _in_process_output(path) -> str:
    code = f"from audit.cli.main import main; main(['info', {str(path)!r}])"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_console_entry_into_a_closed_pipe_exits_quietly(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("".join(f"w{i} {i % 7} {i % 5 + 1}\n" for i in range(50)), encoding="utf-8")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"w{i}\tw{i + 1}\n" for i in range(0, 48, 2)), encoding="utf-8")
    reader = subprocess.Popen(["true"], stdin=subprocess.PIPE)
    reader.wait()   # the pipe has no reader left: the first write fails
    writer = subprocess.run([sys.executable, "-m", "audit", "homophones", str(path), "--pairs", str(pairs)],
                            stdout=reader.stdin, stderr=subprocess.PIPE, text=True)
    reader.stdin.close()
    assert writer.returncode == 0 and writer.stderr == ""


def test_every_command_that_reads_an_embedding_accepts_a_name(run_cli, tmp_path, monkeypatch):
    """A name goes through the one load path: resolved, or one sentence and exit 2, nothing written."""
    monkeypatch.setenv("GENSIM_DATA_DIR", str(tmp_path / "gensim-data"))
    monkeypatch.setenv("AUDIT_OFFLINE", "1")
    name = "gensim-data:glove-wiki-gigaword-50"
    for argv in (["info", name], ["homophones", name], ["benchmarks", name], ["all", name, "--out", tmp_path / "out"]):
        code, out, err = run_cli(*argv)
        assert code == 2 and err.splitlines(keepends=True)[-1] == (f"audit: {name} is not in {tmp_path / 'gensim-data'} and downloads are off "
                                     "(AUDIT_OFFLINE); download it once online or set GENSIM_DATA_DIR to the "
                                     "folder that holds it.\n"), argv
    assert not (tmp_path / "out").exists()


def test_quiet_is_a_global_option(run_cli, capsys):
    from audit.core import progress
    try:
        run_cli("--help")
    except SystemExit:
        pass
    assert "--quiet" in capsys.readouterr().out
    try:
        code, _, _ = run_cli("--quiet", "frobnicate")
        assert code == 2
    finally:
        progress.set_quiet(False)


def test_sigterm_runs_the_clean_ups_of_an_interrupt_and_exits_143(tmp_path):
    """Python's default SIGTERM ends the process on the spot, leaving temporary files and staging
    folders behind (a cache write's part, a report's staging folder); the console script turns it
    into an interrupt: one line, exit 143, and the clean-ups that run on Ctrl-C run."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)
    audit = Path(sys.executable).parent / "audit"
    process = subprocess.Popen([str(audit), "info", str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    time.sleep(1.5)                          # blocked opening the FIFO, which no one writes
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143 and err.strip() == "audit: terminated.", err


def test_a_full_disk_or_read_only_place_is_one_sentence_and_exit_2(monkeypatch, run_cli, tmp_path):
    """A full disk deep in a command (a checkpoint, a figure) was an internal error (exit 1): an
    OSError of the place (no space, read-only, quota) is one sentence naming the file, exit 2; any
    other OSError is still an internal error."""
    import errno
    from audit.cli.commands import info

    vectors = tmp_path / "v.txt"
    vectors.write_text("2 3\na 1 2 3\nb 4 5 6\n", encoding="utf-8")
    for number, expected in ((errno.ENOSPC, 2), (errno.EROFS, 2), (errno.EDQUOT, 2), (errno.EBADF, 1)):
        def full(args, number=number):
            raise OSError(number, os.strerror(number), "/place/file.part")
        monkeypatch.setattr(info, "run", full)
        code, _, err = run_cli("info", vectors)
        assert code == expected, err
        if expected == 2:
            assert err.strip() == f"audit: cannot write /place/file.part ({os.strerror(number)})."
        else:
            assert err.startswith("audit: internal error (OSError")


def test_a_sigterm_whose_exception_was_dropped_still_ends_the_command_with_143(monkeypatch, run_cli, tmp_path):
    """An exception raised by the SIGTERM handler while Python finalises an object is printed and
    dropped: a training run then went on to its end and exited 0. The request is recorded: loops
    stop at their next check and the CLI exits 143 whatever became of the exception."""
    from audit.cli.commands import info
    from audit.core import interrupts

    vectors = tmp_path / "v.txt"
    vectors.write_text("2 3\na 1 2 3\nb 4 5 6\n", encoding="utf-8")

    def dropped(args):
        try:
            interrupts.on_sigterm(15, None)
        except interrupts.Terminated:
            pass                      # as a finaliser would drop it
        with pytest.raises(interrupts.Terminated):
            interrupts.check()        # a trainer's next epoch stops here
        return 0
    monkeypatch.setattr(info, "run", dropped)
    try:
        code, _, err = run_cli("info", vectors)
        assert code == 143 and err.strip() == "audit: terminated.", err
    finally:
        interrupts._REQUESTED.clear()
