"""Backing a freshly allocated matrix with memory ahead of the parser that fills it.

The first write to each page of a new multi-GB matrix costs a page fault; on the development VM
the faults of a 1.2 GB matrix took 0.9-1.6 s of a load's few seconds, more than a copy of the
data. ``populate(matrix)`` asks the kernel to back the matrix's pages in a background thread
(Linux ``madvise(MADV_POPULATE_WRITE)``, kernel 5.14+), which leaves the contents as they are, so
it may race with the parser writing rows: the parse goes on in one thread while the faults are
taken in another. Where the call is missing (another OS, an older kernel) nothing happens: the
parser takes the faults itself, as before.
"""

from __future__ import annotations

import ctypes
import sys
import threading

import numpy as np

MADV_POPULATE_WRITE = 23
MIN_BYTES = 64 << 20          # smaller matrices fault in little time: no thread for them
PIECE_BYTES = 64 << 20        # one madvise call: the parser's own faults overtake at most one piece
_PAGE = 4096


def _madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_MADVISE = _madvise()


def populate(matrix: np.ndarray) -> threading.Thread | None:
    """Start backing ``matrix``'s pages with memory in a daemon thread (the matrix object is kept
    alive by the thread until it ends); None when the matrix is small or the call unavailable."""
    if _MADVISE is None or matrix.nbytes < MIN_BYTES:
        return None
    thread = threading.Thread(target=_populate, args=(matrix,), name="populate-matrix", daemon=True)
    thread.start()
    return thread


def _populate(matrix: np.ndarray) -> None:
    address = matrix.ctypes.data
    start = -(-address // _PAGE) * _PAGE          # madvise takes page-aligned ranges
    end = (address + matrix.nbytes) // _PAGE * _PAGE
    while start < end:
        length = min(PIECE_BYTES, end - start)
        if _MADVISE(start, length, MADV_POPULATE_WRITE) != 0:
            return                                # EINVAL on kernels without it: the parser faults
        start += length
