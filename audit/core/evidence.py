"""Evidence floors shared by the checks, the findings and the reports: one number each, so a
table's flag, a figure's omission and a finding's rule cannot disagree."""

from __future__ import annotations

# A word-similarity coefficient found on fewer benchmark pairs than this is shown but flagged, left
# out of the benchmarks figure and of the benchmarks finding: two pairs always give rho +-1, and at
# 20 pairs rho's 95% interval around 0 is still about +-0.44 (Fisher z: 1.96 / sqrt(20 - 3)).
FEW_BENCHMARK_PAIRS = 20
