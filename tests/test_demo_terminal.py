"""The README's main job in a terminal (issue 21): `audit demo` draws progress bars on a
pseudo-terminal (speech synthesis, MFCC features, training epochs), none with --quiet and none
when its output is piped. The tiny demo, with its own data and work folders."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="the demo trains the reproduction, which needs torch")
pytest.importorskip("librosa", reason="the demo computes MFCCs with librosa")

from test_progress import environment, run_in_terminal   # noqa: E402  (tests/ is on the path)

BARS = ("synthesising speech:", "MFCC features:", "epoch 1/1:")


@pytest.mark.slow
def test_demo_bars_on_a_terminal_none_quiet_none_piped(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path / "data"))
    demo = ["demo", "--size", "tiny", "--epochs", "1", "--awe-epochs", "1", "--work-dir", tmp_path / "work"]
    code, screen = run_in_terminal(*demo, "--out", tmp_path / "a")
    assert code == 0, screen[-3000:]
    for label in BARS:
        assert label in screen, label
    assert "%|" in screen and "\r" in screen
    # Again with --quiet: the corpus and features are reused, the training runs again (its bar would show).
    code, screen = run_in_terminal("--quiet", *demo, "--out", tmp_path / "b")
    assert code == 0, screen[-3000:]
    assert "%|" not in screen and not any(label in screen for label in BARS)
    piped = subprocess.run([sys.executable, "-m", "audit", *map(str, demo), "--out", str(tmp_path / "c")],
                           capture_output=True, text=True, env={**environment(), "AUDIT_DATA_DIR": str(tmp_path / "data")},
                           timeout=600)
    assert piped.returncode == 0, piped.stderr[-3000:]
    assert "%|" not in piped.stdout + piped.stderr and "\r" not in piped.stderr
    assert (tmp_path / "c" / "index.html").is_file()
