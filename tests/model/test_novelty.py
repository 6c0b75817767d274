"""The windowed detectors' streaming core: quiet on a series like its own past, loud at a change of shape,
quiet again for a while after firing, bounded in memory, and deterministic."""

from __future__ import annotations

import math
import random

from shopwatch_model.novelty import NoveltyDetector, NoveltySettings, novelty_scores

SMALL = NoveltySettings(history=600, calibration=400, quiet_for=50)


def daily_rhythm(n: int, seed: int = 3) -> list[float]:
    rng = random.Random(seed)
    return [100 + 30 * math.sin(2 * math.pi * i / 48) + rng.gauss(0, 3) for i in range(n)]


def test_an_outage_scores_above_anything_ordinary_variation_reaches():
    values = daily_rhythm(1200)
    values[1000:1030] = [5.0] * 30  # sales drop to almost nothing
    always_on = NoveltySettings(history=600, calibration=400, quiet_for=0)
    scores = novelty_scores(values, always_on)
    assert scores[1000] > 0.9  # beyond every calibration distance (p-value 1), and further than ordinary peaks
    assert scores[1000] > max(scores[300:1000])


def test_nothing_is_scored_during_warm_up_and_every_score_is_in_0_1():
    scores = novelty_scores(daily_rhythm(800), SMALL)
    assert scores[: SMALL.warmup + SMALL.dim] == [0.0] * (SMALL.warmup + SMALL.dim)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_after_firing_it_stays_quiet_for_the_configured_stretch():
    values = daily_rhythm(1200)
    values[1000:1100] = [400.0] * 100
    detector = NoveltyDetector(SMALL)
    scores, firings = [], []
    for i, value in enumerate(values):
        scores.append(detector.update(value))
        if detector.quiet_remaining == SMALL.quiet_for:
            firings.append(i)
    assert any(1000 <= f < 1010 for f in firings) or any(f < 1000 <= f + SMALL.quiet_for for f in firings)
    for fired in firings:
        assert scores[fired] > 0.9
        assert scores[fired + 1 : fired + 1 + SMALL.quiet_for] == [0.0] * min(SMALL.quiet_for, len(values) - fired - 1)
    # conformal p-values: on ordinary data it fires about once per 1 / (1 - alert_level) values at most
    assert len([f for f in firings if f < 1000]) <= 900 * (1 - SMALL.alert_level) * 3


def test_memory_is_bounded_by_the_settings():
    detector = NoveltyDetector(SMALL)
    for value in daily_rhythm(2000):
        detector.update(value)
    assert len(detector._past) == SMALL.history + SMALL.dim
    assert len(detector._distances) == SMALL.calibration


def test_the_same_series_scores_the_same_twice():
    values = daily_rhythm(900, seed=11)
    assert novelty_scores(values, SMALL) == novelty_scores(values, SMALL)
