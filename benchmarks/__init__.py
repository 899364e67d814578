"""Reproducible performance scripts: ``python -m benchmarks.<name>``."""
