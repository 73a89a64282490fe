"""`audit benchmarks VECTORS`: Spearman on the 13 word-similarity benchmarks, beside the paper's claims."""

from __future__ import annotations

from audit.cli.common import add_json_option, add_vector_options, format_table, load_vectors, write_json
from audit.core.evidence import FEW_BENCHMARK_PAIRS

OOV_CHOICES = ("drop", "zero", "mean", "all")


def register(sub) -> None:
    parser = sub.add_parser(
        "benchmarks", help="Spearman on the 13 word-similarity benchmarks",
        description="Score an embedding on the 13 wordvectors.org word-similarity benchmarks (Spearman of "
                    "cosine vs gold score, ties by average rank) and show the Speech2Vec paper's claims and "
                    "the reality check's reproduction beside each. Pairs with a missing word are handled by a "
                    "named policy: drop the pair (wordvectors.org), score it 0, or use the mean vector.")
    parser.add_argument("vectors", metavar="VECTORS", help="embedding file")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder holding the benchmark files (in DIR or DIR/word-sim); default "
                             "$AUDIT_DATA_DIR, else the user cache filled by `audit data fetch benchmarks`")
    parser.add_argument("--oov", choices=OOV_CHOICES, default="all",
                        help="missing-word policy shown in the table (default: all three); "
                             "the JSON always has every policy")
    parser.add_argument("--only", metavar="NAME,...", help="evaluate only these benchmarks (e.g. MEN,SimLex-999)")
    parser.add_argument("--keep-benchmark-case", action="store_true",
                        help="do not lowercase the benchmark words (they are lowercased by default)")
    parser.add_argument("--duplicate-pairs", choices=("last", "keep"), default="last",
                        help="a (word1, word2) pair listed twice (WS-353's money/cash): score it once at its "
                             "last line's score, as wordvectors.org and the reality check do (default), or "
                             "keep every line")
    add_vector_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from benchmarks import evaluate

    vectors = load_vectors(args, args.vectors)
    result = evaluate(vectors, data_dir=args.data_dir, only=args.only, lowercase=not args.keep_benchmark_case,
                      duplicates=args.duplicate_pairs)
    print(render_table(result, args.oov))
    write_json(args, result)
    return 0


def render_table(result, oov: str = "all") -> str:
    policies = ("drop", "zero", "mean") if oov == "all" else (oov,)
    headers = (["benchmark", "pairs", "found", "not found"] + [f"rho {p}" for p in policies]
               + ["S2V claim", "RC SGD-500", "RC Adam-500", "S2V not found", "Libri not found"])
    rows = [[s.name, s.pairs, s.found, s.not_found] + [_rho(s.coefficient(p), s.few_pairs) for p in policies]
            + [_rho(s.paper_claim), _rho(s.rc_sgd_500_epoch), _rho(s.rc_adam_500_epoch), s.paper_not_found,
               s.libri_clean_not_found]
            for s in result.results]
    align = "l" + "r" * (len(headers) - 1)
    lines = [format_table(headers, rows, align=align), ""]
    lines.append(f"rho: Spearman of cosine vs gold score; '-' = undefined (fewer than 2 pairs scored, or every "
                 f"cosine or score alike), never 0. Benchmark words "
                 f"{'lowercased' if result.lowercase else 'kept as written'}.")
    few = [s.name for s in result.results if s.few_pairs and any(s.coefficient(p) is not None for p in policies)]
    if few:
        lines.append(f"* found on fewer than {FEW_BENCHMARK_PAIRS} pairs ({', '.join(few)}): too few to read (two pairs always "
                     f"give +-1); left out of the findings.")
    lines.append("Missing words: drop = pair left out (wordvectors.org), zero = cosine 0, "
                 f"mean = word replaced by the {result.mean_vector}.")
    repeated = [f"{s.name} {s.duplicate_pairs}" for s in result.results if s.duplicate_pairs]
    lines.append(f"{result.duplicates.capitalize()} (lines repeating a pair: {', '.join(repeated) or 'none'}); "
                 "pairs = pairs scored.")
    lines.append("S2V claim: the Speech2Vec paper; RC: the reality check's reproduction (500 epochs); "
                 "not found: Speech2Vec's reported count and the count with all LibriSpeech clean words.")
    mismatched = [s.file for s in result.results if not s.checksum_ok]
    if mismatched:
        lines.append(f"Warning: {', '.join(mismatched)} differ from the registered files (sha256); "
                     "their numbers are not comparable with the paper's.")
    return "\n".join(lines)


def _rho(value: float | None, few: bool = False) -> str:
    return "-" if value is None else f"{value:.3f}{'*' if few else ''}"
