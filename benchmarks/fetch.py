"""Downloading the benchmark files into the data dir, and saying what is there.

``fetch_benchmarks`` writes to DATA_DIR/word-sim through :func:`audit.core.datadir.download`
(``.part`` file, sha256 checked, then renamed), so a bad checksum leaves nothing behind.
``benchmark_status`` reports, per benchmark, where its file is and whether it verifies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from audit.core.datadir import data_dir as resolve_data_dir
from audit.core.datadir import download, sha256_file
from audit.core.errors import AuditError
from benchmarks.datasets import SUBFOLDER, candidate_dirs
from benchmarks.registry import REGISTRY, BenchmarkSpec


@dataclass(frozen=True)
class FileStatus:
    name: str
    file: str
    status: str          # "verified", "checksum mismatch" or "missing"
    path: str            # where it was found, or where `fetch` would put it


@dataclass(frozen=True)
class FetchOutcome:
    name: str
    path: str
    action: str          # "downloaded" or "already present"


def benchmark_status(data_dir: str | os.PathLike | None = None) -> list[FileStatus]:
    """Per registered benchmark: found in DIR or DIR/word-sim, and verified against its sha256."""
    statuses = []
    for spec in REGISTRY.specs():
        found = next((folder / spec.file for folder in candidate_dirs(data_dir)
                      if (folder / spec.file).is_file()), None)
        if found is None:
            statuses.append(FileStatus(spec.name, spec.file, "missing", str(_destination(spec, data_dir))))
        else:
            ok = sha256_file(found) == spec.sha256
            statuses.append(FileStatus(spec.name, spec.file, "verified" if ok else "checksum mismatch", str(found)))
    return statuses


def fetch_benchmarks(data_dir: str | os.PathLike | None = None, *, only: str | Iterable[str] | None = None,
                     mirror: str | None = None, force: bool = False,
                     on_file: Callable[[FetchOutcome], None] | None = None) -> list[FetchOutcome]:
    """Download the selected benchmarks into DATA_DIR/word-sim, verifying each sha256.

    ``mirror`` replaces the canonical folder URL (files are fetched as MIRROR/FILE). A file
    already there is kept unless ``force``: with the right checksum as "already present", with
    another (the user's edited or own copy: a download never leaves a wrong one) as "kept, differs
    from the registered file". Every file is tried; if any fails, one error names them all after
    the others are in place.
    """
    base = resolve_data_dir(data_dir)
    made = [folder for folder in (base / SUBFOLDER, *(base / SUBFOLDER).parents) if not os.path.lexists(folder)]
    try:
        outcomes, failures = _fetch_each(data_dir, only, mirror, force, on_file)
    except BaseException:           # an interrupt: the folders made for nothing go too
        _remove_empty(made)
        raise
    if failures:
        _remove_empty(made)
        raise AuditError(f"{len(failures)} of {len(failures) + len(outcomes)} benchmark files could not be "
                         f"fetched: {'; '.join(failures)}.")
    return outcomes


def _remove_empty(folders) -> None:
    """The folders a fetch made, deepest first, where they are still empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _fetch_each(data_dir, only, mirror, force, on_file):
    outcomes, failures = [], []
    for spec in REGISTRY.select(only):
        destination = _destination(spec, data_dir)
        present = not force and (destination.is_file() or os.path.islink(destination))
        if present and destination.is_file() and sha256_file(destination) == spec.sha256:
            outcome = FetchOutcome(spec.name, str(destination), "already present")
        elif present:
            outcome = FetchOutcome(spec.name, str(destination), "kept, differs from the registered file "
                                                                "(--force replaces it)")
        else:
            url = mirror.rstrip("/") + "/" + spec.file if mirror else spec.url
            try:
                download(url, destination, sha256=spec.sha256)
            except AuditError as exc:
                failures.append(f"{spec.file} ({str(exc).rstrip('.')})")
                continue
            outcome = FetchOutcome(spec.name, str(destination), "downloaded")
        outcomes.append(outcome)
        if on_file:
            on_file(outcome)
    return outcomes, failures


def _destination(spec: BenchmarkSpec, data_dir) -> Path:
    return resolve_data_dir(data_dir) / SUBFOLDER / spec.file
