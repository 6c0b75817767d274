"""Detection service: runs the pure detectors over stored state and commits each result exactly once."""
