"""Synthetic shop traffic with labelled anomalies, for the demo, evaluation and benchmarks."""
