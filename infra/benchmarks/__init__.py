"""Detection benchmarks on the local stack: real traffic, injected anomalies, what pages people."""
