"""Package data: facts and figures from the reality-check paper (tables shipped as TSV files).

``speech2vec-vocabulary.tsv`` is Table 5 (vocabulary sizes) and ``speech2vec-not-found-pairs.tsv``
is Table 6 (benchmark pairs not found); :mod:`audit.vocab` shows them beside computed values.
"""
