"""Matplotlib figures as deterministic SVG text.

Figures are drawn on a bare :class:`matplotlib.figure.Figure` with the SVG canvas (no pyplot,
no global backend switch), with a fixed ``svg.hashsalt`` and no date in the metadata, so the
same data always gives the same bytes and ``audit report`` rebuilds identical files. Each
function takes plain numbers already read from result JSON; none computes a statistic.
"""

from __future__ import annotations

import io
import math
import warnings
from typing import Mapping, Sequence

import numpy as np

from audit.core.results import text_of

_RC = {"svg.hashsalt": "embedding-audit", "svg.fonttype": "none", "font.size": 9, "axes.formatter.useoffset": False,
       "axes.spines.top": False, "axes.spines.right": False}
_METADATA = {"Date": None, "Creator": "embedding-audit"}


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasSVG(figure)
    return figure


def _svg(figure) -> str:
    buffer = io.StringIO()
    with warnings.catch_warnings():
        # A word in a script the default font lacks (CJK) is drawn as boxes; the tables show it
        # whole, and a warning per glyph on stderr would tell the user nothing they can act on.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        figure.savefig(buffer, format="svg", metadata=_METADATA)
    return buffer.getvalue()


def _finite(values: Sequence[float | None]) -> np.ndarray:
    array = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return array[np.isfinite(array)]


def similarity_distributions(groups: Mapping[str, Mapping[str, Sequence[float]]],
                             summaries: Mapping[str, Mapping[str, tuple[float | None, float | None]]]) -> str:
    """One panel per embedding: histograms of the given cosines, and for each summary
    (label -> (mean, std)) a vertical line at the mean with a shaded ± std band."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        figure = _new_figure(3.2 * max(1, len(groups)) + 0.6, 2.8)
        axes = figure.subplots(1, max(1, len(groups)), squeeze=False, sharey=False)[0]
        bins = np.linspace(-1.0, 1.0, 41)
        for ax, (embedding, series) in zip(axes, groups.items()):
            for label, values in series.items():
                finite = _finite(values)
                if len(finite):
                    ax.hist(finite, bins=bins, histtype="stepfilled", alpha=0.55, density=True,
                            label=_plain(f"{label} pairs"))
            for colour, (label, (mean, std)) in zip(("tab:orange", "tab:green"), summaries.get(embedding, {}).items()):
                if mean is None or not math.isfinite(mean):
                    continue
                ax.axvline(mean, color=colour, linewidth=1.4, label=_plain(f"{label} mean ± std"))
                if std is not None and math.isfinite(std):
                    ax.axvspan(mean - std, mean + std, color=colour, alpha=0.12)
            ax.set_title(_plain(embedding), fontsize=9)
            ax.set_xlabel("cosine similarity")
            ax.set_xlim(-1, 1)
            ax.legend(fontsize=7, frameon=False, loc="upper left")
        axes[0].set_ylabel("density")
        return _svg(figure)


def rank_histograms(ranks: Mapping[str, Sequence[float]], vocabulary: Mapping[str, int]) -> str:
    """Homophone-partner ranks (1 = nearest) per embedding on a logarithmic axis."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        figure = _new_figure(6.4, 3.0)
        ax = figure.subplots()
        largest = max([vocabulary.get(name, 10) for name in ranks] + [10])
        bins = np.logspace(0, math.log10(largest) + 0.01, 30)
        # each embedding its own line style: identical rank distributions (a reproduction still at its
        # random init) drew over each other and one series vanished
        styles = ("-", "--", ":", "-.")
        for index, (embedding, values) in enumerate(ranks.items()):
            finite = _finite(values)
            if len(finite):
                ax.hist(finite, bins=bins, histtype="step", linewidth=1.4 + 0.6 * (index // len(styles)),
                        linestyle=styles[index % len(styles)], label=_plain(embedding))
        ax.set_xscale("log")
        # plain tick labels: the default log labels are mathtext, whose parser costs seconds
        from matplotlib.ticker import FuncFormatter, NullFormatter
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("rank of the homophone partner among all words (log scale, 1 = nearest)")
        ax.set_ylabel("directed ranks (two per pair)")
        ax.legend(fontsize=7, frameon=False)
        return _svg(figure)


def benchmark_bars(benchmarks: Sequence[str], series: Mapping[str, Sequence[float | None]]) -> str:
    """Grouped bars: Spearman per benchmark for each series (claims, reproductions, embeddings)."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        figure = _new_figure(max(6.4, 0.62 * len(benchmarks) * max(1, len(series)) / 2 + 2), 3.4)
        ax = figure.subplots()
        positions = np.arange(len(benchmarks))
        width = 0.8 / max(1, len(series))
        for offset, (label, values) in enumerate(series.items()):
            heights = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            ax.bar(positions + (offset - (len(series) - 1) / 2) * width, np.nan_to_num(heights, nan=0.0),
                   width=width, label=_plain(label))
        ax.axhline(0, color="#444", linewidth=0.6)
        ax.set_xticks(positions, [_plain(b) for b in benchmarks], rotation=40, ha="right")
        ax.set_ylabel("Spearman ρ")
        ax.set_ylim(-1, 1)
        ax.legend(fontsize=7, frameon=False, ncols=2)
        return _svg(figure)


def learning_curves(epochs: Sequence[int], loss: Sequence[float | None],
                    metrics: Mapping[str, Sequence[float | None]]) -> str:
    """Loss and each tracked metric against the training epoch (the paper's Fig. 3)."""
    import matplotlib
    from matplotlib.ticker import MaxNLocator

    with matplotlib.rc_context(_RC):
        panels = 1 + len(metrics)
        columns = min(4, panels)
        rows = math.ceil(panels / columns)
        figure = _new_figure(2.3 * columns, 1.9 * rows)
        axes = figure.subplots(rows, columns, squeeze=False).ravel()
        first, last = (min(epochs), max(epochs)) if len(epochs) else (0, 1)
        pad = max(0.05 * (last - first), 0.5 if first == last else 0.05)
        span = (first - pad, last + pad)
        for ax, (label, values) in zip(axes, [("loss", loss), *metrics.items()]):
            y = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            ax.plot(list(epochs), y, marker=".", linewidth=1.2)
            ax.set_title(_plain(label), fontsize=8)
            ax.set_xlabel("epoch", fontsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # epochs are whole numbers
            ax.set_xlim(*span)   # the same epochs on every panel (the loss has none at epoch 0)
            _least_span(ax, y)
        for ax in axes[panels:]:
            ax.set_visible(False)
        return _svg(figure)


LEAST_SPAN = 0.1   # a learning-curve panel's y-axis spans at least this share of its largest |value|


def _least_span(ax, y: np.ndarray) -> None:
    """Widen a panel whose values barely move: matplotlib stretches any range to the full height, so
    a same-different AP going 0.3629058 -> 0.3629123 was drawn as a steep rise (a reproduction that
    does not learn looked as if it did). At least LEAST_SPAN of the largest |value|, centred."""
    finite = y[np.isfinite(y)]
    if not len(finite):
        return
    low, high = float(finite.min()), float(finite.max())
    least = LEAST_SPAN * max(abs(low), abs(high))
    if least > 0 and high - low < least:
        middle = (low + high) / 2
        ax.set_ylim(middle - least / 2, middle + least / 2)
        ax.ticklabel_format(axis="y", useOffset=False)


def mds_scatter(panels: Sequence[tuple[str, Sequence[tuple[str, Sequence[float], Sequence[float]]]]]) -> str:
    """One panel per word pair: 2-d MDS coordinates of each spoken instance, coloured by word."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        figure = _new_figure(2.6 * max(1, len(panels)), 2.7)
        axes = figure.subplots(1, max(1, len(panels)), squeeze=False)[0]
        for ax, (title, words) in zip(axes, panels):
            for marker, (word, xs, ys) in zip(("o", "^", "s", "x"), words):
                ax.scatter(xs, ys, s=14, marker=marker, alpha=0.75, label=_plain(word))
            ax.set_title(_plain(title), fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.legend(fontsize=7, frameon=False)
        return _svg(figure)


def score_bands(rows: Sequence[tuple[str, float | None, float | None, float | None]], xlabel: str) -> str:
    """Horizontal markers of a score against a (low, high) band, one row per comparison."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        figure = _new_figure(6.0, 0.45 * max(2, len(rows)) + 0.9)
        ax = figure.subplots()
        for y, (label, score, low, high) in enumerate(rows):
            if low is not None and high is not None and math.isfinite(low) and math.isfinite(high):
                ax.plot([low, high], [y, y], linewidth=6, alpha=0.35, color="tab:gray")
            if score is not None and math.isfinite(score):
                ax.plot([score], [y], marker="o", color="tab:blue")
        # labels in full (callers cut the free-text part: a cut at the end made rows of one embedding
        # identical, the family and measure lost), first row on top, as the tables list them
        ax.set_yticks(range(len(rows)), [_plain(r[0], shorten=False) for r in rows])
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        return _svg(figure)


def precision_recall(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> str:
    """Precision against recall, one line per embedding."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        figure = _new_figure(4.6, 3.2)
        ax = figure.subplots()
        for label, (recall, precision) in curves.items():
            if len(recall):
                ax.plot(list(recall), list(precision), linewidth=1.3, label=_plain(label))
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, frameon=False)
        return _svg(figure)


LABEL_CHARACTERS = 40   # longer names are cut in figures (tables give them whole): a 200-character
                        # legend entry took all the width and left the plot 3 points wide


def _plain(text: str, shorten: bool = True) -> str:
    """A label drawn as typed ('$' would start matplotlib mathtext), cut to LABEL_CHARACTERS."""
    text = cut(text_of(str(text)), LABEL_CHARACTERS) if shorten else text_of(str(text))
    return text.replace("$", r"\$")


def cut(text: str, characters: int) -> str:
    """``text`` cut to ``characters`` (the last one an ellipsis) when longer."""
    return text if len(text) <= characters else text[:characters - 1] + "\u2026"
