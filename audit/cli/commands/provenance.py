"""`audit provenance VECTORS --corpus-root DIR`: is the embedding a text model or a speech model?"""

from __future__ import annotations

from audit.cli.common import add_json_option, add_vector_options, format_table, load_vectors, write_json
from audit.core.errors import AuditError


def register(sub) -> None:
    parser = sub.add_parser(
        "provenance", help="does the embedding resemble text models or speech reproductions?",
        description="Train reference text models on the corpus the embedding claims, over a grid of recipes "
                    "(skip-gram and CBOW, windows 2-10, negative sampling and hierarchical softmax, subsampling, "
                    "fastText), and non-text references (the same recipes on the token-shuffled corpus, random "
                    "embeddings, speech reproductions when given); compare the embedding with each (kNN overlap, "
                    "RSA, Procrustes) and say which family it resembles beyond the others, and which recipe is "
                    "closest. References are cached under the data dir.")
    parser.add_argument("vectors", metavar="VECTORS", help="embedding file to audit")
    corpus = parser.add_argument_group("reference models")
    corpus.add_argument("--corpus", default="librispeech", choices=("librispeech",),
                        help="corpus layout (default: librispeech)")
    corpus.add_argument("--corpus-root", metavar="DIR", required=True, help="corpus folder in LibriSpeech layout")
    corpus.add_argument("--subsets", nargs="+", metavar="SUBSET",
                        help="subsets to train on, by spaces or commas (default: all present)")
    corpus.add_argument("--min-count", type=int, default=5, metavar="N",
                        help="vocabulary filter of the reference models, as for the audited embedding (default: 5)")
    corpus.add_argument("--recipes", nargs="+", metavar="RECIPE",
                        help="text reference recipes instead of the default grid, each key=value pairs joined by "
                             "commas, e.g. 'arch=cbow,window=8' 'model=fasttext,loss=hs' (keys: model, arch, "
                             "window, epochs, loss, negative, sample, alpha, min_n, max_n)")
    corpus.add_argument("--shuffled", type=int, default=3, metavar="N",
                        help="token-shuffled-corpus references: the first N recipes, plus the grid's first "
                             "recipe of each model (word2vec, fastText) they lack, so every kind of text model has "
                             "a no-context counterpart (0 = none, else at least 3: a family needs three members "
                             "for a spread; default: 3, which with the default grid makes 4)")
    corpus.add_argument("--random", type=int, default=3, metavar="N",
                        help="random Gaussian references (0 = none, else at least 3; default: 3)")
    corpus.add_argument("--speech", nargs="+", action="extend", metavar="DIR",
                        help="speech reproduction output folders (their vectors.txt); three or more")
    corpus.add_argument("--workers", type=int, default=0, metavar="N",
                        help="processes training references (default 0: every CPU)")
    corpus.add_argument("--data-dir", metavar="DIR",
                        help="data dir holding the reference cache (default: $AUDIT_DATA_DIR, else the user cache)")
    corpus.add_argument("--no-cache", action="store_true", help="train every reference, read and write no cache")
    measures = parser.add_argument_group("measures")
    measures.add_argument("--k", type=int, default=10, help="neighbours for the kNN overlap (default: 10)")
    measures.add_argument("--knn-queries", type=int, default=5000, metavar="N",
                          help="query words sampled for the kNN overlap; 0 = every shared word (default: 5000)")
    measures.add_argument("--rsa-words", type=int, default=2000, metavar="N",
                          help="words sampled for the representational similarity (default: 2000)")
    measures.add_argument("--tolerance", type=float, default=0.05,
                          help="relative slack below a band's lower end, for the reported band (default: 0.05)")
    measures.add_argument("--seed", type=int, default=0, help="seed of the word samples and split (default: 0)")
    add_vector_options(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from audit.checks.provenance.resemblance import ResemblanceParams
    from audit.checks.provenance.run import ReferenceSetup, model_provenance
    from audit.corpora.librispeech import subset_names

    if args.knn_queries < 0:
        raise AuditError("--knn-queries must be 0 (every word) or a positive number.")
    params = ResemblanceParams(k=args.k, knn_queries=args.knn_queries or None, rsa_words=args.rsa_words,
                               seed=args.seed, tolerance=args.tolerance)
    params.check()
    setup = ReferenceSetup(recipes=tuple(args.recipes or ()), min_count=args.min_count, shuffled=args.shuffled,
                           random=args.random, speech=tuple(args.speech or ()),
                           subsets=tuple(subset_names(args.subsets)) if args.subsets else None,
                           cache=not args.no_cache, data_dir=args.data_dir, workers=args.workers)
    setup.check()
    audited = load_vectors(args, args.vectors)
    result = model_provenance(audited, args.corpus_root, setup, params,
                              load_options={"case": "lower" if args.lowercase else "keep",
                                            "duplicates": args.duplicates, "nonfinite": args.nonfinite})
    print(render_table(result))
    write_json(args, result)
    return 0


def render_table(result) -> str:
    from audit.checks.provenance.resemblance import MEASURE_TITLES, MEASURES

    blocks = []
    families = [f.family for f in result.families]
    rows = [[MEASURE_TITLES[m]] + [f"{f.spread(m).best:.3f} ± {f.spread(m).spread:.3f}" for f in result.families]
            for m in MEASURES]
    blocks.append(f"audited vs each family: best score over its members ± the family's spread of best matches "
                  f"({result.families[0].shared_words:,} shared words)\n"
                  + format_table(["measure", *families], rows, align="l" + "r" * len(families)))
    if result.contests:
        rows = [[c.family, c.rival, c.measure, c.gap, c.margin, "beats" if c.beats else "does not beat"]
                for c in result.contests]
        blocks.append("contests (gap = difference of best scores; beats when gap > margin = sqrt(spread^2/n + rival spread^2/n_rival))\n"
                      + format_table(["family", "rival", "measure", "gap", "margin", "gap > margin"], rows,
                                     align="lllrrl"))
    text = next((f for f in result.families if f.family == "text"), None)
    if text is not None:
        recipes = {r.name: r.recipe for r in text.references}
        rows = [[p.second, recipes.get(p.second, ""), p.knn_overlap, p.rsa_spearman, p.procrustes_cosine]
                for p in text.audited_pairs]
        blocks.append("audited vs each text reference\n"
                      + format_table(["reference", "recipe", "kNN", "RSA", "Procrustes"], rows, align="llrrr"))
    for family in result.families:
        rows = [[MEASURE_TITLES[m.measure], m.audited, f"{m.band_low:.3f}-{m.band_high:.3f}", m.lower_edge,
                 "not below" if m.inside else "below"] for m in family.measures]
        blocks.append(f"{family.family} family band (range over pairs of its {len(family.references)} members; the "
                      f"lower edge is its low end less its width and a tolerance)\n"
                      + format_table(["measure", "audited (mean)", "band", "lower edge", "mean vs lower edge"], rows,
                                     align="lrrrl"))
    # named only when a family won: under "neither" every score may sit at chance, and a named nearest
    # recipe reads as a resemblance (the report does the same)
    if result.closest_text is not None and result.verdict != "neither":
        c = result.closest_text
        blocks.append(f"closest text recipe: {c.recipe} ({c.name}; kNN {c.knn_overlap:.3f}, RSA {c.rsa_spearman:.3f}, "
                      f"Procrustes {c.procrustes_cosine:.3f})")
    t = result.timings
    blocks.append(f"timings: corpus {t.read_corpus_s:.1f} s, references {t.references_s:.1f} s ({t.trained} trained "
                  f"in {t.workers} processes, {t.cached} from the cache{', ' + t.cache_dir if t.cache_dir else ''}), "
                  f"comparison {t.compare_s:.1f} s")
    blocks.append(f"verdict: {result.reason}")
    blocks.append(f"rule: {result.decision_rule}")
    return "\n\n".join(blocks)
