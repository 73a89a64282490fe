"""What every acoustic metric shares: the default seed, the query block size, unit rows."""

from __future__ import annotations

import numpy as np

DEFAULT_SEED = 0
# Query rows per block: a block of scores is (rows x tokens) float32, ~80 MB at 20,000 tokens.
BLOCK_ROWS = 1024


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix.astype(np.float64), axis=1, keepdims=True)
    return (matrix / norms).astype(np.float32)


# Cosines are compared at this many decimals. float32 resolves about 7 near 1, and a matrix product
# computes the same dot product differently by a row's position in it (identical unit rows gave 1.0
# and 0.99999994 in one product), which split ties in favour of the rows' order.
SCORE_DECIMALS = 6


def settle(scores: np.ndarray) -> np.ndarray:
    """``scores`` rounded in place to :data:`SCORE_DECIMALS` decimals (infinities kept)."""
    return np.round(scores, SCORE_DECIMALS, out=scores)
