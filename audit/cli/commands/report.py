"""`audit report DIR [--format md|html]`: rebuild a report from its saved result JSON."""

from __future__ import annotations

from pathlib import Path

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
    # imported here: the pipeline imports every check (their result types), which other commands do not need
    from audit.pipeline import rebuild_report
    from reports.run import read_manifest

    for path in rebuild_report(args.directory, (args.report_format,) if args.report_format else None):
        print(path)
    if args.json_out:
        write_json(args, read_manifest(Path(args.directory) / "results" / "run.json"))
    return 0
