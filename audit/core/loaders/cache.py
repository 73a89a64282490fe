"""The binary cache (``cache_dir``): a parsed file kept as a ``.npy`` matrix (read back
memory-mapped), its words and its row norms, so a repeat load does no parsing at all.

The key covers everything that changes the parse: the file (its resolved path, size,
modification and change times in nanoseconds, inode and device, so a repeat load need not read
it; the change time because a user can set the modification time back after an edit, as
``touch -r`` does, but not the change time) and
the options ``format``, ``limit`` and ``unicode_errors``. The policies applied after parsing
(``case``, ``duplicates``, ``nonfinite``) are applied again to the cached parse. The file's
sha256, computed when the entry was written, is stored with it. Entries are written atomically
(``.part`` names, renamed last); one that does not read back whole is ignored and rewritten.

An entry also records its *slot*: the file's path and the options, without the file's times.
Writing an entry removes the older entries of its slot (the same file read the same way before
it changed, which no load can hit again), so a file edited often leaves one entry, not one per
version. Only the four files of such an entry are removed, and only in the cache's own
``vectors`` folder; entries written before slots were recorded are left alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from audit.core.errors import AuditError
from audit.core.files import temporary_file
from audit.core.loaders.text import TextResult

CACHE_VERSION = 3   # 3: the change time joined the key


def check_cache_dir(cache_dir) -> Path:
    folder = Path(cache_dir)
    if folder.exists() and not folder.is_dir():
        raise AuditError(f"{folder}: the cache folder given is a file, not a folder.")
    return folder


def cache_key(path: Path, info: os.stat_result, *, format: str | None, limit: int | None,
              unicode_errors: str) -> str:
    fields = {"version": CACHE_VERSION, "path": str(Path(path).resolve()), "size": info.st_size,
              "mtime_ns": info.st_mtime_ns, "ctime_ns": info.st_ctime_ns, "inode": info.st_ino,
              "device": info.st_dev, "format": format, "limit": limit, "unicode_errors": unicode_errors}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:40]


def cache_slot(path: Path, *, format: str | None, limit: int | None, unicode_errors: str) -> str:
    """What two entries of one file read the same way share, whatever its times."""
    fields = {"version": CACHE_VERSION, "path": str(Path(path).resolve()), "format": format, "limit": limit,
              "unicode_errors": unicode_errors}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:40]


def _paths(cache_dir, key: str):
    folder = Path(cache_dir) / "vectors"
    return folder, folder / f"{key}.npy", folder / f"{key}.norms.npy", folder / f"{key}.words", folder / f"{key}.json"


def cache_read(cache_dir, key: str):
    """``(TextResult, meta, norms)`` or None when there is no complete entry."""
    _, matrix_path, norms_path, words_path, meta_path = _paths(cache_dir, key)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        matrix = np.load(matrix_path, mmap_mode="r", allow_pickle=False)
        norms = np.load(norms_path, allow_pickle=False)
        words = words_path.read_bytes().decode("utf-8").split("\n")
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if (matrix.ndim != 2 or matrix.dtype != np.float32 or len(words) != matrix.shape[0]
            or norms.shape != (len(words),) or meta.get("words") != len(words)):
        return None
    result = TextResult(words=words, matrix=matrix, header_words=meta.get("header_words"),
                        words_with_spaces=meta.get("words_with_spaces", 0),
                        undecodable=meta.get("undecodable", 0))
    return result, meta, norms


def cache_write(cache_dir, key: str, parsed: TextResult, norms: np.ndarray, meta: dict) -> None:
    """Store a parse (skipped, silently, when a word holds a newline: the word list could not
    be read back). Each file goes to a hidden temporary name of this write's own (two processes
    writing one entry at once each rename complete files into place) and is renamed last; a write
    that fails (a full disk, a read-only folder) or is interrupted leaves nothing, and only warns:
    the parse is right without its copy."""
    if any("\n" in w for w in parsed.words):
        return
    folder, matrix_path, norms_path, words_path, meta_path = _paths(cache_dir, key)
    parts: dict[Path, Path] = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for target in (matrix_path, norms_path, words_path, meta_path):
            handle, parts[target] = temporary_file(target)
            os.close(handle)
        with open(parts[matrix_path], "wb") as handle:
            np.save(handle, np.ascontiguousarray(parsed.matrix, dtype=np.float32))
        with open(parts[norms_path], "wb") as handle:
            np.save(handle, np.asarray(norms, dtype=np.float64))
        parts[words_path].write_bytes("\n".join(parsed.words).encode("utf-8"))
        parts[meta_path].write_text(json.dumps(meta), encoding="utf-8")
        meta_path.unlink(missing_ok=True)   # the entry is incomplete until its meta comes back last
        for target in (matrix_path, norms_path, words_path, meta_path):
            os.replace(parts.pop(target), target)
    except OSError as exc:
        logging.getLogger(__name__).warning("warning: could not write the cache in %s (%s); the results are right "
                                            "without it.", folder, exc.strerror or exc)
        return
    finally:
        for leftover in parts.values():   # after a failure or an interrupt: this write's own files only
            try:
                leftover.unlink(missing_ok=True)
            except OSError:
                pass
    if meta.get("slot"):
        _remove_stale(cache_dir, key, meta["slot"])


def _remove_stale(cache_dir, key: str, slot: str) -> None:
    """Remove the other entries of ``slot`` (earlier versions of the same file). A reader that
    has one open keeps its data (an unlinked file lives on while mapped); one that opens it later
    finds no entry and parses."""
    folder = _paths(cache_dir, key)[0]
    for meta_path in folder.glob("*.json"):
        other = meta_path.name[:-len(".json")]
        if other == key or len(other) != len(key) or not all(c in "0123456789abcdef" for c in other):
            continue
        try:
            if json.loads(meta_path.read_text(encoding="utf-8")).get("slot") != slot:
                continue
        except (OSError, ValueError, UnicodeDecodeError, AttributeError):
            continue
        for path in (meta_path, *_paths(cache_dir, other)[1:4]):   # the meta first: the entry is gone
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
