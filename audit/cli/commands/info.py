"""`audit info VECTORS`: format, size, duplicates, zero/NaN rows, norms, sha256."""

from __future__ import annotations

from audit.cli.common import add_json_option, add_vector_options, format_table, load_vectors, write_json


def register(sub) -> None:
    parser = sub.add_parser("info", help="describe an embedding file",
                            description="Describe an embedding file: format, words, dimension, duplicates, "
                                        "zero/NaN rows, norm statistics and sha256.")
    parser.add_argument("vectors", metavar="VECTORS", help="embedding file")
    add_vector_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from audit.checks.info import describe

    result = describe(load_vectors(args, args.vectors))
    print(format_table(["property", "value"], [list(r) for r in result.summary_rows()], align="ll"))
    write_json(args, result)
    return 0
