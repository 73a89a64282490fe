"""Reading values out of result dicts without recomputing anything."""

from __future__ import annotations

from typing import Any, Mapping, Sequence


def get(data: Any, path: str, default: Any = None) -> Any:
    """``get(d, "a.b.c")`` walks nested dicts; a missing step gives ``default``."""
    current = data
    for step in path.split("."):
        if isinstance(current, Mapping) and step in current:
            current = current[step]
        else:
            return default
    return current


def first(data: Any, paths: Sequence[str], default: Any = None) -> Any:
    """The value at the first of ``paths`` that exists (result shapes name things differently)."""
    for path in paths:
        value = get(data, path)
        if value is not None:
            return value
    return default


def number(value: Any) -> float | int | None:
    """A JSON number as-is; anything else (null, strings) is no number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    return None


def short_sha(sha256: Any) -> str:
    return str(sha256)[:12] if sha256 else "-"
