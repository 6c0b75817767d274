"""The NAB corpus as it lies in ../shared/data/nab: 58 series (data/<category>/<file>.csv, timestamp,value),
their anomaly windows (labels/combined_windows.json), the scoring profiles (config/profiles.json), the null
detector's published totals and the published final scores (results/)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from infra.nab.scoring import Profile


@dataclass(frozen=True)
class Series:
    name: str  # "<category>/<file>.csv", as NAB's labels name it
    timestamps: list[datetime]
    values: list[float]
    windows: list[tuple[datetime, datetime]]

    @property
    def labels(self) -> list[int]:
        """1 inside a window, else 0 (the `label` column of NAB's results files)."""
        inside = [0] * len(self.timestamps)
        for first, last in self.windows:
            for i, moment in enumerate(self.timestamps):
                if first <= moment <= last:
                    inside[i] = 1
        return inside


def _moment(text: str) -> datetime:
    """NAB's timestamps carry no zone; they are read as UTC, like every time in Shopwatch."""
    return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)


def load_series(root: Path) -> list[Series]:
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    series = []
    for name in sorted(windows):
        with (root / "data" / name).open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        series.append(
            Series(
                name=name,
                timestamps=[_moment(r["timestamp"]) for r in rows],
                values=[float(r["value"]) for r in rows],
                windows=[(_moment(a), _moment(b)) for a, b in windows[name]],
            )
        )
    return series


def load_profiles(root: Path) -> list[Profile]:
    profiles = json.loads((root / "config" / "profiles.json").read_text())
    return [
        Profile(name, costs["CostMatrix"]["tpWeight"], costs["CostMatrix"]["fpWeight"], costs["CostMatrix"]["fnWeight"])
        for name, costs in profiles.items()
    ]


def published_null_total(root: Path, profile: str) -> float:
    """The null detector's raw total from NAB's own results (the last, "Totals", row)."""
    with (root / "results" / "null" / f"null_{profile}_scores.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    totals = next(r for r in rows if r["Detector"] == "Totals")
    return float(totals["Score"])


def published_scores(root: Path) -> dict[str, dict[str, float]]:
    """detector -> profile -> normalised score, from results/final_results.json."""
    return json.loads((root / "results" / "final_results.json").read_text())


def write_results(out: Path, detector: str, series: Series, scores: list[float]) -> Path:
    """NAB's results layout: <out>/<detector>/<category>/<detector>_<file>.csv with
    timestamp,value,anomaly_score,label."""
    category, filename = series.name.split("/", 1)
    path = out / detector / category / f"{detector}_{filename}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value", "anomaly_score", "label"])
        for moment, value, score, label in zip(series.timestamps, series.values, scores, series.labels, strict=True):
            writer.writerow([moment.strftime("%Y-%m-%d %H:%M:%S"), repr(value), f"{score:.6f}", label])
    return path


__all__ = ["Series", "load_profiles", "load_series", "published_null_total", "published_scores", "write_results"]
