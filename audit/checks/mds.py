"""Fig. 4's data: 2-d MDS coordinates of per-instance embeddings for chosen word pairs.

This is the one analysis the report needs that no check produces, so `audit all` runs it and
saves the coordinates as a result (kind ``instance-mds``); the report only plots the saved
points. Input: an ``instances.npz`` with ``embeddings`` (n x d) and ``labels`` (word per
instance), as the reproduction writes it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from audit.core.datadir import sha256_file
from audit.core.errors import AuditError
from audit.core.npzfile import read_npz
from audit.core.results import Result, result_type, today

# At most this many instances per word go into MDS (a seeded sample): MDS is quadratic.
MAX_INSTANCES_PER_WORD = 60


@dataclass(frozen=True)
class WordPoints:
    word: str
    points: list[tuple[float, float]]


@dataclass(frozen=True)
class MDSPanel:
    label: str                 # "homophones" or "different sounds"
    words: list[WordPoints]
    stress: float


@result_type("instance-mds")
@dataclass(frozen=True)
class InstanceMDSResult(Result):
    path: str
    sha256: str
    panels: list[MDSPanel]
    metric: str
    seed: int
    max_instances_per_word: int
    date: str


def instance_mds(npz_path: str | os.PathLike, pairs: Sequence[tuple[str, str, str]], *, seed: int = 0,
                 max_instances_per_word: int = MAX_INSTANCES_PER_WORD) -> InstanceMDSResult:
    """MDS (cosine distance, scikit-learn) of each (label, word1, word2) pair's instances.

    Pairs with a word that has no instance are left out; no pair left is an error.
    """
    from sklearn.manifold import MDS   # heavy optional dependency, loaded only for this analysis
    from sklearn.metrics import pairwise_distances

    embeddings, labels = _read_instances(Path(npz_path))
    rng = np.random.default_rng(seed)
    panels = []
    for label, first, second in pairs:
        groups = [np.flatnonzero(labels == w) for w in (first, second)]
        if any(len(g) == 0 for g in groups):
            continue
        groups = [np.sort(rng.choice(g, size=min(len(g), max_instances_per_word), replace=False)) for g in groups]
        rows = np.concatenate(groups)
        distances = pairwise_distances(embeddings[rows], metric="cosine")
        mds = MDS(n_components=2, metric="precomputed", metric_mds=True, init="random", n_init=1, max_iter=300,
                  random_state=seed)
        coords = mds.fit_transform(distances)
        split = len(groups[0])
        words = [WordPoints(w, [(float(x), float(y)) for x, y in part])
                 for w, part in ((first, coords[:split]), (second, coords[split:]))]
        panels.append(MDSPanel(label=label, words=words, stress=float(mds.stress_)))
    if not panels:
        raise AuditError(f"{npz_path} has no instances of the chosen word pairs.")
    return InstanceMDSResult(path=str(npz_path), sha256=sha256_file(npz_path), panels=panels, metric="cosine",
                             seed=int(seed), max_instances_per_word=int(max_instances_per_word), date=today())


def _read_instances(path: Path) -> tuple[np.ndarray, np.ndarray]:
    arrays = read_npz(path, what="the instances file", keys=("embeddings", "labels"),
                      pickled_hint="store labels as a plain string array")
    if "embeddings" not in arrays or "labels" not in arrays:
        raise AuditError(f"{path} is not an instances .npz with 'embeddings' and 'labels'.")
    embeddings, labels = arrays["embeddings"], arrays["labels"]
    if embeddings.ndim != 2 or not np.issubdtype(embeddings.dtype, np.number) or len(embeddings) != len(labels):
        raise AuditError(f"{path}: 'embeddings' must be n x d with one label per row.")
    return embeddings.astype(np.float64), labels.astype(str)
