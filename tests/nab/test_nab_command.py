"""`shopwatch nab` on a two-series corpus in NAB's layout: results written in NAB's layout, every profile scored
and normalised against the corpus' own null totals; a directory that is not the corpus is refused."""

from __future__ import annotations

import csv
import json
import math
import random
from datetime import datetime, timedelta
from pathlib import Path

from infra.cli import main

PROFILES = {
    "standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0}},
    "reward_low_FP_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22, "tnWeight": 1.0}},
    "reward_low_FN_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11, "tnWeight": 1.0}},
}


def _corpus(root: Path) -> None:
    rng = random.Random(5)
    start = datetime(2026, 1, 1)
    windows = {}
    for name, drop_at in (("shop/sales_a.csv", 700), ("shop/sales_b.csv", 800)):
        path = root / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        stamps = [start + timedelta(minutes=5 * i) for i in range(1000)]
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["timestamp", "value"])
            for i, moment in enumerate(stamps):
                value = 50 + 20 * math.sin(2 * math.pi * i / 288) + rng.gauss(0, 2)
                writer.writerow([moment.strftime("%Y-%m-%d %H:%M:%S"), 2.0 if drop_at <= i < drop_at + 40 else value])
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        windows[name] = [[stamps[drop_at - 20].strftime(fmt), stamps[drop_at + 30].strftime(fmt)]]
    (root / "labels").mkdir()
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    (root / "config").mkdir()
    (root / "config" / "profiles.json").write_text(json.dumps(PROFILES))
    (root / "results" / "null").mkdir(parents=True)
    for profile, costs in PROFILES.items():
        total = -2 * costs["CostMatrix"]["fnWeight"]
        (root / "results" / "null" / f"null_{profile}_scores.csv").write_text(
            f"Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count\nTotals,,,,{total},0,0,0,0,2000\n"
        )
    published = {"randomCutForest": {"standard": 51.7, "reward_low_FP_rate": 38.4, "reward_low_FN_rate": 59.7}}
    (root / "results" / "final_results.json").write_text(json.dumps(published))


def test_nab_writes_results_in_nabs_layout_and_scores_every_profile(tmp_path, capsys):
    _corpus(tmp_path / "nab")
    out = tmp_path / "out"
    assert main(["nab", "--data", str(tmp_path / "nab"), "--out", str(out), "--workers", "1"]) == 0
    with (out / "shopwatch" / "shop" / "shopwatch_sales_a.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1000 and set(rows[0]) == {"timestamp", "value", "anomaly_score", "label"}
    assert sum(int(r["label"]) for r in rows) == 51
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)
    scores = json.loads((out / "shopwatch" / "scores.json").read_text())
    assert set(scores) == set(PROFILES)
    # both drops are found early in their windows: far above the null detector's 0
    assert scores["standard"]["score"] > 50
    printed = capsys.readouterr().out
    assert "Shopwatch novelty" in printed and "randomCutForest" in printed


def test_a_directory_that_is_not_the_corpus_is_refused(tmp_path, capsys):
    assert main(["nab", "--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "not the NAB corpus" in capsys.readouterr().err
