"""The Numenta Anomaly Benchmark's scoring, written from its published definition (Lavin & Ahmad, "Evaluating
Real-time Anomaly Detection Algorithms - the Numenta Anomaly Benchmark", 2015; NAB v1.1), so Shopwatch's
windowed detectors are measured the way the published scoreboard was.

Per data file: the first 15% of rows (at most 750) are a probation period and never count. Each labelled
anomaly has a window. A detection (a row whose anomaly score reaches the threshold) inside a window earns
the window a reward on a scaled sigmoid of how early it came (A_TP at the left edge, ~0 at the right); only
the best (earliest) detection of a window counts, and a window with none costs A_FN. A detection outside
every window costs A_FP, scaled by the same sigmoid of its distance past the preceding window (so a late
detection just after a window costs little) or the full A_FP before any window. One threshold per profile
is chosen for the whole corpus, the one with the highest total; the total is then normalised so that the
null detector (no detections) scores 0 and the perfect one (a detection at the start of every window)
scores 100.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PROBATION_PERCENT = 0.15


@dataclass(frozen=True)
class Profile:
    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


@dataclass(frozen=True)
class Point:
    """One row after the sweep: its anomaly score, which window it is in (None outside every window,
    "probation" in the probation period) and its unweighted sigmoid reward (in a window) or cost (outside)."""

    anomaly_score: float
    window: str | None
    unweighted: float

    def weighted(self, profile: Profile) -> float:
        if self.window is None:
            return self.unweighted * profile.fp_weight
        return self.unweighted * profile.tp_weight / MAX_TP


@dataclass(frozen=True)
class ThresholdScore:
    threshold: float
    score: float
    tp: int
    tn: int
    fp: int
    fn: int


def scaled_sigmoid(position: float) -> float:
    """-1 is a window's left edge (0.987), 0 its right edge (0), positive values lie past it (to -1)."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probation_length(rows: int, percent: float = PROBATION_PERCENT) -> float:
    return min(math.floor(percent * rows), percent * 5000)


def sweep(
    timestamps: Sequence[str],
    scores: Sequence[float],
    windows: Iterable[tuple[str, str]],
    name: str,
    probation_percent: float = PROBATION_PERCENT,
) -> list[Point]:
    """Every row of one data file as a Point. `windows` are (first, last) timestamps, in order."""
    if len(timestamps) != len(scores):
        raise ValueError(f"{name}: {len(timestamps)} timestamps but {len(scores)} anomaly scores")
    index = {t: i for i, t in enumerate(timestamps)}
    pending = [(index[first], index[last], f"{name}|{first}") for first, last in windows]
    probation = probation_length(len(timestamps), probation_percent)
    points: list[Point] = []
    current: tuple[int, int, str] | None = None
    previous: tuple[int, int] | None = None  # (right index, width) of the last window left behind
    for i, score in enumerate(scores):
        if current is None and pending and pending[0][0] == i:
            current = pending.pop(0)
        if current is not None:
            left, right, window = current
            width = right - left + 1
            unweighted = scaled_sigmoid(-(right - i + 1) / width)
        else:
            window = None
            position = 3.0 if previous is None else abs(previous[0] - i) / (previous[1] - 1)
            unweighted = scaled_sigmoid(position)
        points.append(Point(float(score), window if i >= probation else "probation", unweighted))
        if current is not None and i == current[1]:
            previous = (current[1], current[1] - current[0] + 1)
            current = None
    return points


def scores_by_threshold(points: Iterable[Point], profile: Profile) -> list[ThresholdScore]:
    """The total score at every distinct threshold, from above the highest anomaly score down."""
    scorable = sorted((p for p in points if p.window != "probation"), key=lambda p: p.anomaly_score, reverse=True)
    windows: dict[str, float] = {p.window: -profile.fn_weight for p in scorable if p.window is not None}
    false_positives = 0.0
    tn = sum(1 for p in scorable if p.window is None)
    fn = len(scorable) - tn
    tp = fp = 0
    results: list[ThresholdScore] = []
    threshold = math.inf  # above any score: nothing detected (NAB starts at 1.1, above its 0-1 scores)
    for point in scorable:
        if point.anomaly_score != threshold:
            results.append(ThresholdScore(threshold, false_positives + sum(windows.values()), tp, tn, fp, fn))
            threshold = point.anomaly_score
        if point.window is None:
            fp, tn = fp + 1, tn - 1
            false_positives += point.weighted(profile)
        else:
            tp, fn = tp + 1, fn - 1
            windows[point.window] = max(windows[point.window], point.weighted(profile))
    results.append(ThresholdScore(threshold, false_positives + sum(windows.values()), tp, tn, fp, fn))
    return results


def best_threshold(points: Iterable[Point], profile: Profile) -> ThresholdScore:
    """The corpus-wide threshold with the highest total (points of every file together)."""
    return max(scores_by_threshold(points, profile), key=lambda s: s.score)


def score_at(points: Sequence[Point], profile: Profile, threshold: float) -> ThresholdScore:
    """One file's score with detections at anomaly scores >= threshold."""
    candidates = scores_by_threshold(points, profile)
    chosen = candidates[0]
    for candidate in candidates:
        if candidate.threshold < threshold:
            break
        chosen = candidate
    return chosen


def normalized(raw: float, null_raw: float, windows: int, profile: Profile) -> float:
    """0 for the null detector, 100 for the perfect one."""
    perfect = windows * profile.tp_weight
    return 100.0 * (raw - null_raw) / (perfect - null_raw)


__all__ = [
    "MAX_TP",
    "Point",
    "Profile",
    "ThresholdScore",
    "best_threshold",
    "normalized",
    "probation_length",
    "scaled_sigmoid",
    "score_at",
    "scores_by_threshold",
    "sweep",
]
