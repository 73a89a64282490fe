"""Strict reading of a user's ``.npz`` archive: never a pickle, one sentence for anything else.

``np.load`` on a file that is not a zip archive falls back to reading a pickle (refused with
``allow_pickle=False`` in words about pickles, which misleads when the file is simply text),
so the zip signature is checked first.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from audit.core.errors import AuditError

_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")   # a local file header; an empty archive


def read_npz(path: str | os.PathLike, *, what: str = "the file", keys=None,
             pickled_hint: str = "store every array as plain numbers or strings") -> dict[str, np.ndarray]:
    """The arrays of ``path`` (only ``keys`` when given), read without pickles.

    ``what`` names the file in messages ("the instances file"); ``pickled_hint`` says how to
    store the arrays that were pickled.
    """
    path = Path(path)
    if not path.is_file():
        raise AuditError(f"{what} {path} is not a file.")
    check_archive(path, f"{what} {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files if keys is None or key in keys}
    except ValueError as exc:
        if "pickle" in str(exc):
            raise AuditError(f"{what} {path} holds pickled object arrays; {pickled_hint}.") from None
        raise AuditError(f"{what} {path} is not a readable .npz archive ({exc}).") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise AuditError(f"{what} {path} is not a readable .npz archive ({exc}).") from None


def check_archive(target, name: str) -> None:
    """Refuse, before ``np.load`` sees it, what it would misread: a file that is not a zip archive
    (``np.load`` tries it as a pickle and refuses in words about pickles), and an array that
    declares more data than its member holds (``np.load`` allocates the declared shape before it
    reads: a 648-byte file declaring (10, 10**9) float64 asked for 80 GB, out of memory, exit 1).
    ``target``: a path or a seekable binary file (left at its start); ``name`` names it in the
    sentence. Members that are not plain arrays are left to ``np.load``'s own refusals."""
    try:
        if hasattr(target, "seek"):
            signature = target.read(4)
        else:
            with open(target, "rb") as handle:
                signature = handle.read(4)
    except OSError as exc:
        raise AuditError(f"{name} cannot be read ({exc.strerror}).") from None
    finally:
        if hasattr(target, "seek"):
            target.seek(0)
    if signature not in _ZIP_SIGNATURES:
        raise AuditError(f"{name} is not an .npz archive (numpy's zip of arrays).")
    try:
        with zipfile.ZipFile(target) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with archive.open(info) as member:
                    declared, header = _declared_bytes(member)
                if declared is not None and declared > info.file_size - header:
                    raise AuditError(f"{name}: its array {info.filename[:-4]!r} declares {declared:,} bytes but the "
                                     f"archive holds {max(info.file_size - header, 0):,} for it (a damaged or "
                                     f"forged file).")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise AuditError(f"{name} is not a readable .npz archive ({exc}).") from None
    finally:
        if hasattr(target, "seek"):
            target.seek(0)


def _declared_bytes(member) -> tuple[int | None, int]:
    """(bytes the member's .npy header declares, the header's length); None for object arrays."""
    from numpy.lib import format as npy

    version = npy.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = npy.read_array_header_1_0(member, max_header_size=1 << 16)
    elif version == (2, 0):
        shape, _, dtype = npy.read_array_header_2_0(member, max_header_size=1 << 16)
    else:
        return None, 0        # a newer header version: np.load decides
    if dtype.hasobject:
        return None, 0        # pickled: refused by np.load(allow_pickle=False)
    return int(np.prod(shape, dtype=object)) * dtype.itemsize, member.tell()
