"""`audit data list` and `audit data fetch TARGET`: what is in the data dir, and filling it.

Each fetch target is one entry of FETCH_TARGETS: a help line, a function adding the target's
own options to its parser, and a function doing the fetch from the parsed arguments. Adding a
dataset means adding one entry; nothing else here changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from audit.cli.common import add_json_option, format_table, write_json


@dataclass(frozen=True)
class FetchTarget:
    help: str
    add_options: Callable  # (argparse parser) -> None
    fetch: Callable        # (argparse namespace) -> int exit code


# ------------------------------------------------------------------------------ benchmarks
def _benchmark_options(parser) -> None:
    parser.add_argument("--only", metavar="NAME,...", help="fetch only these benchmarks (e.g. MEN,SimLex-999)")
    parser.add_argument("--mirror", metavar="URL",
                        help="fetch URL/FILE instead of the canonical wordvectors.org files (same checksums)")
    parser.add_argument("--force", action="store_true", help="download again even when a verified copy is there")


def _fetch_benchmarks(args) -> int:
    from benchmarks import fetch_benchmarks

    def report(outcome):
        print(f"{outcome.name}: {outcome.action} ({outcome.path})", flush=True)

    outcomes = fetch_benchmarks(args.data_dir, only=args.only, mirror=args.mirror, force=args.force,
                                on_file=report)
    kept = sum(o.action.startswith("kept") for o in outcomes)
    print(f"{len(outcomes) - kept} benchmark file(s) present and verified"
          + (f"; {kept} kept that differ from the registered files (--force replaces them)." if kept else "."))
    write_json(args, {"kind": "data-fetch", "target": "benchmarks",
                      "files": [{"name": o.name, "action": o.action, "path": str(o.path)} for o in outcomes]})
    return 0


# ------------------------------------------------------------------------------ librispeech
def _librispeech_options(parser) -> None:
    parser.add_argument("--subsets", required=True, nargs="+", metavar="NAME",
                        help="subsets to fetch, by spaces or commas, e.g. train-clean-100 train-clean-360, or all")
    parser.add_argument("--transcripts-only", action="store_true",
                        help="stream the archives and keep only *.trans.txt (the only mode offered)")
    parser.add_argument("--root", metavar="DIR", help="corpus root (default: DATA_DIR/librispeech)")
    parser.add_argument("--mirror", metavar="URL", help="fetch URL/<subset>.tar.gz instead of openslr.org")
    parser.add_argument("--skip-md5", action="store_true",
                        help="record the archive md5 but do not compare it with OpenSLR's (a repacking mirror)")
    parser.add_argument("--force", action="store_true", help="fetch again even subsets marked complete")


def _fetch_librispeech(args) -> int:
    from audit.corpora.librispeech import parse_subsets
    from audit.core.datadir import data_dir
    from audit.core.errors import AuditError
    from audit.corpora.fetch import OFFICIAL_BASE_URL, OFFICIAL_MD5, fetch_transcripts

    if not args.transcripts_only:
        raise AuditError("only transcripts can be fetched: pass --transcripts-only (the audio archives, "
                         "about 60 GB, are at https://www.openslr.org/12).")
    root = args.root or data_dir(args.data_dir) / "librispeech"
    outcomes = fetch_transcripts(root, parse_subsets(args.subsets), base_url=args.mirror or OFFICIAL_BASE_URL,
                                 expected_md5=None if args.skip_md5 else OFFICIAL_MD5, force=args.force,
                                 on_start=lambda subset, url: print(f"{subset}: streaming {url}", flush=True))
    for o in outcomes:
        check = "md5 verified" if o.md5_verified else "md5 recorded, not checked"
        print(f"{o.subset}: {o.action}, {o.transcripts:,} transcript files, {o.archive_bytes:,} archive bytes, "
              f"{check} ({o.path})")
    print(f"corpus root: {root}  (use: audit vocab VECTORS --corpus-root {root})")
    write_json(args, {"kind": "data-fetch", "target": "librispeech", "root": str(root),
                      "subsets": [{"subset": o.subset, "action": o.action, "transcripts": o.transcripts,
                                   "archive_bytes": o.archive_bytes, "md5_verified": o.md5_verified,
                                   "path": str(o.path)} for o in outcomes]})
    return 0


# One entry per dataset `audit data fetch` can download, in the order `--help` lists them.
FETCH_TARGETS: dict[str, FetchTarget] = {
    "benchmarks": FetchTarget("the 13 word-similarity benchmark files (sha256-verified)",
                              _benchmark_options, _fetch_benchmarks),
    "librispeech": FetchTarget("LibriSpeech transcripts (streamed from the official archives, no audio kept)",
                               _librispeech_options, _fetch_librispeech),
}


# ------------------------------------------------------------------------------ parser
def register(sub) -> None:
    parser = sub.add_parser("data", help="list or fetch the data files the audits read",
                            description="List what is in the data dir and verified, or download a dataset "
                                        "into it. The data dir is --data-dir, else $AUDIT_DATA_DIR, else the "
                                        "user cache dir.")
    actions = parser.add_subparsers(dest="data_action", metavar="ACTION", parser_class=type(parser))
    lister = actions.add_parser("list", help="show which data files are present and verified")
    _add_data_dir(lister)
    add_json_option(lister)
    lister.set_defaults(run=run_list)
    fetcher = actions.add_parser("fetch", help="download a dataset into the data dir")
    targets = fetcher.add_subparsers(dest="target", metavar="TARGET", parser_class=type(parser))
    for name, target in FETCH_TARGETS.items():
        target_parser = targets.add_parser(name, help=target.help, description=f"Download {target.help}.")
        _add_data_dir(target_parser)
        add_json_option(target_parser)
        target.add_options(target_parser)
        target_parser.set_defaults(run=target.fetch)
    fetcher.set_defaults(run=_missing(f"name what to fetch: {', '.join(FETCH_TARGETS)}"))
    parser.set_defaults(run=_missing("name an action: list or fetch"))


def _add_data_dir(parser) -> None:
    parser.add_argument("--data-dir", metavar="DIR",
                        help="the data dir (default: $AUDIT_DATA_DIR, else the user cache dir)")


def _missing(sentence: str):
    def run(args) -> int:
        from audit.core.errors import AuditError
        raise AuditError(f"{sentence} (see 'audit data --help').")
    return run


def run_list(args) -> int:
    from audit.core.datadir import data_dir
    from audit.corpora.fetch import fetched_subsets
    from benchmarks import benchmark_status

    statuses = benchmark_status(args.data_dir)
    print(f"data dir: {data_dir(args.data_dir)}")
    rows = [["benchmarks", s.name, s.file, s.status, s.path] for s in statuses]
    root = data_dir(args.data_dir) / "librispeech"       # where `audit data fetch librispeech` puts it
    subsets = fetched_subsets(root)
    rows += [["librispeech", subset, f"{transcripts:,} transcripts", status, root / "LibriSpeech" / subset]
             for subset, status, transcripts in subsets]
    print(format_table(["dataset", "name", "file", "status", "path"], rows, align="lllll"))
    write_json(args, {"kind": "data-list", "data_dir": str(data_dir(args.data_dir)),
                      "benchmarks": [{"name": s.name, "file": s.file, "status": s.status, "path": str(s.path)}
                                     for s in statuses],
                      "librispeech": [{"subset": subset, "status": status, "transcripts": transcripts,
                                       "path": str(root / "LibriSpeech" / subset)} for subset, status, transcripts
                                      in subsets]})
    missing = sum(s.status != "verified" for s in statuses)
    if missing:
        print(f"{missing} benchmark file(s) missing or not verified: run `audit data fetch benchmarks`.")
    return 0
