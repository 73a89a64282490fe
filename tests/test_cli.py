"""The CLI shell: version, help, usage errors and exit codes."""

from __future__ import annotations

import subprocess
import sys

from audit import __version__
from audit.cli import COMMAND_MODULES, build_parser


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
    code = ("import sys; from audit.cli import build_parser; build_parser(); "
            "print('torch' in sys.modules, 'homophones' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_internal_error_is_exit_1_without_traceback(run_cli, monkeypatch):
    import audit.info

    def broken(vectors):
        raise RuntimeError("boom")

    monkeypatch.setattr(audit.info, "describe", broken)
    from pathlib import Path
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.txt"
        path.write_text("a 1 2\n", encoding="utf-8")
        code, _, err = run_cli("info", path)
    assert code == 1 and "internal error" in err and "Traceback" not in err
