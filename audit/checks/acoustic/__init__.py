"""Instance-level audits of acoustic word embeddings: one vector per spoken word token.

The metrics of the acoustic-word-embedding literature (seed papers 000, 001, 003, 004):

- same-different average precision (001): every pair of tokens is scored by cosine and the
  pairs of the same word are the positives; AP is the area under that precision-recall curve.
  Chance is the share of same-word pairs. For large inputs all same-word pairs are scored and
  the different-word pairs are a seeded uniform sample, weighted back to their population
  count, so the estimate stays unbiased and is recorded as sampled;
- Kamper's samediff (the field's reference, kamperh/speech_dtw): on the same pairs, the
  non-interpolated AP and precision-recall breakeven with recall over all same-word pairs
  (SW), same-speaker (SWSP) or different-speaker (SWDP) ones, and the best F1 with its
  threshold (000);
- cross-view AP (001) against a written-word embedding in the same space, pooled and in
  both directions;
- query-by-example retrieval (003): every token queries all the others; mean average
  precision, mean reciprocal rank and recall@k (share of the query word's other tokens in the
  top k). A tie is one threshold for mAP (scikit-learn's convention); MRR and recall@k are
  their expectations over random orders of the ties, so identical vectors score chance;
- clustering (003): k-means with k = number of words on the unit-normalised embeddings,
  silhouette (cosine) of the k-means clusters and of the true words, ARI and AMI against the
  words;
- kNN word classification (004): k = 1 and 5, cosine, majority vote (ties go to the smaller
  word index, as scikit-learn does), trained on some speakers and tested on held-out speakers
  when speakers are given, else on a seeded token split.

Everything works on the unit-normalised float32 embeddings in blocks of query rows, so memory
stays bounded. No torch here.

Laid out as scikit-learn lays out its metrics: one private module per family (``_instances``
the input, ``_same_different`` with samediff, ``_cross_view``, ``_retrieval``, ``_clustering``,
``_knn``, ``_dtw_baseline``, and ``_check`` the whole check and its result); the public names
are re-exported here.
"""

from audit.checks.acoustic._base import BLOCK_ROWS, DEFAULT_SEED, SCORE_DECIMALS, unit_rows
from audit.checks.acoustic._check import (AcousticParameters, AcousticResult, audit_instances,
                                          same_different_ap, samediff)
from audit.checks.acoustic._clustering import (KMEANS_MAX_ITER, Clustering, adjusted_mutual_info,
                                               clustering, cosine_silhouette, kmeans_assign,
                                               kmeans_plusplus)
from audit.checks.acoustic._cross_view import CrossView, cross_view, match_written
from audit.checks.acoustic._dtw_baseline import DtwBaseline, dtw_same_different
from audit.checks.acoustic._instances import InstanceSet, load_instances, make_instances
from audit.checks.acoustic._knn import (KNN_KS, KNN_TEST_FRACTION, KnnClassification, knn_classification,
                                        knn_predict, split_train_test)
from audit.checks.acoustic._retrieval import (CANDIDATE_SHARE, RETRIEVAL_KS, SORT_ABOVE_SLOTS, Retrieval,
                                              query_ranks, retrieval)
from audit.checks.acoustic._same_different import (CURVE_POINTS, DEFAULT_SAMPLE_PAIRS, BestF1, RankedPairs,
                                                   SameDiff, SameDiffVariant, SameDifferent, average_precision,
                                                   best_f1, choose_pairs, cosine_of_pairs, pair_counts,
                                                   same_different_cosine, same_different_from_scores,
                                                   same_speaker_pair_count, same_word_pairs, samediff_cosine,
                                                   samediff_curves, samediff_from_pairs, samediff_variant,
                                                   sample_pairs_uniform)

__all__ = [
    "AcousticParameters", "AcousticResult", "BLOCK_ROWS", "SCORE_DECIMALS", "BestF1", "CANDIDATE_SHARE", "CURVE_POINTS", "Clustering",
    "CrossView", "DEFAULT_SAMPLE_PAIRS", "DEFAULT_SEED", "DtwBaseline", "InstanceSet", "KMEANS_MAX_ITER", "KNN_KS",
    "KNN_TEST_FRACTION", "KnnClassification", "RETRIEVAL_KS", "RankedPairs", "Retrieval", "SORT_ABOVE_SLOTS",
    "SameDiff", "SameDiffVariant", "SameDifferent", "adjusted_mutual_info", "audit_instances", "average_precision",
    "best_f1", "choose_pairs", "clustering", "cosine_of_pairs", "cosine_silhouette", "cross_view",
    "dtw_same_different", "kmeans_assign", "kmeans_plusplus", "knn_classification", "knn_predict", "load_instances",
    "make_instances", "match_written", "pair_counts", "query_ranks", "retrieval", "same_different_ap",
    "same_different_cosine", "same_different_from_scores", "same_speaker_pair_count", "same_word_pairs", "samediff",
    "samediff_cosine", "samediff_curves", "samediff_from_pairs", "samediff_variant", "sample_pairs_uniform",
    "split_train_test", "unit_rows"
]
