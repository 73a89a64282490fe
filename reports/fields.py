"""Small helpers the sections share: numbers as shown, short hashes, figure file names."""

from __future__ import annotations

import math
from typing import Any, Iterable

# Figures a report may draw: these names, and per embedding these prefixes with the embedding's slug.
FIGURES = ("homophone-similarity", "homophone-ranks", "benchmarks", "same-different-pr", "provenance-bands")
EMBEDDING_FIGURES = ("learning-curves", "instances-mds")


def number(value: Any) -> float | int | None:
    """A finite number as-is; anything else (None, NaN, infinities, strings, booleans) is no number.

    A result stores "no value" as NaN in a float field and as null in its JSON; both read as None here.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None


def short_sha(sha256: Any) -> str:
    return str(sha256)[:12] if sha256 else "-"


def slug(name: str) -> str:
    text = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")
    return text[:40] or "embedding"


def embedding_figure(prefix: str, name: str) -> str:
    """The file stem of a per-embedding figure (``prefix`` from :data:`EMBEDDING_FIGURES`)."""
    if prefix not in EMBEDDING_FIGURES:
        raise ValueError(f"unknown per-embedding figure {prefix!r}")
    return f"{prefix}-{slug(name)}"


def figure_names(embedding_names: Iterable[str]) -> set[str]:
    """Every figure file stem a report over these embeddings can write."""
    names = set(FIGURES)
    for name in embedding_names:
        names |= {embedding_figure(prefix, name) for prefix in EMBEDDING_FIGURES}
    return names


# The AWE history's wording, shared with the trainer's log lines (reproductions.awe.train).
def evaluated_tokens(split: str) -> str:
    """What the per-epoch AP is measured on, in words: the held-out speakers' tokens, or under
    ``--split none`` every token, the ones trained on (the history's field is ``held_out`` either way)."""
    return "the held-out speakers' tokens" if split == "speakers" else "all tokens, the training tokens (no split)"


def ap_label(split: str, variant: str) -> str:
    """A per-epoch AP's name: ``held-out SWDP AP``, or ``SWDP AP (all tokens, no split)``."""
    return f"held-out {variant} AP" if split == "speakers" else f"{variant} AP (all tokens, no split)"
