"""Bad input and hostile files, through the real command in a subprocess (issue 15).

Every case runs ``audit ...`` with a wall-clock timeout and an address-space limit, then checks
what a user would: the exit code (2 for bad input, 0 where the input is valid), one line on
stderr and no traceback, nothing left at the output target, and every input byte-identical
afterwards. Cases are grouped by the classes of the issue; each builds its own files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import resource
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from audit.core.loaders import save_word2vec_text
from audit.core.vectors import Vectors
from homophones import load_pairs

MEMORY_LIMIT = 3 * 2**30     # bytes of address space per command (torch is never imported by these)
TIMEOUT = 90                 # seconds per command


def run_audit(*argv, cwd: Path, stdin: bytes | None = None, timeout: float = TIMEOUT):
    def limit():   # in the child, before exec
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    env = {**os.environ, "AUDIT_DATA_DIR": str(cwd / "data-dir"), "PYTHONFAULTHANDLER": ""}
    return subprocess.run([sys.executable, "-m", "audit", *map(str, argv)], cwd=cwd, input=stdin,
                          capture_output=True, timeout=timeout, preexec_fn=limit, env=env)


def digest(path: Path) -> str | None:
    if path.is_symlink() or not path.exists():
        return os.readlink(path) if path.is_symlink() else None
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    if path.is_dir():
        return "dir:" + ",".join(sorted(f"{p.relative_to(path)}={digest(p)}" for p in path.rglob("*")
                                        if p.is_file() or p.is_symlink()))
    return "special"


@dataclass
class Case:
    name: str
    build: Callable[[Path], list]          # writes the files, returns argv
    code: int = 2
    says: str = ""                          # a phrase the one line on stderr must hold
    outputs: tuple[str, ...] = ()          # paths (relative to the case folder) that must not appear
    kept: tuple[str, ...] = ()             # paths that must stay byte-identical (besides every file built)
    stdin: bytes | None = None
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------ fixtures
def vectors_file(folder: Path, name: str = "v.txt", words=None, dim: int = 8) -> Path:
    """A small word2vec text file holding the paper's first pairs, identical within each pair."""
    rng = np.random.default_rng(0)
    if words is None:
        pairs = load_pairs("paper-307").pairs[:30]
        words = [w for p in pairs for w in (p.word1, p.word2)] + [f"filler{i}" for i in range(40)]
    path = folder / name
    save_word2vec_text(Vectors(words, rng.standard_normal((len(words), dim))), path)
    return path


def pairs_file(folder: Path, text: str | bytes, name: str = "pairs.tsv") -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def instances_file(folder: Path, labels, name: str = "instances.npz") -> Path:
    rng = np.random.default_rng(1)
    path = folder / name
    np.savez(path, embeddings=rng.standard_normal((len(labels), 4)).astype(np.float32), labels=np.asarray(labels))
    return path


# ------------------------------------------------------------------------------ the catalogue
def _json_symlink(tmp: Path):
    target = tmp / "precious.txt"
    target.write_text("my notes\n", encoding="utf-8")
    (tmp / "out.json").symlink_to(target)
    return ["info", vectors_file(tmp), "--json", tmp / "out.json"]


def _json_fifo(tmp: Path):
    os.mkfifo(tmp / "out.json")
    return ["info", vectors_file(tmp), "--json", tmp / "out.json"]


def _json_is_input(tmp: Path):
    path = vectors_file(tmp)
    return ["info", path, "--json", path]


SHARED_WORD_SIM = Path(__file__).resolve().parents[2] / "shared" / "data" / "word-sim"


def _json_in_the_benchmark_folder(tmp: Path):
    (tmp / "dd" / "word-sim").mkdir(parents=True)
    benchmark = tmp / "dd" / "word-sim" / "EN-RG-65.txt"
    benchmark.write_bytes((SHARED_WORD_SIM / "EN-RG-65.txt").read_bytes())
    return ["benchmarks", vectors_file(tmp), "--data-dir", tmp / "dd", "--only", "RG-65", "--json", benchmark]


def _json_in_the_corpus(tmp: Path):
    from tests.support.synthetic import write_corpus
    corpus = write_corpus(tmp / "corpus", {"dev-clean": {"ate": 3, "eight": 2}}, utterance_words=(1, 3))
    transcript = next(corpus.root.rglob("*.trans.txt"))
    return ["vocab", vectors_file(tmp, words=["ate", "eight"]), "--corpus-root", tmp / "corpus", "--subsets",
            "dev-clean", "--no-benchmarks", "--json", transcript]


def _json_in_the_report_it_reads(tmp: Path):
    done = run_audit("all", vectors_file(tmp), "--out", tmp / "report", cwd=tmp)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return ["report", tmp / "report", "--json", next((tmp / "report" / "results").glob("*.info.json"))]


def _json_in_the_report_it_writes(tmp: Path):
    vectors = vectors_file(tmp)
    done = run_audit("all", vectors, "--out", tmp / "report", cwd=tmp)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return ["all", vectors, "--out", tmp / "report", "--json", tmp / "report" / "index.html"]


def _json_empty_path(tmp: Path):
    return ["info", vectors_file(tmp), "--json", ""]


def _raw_json_without_raw_corpus(tmp: Path):
    return ["homophones", vectors_file(tmp), "--raw-json", tmp / "raw.json"]


def _json_device(tmp: Path):
    return ["info", vectors_file(tmp), "--json", "/dev/null"]


def _random_pairs_huge(tmp: Path):
    return ["homophones", vectors_file(tmp), "--random-pairs", "1000000000"]


def _k_huge(tmp: Path):
    return ["homophones", vectors_file(tmp), "--k", "1000000000"]


def _acoustic_negative_seed(tmp: Path):
    return ["acoustic", instances_file(tmp, ["a", "a", "b", "b"]), "--seed", "-1"]


def _provenance_negative_seed(tmp: Path):
    (tmp / "corpus").mkdir()
    return ["provenance", vectors_file(tmp), "--corpus-root", tmp / "corpus", "--seed", "-1"]


def _data_dir_is_a_file(tmp: Path):
    return ["data", "fetch", "benchmarks", "--data-dir", vectors_file(tmp), "--only", "MEN", "--mirror",
            "file:///nonexistent"]


def _claims_nested_too_deep(tmp: Path):
    (tmp / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    return ["all", vectors_file(tmp), "--claims", tmp / "deep.json", "--out", tmp / "report"]


def _claims_toml_nested_too_deep(tmp: Path):
    (tmp / "deep.toml").write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    return ["all", vectors_file(tmp), "--claims", tmp / "deep.toml", "--out", tmp / "report"]


def _config_nested_too_deep(tmp: Path):
    (tmp / "deep.json").write_text('{"epochs": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    return ["reproduce", "awe", "--config", tmp / "deep.json", "--out", tmp / "run"]


def _pairs_too_many(tmp: Path):
    # 62 MB of distinct pairs once took 2.6 GB and ended 'out of memory' (exit 1)
    return ["homophones", vectors_file(tmp), "--pairs",
            pairs_file(tmp, "".join(f"a{i}\tb{i}\n" for i in range(100_001)))]


def _pipe_header_promising_a_huge_matrix(tmp: Path):
    # 60,000 rows x 3,000,000 dimensions were allocated up front for a pipe: 'out of memory', exit 1
    return ["info", "/dev/stdin"]


def _one_very_wide_row(tmp: Path):
    # 4,000,000 values in one 16 MB row: a Python string per value took 2.6 GB (9.4 GB at 15 million)
    path = tmp / "wide.txt"
    path.write_bytes(b"w0 " + b" ".join([b"0.5"] * 4_000_000) + b"\n")
    return ["info", path]


def _mirror_not_a_url(tmp: Path):
    return ["data", "fetch", "benchmarks", "--data-dir", tmp / "dd", "--mirror", "notaurl", "--only", "MEN"]


def _raw_corpus_missing_with_json(tmp: Path):
    return ["homophones", vectors_file(tmp), "--raw-corpus", tmp / "nope", "--json", tmp / "o.json"]


def _pairs_bom(tmp: Path):
    return ["homophones", vectors_file(tmp), "--pairs",
            pairs_file(tmp, "\ufeff" + "".join(f"{p.word1}\t{p.word2}\n" for p in load_pairs("paper-307").pairs[:30]))]


def _pairs_three_columns(tmp: Path):
    return ["homophones", vectors_file(tmp), "--pairs", pairs_file(tmp, "ate\teight\t9.5\nmeat\tmeet\t9\n")]


def _pairs_not_utf8(tmp: Path):
    return ["homophones", vectors_file(tmp), "--pairs", pairs_file(tmp, "caf\xe9\tcafe\n".encode("latin-1"))]


def _out_is_an_earlier_report_with_notes(tmp: Path):
    vectors = vectors_file(tmp)
    done = run_audit("all", vectors, "--out", tmp / "report", cwd=tmp)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    (tmp / "report" / "my-notes.txt").write_text("do not lose me\n", encoding="utf-8")
    return ["all", vectors, "--out", tmp / "report"]


def _out_is_the_current_folder(tmp: Path):
    return ["all", vectors_file(tmp), "--out", "."]


def _out_holds_the_input(tmp: Path):
    (tmp / "mine").mkdir()
    return ["all", vectors_file(tmp / "mine"), "--out", tmp / "mine"]


def _dev_zero(tmp: Path):
    return ["info", "/dev/zero"]


def _fifo_with_a_writer(tmp: Path):
    import threading
    source = vectors_file(tmp, "source.txt")
    fifo = tmp / "vectors.fifo"
    os.mkfifo(fifo)

    def write():
        with open(fifo, "wb") as handle:
            handle.write(source.read_bytes())
    threading.Thread(target=write, daemon=True).start()
    return ["info", fifo]


def _corrupt_gzip(tmp: Path):
    data = gzip.compress(vectors_file(tmp, "plain.txt").read_bytes())
    path = tmp / "v.txt.gz"
    path.write_bytes(data[:40] + bytes(64) + data[104:])
    return ["info", path]


def _boolean_number(tmp: Path):
    path = tmp / "v.txt"
    path.write_text("2 2\na 1.0 True\nb 0.5 0.25\n", encoding="utf-8")
    return ["info", path]


def _report_schema_99(tmp: Path):
    vectors = vectors_file(tmp)
    done = run_audit("all", vectors, "--out", tmp / "report", cwd=tmp)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    result = next(p for p in (tmp / "report" / "results").glob("*.homophones.json"))
    data = json.loads(result.read_text(encoding="utf-8"))
    data["schema_version"] = 99
    result.write_text(json.dumps(data), encoding="utf-8")
    return ["report", tmp / "report"]


CASES = [
    # class 1: user data is never destroyed
    Case("out-is-an-earlier-report-with-notes", _out_is_an_earlier_report_with_notes, kept=("report",)),
    Case("out-is-the-current-folder", _out_is_the_current_folder),
    Case("out-holds-the-input", _out_holds_the_input, kept=("mine",)),
    # class 3: inputs that are not plain files
    Case("dev-zero", _dev_zero),
    Case("fifo-with-a-writer", _fifo_with_a_writer, code=0),
    # class 5: bad input that used to be an internal error
    Case("corrupt-gzip", _corrupt_gzip),
    # class 7: a number is Python float syntax, not a boolean
    Case("boolean-as-a-number", _boolean_number),
    # class 8: reports validate what they read
    Case("report-schema-99", _report_schema_99, says="schema", kept=("report",)),

    # class 2: output targets that are not plain files, or that are an input
    Case("json-on-a-symlink", _json_symlink, says="symbolic link", kept=("precious.txt", "out.json")),
    Case("json-on-a-fifo", _json_fifo, says="not a regular file", kept=("out.json",)),
    Case("json-is-the-input", _json_is_input, says="is one of the inputs"),
    Case("json-on-a-device", _json_device, says="not a regular file"),
    Case("json-in-the-benchmark-folder", _json_in_the_benchmark_folder, says="(--data-dir), which this command reads"),
    Case("json-in-the-corpus", _json_in_the_corpus, says="(--corpus-root), which this command reads"),
    Case("json-in-the-report-it-reads", _json_in_the_report_it_reads, says="(DIR), which this command reads",
         kept=("report",)),
    Case("json-in-the-report-it-writes", _json_in_the_report_it_writes, says="(--out), which this command reads",
         kept=("report",)),
    Case("json-empty-path", _json_empty_path, says="empty path"),
    Case("raw-json-without-raw-corpus", _raw_json_without_raw_corpus, says="--raw-json needs --raw-corpus",
         outputs=("raw.json",)),
    # class 4: user-given sizes
    Case("random-pairs-1e9", _random_pairs_huge, says="--random-pairs is 1,000,000,000"),
    Case("k-1e9", _k_huge, says="--k is 1,000,000,000"),
    # class 5: bad input that used to be an internal error
    Case("acoustic-seed-minus-one", _acoustic_negative_seed, says="--seed"),
    Case("mirror-not-a-url", _mirror_not_a_url, says="notaurl"),
    Case("provenance-seed-minus-one", _provenance_negative_seed, says="--seed is -1"),
    Case("pairs-file-over-100000-pairs", _pairs_too_many, says="holds more than 100,000 pairs"),
    Case("pipe-header-promising-a-huge-matrix", _pipe_header_promising_a_huge_matrix,
         says="line 2 has 3 values, expected 3000000", stdin=b"60000 3000000\na 1 2 3\n"),
    Case("one-very-wide-row-within-the-memory-limit", _one_very_wide_row, code=0),
    Case("claims-nested-too-deep", _claims_nested_too_deep, says="nests its values too deeply", outputs=("report",)),
    Case("claims-toml-nested-too-deep", _claims_toml_nested_too_deep, says="nests its values too deeply",
         outputs=("report",)),
    Case("config-nested-too-deep", _config_nested_too_deep, says="nests its values too deeply", outputs=("run",)),
    Case("data-dir-is-a-file", _data_dir_is_a_file, says="exists but is not a folder"),
    # class 6: no partial output on failure
    Case("raw-corpus-missing-writes-no-json", _raw_corpus_missing_with_json, outputs=("o.json",)),
    # class 7: silent wrong answers
    Case("pairs-file-with-a-bom", _pairs_bom, code=0),
    Case("pairs-file-three-columns", _pairs_three_columns, says="3 columns"),
    Case("pairs-file-not-utf8", _pairs_not_utf8, says="not UTF-8"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path):
    argv = case.build(tmp_path)
    before = {p: digest(p) for p in sorted(tmp_path.rglob("*"))}
    before.update({tmp_path / k: digest(tmp_path / k) for k in case.kept})
    done = run_audit(*argv, cwd=tmp_path, stdin=case.stdin)
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == case.code, (done.returncode, stderr[-3000:])
    assert "Traceback" not in stderr
    if case.code == 2:
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("audit: "), stderr
        assert case.says in lines[0], lines[0]
    for path, value in before.items():
        assert digest(path) == value, f"{path.name} changed"
    for name in case.outputs:
        assert not (tmp_path / name).exists(), f"{name} was written"
    leftovers = [p.name for p in tmp_path.rglob("*.part")]
    assert not leftovers, leftovers
