"""Peak Python-level allocation of a call (tracemalloc), for tests that bound a reader's memory."""

from __future__ import annotations

import tracemalloc


def peak_traced_bytes(call) -> int:
    """The most bytes Python allocators held at once while ``call()`` ran (it may raise)."""
    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak
