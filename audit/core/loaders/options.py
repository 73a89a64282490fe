"""The loader's choices, and errors whose remedy is one of :func:`~audit.core.loaders.load`'s
parameters.

The library names the remedy as a parameter (``nonfinite='exclude'``); the CLI, which knows the
option that sets each parameter, shows the same sentence with that option (``for_option``).
"""

from __future__ import annotations

from typing import Callable, Sequence

from audit.core.errors import AuditError, ParameterError

DUPLICATE_POLICIES = ("error", "keep-first", "keep-last")
CASE_POLICIES = ("keep", "lower")
NONFINITE_POLICIES = ("reject", "exclude")
UNICODE_ERRORS = ("strict", "replace", "ignore")


class OptionError(ParameterError):
    """A :class:`ParameterError` whose sentence names a remedy: ``template`` holds ``{remedy}``,
    filled with ``parameter`` and ``values`` (the values that would help, in order): in the
    library's terms ``nonfinite='exclude'``, through :meth:`for_option` ``--nonfinite exclude``."""

    def __init__(self, template: str, parameter: str, values: Sequence[object]):
        self.template, self.values = template, tuple(values)
        super().__init__(parameter, "")
        self.args = (self.render(python_remedy),)

    def __str__(self) -> str:
        return self.args[0]

    def render(self, remedy: Callable[[str, tuple], str]) -> str:
        return self.template.format(remedy=remedy(self.parameter, self.values))

    def for_option(self, option: str) -> str:
        flags = [v for v in self.values if v is not True]
        return self.render(lambda _, values: option + (" " + " or ".join(map(str, flags)) if flags else ""))


def python_remedy(parameter: str, values: tuple) -> str:
    """``nonfinite='exclude'``; ``duplicates='keep-first' or 'keep-last'``."""
    return f"{parameter}=" + " or ".join(repr(v) for v in values)


def check_choice(what: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise AuditError(f"unknown {what} {value!r}; choose one of {', '.join(allowed)}.")
