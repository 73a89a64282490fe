"""Where data lives, and a checksummed download into it.

Lookup order for the data directory: an explicit argument (``--data-dir``), else the
``AUDIT_DATA_DIR`` environment variable, else the platform user cache directory
(``platformdirs.user_cache_dir('embedding-audit')``).

Downloads are written to a hidden temporary file beside ``NAME`` (``.NAME.XXXXXXXX.part``, made
with O_EXCL: never through a link someone left there, never shared by two downloads), hashed
while streaming, and renamed to ``NAME`` only when complete and (when a checksum is known)
verified; a failed or mismatching download leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from audit.core.errors import AuditError
from audit.core.files import temporary_file

ENV_VAR = "AUDIT_DATA_DIR"
APP_NAME = "embedding-audit"
CHUNK = 1 << 20


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data directory (not created); refused when something other than a folder is there."""
    if explicit:
        return _folder_or_new(Path(explicit).expanduser(), "the data directory (--data-dir)")
    env = os.environ.get(ENV_VAR)
    if env:
        return _folder_or_new(Path(env).expanduser(), f"the data directory (${ENV_VAR})")
    import platformdirs
    return _folder_or_new(Path(platformdirs.user_cache_dir(APP_NAME)), "the data directory")


def _folder_or_new(path: Path, what: str) -> Path:
    if os.path.lexists(path) and not path.is_dir():
        raise AuditError(f"{what} {path} exists but is not a folder.")
    return path


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, dest: str | os.PathLike, *, sha256: str | None = None, timeout: float = 60.0,
             progress: Callable[[int, int | None], None] | None = None, desc: str | None = None) -> Path:
    """Fetch ``url`` to ``dest`` atomically, verifying ``sha256`` when given; a bytes bar on a
    terminal (:mod:`audit.core.progress`), labelled ``desc`` (default: the file name)."""
    from audit.core.progress import bar
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        handle, part = temporary_file(dest)
    except OSError as exc:
        raise AuditError(f"cannot write into {dest.parent} ({exc.strerror}).") from None
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            done = 0
            with bar(total=total, desc=desc or dest.name, bytes=True) as shown:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    shown.update(len(chunk))
                    if progress:
                        progress(done, total)
    except http.client.HTTPException as exc:   # IncompleteRead (a chunked body cut short), BadStatusLine, ...
        part.unlink(missing_ok=True)
        raise AuditError(f"could not download {url} (the transfer ended early or the answer is malformed: "
                         f"{type(exc).__name__}); nothing was kept.") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        part.unlink(missing_ok=True)
        raise AuditError(f"could not download {url} ({_reason(exc)}).") from None
    except BaseException:      # an interrupt (SIGINT): nothing is kept either
        part.unlink(missing_ok=True)
        raise
    if total is not None and done != total:   # a close before Content-Length bytes: urllib reads it as the end
        part.unlink(missing_ok=True)
        raise AuditError(f"could not download {url} (the connection closed after {done} of {total} bytes); "
                         f"nothing was kept.")
    got = digest.hexdigest()
    if sha256 and got != sha256:
        part.unlink(missing_ok=True)
        raise AuditError(f"the download of {url} has sha256 {got[:12]}..., expected {sha256[:12]}...; "
                         f"nothing was kept.")
    try:
        os.replace(part, dest)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise AuditError(f"could not put the download in place at {dest} ({exc.strerror}).") from None
    return dest


def _reason(exc: BaseException) -> str:
    """The cause of a failed download as one line: urllib's redirect-loop error spans several."""
    if isinstance(exc, urllib.error.HTTPError) and 300 <= exc.code < 400:
        exc.close()
        if str(exc.reason).startswith(urllib.request.HTTPRedirectHandler.inf_msg.strip()):
            return f"HTTP {exc.code}: the server redirects in a loop or too many times"
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
    return " ".join(str(reason).split())
