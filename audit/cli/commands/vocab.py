"""`audit vocab VECTORS --corpus librispeech --corpus-root DIR`: where does the vocabulary come from?"""

from __future__ import annotations

import sys

from audit.cli.common import add_json_option, add_vector_options, format_table, load_vectors, write_json

CORPORA = ("librispeech",)
SHORT_NAMES = {"train-clean-100": "clean-100", "train-clean-360": "clean-360", "train-other-500": "other-500"}


def register(sub) -> None:
    parser = sub.add_parser(
        "vocab", help="trace an embedding's vocabulary to corpus subsets and a min count",
        description="Search every union of the corpus subsets x every min count for the embedding's "
                    "vocabulary (the reality-check paper's Tables 5 and 6): missing and extra words, "
                    "Jaccard, exact matches and whether the best one is unique.")
    parser.add_argument("vectors", metavar="VECTORS", help="embedding file")
    parser.add_argument("--corpus", default="librispeech", choices=CORPORA, help="corpus layout (default: librispeech)")
    parser.add_argument("--corpus-root", metavar="DIR",
                        help="folder holding LibriSpeech/<subset>/... (default: DATA_DIR/librispeech, where "
                             "`audit data fetch librispeech` puts it)")
    parser.add_argument("--subsets", nargs="+", metavar="NAME",
                        help="count only these subsets, by spaces or commas (default: all present)")
    parser.add_argument("--max-min-count", type=int, default=20, metavar="N",
                        help="search min counts 1..N (default: 20)")
    parser.add_argument("--top", type=int, default=10, metavar="N", help="candidates to list (default: 10)")
    parser.add_argument("--examples", type=int, default=20, metavar="N",
                        help="missing/extra words listed per candidate (default: 20)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="data dir: benchmark files for the Table 6 view, default corpus root and count cache")
    parser.add_argument("--counts-cache", metavar="DIR",
                        help="where per-subset word counts are cached (default: DATA_DIR/corpus-counts)")
    parser.add_argument("--no-counts-cache", action="store_true", help="count the transcripts without a cache")
    parser.add_argument("--no-benchmarks", action="store_true", help="skip the Table 6 (benchmark coverage) view")
    add_vector_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from audit.corpora.librispeech import LibriSpeechCorpus, parse_subsets
    from audit.core.datadir import data_dir
    from audit.core.errors import AuditError
    from audit.checks.vocab import provenance

    if args.max_min_count < 1 or args.top < 1 or args.examples < 0:
        raise AuditError("--max-min-count and --top must be at least 1, --examples at least 0.")
    root = args.corpus_root or data_dir(args.data_dir) / "librispeech"
    if not args.corpus_root and not root.exists():
        raise AuditError(f"no corpus at {root}: pass --corpus-root DIR, or run "
                         f"`audit data fetch librispeech --subsets all --transcripts-only` first.")
    corpus = LibriSpeechCorpus(root)
    subsets = parse_subsets(args.subsets) if args.subsets else None
    cache = None if args.no_counts_cache else (args.counts_cache or data_dir(args.data_dir) / "corpus-counts")
    counts = corpus.count(subsets, cache_dir=cache)
    vectors = load_vectors(args, args.vectors)
    pairs = None if args.no_benchmarks else _benchmark_pairs(args.data_dir)
    result = provenance(vectors, counts, max_min_count=args.max_min_count, benchmark_pairs=pairs,
                        top=args.top, examples=args.examples, corpus_name=args.corpus)
    print(render(result))
    write_json(args, result)
    return 0


def _benchmark_pairs(explicit_dir):
    """The 13 benchmarks, each pair counted as `audit benchmarks` counts it (a pair listed twice
    once: WS-353 has 352); without an explicit --data-dir, missing files only skip Table 6."""
    from audit.core.errors import AuditError
    from audit.checks.vocab import table6_benchmarks

    try:
        return table6_benchmarks(explicit_dir)
    except AuditError as exc:
        if explicit_dir:
            raise
        print(f"audit: the Table 6 view is skipped: {exc}", file=sys.stderr)
        return None


def _subsets_label(subsets, all_names) -> str:
    if len(subsets) == len(all_names) and len(subsets) > 1:
        return f"all {len(subsets)}"
    return "+".join(SHORT_NAMES.get(s, s) for s in subsets)


def render(result) -> str:
    """The readable report: summary, best candidate, top candidates, Tables 5 and 6."""
    names = [s.name for s in result.corpus.subsets]
    best = result.best
    lines = [f"embedding: {result.input.name} ({result.embedding_words:,} words, "
             f"{result.embedding_words_in_corpus:,} of them in the corpus)",
             f"corpus: {result.corpus.name} at {result.corpus.root or '(in memory)'}; "
             + ", ".join(f"{s.name} {s.types:,} types / {s.tokens:,} tokens" for s in result.corpus.subsets),
             f"searched {result.searched:,} candidates ({2 ** len(names) - 1} unions x min count "
             f"1..{result.max_min_count}); {result.exact_matches} exact",
             ""]
    if result.embedding_words_not_normalised:
        lines.insert(-1, f"note: {result.embedding_words_not_normalised:,} embedding words are not lowercase single "
                         f"tokens, so no corpus candidate can contain them (try --lowercase)")
    verdict = "EXACT match" if best.exact else "nearest candidate (not exact)"
    uniqueness = "unique" if result.unique else f"NOT unique: {result.tied_with_best} other candidate(s) score the same"
    lines.append(f"best: {_subsets_label(best.subsets, names)}, count >= {best.min_count}: {verdict}, {uniqueness}")
    if not best.exact:
        lines.append(f"  missing {best.missing:,}: {', '.join(best.missing_words) or '-'}")
        lines.append(f"  extra {best.extra:,}: {', '.join(best.extra_words) or '-'}")
    for tie in result.ties:
        lines.append(f"  same score: {_subsets_label(tie.subsets, names)}, count >= {tie.min_count}")
    lines += ["", "top candidates:", format_table(
        ["rank", "subsets", "min count", "words", "missing", "extra", "jaccard", "exact"],
        [[c.rank, _subsets_label(c.subsets, names), c.min_count, c.words, c.missing, c.extra, c.jaccard, c.exact]
         for c in result.candidates], align="rlrrrrrl")]
    lines += ["", "Table 5 view (paper: the reality-check paper's figures for the real LibriSpeech):",
              format_table(["vocabulary", "words", "missing", "extra", "exact", "paper words", "paper missing"],
                           [[r.label, r.words, r.missing, r.extra, r.exact if r.available else "n/a",
                             r.paper_words, r.paper_missing] for r in result.table5], align="lrrrlrr")]
    if result.table6 is not None:
        columns = list(result.table6.columns)
        lines += ["", f"Table 6 view: benchmark pairs not found ({result.table6.normalisation}):",
                  format_table(["benchmark", "pairs", *columns, "paper reported", "paper clean"],
                               [[r.benchmark, r.pairs, *[r.not_found[c] for c in columns], r.paper_reported,
                                 r.paper_libri_clean] for r in result.table6.rows],
                               align="lr" + "r" * len(columns) + "rr")]
    return "\n".join(lines)
