"""Fetch LibriSpeech transcripts only: stream the official archives, keep ``*.trans.txt``.

The archives (``https://www.openslr.org/resources/12/<subset>.tar.gz``, 0.3-30 GB each) are
read as a gzip stream and never stored; only the transcript members are written, to
``ROOT/LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt``.

Safety: any member that is a link or a device, has an absolute path or a ``..`` component
is refused: the whole subset is abandoned with an error and nothing of it is kept. A
transcript must sit at its LibriSpeech path; no written path can leave the target folder.

Resume: a subset is first written to a hidden staging folder and moved into place when the
whole archive has been read and verified; then a completion marker
(``<subset>/.transcripts-complete.json``) records the URL, bytes, md5 and transcript count.
A later run skips every subset with a marker and starts an interrupted subset again from its
beginning: a gzip stream cannot be resumed mid-way without keeping the archive, and keeping
it (30 GB for train-other-500) is what transcripts-only fetching avoids.

Verification: the bytes read must equal the server's Content-Length, the gzip and tar
streams must end properly, at least one transcript must be found, and the archive's md5
must equal OpenSLR's published ``md5sum.txt`` value (:data:`OFFICIAL_MD5`) unless the
caller turns that off (a mirror that repacks the archives, or a test server).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import http.client
import json
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from audit.corpora.librispeech import MAX_TRANSCRIPT_BYTES, SUBSETS, TRANSCRIPT_SUFFIX
from audit.core.errors import AuditError
from audit.core.files import atomic_write_json

OFFICIAL_BASE_URL = "https://www.openslr.org/resources/12/"
# OpenSLR resource 12's md5sum.txt, as quoted by Kaldi-derived LibriSpeech recipes; not
# recomputed here (no machine of this project reaches the internet).
OFFICIAL_MD5 = {
    "dev-clean": "42e2234ba48799c1f50f24a7926300a1",
    "dev-other": "c8d0bcc9cca99d4f8b62fcc847357931",
    "test-clean": "32fa31d27d2e1cad72775fee3f4849a9",
    "test-other": "fb5a50374b501bb3bac4815ee91d3135",
    "train-clean-100": "2a93770f6d5c6c964bc36631d331a522",
    "train-clean-360": "c0e676e450a7ff2f54aeade5171606fa",
    "train-other-500": "d1a0fd59409feb2c614ce4d30c387708",
}
MARKER = ".transcripts-complete.json"
CHUNK = 1 << 20


@dataclass(frozen=True)
class SubsetFetch:
    """What happened to one subset: ``fetched`` or ``skipped`` (a completion marker was there)."""

    subset: str
    action: str
    url: str
    transcripts: int
    archive_bytes: int
    md5: str
    md5_verified: bool
    path: Path


def fetch_transcripts(root: str | os.PathLike, subsets: Sequence[str], *, base_url: str = OFFICIAL_BASE_URL,
                      expected_md5: Mapping[str, str] | None = OFFICIAL_MD5, force: bool = False,
                      timeout: float = 60.0, on_start: Callable[[str, str], None] | None = None
                      ) -> list[SubsetFetch]:
    """Fetch the transcripts of ``subsets`` into ``ROOT/LibriSpeech``; see the module doc.

    ``expected_md5`` maps subset -> md5 of its archive (``None`` or a missing entry: the md5 is
    recorded, not checked). ``force`` fetches again even when a subset is marked complete.
    """
    base = Path(root).expanduser() / "LibriSpeech"
    outcomes = []
    for subset in subsets:
        if subset not in SUBSETS:
            raise AuditError(f"unknown LibriSpeech subset {subset!r}; choose from {', '.join(SUBSETS)}.")
        url = base_url.rstrip("/") + f"/{subset}.tar.gz"
        done = None if force else _read_marker(base / subset / MARKER, subset)
        if done is not None:
            outcomes.append(SubsetFetch(subset, "skipped", done["url"], done["transcripts"], done["bytes"],
                                        done["md5"], done["md5_verified"], base / subset))
            continue
        if on_start:
            on_start(subset, url)
        md5 = (expected_md5 or {}).get(subset)
        outcomes.append(_fetch_subset(base, subset, url, md5, timeout))
    return outcomes


def fetched_subsets(root: str | os.PathLike) -> list[tuple[str, str, int | None]]:
    """(subset, status, transcripts) of each subset folder under ``ROOT/LibriSpeech``: "complete,
    md5 verified" / "complete, md5 recorded" from a fetch's completion marker, else "no completion
    marker" (a fetch that did not finish, or a corpus put there by hand), with its transcripts counted."""
    base = Path(root).expanduser() / "LibriSpeech"
    found = []
    for subset in SUBSETS:
        folder = base / subset
        if not folder.is_dir():
            continue
        marker = _read_marker(folder / MARKER, subset)
        if marker is not None:
            found.append((subset, f"complete, md5 {'verified' if marker['md5_verified'] else 'recorded'}",
                          int(marker["transcripts"])))
        else:
            found.append((subset, "no completion marker", sum(1 for _ in folder.rglob(f"*{TRANSCRIPT_SUFFIX}"))))
    return found


def _read_marker(path: Path, subset: str) -> dict | None:
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    keys = {"subset", "url", "transcripts", "bytes", "md5", "md5_verified"}
    if not isinstance(marker, dict) or not keys <= marker.keys() or marker["subset"] != subset:
        return None
    return marker


class _CountingReader:
    """A file-like wrapper that hashes and counts every byte read through it."""

    def __init__(self, raw, shown=None):
        self.raw = raw
        self.md5 = hashlib.md5()
        self.bytes = 0
        self.shown = shown   # a progress bar (audit.core.progress), or None

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.md5.update(data)
        self.bytes += len(data)
        if self.shown is not None:
            self.shown.update(len(data))
        return data


def _fetch_subset(base: Path, subset: str, url: str, expected_md5: str | None, timeout: float) -> SubsetFetch:
    try:
        base.mkdir(parents=True, exist_ok=True)
        # a staging folder of this fetch's own (a fixed name was removed by a second fetch at its start and
        # end, and the first then marked the subset complete with files missing)
        staging = Path(tempfile.mkdtemp(prefix=f".{subset}.partial-", dir=base))
    except OSError as exc:
        raise AuditError(f"could not write the transcripts of {subset} under {base} ({exc.strerror}).") from None
    try:
        written, reader, total = _stream_transcripts(url, subset, staging, timeout)
        _verify(url, subset, reader, total, written, expected_md5)
        _move_into_place(staging, base / subset)
        marker = {"subset": subset, "url": url, "bytes": reader.bytes, "md5": reader.md5.hexdigest(),
                  "md5_verified": expected_md5 is not None, "transcripts": written,
                  "date": _dt.date.today().isoformat()}
        atomic_write_json(base / subset / MARKER, marker, what="fetch marker")
    except OSError as exc:
        raise AuditError(f"could not write the transcripts of {subset} under {base} ({exc.strerror}).") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SubsetFetch(subset, "fetched", url, written, marker["bytes"], marker["md5"], marker["md5_verified"],
                       base / subset)


def _stream_transcripts(url: str, subset: str, staging: Path, timeout: float):
    written = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            from audit.core.progress import bar
            reader = _CountingReader(response, bar(total=total, desc=f"LibriSpeech {subset}", bytes=True))
            with tarfile.open(fileobj=reader, mode="r|gz") as archive:
                for member in archive:
                    target = _transcript_target(member, subset)
                    if target is None:
                        continue
                    if member.size > MAX_TRANSCRIPT_BYTES:   # from the tar header, before its bytes are read
                        raise AuditError(f"the archive {url} holds a transcript of {member.size:,} bytes "
                                         f"({member.name}); a chapter transcript is a few KB and transcripts are read "
                                         f"up to {MAX_TRANSCRIPT_BYTES // 2**20} MB; nothing was kept for {subset}.")
                    _write(staging.joinpath(*target), archive.extractfile(member).read())
                    written += 1
            while reader.read(CHUNK):   # the gzip trailer and padding: part of the md5
                pass
            reader.shown.close()
    except urllib.error.HTTPError as exc:
        raise AuditError(f"could not fetch {url} (HTTP {exc.code} {exc.reason}); nothing was kept for {subset}.") from None
    except urllib.error.URLError as exc:
        raise AuditError(f"could not fetch {url} ({exc.reason}); nothing was kept for {subset}.") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError, http.client.HTTPException) as exc:
        raise AuditError(f"the download of {url} ended early or is damaged ({type(exc).__name__}); nothing was "
                         f"kept for {subset}; run the command again to retry.") from None
    return written, reader, total


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise AuditError(f"could not write {path} ({exc.strerror}).") from None


def _transcript_target(member: tarfile.TarInfo, subset: str) -> tuple[str, ...] | None:
    """Where a transcript member goes under the subset folder; None for members we skip.

    Unsafe members are refused whatever their name, because an archive holding one is not
    the official archive.
    """
    name = member.name
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise AuditError(f"the archive member {name!r} has a path that leaves the target folder; "
                         f"refusing the {subset} archive (nothing was kept).")
    if member.issym() or member.islnk():
        raise AuditError(f"the archive member {name!r} is a link; refusing the {subset} archive "
                         f"(nothing was kept).")
    if not (member.isfile() or member.isdir()):
        raise AuditError(f"the archive member {name!r} is not a regular file or folder; refusing the "
                         f"{subset} archive (nothing was kept).")
    if not member.isfile() or not name.endswith(TRANSCRIPT_SUFFIX):
        return None
    if len(parts) != 5 or parts[0] != "LibriSpeech" or parts[1] != subset:
        raise AuditError(f"the transcript {name!r} is not at LibriSpeech/{subset}/<speaker>/<chapter>/; "
                         f"refusing the {subset} archive (nothing was kept).")
    speaker, chapter, file_name = parts[2], parts[3], parts[4]
    if not (speaker.isdigit() and chapter.isdigit() and file_name == f"{speaker}-{chapter}{TRANSCRIPT_SUFFIX}"):
        raise AuditError(f"the transcript {name!r} is not named <speaker>-<chapter>{TRANSCRIPT_SUFFIX} in its "
                         f"chapter folder; refusing the {subset} archive (nothing was kept).")
    return speaker, chapter, file_name


def _verify(url: str, subset: str, reader: _CountingReader, total: int | None, written: int,
            expected_md5: str | None) -> None:
    if total is not None and reader.bytes != total:
        raise AuditError(f"the download of {url} has {reader.bytes:,} bytes, the server announced {total:,}; "
                         f"nothing was kept for {subset}; run the command again to retry.")
    got = reader.md5.hexdigest()
    if expected_md5 is not None and got != expected_md5:
        raise AuditError(f"the archive {url} has md5 {got}, OpenSLR publishes {expected_md5}; nothing was kept "
                         f"for {subset}.")
    if written == 0:
        raise AuditError(f"the archive {url} holds no {TRANSCRIPT_SUFFIX} files for {subset}; nothing was kept.")


def _move_into_place(staging: Path, destination: Path) -> None:
    """Move each staged transcript to its place (existing audio or other files stay). A transcript
    already there that differs from the archive's (the user's edit; a link) is the user's: the
    fetch is refused before anything moves. One equal to the archive's is left as it is."""
    staged = sorted(staging.rglob(f"*{TRANSCRIPT_SUFFIX}"))
    for path in staged:
        target = destination / path.relative_to(staging)
        if os.path.islink(target) or (os.path.lexists(target) and not _same_bytes(target, path)):
            raise AuditError(f"{target} is already there and differs from the archive's transcript (an edit or a "
                             f"link of yours?); move it away or fetch into another --root (nothing was changed).")
    for path in staged:
        target = destination / path.relative_to(staging)
        if os.path.lexists(target):
            continue    # equal to the archive's
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)


def _same_bytes(first: Path, second: Path) -> bool:
    try:
        return first.is_file() and first.read_bytes() == second.read_bytes()
    except OSError:
        return False
