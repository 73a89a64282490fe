"""Errors the user can act on.

An :class:`AuditError` carries one sentence meant for the person at the terminal. The CLI
prints it on stderr and exits with status 2; anything else that escapes is an internal error
(status 1). Checks and loaders raise it for bad input and never print.
"""


class AuditError(Exception):
    """Bad input or usage, described in one plain sentence."""

    exit_code = 2
