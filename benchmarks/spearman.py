"""Spearman's rank correlation with ties given their average rank, vectorised.

This is what wordvectors.org computes (average ranks, then Pearson's r on the ranks), without
its quadratic tie loop. Undefined cases give NaN, never 0: fewer than two pairs, or a side
whose values are all equal ("no coverage" must not read as "no correlation").
"""

from __future__ import annotations

import numpy as np


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks (ascending); tied values share the mean of the ranks they span."""
    values = np.asarray(values, dtype=np.float64)
    count = len(values)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.concatenate(([0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1))
    ends = np.concatenate((starts[1:], [count]))
    # positions start..end-1 hold ranks start+1..end, whose mean is (start + 1 + end) / 2
    ranks = np.empty(count, dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def spearman(first: np.ndarray, second: np.ndarray) -> float:
    """Spearman's rho of two equal-length samples; NaN when it is undefined."""
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    if first.shape != second.shape or first.ndim != 1:
        raise ValueError("spearman needs two 1-d arrays of the same length")
    if len(first) < 2 or not (np.isfinite(first).all() and np.isfinite(second).all()):
        return float("nan")
    x = average_ranks(first)
    y = average_ranks(second)
    x -= x.mean()
    y -= y.mean()
    denominator = np.sqrt(np.dot(x, x) * np.dot(y, y))
    if denominator == 0:
        return float("nan")
    return float(np.clip(np.dot(x, y) / denominator, -1.0, 1.0))
