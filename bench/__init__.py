"""Benchmarks of the Ambassador bot: `make bench` (= `python -m bench.run`).

Speed is measured here and only here; the tests never assert it.
"""
