"""The ``audit`` command: a thin layer over the library.

Each subcommand lives in a module of :mod:`audit.cli.commands` that exposes ``register(subparsers)``
(adding its parser and ``set_defaults(run=...)``) and keeps heavy imports inside ``run``.
Exit codes: 0 done, 2 bad input or usage (one sentence on stderr), 1 internal error.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import sys

from audit import __version__
from audit.core import interrupts
from audit.core.errors import AuditError, ParameterError

# Order here is the order in `audit --help`.
COMMAND_MODULES = (
    "audit.cli.commands.info",
    "audit.cli.commands.homophones",
    "audit.cli.commands.benchmarks",
    "audit.cli.commands.vocab",
    "audit.cli.commands.provenance",
    "audit.cli.commands.acoustic",
    "audit.cli.commands.reproduce",
    "audit.cli.commands.all",
    "audit.cli.commands.report",
    "audit.cli.commands.demo",
    "audit.cli.commands.data",
)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so usage errors get our one-sentence format."""

    def error(self, message):  # noqa: D401 - argparse API
        raise AuditError(f"{message} (see '{self.prog} --help').")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="audit", description="Reproducibility audits for published word embeddings.")
    parser.add_argument("--version", action="version", version=f"audit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    parser.add_argument("--quiet", action="store_true", dest="global_quiet",
                        help="no progress bars (they are drawn on stderr, and only on a terminal)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # a file name's undecodable bytes (kept by Python as lone surrogates) printed as \xff, not a
        # UnicodeEncodeError on a terminal whose encoding is strict
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    parser = args = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            parser.print_help()
            return 2
        from audit.core.progress import set_quiet
        set_quiet(args.global_quiet or bool(getattr(args, "quiet", False)))
        from audit.cli.common import check_json_targets
        check_json_targets(args)
        code = int(args.run(args) or 0)
        interrupts.check()          # a SIGTERM whose exception was dropped along the way
        return code
    except AuditError as exc:
        sentence = in_cli_terms(exc, parser, argv if argv is not None else sys.argv[1:]) if parser else str(exc)
        print(f"audit: {sentence}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # The reader went away (`audit ... | head`): not an error of ours; silence the flush at exit.
        import os
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, interrupts.Terminated) or interrupts.requested()
        print("audit: terminated." if terminated else "audit: interrupted.", file=sys.stderr)
        return 143 if terminated else 130
    except MemoryError:
        # --limit is only a remedy where the command has it (reading fewer words of an embedding)
        hint = "; try --limit to read fewer words" if hasattr(args, "limit") else ""
        print(f"audit: out of memory{hint}.", file=sys.stderr)
        return 1
    except Exception as exc:  # an internal error: a bug, not bad input ...
        if debug:
            raise
        if isinstance(exc, OSError) and exc.errno in _PLACE_ERRORS:
            # ... unless it is the machine's: a full disk, a read-only folder, a quota
            where = f" {exc.filename}" if exc.filename else ""
            print(f"audit: cannot write{where} ({exc.strerror}).", file=sys.stderr)
            return 2
        print(f"audit: internal error ({type(exc).__name__}: {exc}); rerun with --debug for the traceback.",
              file=sys.stderr)
        return 1


def in_cli_terms(exc: AuditError, parser: argparse.ArgumentParser, argv: list[str]) -> str:
    """The error's sentence; a :class:`ParameterError` names the option that sets the parameter
    (the library speaks of ``max_min_count``, the user typed ``--max-min-count``)."""
    if isinstance(exc, ParameterError):
        actions = list(parser._actions)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                command = next((token for token in argv if token in action.choices), None)
                if command is not None:
                    actions += action.choices[command]._actions
        for action in actions:
            if action.dest == exc.parameter and action.option_strings:
                return exc.for_option(max(action.option_strings, key=len))
    return str(exc)


_PLACE_ERRORS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT}


def entry() -> None:
    """The console script: :func:`main`, then leave without tearing the interpreter down.

    After a run over a large embedding the process holds hundreds of thousands of Python
    objects; freeing them one by one at exit costs ~0.2 s of a ~3 s command. Everything the
    command writes is closed by then (results are written atomically), so flush the standard
    streams and exit directly.
    """
    import signal
    # Python's default SIGTERM ends the process on the spot, leaving temporary files and staging
    # folders: it is raised as an interrupt instead (audit.core.interrupts)
    signal.signal(signal.SIGTERM, interrupts.on_sigterm)
    code = main()
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass
    try:
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
