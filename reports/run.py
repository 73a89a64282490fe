"""The manifest of one `audit all` run, and reading a results folder back.

``results/run.json`` (kind ``audit-run``) lists the audited embeddings in the order given on the
command line, the result file written for each check, and each check that was skipped with its
reason. A folder without a manifest (result files copied together by hand) is grouped by the
``input.name`` each result records, in file-name order.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from audit.core.errors import AuditError
from audit.core.results import Result, result_type

MANIFEST_NAME = "run.json"


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


@dataclass
class EmbeddingResults:
    """Everything the report knows about one embedding: result dicts keyed by kind."""

    name: str
    results: dict[str, dict] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    path: str = ""


@dataclass
class ReportData:
    title: str
    embeddings: list[EmbeddingResults]
    options: dict[str, str] = field(default_factory=dict)
    date: str = ""

    def having(self, kind: str) -> list[EmbeddingResults]:
        return [e for e in self.embeddings if kind in e.results]


def read_results_dir(directory: str | os.PathLike) -> ReportData:
    """Read ``DIR/results/*.json`` (or ``DIR`` itself when it holds the JSON files)."""
    directory = Path(directory)
    results_dir = directory / "results" if (directory / "results").is_dir() else directory
    if not results_dir.is_dir():
        raise AuditError(f"{directory} is not a folder of audit results.")
    manifest_path = results_dir / MANIFEST_NAME
    if manifest_path.exists():
        return _from_manifest(results_dir, _read_json(manifest_path))
    files = sorted(p for p in results_dir.glob("*.json") if not p.name.startswith("."))
    if not files:
        raise AuditError(f"{results_dir} holds no result JSON files.")
    return from_dicts([_read_json(p) for p in files])


def from_dicts(dicts: Sequence[Mapping[str, Any]], title: str = "Embedding audit") -> ReportData:
    """Group loose result dicts by the embedding each one records."""
    manifests = [d for d in dicts if d.get("kind") == AuditRun.kind]
    if manifests:
        raise AuditError("pass the results folder, not its manifest, to render a run.")
    embeddings: dict[str, EmbeddingResults] = {}
    for data in dicts:
        kind = data.get("kind")
        if not kind:
            raise AuditError("a result without a 'kind' field cannot be rendered.")
        name = embedding_name(data)
        entry = embeddings.setdefault(name, EmbeddingResults(name=name))
        entry.results[kind] = dict(data)
    return ReportData(title=title, embeddings=list(embeddings.values()))


def embedding_name(data: Mapping[str, Any]) -> str:
    source = data.get("input") or {}
    if isinstance(source, Mapping):
        return str(source.get("name") or source.get("path") or "embedding")
    return str(data.get("name") or "embedding")


def _from_manifest(results_dir: Path, manifest: Mapping[str, Any]) -> ReportData:
    run = AuditRun.from_dict(manifest)
    embeddings = []
    for entry in run.embeddings:
        results = {kind: _read_json(results_dir / file) for kind, file in entry.results.items()}
        embeddings.append(EmbeddingResults(name=entry.name, results=results, skipped=dict(entry.skipped),
                                           path=entry.path))
    return ReportData(title=run.title, embeddings=embeddings, options=dict(run.options), date=run.date)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise AuditError(f"{path} is not a readable result JSON file.") from None
    if not isinstance(data, dict):
        raise AuditError(f"{path} does not hold a result object.")
    return data
