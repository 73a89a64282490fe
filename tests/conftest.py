"""Shared fixtures. Benchmark files are read from ../shared/data, never copied here."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared data folder {SHARED_DATA} is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def word_sim_dir(shared_data) -> Path:
    return shared_data / "word-sim"


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process: returns (exit code, stdout, stderr)."""
    from audit.cli.main import main

    def run(*argv: str):
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture(scope="session", autouse=True)
def _private_data_dir(tmp_path_factory):
    """Tests never read or write the user's cache: the default data dir is a temporary one."""
    import os

    previous = os.environ.get("AUDIT_DATA_DIR")
    os.environ["AUDIT_DATA_DIR"] = str(tmp_path_factory.mktemp("audit-data-dir"))
    yield
    if previous is None:
        os.environ.pop("AUDIT_DATA_DIR", None)
    else:
        os.environ["AUDIT_DATA_DIR"] = previous
