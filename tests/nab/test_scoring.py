"""NAB's scoring as published: sigmoid positions, the earliest detection per window, false positives costed
by their distance past a window, the probation period, the threshold sweep, and, on the real corpus when
../shared is beside the clone, the null detector's published totals and the perfect detector's 100."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra.nab.corpus import load_profiles, load_series, published_null_total
from infra.nab.scoring import (
    MAX_TP,
    Profile,
    best_threshold,
    normalized,
    probation_length,
    scaled_sigmoid,
    score_at,
    sweep,
)

STANDARD = Profile("standard", tp_weight=1.0, fp_weight=0.11, fn_weight=1.0)
NAB = Path(__file__).resolve().parents[3] / "shared" / "data" / "nab"

T0 = datetime(2026, 1, 1)
STAMPS = [T0 + timedelta(minutes=i) for i in range(200)]
# rows 0-29 are probation (15% of 200); one window over rows 100-119
WINDOW = (STAMPS[100], STAMPS[119])


def scores_with(detections: dict[int, float]) -> list[float]:
    return [detections.get(i, 0.0) for i in range(len(STAMPS))]


def file_score(detections: dict[int, float], threshold: float = 0.5) -> float:
    return score_at(sweep(STAMPS, scores_with(detections), [WINDOW], "f"), STANDARD, threshold).score


def test_the_scaled_sigmoid_has_the_published_values():
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0


def test_the_probation_period_is_15_percent_capped_at_750_rows():
    assert probation_length(200) == 30
    assert probation_length(100_000) == 750


def test_a_missed_window_costs_the_false_negative_weight_and_nothing_else():
    assert file_score({}) == -1.0


def test_only_the_earliest_detection_in_a_window_counts():
    at_start = file_score({100: 1.0})
    assert at_start == pytest.approx(1.0)  # the left edge earns the full true-positive weight
    assert file_score({100: 1.0, 110: 1.0, 119: 1.0}) == pytest.approx(at_start)
    halfway = file_score({110: 1.0})
    assert halfway == pytest.approx(scaled_sigmoid(-10 / 20) / MAX_TP)
    assert 0 < file_score({119: 1.0}) < halfway < at_start


def test_false_positives_cost_less_just_after_a_window_and_fully_before_any():
    before = file_score({50: 1.0, 100: 1.0}) - 1.0
    assert before == pytest.approx(-0.11)
    just_after = file_score({100: 1.0, 121: 1.0}) - 1.0
    far_after = file_score({100: 1.0, 190: 1.0}) - 1.0
    assert -0.11 < just_after < 0 and far_after == pytest.approx(-0.11)
    assert file_score({10: 1.0, 100: 1.0}) == pytest.approx(1.0)  # in probation: ignored


def test_the_threshold_decides_what_counts_as_a_detection():
    detections = {60: 0.9, 105: 0.7}
    assert file_score(detections, threshold=0.95) == -1.0
    assert file_score(detections, threshold=0.8) == pytest.approx(-1.0 - 0.11)
    assert file_score(detections, threshold=0.6) == pytest.approx(scaled_sigmoid(-15 / 20) / MAX_TP - 0.11)
    best = best_threshold(sweep(STAMPS, scores_with(detections), [WINDOW], "f"), STANDARD)
    assert best.threshold == 0.7 and best.tp == 1 and best.fp == 1


def test_normalisation_puts_null_at_0_and_perfect_at_100():
    assert normalized(-116.0, -116.0, 116, STANDARD) == 0.0
    assert normalized(116.0, -116.0, 116, STANDARD) == 100.0


@pytest.mark.skipif(not NAB.exists(), reason="the NAB corpus lives in ../shared/data/nab beside the clone")
def test_on_the_real_corpus_null_matches_nab_and_perfect_scores_100():
    series = load_series(NAB)
    assert len(series) == 58 and sum(len(s.windows) for s in series) == 116
    assert all(s.timestamps[0].tzinfo is UTC and s.windows[0][0].tzinfo is UTC for s in series if s.windows)
    for profile in load_profiles(NAB):
        null = perfect = 0.0
        for s in series:
            null += score_at(sweep(s.timestamps, [0.0] * len(s.values), s.windows, s.name), profile, 0.5).score
            starts = set(w[0] for w in s.windows)
            perfect_scores = [1.0 if t in starts else 0.0 for t in s.timestamps]
            perfect += score_at(sweep(s.timestamps, perfect_scores, s.windows, s.name), profile, 0.5).score
        assert null == published_null_total(NAB, profile.name)
        assert normalized(perfect, null, 116, profile) == pytest.approx(100.0)


def test_only_the_order_of_anomaly_scores_matters_not_their_scale():
    detections = {60: 0.9, 105: 0.7, 150: 0.2}
    unit_points = sweep(STAMPS, scores_with(detections), [WINDOW], "f")
    scaled_points = sweep(STAMPS, [40 * s for s in scores_with(detections)], [WINDOW], "f")
    unit, scaled = best_threshold(unit_points, STANDARD), best_threshold(scaled_points, STANDARD)
    assert (scaled.score, scaled.tp, scaled.fp) == (unit.score, unit.tp, unit.fp)
    assert scaled.threshold == 40 * unit.threshold
    assert score_at(scaled_points, STANDARD, scaled.threshold) == scaled
