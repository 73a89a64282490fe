"""kNN word classification: trained on some speakers (or tokens), tested on the others."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.checks.acoustic._base import BLOCK_ROWS, DEFAULT_SEED
from audit.core.errors import AuditError

KNN_KS = (1, 5)
KNN_TEST_FRACTION = 0.25


@dataclass(frozen=True)
class KnnClassification:
    accuracy: dict[str, float]      # "1", "5" -> share of test tokens whose word is predicted
    split: str                      # "speakers" (held-out speakers) or "tokens" (seeded token split)
    test_fraction: float
    train_tokens: int
    test_tokens: int
    test_tokens_unseen_word: int    # test tokens whose word has no training token (not scored)
    test_speakers: tuple[str, ...]


# ----------------------------------------------------------------------------- kNN classification
def split_train_test(label_index: np.ndarray, speakers: np.ndarray | None, *, test_fraction: float,
                     seed: int) -> tuple[np.ndarray, np.ndarray, str, tuple[str, ...]]:
    """Boolean test mask: held-out speakers when there are 2 or more, else a seeded token split."""
    if not 0 < test_fraction < 1:
        raise AuditError(f"the kNN test fraction must be between 0 and 1, got {test_fraction}.")
    rng = np.random.default_rng(seed)
    n = len(label_index)
    if speakers is not None and len(np.unique(speakers)) >= 2:
        names = np.unique(speakers)
        held = max(1, min(len(names) - 1, round(test_fraction * len(names))))
        test_speakers = np.sort(rng.permutation(names)[:held])
        test = np.isin(speakers, test_speakers)
        return ~test, test, "speakers", tuple(test_speakers.tolist())
    held = max(1, min(n - 1, round(test_fraction * n)))
    test = np.zeros(n, bool)
    test[rng.permutation(n)[:held]] = True
    return ~test, test, "tokens", ()


def knn_predict(train_unit, train_labels, test_unit, ks=KNN_KS, block_rows: int = BLOCK_ROWS) -> dict[int, np.ndarray]:
    """Per k, the majority vote of the k most cosine-similar training tokens (ties: smaller label).

    The nearest max(ks) are found once per block, sorted by score, and every k votes on a prefix.
    """
    n_labels = int(train_labels.max()) + 1
    widest = min(max(ks), len(train_labels))
    predicted = {k: np.empty(len(test_unit), dtype=np.int64) for k in ks}
    for start in range(0, len(test_unit), block_rows):
        scores = test_unit[start:start + block_rows] @ train_unit.T
        if widest < scores.shape[1]:
            nearest = np.argpartition(-scores, widest - 1, axis=1)[:, :widest]
        else:
            nearest = np.tile(np.arange(scores.shape[1]), (len(scores), 1))
        by_score = np.argsort(-np.take_along_axis(scores, nearest, axis=1), axis=1, kind="stable")
        nearest = np.take_along_axis(nearest, by_score, axis=1)
        for k in ks:
            votes = train_labels[nearest[:, :min(k, widest)]]
            # Each neighbour's label count; the most voted label wins, the smallest index on ties.
            counts = (votes[:, :, None] == votes[:, None, :]).sum(axis=2)
            best = counts.max(axis=1, keepdims=True)
            predicted[k][start:start + block_rows] = np.where(counts == best, votes, n_labels).min(axis=1)
    return predicted


def knn_classification(unit: np.ndarray, label_index: np.ndarray, speakers: np.ndarray | None, *,
                       seed: int = DEFAULT_SEED, test_fraction: float = KNN_TEST_FRACTION,
                       ks=KNN_KS) -> KnnClassification:
    train, test, split, test_speakers = split_train_test(label_index, speakers, test_fraction=test_fraction,
                                                         seed=seed)
    seen = np.isin(label_index, np.unique(label_index[train]))
    scored = test & seen
    if not scored.any():
        raise AuditError("no held-out token has a word seen in training, so kNN accuracy is undefined.")
    predicted = knn_predict(unit[train], label_index[train], unit[scored], ks)
    accuracy = {str(k): float(np.mean(predicted[k] == label_index[scored])) for k in ks}
    return KnnClassification(accuracy=accuracy, split=split, test_fraction=test_fraction,
                             train_tokens=int(train.sum()), test_tokens=int(scored.sum()),
                             test_tokens_unseen_word=int((test & ~seen).sum()), test_speakers=test_speakers)
