"""`audit acoustic INSTANCES.npz`: instance-level audits of acoustic word embeddings."""

from __future__ import annotations

from audit.cli.common import add_json_option, format_table, write_json


def register(sub) -> None:
    parser = sub.add_parser(
        "acoustic", help="same-different AP, QbE retrieval, clustering and kNN of per-token embeddings",
        description="Audit acoustic word embeddings (one vector per spoken word token): same-different "
                    "average precision (cosine) against chance, query-by-example mAP/MRR/recall@k, k-means "
                    "silhouette/ARI/AMI and kNN word accuracy on held-out speakers; with --frames also the "
                    "MFCC-DTW same-different baseline.")
    parser.add_argument("instances", metavar="INSTANCES.npz",
                        help=".npz with 'embeddings' (tokens x dim), 'labels' (word per token), optional 'speakers'")
    parser.add_argument("--frames", metavar="FRAMES",
                        help="frame store .npz (frames, offsets, word_ids, vocabulary) for the DTW baseline")
    parser.add_argument("--sample-pairs", type=int, default=2_000_000, metavar="N",
                        help="score all token pairs up to N, else all same-word pairs plus a seeded weighted "
                             "sample of different-word pairs, N in all (default: 2,000,000)")
    parser.add_argument("--dtw-pairs", type=int, default=50_000, metavar="N",
                        help="pairs aligned by DTW for the baseline, sampled the same way (default: 50,000)")
    parser.add_argument("--drop-singletons", action="store_true",
                        help="leave out words with a single token instead of refusing the file")
    parser.add_argument("--seed", type=int, default=0, help="seed for pair sampling, k-means and the kNN split")
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from audit.checks.acoustic import audit_instances, load_instances

    instances = load_instances(args.instances)
    frames = None
    if args.frames:
        from audit.speech.dtw import load_frame_store
        frames = load_frame_store(args.frames)
    result = audit_instances(instances, frames=frames, sample_pairs=args.sample_pairs, dtw_pairs=args.dtw_pairs,
                             seed=args.seed, drop_singletons=args.drop_singletons)
    print(describe(result))
    write_json(args, result)
    return 0


def describe(result) -> str:
    """The summary table with a line saying what was read and how pairs were chosen."""
    speakers = "no speakers" if result.speakers is None else f"{result.speakers:,} speakers"
    sd = result.same_different
    pairs = (f"{sd.same_pairs_scored:,} same-word + {sd.different_pairs_scored:,} different-word pairs "
             f"{'sampled (weighted) ' if sd.sampled else ''}of {sd.pairs_total:,}")
    lines = [f"{result.input.name}: {result.tokens:,} tokens of {result.words:,} words, {speakers}, "
             f"dim {result.input.dim}; seed {result.seed}",
             f"same-different: {pairs}"]
    if result.singletons_dropped:
        lines.append(f"{result.singletons_dropped:,} single-token word(s) left out")
    rows = [[name, value, "-" if chance is None else chance] for name, value, chance in result.summary_rows()]
    lines += ["", format_table(["metric", "value", "chance"], rows, align="lrr")]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- raw homophone similarity
def raw_similarity_for_corpus(pairs, corpus_root=None, *, wav2vec2_dir=None, data_dir=None, seed: int = 0,
                              max_instances: int = 8, progress=None):
    """Table 2's Raw column for ``pairs`` spoken in a corpus (the embedded eSpeak NG one by default).

    Glue for ``audit homophones --raw-corpus DIR [--wav2vec2 DIR]``: builds (or reuses) the
    corpus and its MFCC frame store in the data dir, exactly where the reproduction keeps them,
    then runs :func:`homophones.raw.raw_similarity`.
    """
    from pathlib import Path

    from audit.core.datadir import data_dir as resolve_data_dir
    from audit.speech.dtw import load_frame_store
    from homophones.raw import raw_similarity
    from audit.speech.features import build_frame_store, store_key
    from audit.corpora.spoken import build_corpus, default_corpus_dir

    cache = resolve_data_dir(data_dir)
    if corpus_root is None:
        corpus_root = build_corpus(default_corpus_dir(data_dir), progress=progress)
    corpus_root = Path(corpus_root)
    settings = dict(sample_rate=16000, n_mfcc=13, n_fft=512, hop_length=512)
    store_path = cache / "speech2vec-frames" / f"{store_key(corpus_root, (), **settings)}.npz"
    build_frame_store(corpus_root, store_path, progress=progress, **settings)
    return raw_similarity(pairs, load_frame_store(store_path), corpus_root=corpus_root, wav2vec2_dir=wav2vec2_dir,
                          max_instances=max_instances, seed=seed)


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
