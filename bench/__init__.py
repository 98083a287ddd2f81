"""Benchmarks of issue 5: province scale on one machine (see BENCHMARKS.md and bench/run.py)."""
