"""What every acoustic metric shares: the default seed, the query block size, unit rows."""

from __future__ import annotations

import numpy as np

DEFAULT_SEED = 0
# Query rows per block: a block of scores is (rows x tokens) float32, ~80 MB at 20,000 tokens.
BLOCK_ROWS = 1024


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix.astype(np.float64), axis=1, keepdims=True)
    return (matrix / norms).astype(np.float32)
