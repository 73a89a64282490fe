"""What a paper or a release claims about an embedding, read from a JSON or TOML file.

The reality check's argument is always "claimed X, found Y". A claims file states the X for
each embedding of an audit, by the display name the audit gives it::

    # claims.toml
    [[embedding]]
    name = "released"                 # the audit's display name (--names)
    kind = "speech"                   # speech | text
    corpus = "librispeech"
    subsets = ["train-clean-100", "train-clean-360"]
    min_count = 5
    dim = 50
    benchmarks = "speech2vec-paper"   # a named set of claimed scores, or a table:
    # benchmarks = { MEN = 0.62, "SimLex-999" = 0.28 }
    source = "Chung and Glass (2018), Speech2Vec, section 4"

JSON holds the same as ``{"embedding": [{...}, ...]}``. Every field but ``name`` may be left out
(nothing is claimed about it). Unknown fields are refused with a suggestion, so a misspelt
claim is never silently ignored. A named benchmark set is resolved by the benchmarks package
(this module only records the name).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any, Mapping

from audit.core.errors import AuditError

KINDS = ("speech", "text")
FIELDS = ("name", "kind", "corpus", "subsets", "min_count", "dim", "benchmarks", "source")
MAX_CLAIMS_BYTES = 4 * 2**20


@dataclass(frozen=True)
class Claim:
    """The claims about one embedding; ``None`` = not claimed."""

    name: str
    kind: str | None = None
    corpus: str | None = None
    subsets: tuple[str, ...] | None = None
    min_count: int | None = None
    dim: int | None = None
    benchmark_set: str | None = None                  # a named set of claimed scores
    benchmark_scores: dict[str, float] = field(default_factory=dict)   # benchmark name -> claimed rho
    source: str = ""


@dataclass(frozen=True)
class ClaimsFile:
    path: str
    sha256: str
    claims: tuple[Claim, ...]

    def for_name(self, name: str) -> Claim | None:
        return next((c for c in self.claims if c.name == name), None)


def load_claims(path: str | os.PathLike) -> ClaimsFile:
    """Read and validate a claims file (``.toml``, else JSON)."""
    path = Path(path)
    try:
        if not path.is_file():
            raise AuditError(f"the claims file {path} is not a file.")
        if path.stat().st_size > MAX_CLAIMS_BYTES:
            raise AuditError(f"the claims file {path} is larger than {MAX_CLAIMS_BYTES // 2**20} MB.")
        raw = path.read_bytes()
    except OSError as exc:
        raise AuditError(f"cannot read the claims file {path} ({exc.strerror}).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AuditError(f"the claims file {path} is not UTF-8 text.") from None
    data = _parse(path, text)
    entries = data.get("embedding") if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise AuditError(f"the claims file {path} has no [[embedding]] entries "
                         f"(JSON: {{\"embedding\": [{{\"name\": ...}}]}}).")
    claims = tuple(_claim(path, number, entry) for number, entry in enumerate(entries, start=1))
    names = [c.name for c in claims]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise AuditError(f"the claims file {path} names {repeated[0]!r} twice.")
    return ClaimsFile(path=str(path), sha256=hashlib.sha256(raw).hexdigest(), claims=claims)


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".toml":
        try:
            import tomllib
        except ImportError:   # Python 3.10
            raise AuditError("TOML claims files need Python 3.11 or newer; write the claims as JSON.") from None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise AuditError(f"the claims file {path} is not valid TOML ({exc}).") from None
        except RecursionError:   # 'x = [[[[...' 50,000 deep: the parser recurses per level
            raise AuditError(f"the claims file {path} nests its values too deeply to be read.") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise AuditError(f"the claims file {path} nests its values too deeply to be read.") from None
    except ValueError as exc:
        raise AuditError(f"the claims file {path} is not valid JSON ({exc}); "
                         f"TOML files need the .toml suffix.") from None


def _claim(path: Path, number: int, entry: Any) -> Claim:
    where = f"{path}, embedding {number}"
    if not isinstance(entry, Mapping):
        raise AuditError(f"{where}: expected a table of claims.")
    for key in entry:
        if key not in FIELDS:
            hint = get_close_matches(str(key), FIELDS, n=1)
            raise AuditError(f"{where}: unknown field {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else
                                                                   f"; the fields are {', '.join(FIELDS)}."))
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise AuditError(f"{where}: 'name' (the audit's display name of the embedding) is required.")
    kind = _optional(entry, "kind", str, where)
    if kind is not None and kind not in KINDS:
        raise AuditError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    subsets = entry.get("subsets")
    if subsets is not None:
        if not isinstance(subsets, list) or not subsets or not all(isinstance(s, str) and s for s in subsets):
            raise AuditError(f"{where}: subsets must be a non-empty list of subset names.")
        subsets = tuple(subsets)
    min_count = _optional(entry, "min_count", int, where)
    dim = _optional(entry, "dim", int, where)
    for label, value in (("min_count", min_count), ("dim", dim)):
        if value is not None and value < 1:
            raise AuditError(f"{where}: {label} must be at least 1.")
    benchmark_set, scores = None, {}
    benchmarks = entry.get("benchmarks")
    if isinstance(benchmarks, str):
        benchmark_set = benchmarks
    elif isinstance(benchmarks, Mapping):
        for benchmark, value in benchmarks.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or not -1 <= value <= 1:
                raise AuditError(f"{where}: the claimed score of {benchmark} must be a number in [-1, 1].")
            scores[str(benchmark)] = float(value)
    elif benchmarks is not None:
        raise AuditError(f"{where}: benchmarks must be the name of a claimed set or a table of scores.")
    return Claim(name=name, kind=kind, corpus=_optional(entry, "corpus", str, where), subsets=subsets,
                 min_count=min_count, dim=dim, benchmark_set=benchmark_set, benchmark_scores=scores,
                 source=_optional(entry, "source", str, where) or "")


def _optional(entry: Mapping, key: str, kind: type, where: str):
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise AuditError(f"{where}: {key} must be a {'whole number' if kind is int else 'text'}, not {value!r}.")
    return value
