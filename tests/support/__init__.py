"""Builders used only by tests and benchmarks (importable as ``support`` from ``tests/``)."""
