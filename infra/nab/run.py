"""`shopwatch nab`: the windowed detectors' streaming core on all 58 NAB series, scored as NAB scores.

Each series is streamed one value at a time through `shopwatch_model.novelty` (the model layer's code, as the
window function will run it), the anomaly scores are written in NAB's results layout, and each profile's
threshold is optimised over the whole corpus before the normalised scores are printed beside NAB's
published scoreboard.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table
from shopwatch_model.novelty import novelty_scores

from infra.nab.corpus import Series, load_profiles, load_series, published_null_total, published_scores, write_results
from infra.nab.scoring import best_threshold, normalized, score_at, sweep

DETECTOR = "shopwatch"
PUBLISHED = ("ARTime", "numenta", "contextOSE", "knncad", "relativeEntropy", "randomCutForest", "windowedGaussian")


@dataclass(frozen=True)
class ProfileResult:
    profile: str
    score: float
    threshold: float
    tp: int
    fp: int


def detect_all(series: list[Series], workers: int = 2) -> list[list[float]]:
    """Every series streamed through its own detector, in parallel processes (each series is independent)."""
    if workers <= 1:
        return [novelty_scores(s.values) for s in series]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(novelty_scores, [s.values for s in series], chunksize=1))


def score_corpus(root: Path, series: list[Series], scores: list[list[float]]) -> list[ProfileResult]:
    windows = sum(len(s.windows) for s in series)
    points = [sweep(s.timestamps, sc, s.windows, s.name) for s, sc in zip(series, scores, strict=True)]
    results = []
    for profile in load_profiles(root):
        best = best_threshold([p for file_points in points for p in file_points], profile)
        raw = sum(score_at(file_points, profile, best.threshold).score for file_points in points)
        value = normalized(raw, published_null_total(root, profile.name), windows, profile)
        results.append(ProfileResult(profile.name, value, best.threshold, best.tp, best.fp))
    return results


def table(results: list[ProfileResult], published: dict[str, dict[str, float]], seconds: float) -> Table:
    out = Table(title=f"NAB v1.1, normalised scores (null 0, perfect 100); ours in {seconds:.0f} s")
    out.add_column("detector")
    for result in results:
        out.add_column(result.profile.replace("_", " "), justify="right")
    out.add_row("Shopwatch novelty", *(f"{r.score:.1f}" for r in results), style="bold")
    for name in PUBLISHED:
        if name in published:
            out.add_row(name, *(f"{published[name][r.profile]:.1f}" for r in results))
    out.caption = "ours: threshold " + ", ".join(
        f"{r.profile} {r.threshold:.4f} ({r.tp} detections in windows, {r.fp} outside)" for r in results
    )
    return out


def run(root: Path, out: Path, workers: int = 2) -> tuple[list[ProfileResult], Table]:
    series = load_series(root)
    started = time.monotonic()
    scores = detect_all(series, workers)
    seconds = time.monotonic() - started
    for s, sc in zip(series, scores, strict=True):
        write_results(out, DETECTOR, s, sc)
    results = score_corpus(root, series, scores)
    summary = {r.profile: {"score": r.score, "threshold": r.threshold} for r in results}
    (out / DETECTOR).mkdir(parents=True, exist_ok=True)
    (out / DETECTOR / "scores.json").write_text(json.dumps(summary, indent=2) + "\n")
    return results, table(results, published_scores(root), seconds)


__all__ = ["ProfileResult", "detect_all", "run", "score_corpus"]
