"""Progress bars: drawn on stderr only when it is a terminal, never when piped, off with --quiet.

The command runs in a pseudo-terminal (the pty module) as a user's shell would run it; bars
are recognised by tqdm's own drawing (the label, "%|" and carriage returns).
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

from audit.core import progress
from support.local_http import serving

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


@pytest.fixture
def mirror(tmp_path, word_sim_dir):
    """The MEN benchmark served over HTTP on 127.0.0.1 (its real bytes: the sha256 matches)."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "EN-MEN-TR-3k.txt").write_bytes((word_sim_dir / "EN-MEN-TR-3k.txt").read_bytes())

    with serving(served) as url:
        yield url


def environment():
    env = dict(os.environ, AUDIT_PROGRESS_DELAY="0")
    env.pop("AUDIT_QUIET", None)
    return env


def run_in_terminal(*argv) -> tuple[int, str]:
    """Run ``python -m audit ARGV`` with stdin, stdout and stderr on a pseudo-terminal."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))   # 40 rows x 120 columns
    process = subprocess.Popen([sys.executable, "-m", "audit", *map(str, argv)], stdin=follower, stdout=follower,
                               stderr=follower, env=environment(), close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:   # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def fetch(mirror, folder):
    return ("data", "fetch", "benchmarks", "--only", "MEN", "--mirror", mirror, "--data-dir", folder, "--force")


def test_a_bar_on_a_terminal_none_when_piped_none_with_quiet(mirror, tmp_path):
    code, screen = run_in_terminal(*fetch(mirror, tmp_path / "a"))
    assert code == 0, screen
    assert "EN-MEN-TR-3k.txt:" in screen and "%|" in screen and "\r" in screen   # tqdm drew a bytes bar
    assert "MEN" in screen and "downloaded" in screen                           # and the command's own lines
    piped = subprocess.run([sys.executable, "-m", "audit", *fetch(mirror, tmp_path / "b")], capture_output=True,
                           text=True, env=environment(), timeout=120)
    assert piped.returncode == 0 and "downloaded" in piped.stdout + piped.stderr
    assert "%|" not in piped.stdout + piped.stderr and "\r" not in piped.stdout + piped.stderr
    code, screen = run_in_terminal("--quiet", *fetch(mirror, tmp_path / "c"))
    assert code == 0 and "downloaded" in screen
    assert "%|" not in screen and "EN-MEN-TR-3k.txt:" not in screen


def test_helper_is_silent_off_a_terminal_and_when_quiet(monkeypatch, capsys):
    class Terminal:
        def isatty(self):
            return True

        def write(self, text):
            self.text = getattr(self, "text", "") + text

        def flush(self):
            pass

    assert not progress.enabled()                       # pytest captures stderr: not a terminal
    assert list(progress.bar(range(3), desc="x")) == [0, 1, 2]
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("AUDIT_PROGRESS_DELAY", "0")
    assert progress.enabled()
    for _ in progress.bar(range(3), desc="counting"):
        pass
    assert "counting:" in terminal.text and "%|" in terminal.text and "/3 " in terminal.text
    progress.set_quiet(True)
    try:
        assert not progress.enabled()
        terminal.text = ""
        for _ in progress.bar(range(3), desc="counting"):
            pass
        assert terminal.text == ""
    finally:
        progress.set_quiet(False)
    monkeypatch.setenv("AUDIT_QUIET", "1")
    assert not progress.enabled()


def test_training_progress_is_a_bar_on_a_terminal_lines_in_a_log_nothing_when_quiet(monkeypatch):
    pytest.importorskip("torch")
    from reproductions.speech2vec.train import Progress

    class Stream:
        def __init__(self, tty):
            self.tty, self.text = tty, ""

        def isatty(self):
            return self.tty

        def write(self, text):
            self.text += text

        def flush(self):
            pass

    monkeypatch.setenv("AUDIT_PROGRESS_DELAY", "0")
    log = Stream(False)                                   # stderr redirected to a file: plain lines
    monkeypatch.setattr(sys, "stderr", log)
    Progress(2).update(1, 4, 4, 400, 2.0)
    assert log.text.startswith("epoch 1/2  batch 4/4  200 pairs/s") and "\r" not in log.text
    terminal = Stream(True)
    monkeypatch.setattr(sys, "stderr", terminal)
    shown = Progress(2)
    for batch in range(1, 5):
        shown.update(1, batch, 4, 100 * batch, 0.5 * batch)
    assert "epoch 1/2:" in terminal.text and "%|" in terminal.text and "batch" in terminal.text
    progress.set_quiet(True)
    try:
        terminal.text = ""
        quiet = Progress(2)
        quiet.update(1, 4, 4, 400, 2.0)
        assert terminal.text == ""
    finally:
        progress.set_quiet(False)
