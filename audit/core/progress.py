"""Progress bars for the long steps, on stderr, only on a terminal.

One helper for every step that can take more than a couple of seconds (loading a large file,
corpus synthesis, feature extraction, training epochs and batches, reference text models,
downloads). Bars are tqdm's: it comes with huggingface_hub anyway, imports in less than half the time
of rich.progress (91 ms against 224 ms, ``python -X importtime``, one run on a shared machine;
and it is imported only when a bar is drawn), and handles what a hand-made ``\\r`` line did not:
rate, ETA, terminal width, a bar that clears itself when done.

Bars are drawn only when stderr is a terminal and nobody asked for quiet (``--quiet`` calls
:func:`set_quiet`; ``AUDIT_QUIET=1`` does the same for library use). They never reach stdout,
JSON or any file. A bar appears only after ``AUDIT_PROGRESS_DELAY`` seconds (default 0.5), so
steps that finish sooner stay silent.
"""

from __future__ import annotations

import os
import sys
from typing import Iterable, TypeVar

T = TypeVar("T")
DEFAULT_DELAY = 0.5
_state = {"quiet": False}


def set_quiet(quiet: bool = True) -> None:
    """Turn every bar of this process off (the CLI's ``--quiet``)."""
    _state["quiet"] = bool(quiet)


def enabled() -> bool:
    """Bars are shown: stderr is a terminal, and neither --quiet nor AUDIT_QUIET asked for silence."""
    if _state["quiet"] or os.environ.get("AUDIT_QUIET", "").strip().lower() in ("1", "true", "yes"):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _delay() -> float:
    try:
        return max(0.0, float(os.environ.get("AUDIT_PROGRESS_DELAY", DEFAULT_DELAY)))
    except ValueError:
        return DEFAULT_DELAY


class _Silent:
    """What :func:`bar` hands out when bars are off: the same calls, nothing drawn."""

    def __init__(self, iterable=None, total=None):
        self.iterable = iterable
        self.total = total
        self.n = 0

    def __iter__(self):
        return iter(self.iterable if self.iterable is not None else ())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        pass

    def set_description_str(self, text: str = "", refresh: bool = True) -> None:
        pass

    def reset(self, total=None) -> None:
        self.n = 0
        self.total = total

    def write(self, text: str) -> None:
        print(text, file=sys.stderr)

    def close(self) -> None:
        pass


def bar(iterable: Iterable[T] | None = None, *, total: int | float | None = None, desc: str = "",
        unit: str = "it", bytes: bool = False, leave: bool = False, position: int | None = None):
    """A progress bar over ``iterable`` (or updated by hand with ``total``); ``bytes=True`` shows
    sizes (kB, MB). Use as an iterator or a context manager; off the terminal it draws nothing."""
    if not enabled():
        return _Silent(iterable, total)
    from tqdm import tqdm as _tqdm  # imported only when a bar is drawn

    # A terminal that reports no width (a fresh pseudo-terminal) would get an empty bar from tqdm.
    sized = _width() > 0
    return _tqdm(iterable, total=total, desc=desc or None, unit="B" if bytes else unit, unit_scale=bytes,
                 unit_divisor=1024 if bytes else 1000, leave=leave, file=sys.stderr, delay=_delay(),
                 dynamic_ncols=sized, ncols=None if sized else 80, position=position, mininterval=0.2)


def _width() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 0


def write(message: str) -> None:
    """A log line on stderr that does not tear a bar on the terminal (tqdm.write when bars are up)."""
    if enabled():
        from tqdm import tqdm as _tqdm
        _tqdm.write(message, file=sys.stderr)
    else:
        print(message, file=sys.stderr, flush=True)
