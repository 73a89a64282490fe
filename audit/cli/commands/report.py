"""`audit report DIR [--format md|html]`: rebuild a report from its saved result JSON."""

from __future__ import annotations

from audit.cli.common import add_json_option, write_json


def register(sub) -> None:
    parser = sub.add_parser("report", help="re-render a report from DIR/results/*.json",
                            description="Re-render DIR/report.md, DIR/index.html and DIR/figures/* from the result "
                                        "JSON in DIR/results, without recomputing anything.")
    parser.add_argument("directory", metavar="DIR", help="a folder written by `audit all` (or holding results/)")
    parser.add_argument("--format", dest="report_format", choices=("md", "html"),
                        help="write only this format (default: both)")
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from reports import FORMATS, render_files, write_files

    formats = (args.report_format,) if args.report_format else FORMATS
    files = render_files(args.directory, formats)
    for path in write_files(args.directory, files):
        print(path)
    if args.json_out:
        from pathlib import Path

        from audit.core.results import load_result
        write_json(args, load_result(Path(args.directory) / "results" / "run.json"))
    return 0
