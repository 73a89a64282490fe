"""Running out of memory is exit 1 with one sentence; it suggests --limit only to a command that
has it (it had suggested it to `audit acoustic` and `audit report`, which read no embedding's words)."""

from __future__ import annotations

import numpy as np


def _exhausted(*args, **kwargs):
    raise MemoryError


def test_a_command_without_limit_is_not_told_to_use_it(tmp_path, run_cli, monkeypatch):
    import audit.checks.acoustic as acoustic
    monkeypatch.setattr(acoustic, "load_instances", _exhausted)
    np.savez(tmp_path / "i.npz", embeddings=np.eye(4, dtype=np.float32), labels=np.array(["a", "a", "b", "b"]))
    code, stdout, stderr = run_cli("acoustic", tmp_path / "i.npz")
    assert (code, stderr) == (1, "audit: out of memory.\n")


def test_a_command_with_limit_is_told_to_use_it(tmp_path, run_cli, monkeypatch):
    import audit.cli.commands.info as info
    monkeypatch.setattr(info, "load_vectors", _exhausted)
    (tmp_path / "v.txt").write_text("2 2\na 1 0\nb 0 1\n")
    code, stdout, stderr = run_cli("info", tmp_path / "v.txt")
    assert (code, stderr) == (1, "audit: out of memory; try --limit to read fewer words.\n")
