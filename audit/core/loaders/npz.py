"""``.npz``: a numpy archive with a ``words`` string array and a ``matrix`` (no pickles)."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from audit.core.errors import AuditError
from audit.core.loaders._input import Input
from audit.core.npzfile import check_archive


def parse_npz(source: Input, *, limit: int | None = None):
    path = source.path
    # A regular uncompressed file is opened by name (the archive's members are read as needed);
    # anything else is read whole first (a zip archive needs to seek).
    target = path if source.regular and source.compression is None else io.BytesIO(source.read_all("an .npz archive"))
    check_archive(target, str(path))
    reading = "words"
    try:
        with np.load(target, allow_pickle=False) as archive:
            names = set(archive.files)
            if not {"words", "matrix"} <= names:
                raise AuditError(f"{path}: an .npz embedding needs arrays 'words' and 'matrix', "
                                 f"found {', '.join(sorted(names)) or 'none'}.")
            words_arr = archive["words"]
            reading = "matrix"
            matrix = archive["matrix"]
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            kind = "a unicode string array" if reading == "words" else "a numeric array"
            raise AuditError(f"{path}: its '{reading}' array is stored as Python objects (a pickle); "
                             f"save it as {kind}.") from None
        raise AuditError(f"{path} is not a readable .npz archive (a damaged or truncated member).") from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, zipfile.LargeZipFile):
        raise AuditError(f"{path} is not a readable .npz archive (truncated or damaged).") from None
    if words_arr.ndim != 1 or words_arr.dtype.kind not in "US":
        raise AuditError(f"{path}: 'words' must be a 1-d array of strings.")
    if matrix.ndim != 2 or matrix.dtype.kind not in "fiu":
        raise AuditError(f"{path}: 'matrix' must be a 2-d numeric array.")
    if len(words_arr) != matrix.shape[0]:
        raise AuditError(f"{path}: {len(words_arr)} words for {matrix.shape[0]} matrix rows.")
    if limit is not None:
        words_arr, matrix = words_arr[:limit], matrix[:limit]
    words = []
    for i, word in enumerate(words_arr.tolist()):
        if isinstance(word, bytes):
            try:
                word = word.decode("utf-8")
            except UnicodeDecodeError:
                raise AuditError(f"{path}: word {i + 1} of 'words' is not valid UTF-8.") from None
        if not word:
            raise AuditError(f"{path}: word {i + 1} of 'words' is empty.")
        words.append(word)
    return words, np.ascontiguousarray(matrix, dtype=np.float32), {}

