"""Typed result objects that round-trip through JSON.

Every check returns a frozen dataclass that subclasses :class:`Result` and is registered under
a ``kind`` with :func:`result_type`. ``to_dict()`` adds ``kind``, ``schema_version`` and
``tool_version``; ``Result.from_dict`` / :func:`load_result` rebuild the object from those
dicts, decoding nested dataclasses, lists, tuples, dicts and optionals from the type hints.
NaN and infinities are written as ``null`` (JSON has no NaN) and read back as NaN for float
fields, so "no value" is never confused with 0.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import types
import typing
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from audit.core.errors import AuditError
from audit.core.files import atomic_write_json, read_json

SCHEMA_VERSION = 1
__version__ = "0.1.0"   # the package version (audit.__version__ is this one)
_REGISTRY: dict[str, type] = {}


def tool_version() -> str:
    return __version__


def today() -> str:
    return _dt.date.today().isoformat()


def result_type(kind: str):
    """Class decorator: register a Result dataclass under ``kind``."""
    def register(cls):
        if kind in _REGISTRY and _REGISTRY[kind] is not cls:
            raise TypeError(f"result kind {kind!r} registered twice")
        cls.kind = kind
        _REGISTRY[kind] = cls
        return cls
    return register


@dataclasses.dataclass(frozen=True)
class InputInfo:
    """What a check read: enough to tell whether a later file is the same one."""

    path: str
    sha256: str
    format: str
    words: int
    dim: int
    name: str = ""

    @classmethod
    def of(cls, vectors, name: str = "") -> "InputInfo":
        src = vectors.source
        return cls(path=src.path, sha256=src.sha256, format=src.format, words=len(vectors),
                   dim=vectors.dim, name=name or getattr(src, "name", "")
                   or (Path(src.path).name if src.path else "in-memory"))


class Result:
    """Mixin for result dataclasses."""

    kind: typing.ClassVar[str] = ""

    def to_dict(self) -> dict:
        body = _encode(self)
        return {"kind": self.kind, "schema_version": SCHEMA_VERSION, "tool_version": tool_version(), **body}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]):
        if cls.kind and data.get("kind") != cls.kind:
            raise AuditError(f"expected a {cls.kind!r} result, got {data.get('kind')!r}.")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise AuditError(f"result schema version {version} is not supported (this tool reads {SCHEMA_VERSION}).")
        return _decode(cls, {k: v for k, v in data.items() if k not in ("kind", "schema_version", "tool_version")})

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))


def load_result(source: str | os.PathLike | Mapping[str, Any]) -> Result:
    """Rebuild a registered result from a dict or a JSON file path."""
    if isinstance(source, Mapping):
        data = source
    else:
        data = read_json(source, what="result file")
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in _REGISTRY:
        raise AuditError(f"unknown result kind {kind!r}.")
    return _REGISTRY[kind].from_dict(data)


def registered_kinds() -> dict[str, type]:
    return dict(_REGISTRY)


def write_json_atomic(path: str | os.PathLike, data: Result | Mapping[str, Any], *,
                      inputs=(), folders=(), what: str = "output") -> Path:
    """Write a result (or a JSON-shaped mapping) with :func:`audit.core.files.atomic_write_json`."""
    payload = data.to_dict() if isinstance(data, Result) else _encode(data)
    return atomic_write_json(path, payload, inputs=inputs, folders=folders, what=what)


# ------------------------------------------------------------------------------- encoding
def text_of(value: str) -> str:
    """``value`` as text that can be written as UTF-8: a file name's undecodable bytes (Python keeps
    them as lone surrogates, '\udcff') become '\\xff' (they made every JSON write and figure fail)."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        try:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:     # a surrogate no file name's byte maps to
            return value.encode("utf-8", "backslashreplace").decode("utf-8")


_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(value: str) -> str:
    """``value`` as one line a reader can tell apart from others: control characters (C0, DEL, C1)
    written as escapes ('\\n', '\\x07'), a file name's undecodable bytes as '\\xff' (a name with
    a newline broke the terminal table and read as a space in the report, like another name with a
    space). Other characters stay: a joiner inside a word of another script is part of the word."""
    value = text_of(value)
    if not any(ord(ch) < 0x20 or 0x7f <= ord(ch) < 0xa0 for ch in value):
        return value
    return "".join(_CONTROL_ESCAPES.get(ch, f"\\x{ord(ch):02x}") if ord(ch) < 0x20 or 0x7f <= ord(ch) < 0xa0
                   else ch for ch in value)


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not f.name.startswith("_")}
    if isinstance(value, Mapping):
        return {text_of(str(k)): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_encode(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None:
        return value
    if isinstance(value, str):
        return text_of(value)
    if isinstance(value, Path):
        return text_of(str(value))
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


_JSON_KINDS = {bool: lambda v: isinstance(v, bool),
               int: lambda v: isinstance(v, int) and not isinstance(v, bool),
               float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
               str: lambda v: isinstance(v, str)}


def _decode(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None:
            if type(None) in args:
                # Optional[float] may hold NaN written as null; keep None for Optional.
                return None
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1:
            return _decode(non_none[0], value)
        # The member of the JSON value's own kind first (``float | bool | str`` reads true as True,
        # not 1.0, and "x" as "x", not True), then any member that takes it.
        for candidate in non_none:
            if candidate in _JSON_KINDS and _JSON_KINDS[candidate](value):
                return _decode(candidate, value)
        for candidate in non_none:
            try:
                return _decode(candidate, value)
            except (TypeError, ValueError, AuditError):
                continue
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object for {tp.__name__}")
        hints = typing.get_type_hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name.startswith("_") or not f.init:
                continue
            if f.name in value:
                kwargs[f.name] = _decode(hints[f.name], value[f.name])
        return tp(**kwargs)
    if origin in (list, typing.List, typing.Sequence) or tp in (list,):
        inner = args[0] if args else Any
        return [_decode(inner, v) for v in value]
    if origin in (tuple, typing.Tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        if args:
            return tuple(_decode(a, v) for a, v in zip(args, value))
        return tuple(value)
    if origin in (dict, typing.Dict, Mapping) or tp is dict:
        key_t, val_t = (args + (Any, Any))[:2] if args else (Any, Any)
        return {k: _decode(val_t, v) for k, v in value.items()}
    if tp is float:
        return math.nan if value is None else float(value)
    if tp is int:
        return int(value)
    if tp is bool:
        return bool(value)
    if tp is str:
        return str(value)
    return value
