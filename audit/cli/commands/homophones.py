"""`audit homophones VECTORS`: are homophones each other's neighbours, as in speech embeddings?"""

from __future__ import annotations

from audit.core.errors import AuditError
from audit.cli.common import (add_json_option, add_vector_options, format_table, input_folders, input_paths, load_vectors,
                              write_json)

SHOWN_PAIRS = 5
SHOWN_MISSING = 10


def register(sub) -> None:
    parser = sub.add_parser(
        "homophones", help="homophone audit: pair similarity, kNN homophone rank and a verdict",
        description="Compare homophone pairs with random and control pairs (cosine, Mann-Whitney U, effect size), "
                    "rank each homophone among its partner's neighbours, and decide from the ranks whether the "
                    "embedding places homophones as a model of spoken words must (phonetic / partly-phonetic / "
                    "non-phonetic / inconclusive).")
    parser.add_argument("vectors", metavar="VECTORS", help="embedding file")
    parser.add_argument("--pairs", default="paper-307", metavar="SOURCE",
                        help="paper-307 (default: the reality-check paper's list), cmudict, or a TSV file of "
                             "word1<TAB>word2 lines")
    parser.add_argument("--k", type=int, default=3, help="nearest neighbours to list per word (default 3)")
    parser.add_argument("--random-pairs", type=int, metavar="N",
                        help="random pairs to compare with (default: as many as homophone pairs found)")
    parser.add_argument("--seed", type=int, default=0, help="seed for random and control pairs (default 0)")
    raw = parser.add_argument_group("raw acoustic similarity (the paper's Table 2 'Raw' column)")
    raw.add_argument("--raw-corpus", metavar="DIR", nargs="?", const="embedded",
                     help="also measure the MFCC-DTW similarity of the pairs spoken in a LibriSpeech-layout corpus "
                          "with word alignments (no DIR: the embedded eSpeak NG corpus, built on first use)")
    raw.add_argument("--wav2vec2", metavar="DIR",
                     help="with --raw-corpus: also the cosine of mean-pooled wav2vec 2.0 features from a local "
                          "model directory (never downloaded)")
    raw.add_argument("--raw-json", metavar="PATH", help="write the raw-similarity result (kind homophones-raw)")
    raw.add_argument("--data-dir", metavar="DIR", help="where the embedded corpus and frame stores are cached")
    add_vector_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from homophones import check, load_pairs

    if args.wav2vec2 and not args.raw_corpus:
        raise AuditError("--wav2vec2 needs --raw-corpus (the spoken words to feed it).")
    if args.raw_json is not None and not args.raw_corpus:
        raise AuditError("--raw-json needs --raw-corpus (it writes the raw similarities that option computes).")
    pairs = load_pairs(args.pairs)  # a bad source fails before the (slower) embedding load
    result = check(load_vectors(args, args.vectors), pairs, k=args.k, random_pairs=args.random_pairs,
                   seed=args.seed)
    print(render(result))
    raw = None
    if args.raw_corpus:
        from homophones.raw import raw_similarity_for_corpus

        raw = raw_similarity_for_corpus(pairs, None if args.raw_corpus == "embedded" else args.raw_corpus,
                                        wav2vec2_dir=args.wav2vec2, data_dir=args.data_dir, seed=args.seed)
        print()
        print(describe_raw(raw))
    # Outputs only once everything has been computed: a failing raw-similarity step leaves no JSON.
    write_json(args, result)
    if raw is not None and args.raw_json:
        from audit.core.results import write_json_atomic
        write_json_atomic(args.raw_json, raw, inputs=input_paths(args), folders=input_folders(args),
                          what="--raw-json")
    return 0


def render(result) -> str:
    """The readable summary printed by the command."""
    cov = result.pairs
    lines = [f"homophone audit of {result.input.name} ({result.input.words:,} words x {result.input.dim})",
             f"pairs: {cov.source}: {cov.found:,} of {cov.total:,} found, {cov.missing:,} missing; "
             f"{cov.spelling_variants_found} spelling variants kept out of the verdict", ""]
    lines += [_similarity_table(result), "", _test_table(result), "", _rank_table(result), ""]
    lines += _pair_tables(result) + _knn_table(result) + _missing_lines(result)
    lines += [f"verdict: {result.verdict.upper()}: {result.verdict_reason}", f"rule: {result.rule.text}"]
    return "\n".join(lines)


def describe_raw(result, examples: int = 10) -> str:
    """Summary (homophones vs random word pairs) and the first pairs beside the paper's Raw."""
    def summary(name, s):
        return [name, s.mean, s.std, s.n]
    rows = [summary("homophones, MFCC-DTW", result.homophone_mfcc_dtw),
            summary("random word pairs, MFCC-DTW", result.random_mfcc_dtw)]
    if result.wav2vec2_model:
        rows += [summary("homophones, wav2vec2", result.homophone_wav2vec2),
                 summary("random word pairs, wav2vec2", result.random_wav2vec2)]
    lines = [f"raw acoustic similarity: {result.pairs_found} pairs of {result.pairs_source} spoken in "
             f"{result.corpus_root or result.frames_path} ({len(result.pairs_missing)} not spoken there)",
             format_table(["pairs", "mean", "std", "n"], rows, align="lrrr"), ""]
    table = [[f"{p.word1} / {p.word2}", p.mfcc_dtw, p.wav2vec2, p.paper_raw, p.comparisons,
              "yes" if p.same_speaker else "no"] for p in result.pairs[:examples]]
    lines.append(format_table(["pair", "MFCC-DTW", "wav2vec2", "paper Raw", "instance pairs", "same speaker"],
                              table, align="lrrrrl"))
    return "\n".join(lines)


def _similarity_table(result) -> str:
    rows = [[name, s.mean, s.std, s.median, s.n] for name, s in (
        ("homophone", result.homophone_similarity), ("random", result.random_similarity),
        ("control", result.control_similarity))]
    return format_table(["pairs (cosine)", "mean", "std", "median", "n"], rows, align="lrrrr")


def _test_table(result) -> str:
    rows = [[f"homophone > {t.against}", f"{t.statistic:,.1f}", "< 1e-300" if t.p_value == 0 else t.p_value,
             _p_method(t.test), t.effect_size,
             f"[{t.ci_low:.3f}, {t.ci_high:.3f}]"]
            for t in (result.test_vs_random, result.test_vs_control)]
    table = format_table(["Mann-Whitney U (one-sided)", "U", "p", "p from", "rank-biserial", "bootstrap 95% CI"], rows,
                         align="lrrlrr")
    if result.evidence.pairs < result.rule.min_pairs:
        table += (f"\n(only {result.evidence.pairs} evidence pairs: too few for these tests and intervals to carry "
                  f"weight; the verdict needs {result.rule.min_pairs})")
    return table


def _p_method(test: str) -> str:
    return "exact" if "exact" in test else "normal approx."


def _rank_table(result) -> str:
    rows = []
    for name, r in (("homophone", result.homophone_rank), ("control", result.control_rank),
                    ("homophone, verdict pairs", result.evidence.homophone),
                    ("control, verdict pairs", result.evidence.control)):
        rows.append([name, _rank(r.median), f"{r.mean:,.1f}" if r.n else "-", f"{100 * r.share_within_cutoff:.1f}%" if r.n else "-",
                     f"{100 * r.median_share_of_vocabulary:.2f}%" if r.n else "-", r.n])
    return format_table(["directed ranks (1 = nearest)", "median", "mean", f"<= {result.rule.rank_cutoff}",
                         "median / vocabulary", "n"], rows, align="lrrrrr")


def _pair_tables(result) -> list[str]:
    rows = sorted(result.pair_table, key=lambda r: (-r.similarity, r.word1, r.word2))
    if not rows:
        return []
    paper = any(r.paper is not None for r in rows)
    headers = ["pair", "cosine", "rank 1->2", "rank 2->1"] + (["paper raw", "paper official", "paper ours"] if paper else [])

    def line(r):
        name = f"{r.word1}/{r.word2}" + (" (spelling variant)" if r.spelling_variant else "")
        cells = [name, r.similarity, _rank(r.rank_1_to_2), _rank(r.rank_2_to_1)]
        if paper:
            cells += [r.paper.raw_wav2vec, r.paper.official_50d, r.paper.reproduced_50d] if r.paper else [None] * 3
        return cells

    align = "lrrr" + ("rrr" if paper else "")
    out = ["most similar pairs", format_table(headers, [line(r) for r in rows[:SHOWN_PAIRS]], align=align), ""]
    out += ["least similar pairs", format_table(headers, [line(r) for r in rows[-SHOWN_PAIRS:][::-1]], align=align), ""]
    return out


def _knn_table(result) -> list[str]:
    if not result.knn_examples:
        return []
    paper = any(e.paper_official_rank is not None for e in result.knn_examples)
    headers = ["word", f"{result.parameters.k} nearest neighbours", "homophone", "rank"]
    headers += ["paper official rank", "paper ours rank"] if paper else []
    rows = []
    for e in result.knn_examples:
        cells = [e.word, ", ".join(e.neighbours), e.partner, _rank(e.homophone_rank)]
        if paper:
            cells += [e.paper_official_rank, e.paper_reproduced_rank]
        rows.append(cells)
    return ["k nearest neighbours and homophone rank (Table 3)",
            format_table(headers, rows, align="lllr" + ("rr" if paper else "")), ""]


def _missing_lines(result) -> list[str]:
    missing = result.pairs.missing_pairs
    if not missing:
        return []
    shown = ", ".join(f"{m.word1}/{m.word2}" for m in missing[:SHOWN_MISSING])
    more = result.pairs.missing - min(SHOWN_MISSING, len(missing))
    return [f"missing pairs: {shown}" + (f" and {more:,} more (see --json)" if more > 0 else ""), ""]


def _rank(value: float):
    """Whole ranks print as integers, medians between two ranks with one decimal; NaN (no
    rank) stays a float so the table shows '-'."""
    if value != value:
        return value
    return int(value) if float(value).is_integer() else f"{value:,.1f}"
