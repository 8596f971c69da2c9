"""Benchmarks (not run by ``make test``: pyproject's addopts ignore tests/bench)."""
