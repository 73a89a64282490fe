"""The import layers (.importlinter) hold, and the contract really catches a wrong-way import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("audit", "homophones", "benchmarks", "reproductions", "reports")
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed (pip install import-linter)")


def lint(root: Path) -> subprocess.CompletedProcess:
    """lint-imports on the packages under ``root`` (put first on the path, ahead of the install)."""
    return subprocess.run([str(LINT), "--config", str(root / ".importlinter"), "--no-cache"], cwd=root,
                          capture_output=True, text=True, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


@pytest.fixture
def tree_copy(tmp_path) -> Path:
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_layers_hold(tree_copy):
    result = lint(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize("module, wrong_import", [
    ("audit/core/errors.py", "import audit.cli.main"),            # the core reaching the top
    ("homophones/verdict.py", "import reproductions.speech2vec"),  # a check reaching a trainer
    ("reports/fields.py", "import audit.speech.dtw"),             # reports beyond the core
    ("audit/speech/dtw.py", "import audit.checks.acoustic"),      # a kernel reaching a check
])
def test_a_wrong_way_import_breaks_the_contract(tree_copy, module, wrong_import):
    target = tree_copy / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{wrong_import}  # planted by the test\n",
                      encoding="utf-8")
    result = lint(tree_copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert wrong_import.split()[-1] in result.stdout
