"""The manifest of one `audit all` run, and reading result files back as typed, validated objects.

``results/run.json`` (kind ``audit-run``) lists the audited embeddings in the order given on the
command line, the result file written for each check, and each check that was skipped with its
reason. A folder without a manifest (result files copied together by hand) is grouped by the
``input.name`` each result records, in file-name order.

Every file is checked as it is read: a known ``kind``, this tool's ``schema_version``, every
required field present with a value of its declared type; the result files a manifest names must
be plain file names inside its own folder. Anything else is one sentence (:class:`AuditError`).
Result types register themselves when their check module is imported (``audit.core.results``);
the CLI and :mod:`audit.pipeline` import them all.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import json
import math
import os
import stat
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from audit.core.claims import Claim
from audit.core.errors import AuditError
from audit.core.results import SCHEMA_VERSION, Result, registered_kinds, result_type
from reports.fields import figure_names

MANIFEST_NAME = "run.json"
FINDINGS_FILE = "findings.json"     # the run's findings (kind findings), computed after every check
REPORT_FILES = ("index.html", "report.md")
# Result files are read up to this size, checked before reading. The largest a demo run writes is
# 156 KB (a homophones result: about 315 bytes per pair row); the largest a real run can write is a
# homophones result of a 100,000-pair file (homophones.pairs.MAX_PAIRS), about 32 MB. Parsing takes
# up to ~28 times a file's size (64 MB of '[{},{},...' took 1.8 GB), so the cap is not set higher.
MAX_RESULT_BYTES = 64 * 2**20


@dataclass(frozen=True)
class RunEntry:
    name: str
    path: str
    sha256: str
    results: dict[str, str] = field(default_factory=dict)   # kind -> file name under results/
    skipped: dict[str, str] = field(default_factory=dict)   # kind -> why it did not run


@result_type("audit-run")
@dataclass(frozen=True)
class AuditRun(Result):
    title: str
    embeddings: list[RunEntry]
    options: dict[str, str]
    date: str
    findings: str = ""                                        # file name under results/ ("" = none)
    claims: dict[str, Claim] = field(default_factory=dict)    # embedding name -> its claims (--claims)
    claims_file: str = ""
    claims_sha256: str = ""


@dataclass
class EmbeddingResults:
    """Everything the report knows about one embedding: typed results keyed by kind."""

    name: str
    results: dict[str, Result] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    path: str = ""


@dataclass
class ReportData:
    title: str
    embeddings: list[EmbeddingResults]
    options: dict[str, str] = field(default_factory=dict)
    date: str = ""
    findings: Result | None = None                            # kind findings, when the run computed them
    claims: dict[str, Claim] = field(default_factory=dict)

    def having(self, kind: str) -> list[EmbeddingResults]:
        return [e for e in self.embeddings if kind in e.results]


# ------------------------------------------------------------------------------ reading a folder
def results_folder(directory: str | os.PathLike) -> Path:
    directory = Path(directory)
    results_dir = directory / "results" if (directory / "results").is_dir() else directory
    if not results_dir.is_dir():
        raise AuditError(f"{directory} is not a folder of audit results.")
    return results_dir


def read_results_dir(directory: str | os.PathLike) -> ReportData:
    """Read ``DIR/results/*.json`` (or ``DIR`` itself when it holds the JSON files)."""
    results_dir = results_folder(directory)
    manifest_path = results_dir / MANIFEST_NAME
    if manifest_path.exists():
        return _from_manifest(results_dir, read_manifest(manifest_path))
    files = sorted(p for p in results_dir.glob("*.json") if not p.name.startswith("."))
    if not files:
        raise AuditError(f"{results_dir} holds no result JSON files.")
    return from_results([read_result(p) for p in files])


def read_manifest(path: str | os.PathLike) -> AuditRun:
    """A run.json, validated, whose result files are plain names inside its folder."""
    path = Path(path)
    run = read_result(path, kind=AuditRun.kind)
    for entry in run.embeddings:
        for kind, file in entry.results.items():
            if not _plain_file_name(file) or not (path.parent / file).resolve().is_relative_to(path.parent.resolve()):
                raise AuditError(f"{path} names the result file {file!r}, which is not inside its folder.")
    if run.findings and (not _plain_file_name(run.findings)
                         or not (path.parent / run.findings).resolve().is_relative_to(path.parent.resolve())):
        raise AuditError(f"{path} names the findings file {run.findings!r}, which is not inside its folder.")
    return run


def _plain_file_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and "\0" not in name


def report_files(directory: str | os.PathLike) -> set[str]:
    """The files (relative paths) that the report in ``directory`` wrote, read off its run.json."""
    directory = Path(directory)
    run = read_manifest(directory / "results" / MANIFEST_NAME)
    files = {*REPORT_FILES, f"results/{MANIFEST_NAME}"}
    files |= {f"results/{file}" for entry in run.embeddings for file in entry.results.values()}
    if run.findings:
        files.add(f"results/{run.findings}")
    files |= {f"figures/{name}.svg" for name in figure_names([entry.name for entry in run.embeddings])}
    return files


def from_results(results: Sequence[Result | Mapping[str, Any]], title: str = "Embedding audit") -> ReportData:
    """Group loose results (typed, or result dicts) by the embedding each one records."""
    typed = [r if isinstance(r, Result) else validate_result(r, "a result") for r in results]
    if any(r.kind == AuditRun.kind for r in typed):
        raise AuditError("pass the results folder, not its manifest, to render a run.")
    embeddings: dict[str, EmbeddingResults] = {}
    found = [r for r in typed if r.kind == "findings"]     # the run's findings belong to no one embedding
    typed = [r for r in typed if r.kind != "findings"]
    for result in typed:
        name = embedding_name(result)
        entry = embeddings.setdefault(name, EmbeddingResults(name=name))
        entry.results[result.kind] = result
    return ReportData(title=title, embeddings=list(embeddings.values()), findings=found[0] if found else None)


def embedding_name(result: Result) -> str:
    source = getattr(result, "input", None)
    if source is not None:
        return str(source.name or source.path or "embedding")
    return str(getattr(result, "name", "") or "embedding")


def _from_manifest(results_dir: Path, run: AuditRun) -> ReportData:
    embeddings = []
    for entry in run.embeddings:
        results = {kind: read_result(results_dir / file, kind=kind) for kind, file in entry.results.items()}
        embeddings.append(EmbeddingResults(name=entry.name, results=results, skipped=dict(entry.skipped),
                                           path=entry.path))
    findings = read_result(results_dir / run.findings, kind="findings") if run.findings else None
    return ReportData(title=run.title, embeddings=embeddings, options=dict(run.options), date=run.date,
                      findings=findings, claims=dict(run.claims))


# ------------------------------------------------------------------------------ one result file
def read_result(path: str | os.PathLike, kind: str | None = None) -> Result:
    """The typed result in the JSON file ``path``, validated; ``kind``: the kind it must be."""
    data = _read_result_json(path)
    if not isinstance(data, dict):
        raise AuditError(f"the result file {path} does not hold a JSON object.")
    if kind is not None and data.get("kind") != kind:
        raise AuditError(f"the result file {path} holds a {data.get('kind')!r} result, not {kind!r}.")
    return validate_result(data, f"the result file {path}")


def _read_result_json(path: str | os.PathLike) -> Any:
    """The parsed JSON of a result file: a regular file (not a FIFO, which would block, or a link to
    a device such as /dev/zero, which never ends) of at most :data:`MAX_RESULT_BYTES`, both checked
    on the opened file before its bytes are read."""
    what = "the result file"
    try:
        if os.path.isdir(path):
            raise AuditError(f"{what} {path} is a directory, not a file.")
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise AuditError(f"{what} {path} is not a regular file, so it is not a result file.")
            if info.st_size > MAX_RESULT_BYTES:
                raise AuditError(f"{what} {path} is {_size(info.st_size)}; result files are read up to "
                                 f"{MAX_RESULT_BYTES // 2**20} MB.")
            raw = handle.read(MAX_RESULT_BYTES + 1)
    except FileNotFoundError:
        raise AuditError(f"{what} {path} does not exist.") from None
    except OSError as exc:
        raise AuditError(f"cannot read {what} {path} ({exc.strerror}).") from None
    if len(raw) > MAX_RESULT_BYTES:   # it grew after its size was checked
        raise AuditError(f"{what} {path} is larger than {MAX_RESULT_BYTES // 2**20} MB; result files are read up to "
                         f"{MAX_RESULT_BYTES // 2**20} MB.")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise AuditError(f"{what} {path} is not valid UTF-8 JSON.") from None
    except RecursionError:   # '[[[[...' 100,000 deep: Python's parser recurses per level
        raise AuditError(f"{what} {path} nests its values too deeply to be read.") from None


def _size(size: int) -> str:
    if size < 2**20:
        return f"{size:,} bytes"
    return f"{size / 2**20:,.1f} MB" if size < 2**30 else f"{size / 2**30:,.1f} GB"


def validate_result(data: Mapping[str, Any], source: str) -> Result:
    """Check kind, schema version, required fields and field types; then decode."""
    kind = data.get("kind")
    kinds = registered_kinds()
    if not isinstance(kind, str) or kind not in kinds:
        raise AuditError(f"{source} has the unknown result kind {kind!r}.")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise AuditError(f"{source} has schema version {version!r}; this tool reads version {SCHEMA_VERSION}.")
    problem = _type_problem(kinds[kind], {k: v for k, v in data.items() if k not in ("kind", "schema_version")},
                            "")
    if problem:
        raise AuditError(f"{source} is not a valid {kind!r} result: {problem}.")
    try:
        return kinds[kind].from_dict(data)
    except (TypeError, ValueError, KeyError, AttributeError, AuditError):
        raise AuditError(f"{source} is not a valid {kind!r} result.") from None


_JSON_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "true or false", int: "a number",
               float: "a number", type(None): "null"}


def _type_problem(tp: Any, value: Any, where: str) -> str | None:
    """Why ``value`` (parsed JSON) does not fit the type hint ``tp``, or None when it does."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any or tp is object:
        return None
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        problems = [_type_problem(a, value, where) for a in args if a is not type(None)]
        return None if any(p is None for p in problems) else problems[0]
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            return _wrong(where, "an object", value)
        for name, hint, required in _fields(tp):
            inner = f"{where}.{name}" if where else name
            if name not in value:
                if required:
                    return f"the required field {inner} is missing"
                continue
            problem = _type_problem(hint, value[name], inner)
            if problem:
                return problem
        return None
    if origin in (list, tuple, collections.abc.Sequence) or tp in (list, tuple):
        if not isinstance(value, list):
            return _wrong(where, "a list", value)
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                return f"{where} should have {len(args)} items, not {len(value)}"
            items = list(zip(args, value))
        else:
            items = [(args[0] if args else Any, item) for item in value]
        for index, (inner, item) in enumerate(items):
            problem = _type_problem(inner, item, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if origin in (dict, collections.abc.Mapping) or tp is dict:
        if not isinstance(value, Mapping):
            return _wrong(where, "an object", value)
        inner = args[1] if len(args) == 2 else Any
        for key, item in value.items():
            problem = _type_problem(inner, item, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    if tp is float:   # JSON writes NaN and infinities as null
        ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        return None if ok else _wrong(where, "a number", value)
    if tp is int:
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and math.isfinite(value) and value.is_integer())
        return None if ok else _wrong(where, "a whole number", value)
    if tp is bool:
        return None if isinstance(value, bool) else _wrong(where, "true or false", value)
    if tp is str:
        return None if isinstance(value, str) else _wrong(where, "a string", value)
    return None


@functools.lru_cache(maxsize=None)
def _fields(tp: type) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type hint, required) of a dataclass's decoded fields (type hints are slow to evaluate)."""
    hints = typing.get_type_hints(tp)
    return tuple((f.name, hints[f.name], f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
                 for f in dataclasses.fields(tp) if not f.name.startswith("_") and f.init)


def _wrong(where: str, expected: str, value: Any) -> str:
    found = next((name for t, name in _JSON_NAMES.items() if type(value) is t), type(value).__name__)
    return f"{where or 'the document'} should be {expected}, not {found}"
