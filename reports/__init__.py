"""Render saved audit results as a Markdown report and one self-contained HTML page.

``render(source, fmt)`` takes a results folder (``DIR`` or ``DIR/results``), a
:class:`~reports.run.ReportData`, or a list of results (typed, or result dicts) and returns the
text; ``write_report(out_dir)`` re-renders ``out_dir/results`` into ``report.md``, ``index.html``
and ``figures/*.svg``, each written atomically. Sections read typed results, validated as they
are read (:mod:`reports.run`). Nothing is recomputed: every number shown is a field of a result
JSON, and the same JSON always gives the same bytes (figures are deterministic SVG, no
render-time dates). This package imports only :mod:`audit.core`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

from audit.core.errors import AuditError
from audit.core.files import atomic_write_text
from audit.core.results import Result
from reports.document import Figure, to_html, to_markdown
from reports.run import ReportData, from_results, read_results_dir
from reports.sections import all_sections

FORMATS = ("md", "html")


def build(source) -> tuple[str, list]:
    """(title, blocks) for a results folder, a ReportData, or a list of results (typed or dicts)."""
    if isinstance(source, ReportData):
        data = source
    elif isinstance(source, (str, os.PathLike)):
        data = read_results_dir(source)
    elif isinstance(source, Sequence) and all(isinstance(d, (Mapping, Result)) for d in source):
        data = from_results(list(source))
    else:
        raise AuditError("render() takes a results folder or a list of results.")
    return _title(data), all_sections(data)


def render(source, fmt: str = "md") -> str:
    if fmt not in FORMATS:
        raise AuditError(f"unknown report format {fmt!r}; use md or html.")
    title, blocks = build(source)
    return to_markdown(title, blocks) if fmt == "md" else to_html(title, blocks)


def render_files(source, formats: Sequence[str] = FORMATS) -> dict[str, str | bytes]:
    """Every output file of a report as relative path -> text, without writing anything."""
    title, blocks = build(source)
    files: dict[str, str] = {}
    if "md" in formats:
        files["report.md"] = to_markdown(title, blocks)
        for block in blocks:
            if isinstance(block, Figure):
                files[f"figures/{block.name}.svg"] = block.svg
    if "html" in formats:
        files["index.html"] = to_html(title, blocks)
    return files


def write_files(out_dir: str | os.PathLike, files: Mapping[str, str]) -> list[Path]:
    """Write each file atomically (beside its final name, then renamed into place)."""
    out_dir = Path(out_dir)
    written = []
    for relative, text in files.items():
        target = out_dir / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AuditError(f"cannot create the folder {target.parent} ({exc.strerror}).") from None
        written.append(atomic_write_text(target, text, what="the report file"))
    return written


def write_report(out_dir: str | os.PathLike, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Re-render ``out_dir/results`` into ``out_dir`` (report.md, index.html, figures/)."""
    files = render_files(out_dir, formats)
    return write_files(out_dir, files)


def _title(data) -> str:
    names = ", ".join(e.name for e in data.embeddings)
    return data.title if data.title and data.title != "Embedding audit" else f"Embedding audit: {names}"


__all__ = ["FORMATS", "build", "render", "render_files", "write_files", "write_report"]
