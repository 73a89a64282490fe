"""`audit all VECTORS [VECTORS ...] --out DIR`: every applicable check, one report.

Parse the flags, call :func:`audit.pipeline.run_all` (which checks apply, skips with reasons,
the staged output folder and its rules), print the summary, write ``--json``.
"""

from __future__ import annotations

from pathlib import Path

from audit.cli.common import add_json_option, add_vector_options, format_table, write_json
from audit.core.errors import AuditError
from audit.core.results import shown


def register(sub) -> None:
    parser = sub.add_parser("all", help="run every applicable check and write a report",
                            description="Run every check that applies to each embedding and write DIR/index.html, "
                                        "DIR/report.md, DIR/results/*.json and DIR/figures/*.")
    parser.add_argument("vectors", metavar="VECTORS", nargs="+", help="embedding files (side by side when several)")
    parser.add_argument("--names", nargs="+", metavar="NAME", help="a display name per embedding")
    parser.add_argument("--out", required=True, metavar="DIR", help="report folder (created or replaced)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder with the benchmark files (and the cache of provenance reference models)")
    parser.add_argument("--corpus-root", metavar="DIR", help="a corpus in LibriSpeech layout, for vocabulary provenance")
    parser.add_argument("--pairs", default="paper-307", metavar="SOURCE",
                        help="homophone pairs: paper-307 (default), cmudict or a TSV file")
    parser.add_argument("--provenance", action="store_true",
                        help="also judge whether each embedding resembles text models or not, as `audit provenance` "
                             "does: reference models trained on --corpus-root over a grid of recipes, against models "
                             "of the token-shuffled corpus, random embeddings and --speech runs; references are "
                             "cached under the data dir; minutes on real LibriSpeech")
    parser.add_argument("--recipes", nargs="+", metavar="RECIPE",
                        help="with --provenance: text reference recipes instead of the default grid (as in "
                             "`audit provenance`, e.g. 'arch=cbow,window=8')")
    parser.add_argument("--speech", nargs="+", action="extend", metavar="DIR",
                        help="with --provenance: speech reproduction output folders (their vectors.txt) as a "
                             "reference family; three or more")
    parser.add_argument("--seed", type=int, default=0, help="seed for random pairs and MDS (default 0)")
    parser.add_argument("--claims", metavar="FILE",
                        help="what a paper or release claims about each embedding (TOML or JSON, by display name); "
                             "the report's findings compare the claims with what the checks found")
    parser.add_argument("--roles", nargs="+", metavar="NAME=ROLE",
                        help="the role of an embedding in the findings: released, reproduction, random-init, "
                             "text-model, acoustic-model (a genuine acoustic word embedding) or other (default: "
                             "inferred: a reproduction folder's final vectors are the reproduction, or the "
                             "acoustic model for an AWE run, its epochs/epoch_000.txt the random init, an embedding "
                             "claimed to be speech the release, one claimed to be text a text model)")
    parser.add_argument("--title", help="report title")
    add_vector_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def load_options(args) -> dict:
    """The loader keywords of the shared embedding-file flags."""
    return {"format": args.format, "limit": args.limit, "case": "lower" if args.lowercase else "keep",
            "duplicates": args.duplicates, "nonfinite": args.nonfinite, "allow_pickle": args.allow_pickle,
            "cache_dir": args.cache_dir, "unicode_errors": args.unicode_errors}


def run(args) -> int:
    # imported here: the pipeline imports every check, which no other command needs at startup
    from audit.pipeline import AuditOptions, ReferenceSetup, run_all
    from audit.core.claims import load_claims

    if args.names is not None and len(args.names) != len(args.vectors):
        raise AuditError(f"--names gives {len(args.names)} names for {len(args.vectors)} embedding files.")
    names = args.names or [shown(Path(p).name) for p in args.vectors]   # undecodable bytes as \xff, \n as \\n
    if len(set(names)) != len(names):
        raise AuditError("each embedding needs a distinct name; pass --names.")
    if args.provenance and not args.corpus_root:
        raise AuditError("--provenance needs --corpus-root, the corpus to train the reference text models on.")
    if (args.recipes or args.speech) and not args.provenance:
        raise AuditError("--recipes and --speech set the references of model provenance; add --provenance.")
    claims = load_claims(args.claims) if args.claims else None
    references = ReferenceSetup(recipes=tuple(args.recipes or ()), speech=tuple(args.speech or ()))
    options = AuditOptions(data_dir=args.data_dir, corpus_root=args.corpus_root, pairs=args.pairs,
                           provenance=args.provenance, seed=args.seed, title=args.title, load=load_options(args),
                           claims=claims, roles=parse_roles(args.roles or ()), references=references)
    outcome = run_all(args.vectors, args.out, options, names=names)
    print_outcome(outcome)
    write_json(args, outcome.manifest)     # --json: the run manifest (kind audit-run)
    return 0


def parse_roles(items) -> dict[str, str]:
    roles = {}
    for item in items:
        name, sep, role = item.rpartition("=")
        if not sep or not name or not role:
            raise AuditError(f"--roles takes NAME=ROLE, not {item!r}.")
        if name in roles:
            raise AuditError(f"--roles gives {name!r} twice.")
        roles[name] = role
    return roles


def print_outcome(outcome) -> None:
    print(format_table(list(outcome.SUMMARY_HEADERS), outcome.summary_rows(), align="llll"))
    print(f"report: {outcome.out / 'index.html'} (Markdown: {outcome.out / 'report.md'})")
    print_findings(outcome.findings)


def print_findings(result) -> None:
    """The report's findings block, last on the terminal: every finding with its status."""
    if result is None:
        return
    print("findings:")
    for finding in result.findings:
        print(f"  {finding.title}: {finding.status}. {finding.sentence}")
