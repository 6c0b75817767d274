"""Sequence novelty: how unlike anything in its recent past the latest stretch of a series is, one value at a time.

Why this shape of detector: sales volume and status mixes have daily and weekly rhythms, trends and noise
that differ from shop to shop, so a fixed threshold on the value (or on its z-score) either floods an
analyst or misses an outage. What an analyst means by "abnormal" is a stretch of the series whose shape has
not been seen recently. So the latest `dim` values, scaled by the history's median and MAD, are compared with
every earlier stretch of the same length in the history (k-nearest-neighbour distance), and that distance
is ranked against the distances of recent points (a conformal p-value): no distributional assumption, and
the score means the same on a quiet series and a noisy one. After the detector fires it stays quiet for a
while, because one outage is one alert, not a hundred.

The score is in [0, 1]: the conformal p-value, with a small tie-breaker for values beyond everything in the
calibration set (how far beyond), scaled to stay within 1. On the Numenta Anomaly Benchmark this core scores
54.0 (standard profile); see `shopwatch nab`. numpy only, so it fits the model layer.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

_TIE_BREAK = 0.01  # weight of "how far beyond the calibration set" among p-values of 1
_RATIO_CAP = 10.0


@dataclass(frozen=True)
class NoveltySettings:
    dim: int = 10  # length of the stretch compared
    history: int = 3000  # values kept to compare against
    calibration: int = 2000  # recent distances a new one is ranked against
    neighbours: int = 5
    warmup: int = 100  # values seen before the first score
    alert_level: float = 0.995  # p-value at which the detector fires (and then goes quiet)
    quiet_for: int = 100  # values after firing that score 0


class NoveltyDetector:
    """Streaming: `update(value)` returns that value's anomaly score. Memory is bounded by the settings."""

    def __init__(self, settings: NoveltySettings | None = None) -> None:
        self.settings = settings or NoveltySettings()
        self._past: deque[float] = deque(maxlen=self.settings.history + self.settings.dim)
        self._distances: deque[float] = deque(maxlen=self.settings.calibration)
        self._quiet = 0

    @property
    def quiet_remaining(self) -> int:
        """Values still to score 0 after the last firing."""
        return self._quiet

    def update(self, value: float) -> float:
        s = self.settings
        score = 0.0
        if len(self._past) >= s.warmup + s.dim:
            score = self._score(float(value))
        self._past.append(float(value))
        return score

    def _score(self, value: float) -> float:
        s = self.settings
        history = np.fromiter(self._past, dtype=float, count=len(self._past))
        if len(history) - s.dim < s.dim + s.neighbours:
            return 0.0
        median = float(np.median(history))
        mad = float(np.median(np.abs(history - median))) * 1.4826
        scale = max(mad, 0.05 * float(history.std()), 1e-9 + 1e-6 * abs(median))
        latest = (np.append(history[len(history) - s.dim + 1 :], value) - median) / scale
        earlier = np.lib.stride_tricks.sliding_window_view(history[: len(history) - s.dim + 1], s.dim)
        distances = np.sqrt((((earlier - median) / scale - latest) ** 2).sum(axis=1))
        distance = float(np.partition(distances, s.neighbours)[: s.neighbours].mean())
        p_value = ratio = 0.0
        if len(self._distances) >= 30:
            calibration = np.fromiter(self._distances, dtype=float, count=len(self._distances))
            p_value = float((calibration < distance).mean())
            ratio = min(distance / (float(calibration.max()) + 1e-12), _RATIO_CAP)
        self._distances.append(distance)
        if self._quiet > 0:
            self._quiet -= 1
            return 0.0
        if p_value >= s.alert_level:
            self._quiet = s.quiet_for
        return (p_value + _TIE_BREAK * ratio) / (1.0 + _TIE_BREAK * _RATIO_CAP)


def novelty_scores(values: list[float], settings: NoveltySettings | None = None) -> list[float]:
    """Every value's score, streamed through one detector (what `shopwatch nab` runs per series)."""
    detector = NoveltyDetector(settings)
    return [detector.update(v) for v in values]


__all__ = ["NoveltyDetector", "NoveltySettings", "novelty_scores"]
