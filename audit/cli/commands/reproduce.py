"""`audit reproduce speech2vec|awe`: re-run the Speech2Vec claim with a faithful, fast trainer, and
train a genuine acoustic word embedding (the positive control) on the same corpus and pipeline."""

from __future__ import annotations

from audit.cli.common import add_json_option, write_json


def register(sub) -> None:
    from reproductions.speech2vec.config import add_training_arguments   # torch-free
    parser = sub.add_parser("reproduce", help="re-run a published embedding's training",
                            description="Re-run a published embedding's training from scratch.")
    models = parser.add_subparsers(dest="model", metavar="MODEL", parser_class=type(parser))
    speech2vec = models.add_parser(
        "speech2vec", help="Speech2Vec (skip-gram) on the embedded eSpeak NG corpus or LibriSpeech",
        description="Train Speech2Vec (skip-gram, BiLSTM encoder, attentive decoder) on the embedded "
                    "eSpeak NG corpus (default) or a LibriSpeech-layout corpus with word alignments; "
                    "evaluate every epoch with the homophone and benchmark checks. Under torchrun use "
                    "'python -m reproductions.speech2vec.train' with the same options.")
    add_training_arguments(speech2vec)
    add_json_option(speech2vec)
    speech2vec.set_defaults(run=run)
    from reproductions.awe.config import add_awe_arguments   # torch-free
    awe = models.add_parser(
        "awe", help="an acoustic word embedding (BiLSTM, triplet or proxy loss): the positive control",
        description="Train an acoustic word embedding as the field trains them: a BiLSTM over each spoken "
                    "word's MFCC frames with a cosine triplet loss (batch-hard or semi-hard mining) or the "
                    "asymmetric-proxy loss with written-word proxies (letters or CMUdict phones), on the "
                    "Speech2Vec reproduction's corpus and frame store. A quarter of the speakers is held out "
                    "of training (default) and every epoch reports their same-different AP (SW and SWDP), "
                    "beside the MFCC-DTW baseline on the same tokens, and the homophone check.")
    add_awe_arguments(awe)
    add_json_option(awe)
    awe.set_defaults(run=run_awe)


def run(args) -> int:
    from audit.cli.common import format_table
    from reproductions.speech2vec.config import config_from_args
    from reproductions.speech2vec.train import train

    cfg = config_from_args(args)
    history = train(cfg, args.out, cache_dir=args.cache_dir, benchmark_dir=args.data_dir, resume=args.resume,
                    quiet=args.quiet)
    rows = []
    for record in history.epochs:
        h = record.homophones
        rows.append([record.epoch, record.loss, record.pairs_per_second, record.seconds, h.verdict if h else "-",
                     h.homophone_mean if h else None, h.random_mean if h else None,
                     None if record.same_different_ap is None else f"{record.same_different_ap:.4f}"])
    print(format_table(["epoch", "loss", "pairs/s", "seconds", "homophones", "homophone cos", "random cos",
                        "same-diff AP"], rows, align="rrrrlrrr"))
    chance = history.epochs[-1].same_different_chance
    if chance is not None:   # absent from epochs recorded by older versions
        print(f"same-diff AP: cosine, the encoder's per-instance embeddings (chance {chance:.4f})")
    last = history.epochs[-1]
    print(f"\nbenchmarks: {last.benchmarks_skipped or f'{len(last.benchmarks)} scored per epoch (history.csv)'}")
    print(f"wrote {args.out}: vectors.txt, epochs/, history.json, history.csv, instances.npz, checkpoints/, config.json")
    write_json(args, history)
    return 0


def run_awe(args) -> int:
    from audit.cli.common import format_table
    from reproductions.awe.config import awe_config_from_args
    from reproductions.awe.train import train

    cfg = awe_config_from_args(args)
    history = train(cfg, args.out, cache_dir=args.cache_dir, data_dir=args.data_dir, resume=args.resume,
                    quiet=args.quiet)
    rows = []
    for record in history.epochs:
        h = record.homophones
        rows.append([record.epoch, record.loss, record.tokens_per_second, record.seconds,
                     f"{record.held_out.sw_ap:.4f}", f"{record.held_out.swdp_ap:.4f}", h.verdict if h else "-",
                     h.homophone_mean if h else None, h.random_mean if h else None])
    print(format_table(["epoch", "loss", "tokens/s", "seconds", "SW AP", "SWDP AP", "homophones", "homophone cos",
                        "random cos"], rows, align="rrrrrrlrr"))
    split, held = history.split, history.epochs[-1].held_out
    who = f"held-out speakers {', '.join(split.test_speakers)}" if split.split == "speakers" else \
        "all speakers (no split: trained on the same tokens)"
    print(f"AP: cosine between the tokens of {who}: {held.tokens:,} tokens, {held.pairs_scored:,} pairs scored "
          f"(Kamper's samediff; chance {held.chance:.4f})")
    if history.dtw_baseline is not None:
        dtw = history.dtw_baseline
        print(f"MFCC-DTW baseline on the same tokens ({dtw.pairs_scored:,} pairs): SW AP {dtw.sw_ap:.4f}, "
              f"SWDP AP {dtw.swdp_ap:.4f}")
    extra = ", agwe.txt" if history.written is not None else ""
    print(f"wrote {args.out}: vectors.txt, epochs/, history.json, history.csv, instances.npz{extra}, checkpoints/, "
          "config.json")
    write_json(args, history)
    return 0
