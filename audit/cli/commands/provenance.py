"""`audit provenance VECTORS --corpus-root DIR`: is the embedding a text model or a speech model?"""

from __future__ import annotations

from audit.cli.common import add_json_option, add_vector_options, format_table, load_vectors, write_json
from audit.core.errors import AuditError


def register(sub) -> None:
    parser = sub.add_parser(
        "provenance", help="does the embedding resemble text models or speech reproductions?",
        description="Train text skip-gram models (several seeds) on the corpus the embedding claims, compare "
                    "the embedding with them (kNN overlap, RSA, Procrustes) against the seed-to-seed band, "
                    "and do the same with speech reproductions when given; say which family it falls into.")
    parser.add_argument("vectors", metavar="VECTORS", help="embedding file to audit")
    corpus = parser.add_argument_group("reference models")
    corpus.add_argument("--corpus", default="librispeech", choices=("librispeech",),
                        help="corpus layout (default: librispeech)")
    corpus.add_argument("--corpus-root", metavar="DIR", required=True, help="corpus folder in LibriSpeech layout")
    corpus.add_argument("--subsets", nargs="+", metavar="SUBSET", help="subsets to train on (default: all present)")
    corpus.add_argument("--min-count", type=int, default=5, metavar="N",
                        help="vocabulary filter of the text models, as for the audited embedding (default: 5)")
    corpus.add_argument("--seeds", type=int, default=3, metavar="N",
                        help="number of text models, seeds 1..N (default: 3)")
    corpus.add_argument("--window", type=int, default=5, help="text models' context window (default: 5)")
    corpus.add_argument("--epochs", type=int, default=5, help="text models' training epochs (default: 5)")
    corpus.add_argument("--speech", nargs="+", action="extend", metavar="DIR",
                        help="speech reproduction output folders (their vectors.txt); two or more give a band")
    measures = parser.add_argument_group("measures")
    measures.add_argument("--k", type=int, default=10, help="neighbours for the kNN overlap (default: 10)")
    measures.add_argument("--knn-queries", type=int, default=5000, metavar="N",
                          help="query words sampled for the kNN overlap; 0 = every shared word (default: 5000)")
    measures.add_argument("--rsa-words", type=int, default=2000, metavar="N",
                          help="words sampled for the representational similarity (default: 2000)")
    measures.add_argument("--tolerance", type=float, default=0.05,
                          help="relative slack below a band's lower end still counted inside (default: 0.05)")
    measures.add_argument("--seed", type=int, default=0, help="seed of the word samples and split (default: 0)")
    add_vector_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    import dataclasses

    from audit.checks.provenance.reference_models import (TextModelConfig, read_transcripts, reference_seeds, speech_references,
                                        text_references)
    from audit.checks.provenance.resemblance import ResemblanceParams, judge

    if args.knn_queries < 0:
        raise AuditError("--knn-queries must be 0 (every word) or a positive number.")
    params = ResemblanceParams(k=args.k, knn_queries=args.knn_queries or None, rsa_words=args.rsa_words,
                               seed=args.seed, tolerance=args.tolerance)
    params.check()
    seeds = reference_seeds(args.seeds)
    audited = load_vectors(args, args.vectors)
    config = TextModelConfig(dim=audited.dim, min_count=args.min_count, window=args.window, epochs=args.epochs)
    config.check()
    if args.speech and len(args.speech) == 1:
        raise AuditError("give two or more --speech folders (different seeds) so that they have a band.")
    speech = speech_references(args.speech or [], case="lower" if args.lowercase else "keep",
                               duplicates=args.duplicates, nonfinite=args.nonfinite)
    sentences, corpus = read_transcripts(args.corpus_root, args.subsets)
    corpus = dataclasses.replace(corpus, min_count=args.min_count)
    families = {"text": text_references(sentences, config, seeds), "speech": speech}
    result = judge(audited, families, params=params, corpus=corpus,
                   text_model={**config.to_dict(), "seeds": seeds})
    print(render_table(result))
    write_json(args, result)
    return 0


def render_table(result) -> str:
    from audit.checks.provenance.resemblance import MEASURE_TITLES

    blocks = []
    for family in result.families:
        rows = [[MEASURE_TITLES[m.measure], m.audited, f"{m.audited_min:.3f}-{m.audited_max:.3f}",
                 f"{m.band_low:.3f}-{m.band_high:.3f}", m.lower_edge, "inside" if m.inside else "below"]
                for m in family.measures]
        names = ", ".join(r.name for r in family.references)
        blocks.append(f"{family.family} family ({names}; {family.shared_words:,} shared words)\n"
                      + format_table(["measure", "audited", "audited range", "band", "lower edge", ""], rows,
                                     align="lrrrrl"))
    blocks.append(f"verdict: {result.reason}")
    blocks.append(f"rule: {result.decision_rule}")
    return "\n\n".join(blocks)
