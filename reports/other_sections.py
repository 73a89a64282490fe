"""Vocabulary (Tables 5-6), benchmarks (Table 7, Fig. 2), training (Fig. 3), instance MDS
(Fig. 4), acoustic and provenance sections."""

from __future__ import annotations

import dataclasses
from typing import Any

from audit.core.evidence import FEW_BENCHMARK_PAIRS
from reports import figures
from reports.document import Figure, Heading, Number, Paragraph, Table
from reports.fields import ap_label, embedding_figure, evaluated_tokens, number
from reports.run import ReportData

MAX_LISTED_WORDS = 30


def _n(value, digits: int = 3) -> Number:
    return Number(number(value), digits)


# ------------------------------------------------------------------------------ vocabulary
def vocab_section(data: ReportData) -> list:
    having = data.having("vocab")
    if not having:
        return []
    blocks: list = [Heading("Vocabulary provenance (Tables 5 and 6)", anchor="vocabulary")]
    for e in having:
        r = e.results["vocab"]
        best = r.best
        blocks.append(Table(
            ["embedding", "closest candidate", "min count", "exact", "missing", "extra", "Jaccard"],
            [[e.name, " + ".join(best.subsets) or "-", _n(best.min_count), "yes" if best.exact else "no",
              _n(best.missing), _n(best.extra), _n(best.jaccard, 4)]],
            caption="The corpus vocabulary (union of subsets x minimum count) closest to the embedding's."))
        blocks += _candidate_table(e.name, r)
        blocks += _listed_words(e.name, best)
        blocks += _rows_table(r.table5, f"{e.name}: vocabulary composition (Table 5 layout).")
        blocks += _table6(e.name, r.table6)
    return blocks


def _candidate_table(name: str, result) -> list:
    candidates = result.candidates[:10]
    if not candidates:
        return []
    rows = [[" + ".join(c.subsets), _n(c.min_count), "yes" if c.exact else "no", _n(c.missing), _n(c.extra),
             _n(c.jaccard, 4)] for c in candidates]
    return [Table(["subsets", "min count", "exact", "missing", "extra", "Jaccard"], rows,
                  caption=f"{name}: the closest candidate vocabularies, best first.")]


def _table6(name: str, table) -> list:
    """Pairs not found per benchmark for each candidate vocabulary, beside the paper's counts."""
    if table is None or not table.rows:
        return []
    columns = list(table.columns)
    rows = [[row.benchmark, _n(row.pairs)] + [_n(row.not_found.get(c)) for c in columns]
            + [_n(row.paper_reported), _n(row.paper_libri_clean)] for row in table.rows]
    return [Table(["benchmark", "pairs", *columns, "Speech2Vec paper reported", "paper: Libri-Clean all words"], rows,
                  caption=f"{name}: benchmark pairs not found when the vocabulary is each candidate (Table 6 "
                          f"layout); benchmark words normalised: {table.normalisation}.")]


def _listed_words(name: str, best) -> list:
    blocks = []
    for field in ("missing_words", "extra_words"):
        words = getattr(best, field)
        if words:
            shown = ", ".join(words[:MAX_LISTED_WORDS])
            blocks.append(Paragraph(f"{name}: {field.replace('_', ' ')} (examples): {shown}"
                                    + (" ..." if len(words) > MAX_LISTED_WORDS else "")))
    return blocks


def _rows_table(rows, caption: str) -> list:
    """Rows of one dataclass as a table, one column per field (in the dataclass's order)."""
    if not rows:
        return []
    columns = [f.name for f in dataclasses.fields(rows[0])]
    body = [[_plain(getattr(row, c)) for c in columns] for row in rows]
    return [Table([c.replace("_", " ") for c in columns], body, caption=caption)]


def _plain(value) -> object:
    if isinstance(value, (list, tuple)):
        return " + ".join(map(str, value)) or "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return Number(value, 3)
    if isinstance(value, int):
        return Number(value)
    return "-" if value is None else str(value)


# ------------------------------------------------------------------------------ benchmarks
_CLAIM_SERIES = (("paper_claim", "Speech2Vec paper"), ("rc_sgd_rand_init", "RC SGD rand init"),
                 ("rc_sgd_500_epoch", "RC SGD 500 ep"), ("rc_adam_rand_init", "RC Adam rand init"),
                 ("rc_adam_500_epoch", "RC Adam 500 ep"))


def _claim(score, field: str):
    """A benchmark score's published figure (``field`` from _CLAIM_SERIES); None when absent."""
    return None if score is None else number(getattr(score, field))


def _field(score, field: str):
    return None if score is None else getattr(score, field)


def benchmark_section(data: ReportData) -> list:
    having = data.having("benchmarks")
    if not having:
        return []
    tables = [{score.name: score for score in e.results["benchmarks"].results} for e in having]
    names = list(dict.fromkeys(name for table in tables for name in table))
    claims = [(field, label) for field, label in _CLAIM_SERIES
              if any(_claim(t.get(n), field) is not None for t in tables for n in names)]
    headers = ["benchmark"] + [label for _, label in claims]
    for e in having:
        headers += [f"{e.name} ρ", f"{e.name} found", f"{e.name} not found"]
    rows = []
    for name in names:
        reference = next(t[name] for t in tables if name in t)
        row = [name] + [Number(_claim(reference, field), 2) for field, _ in claims]
        for table in tables:
            entry = table.get(name)
            row += [_n(_field(entry, "spearman")), _n(_field(entry, "found")), _n(_field(entry, "not_found"))]
        rows.append(row)
    few = sorted({f"{e.name} on {name}" for e, table in zip(having, tables) for name, entry in table.items()
                  if entry.spearman is not None and entry.few_pairs})
    caution = (f" A ρ found on fewer than {FEW_BENCHMARK_PAIRS} pairs is too few to read (two pairs always give ±1): "
               f"{'; '.join(few)}; left out of the figure and the findings." if few else "")
    blocks = [Heading("Word-similarity benchmarks (Table 7, Fig. 2)", anchor="benchmarks"),
              Table(headers, rows, caption="Spearman ρ (pairs with a missing word dropped) beside the Speech2Vec "
                                           "paper's claims and the reality check's reproduction (RC)." + caution)]
    blocks += _oov_table(having, names, tables)
    series = {label: [_claim(next(t[n] for t in tables if n in t), field) for n in names]
              for field, label in claims[:1] + [c for c in claims if c[0] == "rc_sgd_500_epoch"]}
    for e, table in zip(having, tables):
        series[e.name] = [None if table.get(n) is not None and table[n].few_pairs
                          else number(_field(table.get(n), "spearman")) for n in names]
    blocks.append(Figure("benchmarks", figures.benchmark_bars(names, series),
                         f"Spearman ρ per benchmark: the Speech2Vec paper's claims vs measured (missing bars: no value, "
                         f"or found on fewer than {FEW_BENCHMARK_PAIRS} pairs)."))
    return blocks


def _oov_table(having, names, tables) -> list:
    headers = ["benchmark"]
    for e in having:
        headers += [f"{e.name} drop", f"{e.name} zero", f"{e.name} mean"]
    rows = []
    for name in names:
        row = [name]
        for table in tables:
            entry = table.get(name)
            row += [_n(_field(entry, policy)) for policy in ("spearman", "spearman_zero", "spearman_mean")]
        rows.append(row)
    return [Table(headers, rows, caption="Spearman ρ under each missing-word policy: drop the pair (the "
                                         "wordvectors.org convention), score it 0, or use the mean vector.")]


# ------------------------------------------------------------------------------ training history
def training_section(data: ReportData) -> list:
    having = data.having("training-history")
    blocks: list = []
    for e in having:
        epochs = e.results["training-history"].epochs
        if not epochs:
            continue
        numbers = [ep.epoch for ep in epochs]
        loss = [number(ep.loss) for ep in epochs]
        metrics = _epoch_metrics(epochs)
        if not blocks:
            blocks.append(Heading("Reproduction training (Fig. 3)", anchor="training"))
        rows = [[_n(numbers[i], 0), _n(loss[i], 4), _n(ep.pairs_per_second, 0)]
                + [_n(values[i], 4 if name == SAME_DIFFERENT else 3) for name, values in metrics.items()]
                for i, ep in enumerate(epochs)]
        blocks.append(Table(["epoch", "loss", "pairs/s", *metrics], rows,
                            caption=f"{e.name}: per-epoch loss, speed and evaluation (epoch 0 = random init)."))
        blocks.append(Figure(embedding_figure("learning-curves", e.name), figures.learning_curves(numbers, loss, metrics),
                             f"{e.name}: learning curves (x: epoch; y: loss or the metric; each y-axis spans at "
                             f"least {figures.LEAST_SPAN:.0%} of its largest value, so smaller changes look flat)."))
    return blocks


def awe_training_section(data: ReportData) -> list:
    """An acoustic word embedding run (``audit reproduce awe``): per epoch, the loss and the
    same-different AP of the held-out speakers' tokens (all tokens, the training tokens, under
    ``--split none``: labelled so), beside the MFCC-DTW baseline on the same tokens; epoch 0 is the
    random initialisation."""
    blocks: list = []
    for e in data.having("awe-training-history"):
        history = e.results["awe-training-history"]
        epochs = history.epochs
        if not epochs:
            continue
        if not blocks:
            blocks.append(Heading("Acoustic word embedding training", anchor="awe-training"))
        numbers = [ep.epoch for ep in epochs]
        loss = [number(ep.loss) for ep in epochs]
        split = history.split
        sw, swdp = ap_label(split.split, "SW"), ap_label(split.split, "SWDP")   # what was evaluated, by the split
        metrics = {sw: [number(ep.held_out.sw_ap) for ep in epochs],
                   swdp: [number(ep.held_out.swdp_ap) for ep in epochs]}
        rows = [[_n(ep.epoch, 0), _n(loss[i], 4), _n(ep.tokens_per_second, 0), _n(ep.held_out.sw_ap, 4),
                 _n(ep.held_out.swdp_ap, 4), ep.homophones.verdict if ep.homophones is not None else "not run"]
                for i, ep in enumerate(epochs)]
        held_out, no_split = ((f"{len(split.test_speakers)} held-out speakers ({split.test_tokens} tokens)", "")
                              if split.split == "speakers" else
                              (f"all {split.test_tokens} tokens, the training tokens", "no split; "))
        baseline = history.dtw_baseline
        dtw = (f"; MFCC-DTW on the same tokens: SW AP {_n(baseline.sw_ap, 4).text()}, "
               f"SWDP AP {_n(baseline.swdp_ap, 4).text()}" if baseline is not None else "")
        dtw_pairs = f"; MFCC-DTW, {_pairs_scored(baseline)}" if baseline is not None else ""
        blocks.append(Table(["epoch", "loss", "tokens/s", sw, swdp, "homophones"], rows,
                            caption=f"{e.name}: per-epoch loss, speed and same-different AP of {held_out} "
                                    f"({no_split}epoch 0 = random init{dtw}). Pairs scored: each epoch, "
                                    f"{_pairs_scored(epochs[-1].held_out)} (the same pairs every epoch)"
                                    f"{dtw_pairs}."))
        blocks.append(Figure(embedding_figure("learning-curves", e.name),
                             figures.learning_curves(numbers, loss, metrics),
                             f"{e.name}: learning curves of the loss and the AP of {evaluated_tokens(split.split)}, "
                             f"by epoch (each y-axis spans at least {figures.LEAST_SPAN:.0%} of its largest value, "
                             f"so smaller changes look flat)."))
    return blocks


SAME_DIFFERENT = "same-different AP"   # shown with four decimals: epochs can differ in the fourth


def _pairs_scored(ap) -> str:
    """Which pairs an AWE history's AP (a HeldOutAP) scored: all of them, or a seeded sample."""
    if ap.sampled:
        return (f"a seeded sample of {_n(ap.pairs_scored).text()} of the {_n(ap.pairs_total).text()} pairs, "
                f"weighted back to all pairs")
    return f"all {_n(ap.pairs_total).text()} pairs"


_HOMOPHONE_METRICS = (("homophone cosine", "homophone_mean"), ("random cosine", "random_mean"),
                      ("homophone rank (median)", "homophone_rank_median"))


def _epoch_metrics(epochs) -> dict[str, list]:
    """Benchmark coefficients, homophone summary numbers and the instances' same-different AP
    per epoch, by metric name."""
    metrics: dict[str, list] = {}
    for index, epoch in enumerate(epochs):
        values: dict[str, Any] = {b.name: b.spearman for b in epoch.benchmarks}
        if epoch.homophones is not None:
            for label, field in _HOMOPHONE_METRICS:
                if number(getattr(epoch.homophones, field)) is not None:
                    values[label] = getattr(epoch.homophones, field)
        if number(epoch.same_different_ap) is not None:   # the encoder's instances, not the word vectors
            values[SAME_DIFFERENT] = epoch.same_different_ap
        for label, value in values.items():
            metrics.setdefault(label, [None] * len(epochs))[index] = number(value)
    return metrics


# ------------------------------------------------------------------------------ instance MDS
def mds_section(data: ReportData) -> list:
    blocks: list = []
    for e in data.having("instance-mds"):
        r = e.results["instance-mds"]
        panels = []
        for panel in r.panels:
            words = [(w.word, [p[0] for p in w.points], [p[1] for p in w.points]) for w in panel.words]
            panels.append((f"{panel.label}: {' / '.join(w[0] for w in words)}", words))
        if not panels:
            continue
        if not blocks:
            blocks.append(Heading("Per-instance embeddings (Fig. 4)", anchor="instances"))
        rows = [[p.label, " / ".join(w.word for w in p.words), " / ".join(str(len(w.points)) for w in p.words),
                 _n(p.stress, 4)] for p in r.panels]
        blocks.append(Table(["pair type", "words", "instances", "MDS stress"], rows,
                            caption=f"{e.name}: multidimensional scaling of the encoder output of each spoken "
                                    f"instance (seed recorded in the JSON)."))
        blocks.append(Figure(embedding_figure("instances-mds", e.name), figures.mds_scatter(panels),
                             f"{e.name}: MDS of per-instance embeddings; homophones mixed means the encoder "
                             f"cannot tell them apart."))
    return blocks


# ------------------------------------------------------------------------------ acoustic, provenance
def acoustic_section(data: ReportData) -> list:
    having = data.having("acoustic")
    if not having:
        return []
    results = [e.results["acoustic"] for e in having]
    rows = [["tokens", *[_n(r.tokens) for r in results]], ["words", *[_n(r.words) for r in results]],
            # four decimals: a trained encoder and its random init can differ in the fourth
            ["same-different AP (cosine)", *[_n(r.same_different.average_precision, 4) for r in results]],
            ["same-different chance", *[_n(r.same_different.chance, 4) for r in results]],
            ["same-different AP (MFCC DTW)", *[_n(r.dtw.same_different.average_precision if r.dtw else None, 4)
                                               for r in results]],
            ["QbE mAP", *[_n(r.retrieval.mean_average_precision, 4) for r in results]],
            ["QbE MRR", *[_n(r.retrieval.mean_reciprocal_rank, 4) for r in results]]]
    ks = list(dict.fromkeys(k for r in results for k in r.retrieval.recall_at))
    rows += [[f"QbE recall@{k}", *[_n(r.retrieval.recall_at.get(k)) for r in results]] for k in ks]
    rows += [["k-means silhouette (cosine)", *[_n(r.clustering.silhouette_kmeans) for r in results]],
             ["word silhouette (cosine)", *[_n(r.clustering.silhouette_words) for r in results]],
             ["k-means ARI", *[_n(r.clustering.adjusted_rand) for r in results]],
             ["k-means AMI", *[_n(r.clustering.adjusted_mutual_info) for r in results]]]
    ks = list(dict.fromkeys(k for r in results for k in r.knn.accuracy))
    rows += [[f"kNN accuracy k={k}", *[_n(r.knn.accuracy.get(k)) for r in results]] for k in ks]
    sampled = [f"{e.name}: {r.retrieval.queries:,} of {r.retrieval.queries_total:,}"
               for e, r in zip(having, results) if r.retrieval.sampled]
    # what part of each file was audited, when not all of it as it stands
    scope = [f"{e.name}: " + "; ".join(
                 ([f"only the tokens of speaker(s) {', '.join(r.parameters.speakers)}"] if r.parameters.speakers else [])
                 + (["single-token words kept as different-word partners"] if r.parameters.keep_singletons else [])
                 + ([f"{r.singletons_dropped:,} single-token word(s) left out"] if r.singletons_dropped else []))
             for e, r in zip(having, results)
             if r.parameters.speakers or r.parameters.keep_singletons or r.singletons_dropped]
    queries = (f" Query-by-example on a seeded uniform sample of the queries ({'; '.join(sampled)}), each against "
               "every token." if sampled else "")
    blocks = [Heading("Acoustic word discrimination (instance level)", anchor="acoustic"),
              Table(["measure"] + [e.name for e in having], rows,
                    caption="Per-instance embeddings: same-different average precision (chance = share of "
                            "same-word pairs), query-by-example retrieval, clustering and kNN word accuracy."
                            + queries + (f" Audited: {' | '.join(scope)}." if scope else ""))]
    blocks += _samediff_blocks(having, results)
    blocks += _cross_view_blocks(having, results)
    curves = {e.name: (list(r.same_different.recall), list(r.same_different.precision))
              for e, r in zip(having, results)}
    if any(len(recall) for recall, _ in curves.values()):
        blocks.append(Figure("same-different-pr", figures.precision_recall(curves),
                             "Same-different precision-recall curves of the per-instance embeddings (cosine)."))
    return blocks


# The samediff table's measures: (label, variant field of AcousticResult.samediff, figure), SWDP
# first. Results written before samediff existed (samediff None) get no rows.
SAMEDIFF_MEASURES = (
    ("SWDP AP (same word, different speakers: the honest figure)", "swdp", "average_precision"),
    ("SWDP precision-recall breakeven", "swdp", "precision_recall_breakeven"),
    ("SWSP AP (same word, same speaker: easy pairs)", "swsp", "average_precision"),
    ("SWSP precision-recall breakeven", "swsp", "precision_recall_breakeven"),
    ("SW AP (every same-word pair)", "sw", "average_precision"),
    ("SW precision-recall breakeven", "sw", "precision_recall_breakeven"))
BEST_F1_MEASURES = (("best F1 (the highest F1 over all cosine thresholds, as seed paper 000 reports it)", "f1"),
                    ("best F1 threshold (cosine; pairs at or above it are called the same word)", "threshold"),
                    ("best F1 precision", "precision"), ("best F1 recall", "recall"))


def f1_chance(chance):
    """F1 of calling every pair the same word (precision = the share of same-word pairs, recall 1)."""
    chance = number(chance)
    return None if chance is None else 2 * chance / (1 + chance)


def _samediff_blocks(having, results) -> list:
    """Kamper's samediff (SW / SWSP / SWDP AP and breakeven, best F1), one row per measure."""
    rows, notes, sampled = [], [], False
    for e, r in zip(having, results):
        kamper = r.samediff
        if kamper is None:
            continue
        chance = r.same_different.chance
        sampled = sampled or kamper.sampled
        for label, variant_name, figure in SAMEDIFF_MEASURES:
            variant = getattr(kamper, variant_name)
            if variant is None:
                continue
            no_pairs = variant.positive_pairs_total == 0    # e.g. SWDP of one speaker: no value, so no chance either
            rows.append([e.name, label, _n(getattr(variant, figure), 4), "-" if no_pairs else _n(chance, 4),
                         _n(variant.positive_pairs_scored), _n(variant.positive_pairs_total)])
        for label, figure in BEST_F1_MEASURES:
            rows.append([e.name, label, _n(getattr(kamper.best_f1, figure), 4),
                         _n(f1_chance(chance), 4) if figure == "f1" else "-", "-", "-"])
        if kamper.swdp is None:
            notes.append(Paragraph(f"{e.name}: the instances record no speakers, so SWSP and SWDP (the honest "
                                   f"figure) are not computed; SW counts same-speaker pairs, which are easy."))
    if not rows:
        return []
    how = ("on a seeded sample of pairs, weighted back to all pairs" if sampled else "on every pair")
    return [Table(["embedding", "measure", "value", "chance", "same-word pairs scored", "same-word pairs in all"],
                  rows, caption=f"Kamper's samediff evaluation (cosine, {how}): non-interpolated average precision "
                                f"and precision-recall breakeven over all same-word pairs (SW), same-speaker (SWSP) "
                                f"and different-speaker (SWDP) same-word pairs. SWDP is the honest figure: "
                                f"same-speaker pairs are easy. Chance is the share of same-word pairs for every AP "
                                f"and breakeven, and 2c/(1+c) for F1 (calling every pair the same word)."), *notes]


def _cross_view_blocks(having, results) -> list:
    """Cross-view AP between the tokens and a written-word embedding (seed 001), when measured."""
    rows, notes = [], []
    for e, r in zip(having, results):
        cv = r.cross_view
        if cv is None:
            continue
        rows.append([e.name, cv.written.name or cv.written.path or "-", _n(cv.average_precision, 4), _n(cv.chance, 4),
                     _n(cv.acoustic_to_written, 4), _n(cv.written_to_acoustic, 4), _n(cv.words), _n(cv.words_missing),
                     _n(cv.tokens), _n(cv.tokens_missing), _n(cv.pairs_scored), _n(cv.pairs_total)])
        notes.append(Paragraph(f"{e.name}: written words matched to the audited words by {cv.match}; pairs "
                               f"{'sampled (seeded, weighted back)' if cv.sampled else 'all scored'}."
                               + (f" Audited words without a written embedding (examples): "
                                  f"{', '.join(cv.missing_examples)}" if cv.missing_examples else "")))
    if not rows:
        return []
    return [Table(["embedding", "written-word embedding", "cross-view AP", "chance", "acoustic -> written mAP",
                   "written -> acoustic mAP", "words", "words missing", "tokens", "tokens missing", "pairs scored",
                   "pairs in all"], rows,
                  caption="Cross-view word discrimination (seed 001): each (token, written word) pair is a trial, "
                          "positive when the token is spoken that word; chance = 1 / words. acoustic -> written: "
                          "each token ranks the written words; written -> acoustic: each written word ranks the "
                          "tokens (mean average precision)."), *notes]


def provenance_section(data: ReportData) -> list:
    having = data.having("provenance")
    if not having:
        return []
    blocks: list = [Heading("Model provenance: text model or speech model?", anchor="provenance")]
    band_rows = []
    for e in having:
        r = e.results["provenance"]
        blocks.append(Paragraph(f"{e.name}: {r.verdict}. {r.reason}".strip()))
        if getattr(r, "contests", None):      # issue 17: the families' contest and the closest recipe
            blocks.append(Table(["family", "rival", "measure", "gap", "margin", "gap > margin"],
                                [[c.family, c.rival, c.measure, _n(c.gap), _n(c.margin),
                                  "beats" if c.beats else "does not beat"] for c in r.contests],
                                caption=f"{e.name}: each verdict family against each rival; gap = difference of "
                                        f"the audited embedding's best scores over their members, margin = the "
                                        f"standard error of that difference from the families' spreads of best "
                                        f"matches and member counts; a family beats a rival on a measure when "
                                        f"gap > margin (about one standard error: a weak criterion alone, "
                                        f"hence two of three measures against every rival)."))
        if getattr(r, "closest_text", None) is not None and r.closest_text.recipe and r.verdict != "neither":
            blocks.append(Paragraph(f"{e.name}: closest text recipe {r.closest_text.recipe} "
                                    f"({r.closest_text.name})."))
        for family in r.families:
            references = ", ".join(ref.name for ref in family.references)
            rows = [[m.measure, _n(m.audited), _n(m.audited_min), _n(m.audited_max), _n(m.band_low), _n(m.band_high),
                     _n(m.lower_edge), "not below" if m.inside else "below"] for m in family.measures]
            blocks.append(Table(["measure", "audited (mean)", "audited min", "audited max", "band low", "band high",
                                 "lower edge", "mean vs lower edge"], rows,
                                caption=f"{e.name} vs the {family.family} family ({references}; "
                                        f"{_n(family.shared_words).text()} shared words): the audited "
                                        f"embedding's scores against each member beside the members' own "
                                        f"band (range over pairs of members); the lower edge is the band's low "
                                        f"end less its width and a tolerance. With rival families the contests "
                                        f"above decide the verdict, not this band."))
            band_rows += [(f"{figures.cut(e.name, 18)} / {family.family} / {m.measure}", number(m.audited),
                           number(m.band_low), number(m.band_high)) for m in family.measures]
    rules = {e.results["provenance"].decision_rule for e in having}
    blocks += [Paragraph(f"Decision rule: {rule}", emphasis=True) for rule in sorted(rules) if rule]
    if band_rows:
        blocks.append(Figure("provenance-bands", figures.score_bands(band_rows, "score (grey: reference band)"),
                             "Audited embedding's scores (dots) against each reference family's seed-to-seed "
                             "band (grey bars)."))
    return blocks
