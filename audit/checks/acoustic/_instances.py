"""The input of the acoustic check: token embeddings with word labels (and maybe speakers)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audit.core.datadir import sha256_file
from audit.core.errors import AuditError
from audit.core.npzfile import read_npz
from audit.core.results import InputInfo


@dataclass(frozen=True)
class InstanceSet:
    """Token embeddings with their word labels (and speakers, when known)."""

    embeddings: np.ndarray          # (tokens, dim) float32
    labels: np.ndarray              # (tokens,) str
    speakers: np.ndarray | None     # (tokens,) str or None
    input: InputInfo

    @property
    def tokens(self) -> int:
        return int(self.embeddings.shape[0])


def load_instances(path: str | os.PathLike) -> InstanceSet:
    """Read an instances ``.npz`` (``embeddings``, ``labels``, optional ``speakers``), strictly."""
    path = Path(path)
    arrays = read_npz(path, what="the instances file",
                      pickled_hint="store labels and speakers as plain string arrays")
    info = InputInfo(path=str(path), sha256=sha256_file(path), format="instances-npz", words=0, dim=0,
                     name=path.name)
    return make_instances(arrays.get("embeddings"), arrays.get("labels"), arrays.get("speakers"),
                          info=info, what=str(path))


def make_instances(embeddings, labels, speakers=None, *, info: InputInfo | None = None,
                   what: str = "the instances") -> InstanceSet:
    """Validate arrays into an :class:`InstanceSet` (bad input raises one-sentence AuditErrors)."""
    if embeddings is None or labels is None:
        missing = [k for k, v in (("embeddings", embeddings), ("labels", labels)) if v is None]
        raise AuditError(f"{what} lacks the key(s) {', '.join(missing)}.")
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2 or not np.issubdtype(embeddings.dtype, np.number):
        raise AuditError(f"{what}: embeddings must be a numeric (tokens x dim) matrix, got shape "
                         f"{embeddings.shape} of {embeddings.dtype}.")
    n = embeddings.shape[0]
    labels = _string_column(labels, "labels", n, what)
    speakers = None if speakers is None else _string_column(speakers, "speakers", n, what)
    # Judged entry by entry, not by a float32 norm: a norm of finite values can overflow (from about
    # 1e19) or underflow to 0 (below about 1e-23), and cosine does not depend on the scale.
    if embeddings.dtype != np.float32:
        with np.errstate(over="ignore", under="ignore"):
            fits = np.isfinite(embeddings).all(axis=1)
            embeddings32 = np.ascontiguousarray(embeddings, dtype=np.float32)
        beyond = fits & ~np.isfinite(embeddings32).all(axis=1)
        vanished = fits & (embeddings != 0).any(axis=1) & ~(embeddings32 != 0).any(axis=1)
        for rows, problem in ((beyond, "hold values beyond float32's range (about 3.4e38)"),
                              (vanished, "hold only values too small for float32 (below about 1e-45)")):
            if rows.any():
                raise AuditError(f"{what}: {int(rows.sum())} embedding row(s) {problem}; rescale the "
                                 "embeddings (cosine does not depend on scale).")
        embeddings = embeddings32
    embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
    bad = ~np.isfinite(embeddings).all(axis=1) | ~(embeddings != 0).any(axis=1)
    if bad.any():
        raise AuditError(f"{what}: {int(bad.sum())} embedding row(s) are zero or not finite, so their "
                         "cosine is undefined.")
    if info is None:
        info = InputInfo(path="", sha256="", format="memory", words=0, dim=0, name="in-memory")
    info = InputInfo(path=info.path, sha256=info.sha256, format=info.format,
                     words=int(len(np.unique(labels))), dim=int(embeddings.shape[1]), name=info.name)
    return InstanceSet(embeddings=embeddings, labels=labels, speakers=speakers, input=info)


def _string_column(values, key: str, n: int, what: str) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype == object:
        raise AuditError(f"{what}: {key} is an object array; store it as a plain string or integer array.")
    if values.ndim != 1 or len(values) != n:
        raise AuditError(f"{what}: {key} has shape {values.shape} but there are {n} embeddings.")
    return values.astype(str)
