"""Why status_mix tests each status's count against its share instead of seed 003's Isolation Forest on
per-minute [failed, denied, reversed] vectors: on the same simulated day, with traffic that swings between
quiet and busy hours, the forest confuses busy with failing and misses spikes in quiet hours."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
from sklearn.ensemble import IsolationForest

from shopwatch.detectors.status_mix import StatusMixSettings, judge_status_mix
from shopwatch.domain.buckets import Bucket, Grain

T0 = datetime(2026, 11, 2, tzinfo=UTC)
USUAL = {"failed": 0.025, "denied": 0.015, "reversed": 0.01}


def simulated_day(seed: int = 11) -> tuple[list[Bucket], set[int]]:
    """1,440 minutes; traffic follows the hour (20 to 200 a minute); 12 minutes of failure spikes."""
    rng = random.Random(seed)
    spikes = set(rng.sample(range(120, 1440), 12))
    minutes = []
    for i in range(1440):
        hour = i // 60
        n = int(np.random.default_rng(seed * 10_000 + i).poisson(20 + 180 * np.sin(np.pi * hour / 24) ** 2))
        shares = dict(USUAL)
        if i in spikes:
            shares["failed"] = rng.uniform(0.12, 0.3)
        counts = {s: sum(1 for _ in range(n) if rng.random() < p) for s, p in shares.items()}
        counts["approved"] = n - sum(counts.values())
        minutes.append(Bucket(Grain.MINUTE, T0 + timedelta(minutes=i), n, counts, {}))
    return minutes, spikes


def f1(flagged: set[int], truth: set[int]) -> float:
    hits = len(flagged & truth)
    if not hits:
        return 0.0
    precision, recall = hits / len(flagged), hits / len(truth)
    return 2 * precision * recall / (precision + recall)


def test_binomial_tails_beat_an_isolation_forest_on_minute_vectors():
    minutes, spikes = simulated_day()
    ours = {i for i in range(60, 1440) if judge_status_mix(minutes[i], minutes[i - 60 : i], StatusMixSettings())}

    vectors = np.array([[m.count("failed"), m.count("denied"), m.count("reversed")] for m in minutes], dtype=float)
    forest = IsolationForest(contamination=len(spikes) / 1440, random_state=0).fit(vectors)
    theirs = {i for i in range(60, 1440) if forest.predict(vectors[i : i + 1])[0] == -1}

    candidates = spikes - set(range(60))
    assert f1(ours, candidates) >= 0.9
    assert f1(ours, candidates) > f1(theirs, candidates) + 0.2
    assert len(ours - candidates) <= 1  # busy ordinary minutes are not failure spikes
