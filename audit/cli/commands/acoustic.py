"""`audit acoustic INSTANCES.npz`: instance-level audits of acoustic word embeddings."""

from __future__ import annotations

from audit.cli.common import add_json_option, format_table, write_json


def register(sub) -> None:
    parser = sub.add_parser(
        "acoustic", help="same-different AP, QbE retrieval, clustering and kNN of per-token embeddings",
        description="Audit acoustic word embeddings (one vector per spoken word token): same-different "
                    "average precision (cosine) against chance with Kamper's samediff figures (precision-recall "
                    "breakeven; SWSP and SWDP when speakers are given; best F1 and its threshold), "
                    "query-by-example mAP/MRR/recall@k, k-means silhouette/ARI/AMI and kNN word accuracy on "
                    "held-out speakers; with --frames also the MFCC-DTW same-different baseline; with --agwe "
                    "the cross-view AP against written-word embeddings.")
    parser.add_argument("instances", metavar="INSTANCES.npz",
                        help=".npz with 'embeddings' (tokens x dim), 'labels' (word per token), optional 'speakers'")
    parser.add_argument("--frames", metavar="FRAMES",
                        help="frame store .npz (frames, offsets, word_ids, vocabulary) for the DTW baseline")
    parser.add_argument("--agwe", metavar="FILE",
                        help="embedding of written words in the same space (acoustically grounded word "
                             "embeddings, any format the loaders read): adds cross-view AP, pooled over "
                             "(token, written word) pairs and in both directions")
    parser.add_argument("--sample-pairs", type=int, default=2_000_000, metavar="N",
                        help="score all token pairs up to N, else all same-word pairs (a uniform sample of N/2 "
                             "when they alone are more) plus a seeded weighted sample of different-word pairs, N in "
                             "all; the same budget for cross-view pairs (default: 2,000,000)")
    parser.add_argument("--max-queries", type=int, default=20_000, metavar="N",
                        help="query-by-example: every token with another token of its word queries all tokens, "
                             "each a pass over them; above N such tokens a seeded uniform sample of N queries "
                             "(default: 20,000)")
    parser.add_argument("--dtw-pairs", type=int, default=50_000, metavar="N",
                        help="pairs aligned by DTW for the baseline, sampled the same way (default: 50,000)")
    singletons = parser.add_mutually_exclusive_group()
    singletons.add_argument("--drop-singletons", action="store_true",
                            help="leave out words with a single token instead of refusing the file")
    singletons.add_argument("--keep-singletons", action="store_true",
                            help="keep words with a single token as different-word partners only (Kamper's samediff "
                                 "keeps them, and so does `audit reproduce awe`'s per-epoch AP); dropping them "
                                 "removes different-word pairs and raises the AP")
    parser.add_argument("--speakers", metavar="LIST",
                        help="audit only these speakers' tokens (comma-separated; spaces around a name are "
                             "ignored, so a name with a comma cannot be given), e.g. the held-out speakers of an "
                             "`audit reproduce awe` run: with --keep-singletons and --sample-pairs set to its "
                             "--eval-pairs this recomputes its history's held-out SW and SWDP AP")
    parser.add_argument("--seed", type=int, default=0, help="seed for pair sampling, k-means and the kNN split")
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from audit.checks.acoustic import audit_instances, load_instances

    instances = load_instances(args.instances)
    frames = None
    if args.frames:
        from audit.speech.frames import read_frame_store
        frames = read_frame_store(args.frames)
    written = None
    if args.agwe:
        from audit.core.loaders import load
        written = load(args.agwe)
    result = audit_instances(instances, frames=frames, written=written, sample_pairs=args.sample_pairs,
                             dtw_pairs=args.dtw_pairs, seed=args.seed, drop_singletons=args.drop_singletons,
                             keep_singletons=args.keep_singletons, speakers=speaker_names(args.speakers),
                             max_queries=args.max_queries)
    print(describe(result))
    write_json(args, result)
    return 0


def speaker_names(text: str | None) -> list[str] | None:
    """``--speakers a,b`` -> ["a", "b"] (spaces around names ignored); None when not given."""
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def describe(result) -> str:
    """The summary table with a line saying what was read and how pairs were chosen."""
    speakers = "no speakers" if result.speakers is None else f"{result.speakers:,} speakers"
    sd = result.same_different
    pairs = (f"{sd.same_pairs_scored:,} same-word + {sd.different_pairs_scored:,} different-word pairs "
             f"{'sampled (weighted) ' if sd.sampled else ''}of {sd.pairs_total:,}")
    lines = [f"{result.input.name}: {result.tokens:,} tokens of {result.words:,} words, {speakers}, "
             f"dim {result.input.dim}; seed {result.seed}",
             f"same-different: {pairs}"]
    if result.samediff is not None and result.samediff.swdp is not None:
        swsp, swdp = result.samediff.swsp, result.samediff.swdp
        lines.append(f"of all same-word pairs (not only those scored), {swsp.positive_pairs_total:,} same speaker "
                     f"(SWSP) and {swdp.positive_pairs_total:,} different speakers (SWDP)")
    if result.cross_view is not None:
        cv = result.cross_view
        lines.append(f"cross-view: {cv.tokens:,} tokens x {cv.words:,} written words of {cv.written.name} "
                     f"({cv.pairs_scored:,} pairs {'sampled (weighted) ' if cv.sampled else ''}of {cv.pairs_total:,}); "
                     f"{cv.words_missing:,} audited word(s) without a written embedding"
                     + (f" (e.g. {', '.join(cv.missing_examples[:3])})" if cv.words_missing else ""))
    rt = result.retrieval
    if rt.sampled:
        lines.append(f"query-by-example: a seeded sample of {rt.queries:,} of the {rt.queries_total:,} tokens "
                     "that have another token of their word (each queries all tokens)")
    if result.singletons_dropped:
        lines.append(f"{result.singletons_dropped:,} single-token word(s) left out")
    params = result.parameters
    if params.keep_singletons:
        lines.append("single-token words kept as different-word partners (they query nothing)")
    if params.speakers is not None:
        lines.append(f"only the tokens of speaker(s) {', '.join(params.speakers)}")
    rows = [[name, value, "-" if chance is None else chance] for name, value, chance in result.summary_rows()]
    lines += ["", format_table(["metric", "value", "chance"], rows, align="lrr")]
    return "\n".join(lines)
