"""benchmarks package of embedding-audit."""
