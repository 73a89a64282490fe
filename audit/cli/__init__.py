"""The ``audit`` command: parse -> call the library -> print -> write."""

from audit.cli.main import entry, main

__all__ = ["entry", "main"]
