"""Errors the user can act on.

An :class:`AuditError` carries one sentence meant for the person at the terminal. The CLI
prints it on stderr and exits with status 2; anything else that escapes is an internal error
(status 1). Checks and loaders raise it for bad input and never print.
"""


class AuditError(Exception):
    """Bad input or usage, described in one plain sentence."""

    exit_code = 2


class ParameterError(AuditError):
    """A parameter outside what the data allows, named as the library call names it.

    ``str(error)`` reads "k is 0; it must be at least 1" in the library's terms; the CLI,
    which knows which option sets ``parameter``, shows :meth:`for_option` instead, so a
    library error never names a command-line flag and a CLI error never names a keyword.
    """

    def __init__(self, parameter: str, problem: str):
        self.parameter = parameter
        self.problem = problem
        super().__init__(f"{parameter} {problem}")

    def for_option(self, option: str) -> str:
        return f"{option} {self.problem}"


SEED_LIMIT = 2 ** 63   # numpy's and torch's generators take seeds below this


def check_seed(seed, parameter: str = "seed") -> int:
    """``seed`` when it is a whole number in [0, 2**63), else a :class:`ParameterError` naming it
    (numpy refuses a negative seed, torch one of 2**64 or more: both were internal errors)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
        raise ParameterError(parameter, f"is {seed!r}; it must be a non-negative integer below 2**63.")
    return seed
