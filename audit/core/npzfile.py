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

ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")   # a local file header; an empty archive


def read_npz(path: str | os.PathLike, *, what: str = "the file", keys=None,
             pickled_hint: str = "store every array as plain numbers or strings") -> dict[str, np.ndarray]:
    """The arrays of ``path`` (only ``keys`` when given), read without pickles.

    ``what`` names the file in messages ("the instances file"); ``pickled_hint`` says how to
    store the arrays that were pickled.
    """
    path = Path(path)
    if not path.is_file():
        raise AuditError(f"{what} {path} is not a file.")
    try:
        with open(path, "rb") as handle:
            signature = handle.read(4)
    except OSError as exc:
        raise AuditError(f"{what} {path} cannot be read ({exc.strerror}).") from None
    if signature not in ZIP_SIGNATURES:
        raise AuditError(f"{what} {path} is not an .npz archive (numpy's zip of arrays).")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files if keys is None or key in keys}
    except ValueError as exc:
        if "pickle" in str(exc):
            raise AuditError(f"{what} {path} holds pickled object arrays; {pickled_hint}.") from None
        raise AuditError(f"{what} {path} is not a readable .npz archive ({exc}).") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise AuditError(f"{what} {path} is not a readable .npz archive ({exc}).") from None
