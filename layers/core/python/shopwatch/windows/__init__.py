"""The windowed detectors' use case: judge each closed minute, hour and day once, from the traffic buckets."""
