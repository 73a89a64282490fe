"""SIGTERM handled as an interrupt (the console script installs :func:`on_sigterm`).

The handler raises :class:`Terminated` where the program is, so every clean-up that runs on Ctrl-C
runs (temporary files, staging folders). Python cannot raise it everywhere: an exception raised
while an object is being finalised is printed and dropped, and a run then went on to its end and
exited 0. So the handler also records the request: long loops ask :func:`check` between steps (the
trainers, between epochs), and the CLI exits 143 when it was requested, whatever happened to the
exception."""

from __future__ import annotations

import threading

_REQUESTED = threading.Event()


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt."""


def on_sigterm(signum, frame):
    _REQUESTED.set()
    raise Terminated()


def requested() -> bool:
    return _REQUESTED.is_set()


def check() -> None:
    """Raise :class:`Terminated` when SIGTERM was received (its first raise may have been dropped)."""
    if _REQUESTED.is_set():
        raise Terminated()
