"""Subcommands of the ``audit`` CLI, one module each (see :mod:`audit.cli.main`)."""
