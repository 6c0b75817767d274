"""The figures GET /analytics/models compares champion and challenger by, on numbers worked out by hand."""

from __future__ import annotations

from collections import Counter

import pytest

from shopwatch.analytics.models import budget_threshold, compare_version, roc_auc
from shopwatch.storage.model_stats import DayStats, score_bin


def test_roc_auc_is_the_share_of_fraud_legit_pairs_ranked_right_with_ties_counted_half():
    assert roc_auc([-0.9, -0.8], [-0.5, -0.4]) == 1.0
    assert roc_auc([-0.4, -0.5], [-0.9, -0.8]) == 0.0
    assert roc_auc([-0.6], [-0.6, -0.5]) == 0.75  # one tie (half), one right
    assert roc_auc([-0.7], []) is None and roc_auc([], [-0.7]) is None


def test_the_budget_threshold_keeps_at_most_the_budgets_share_past_it():
    bins = Counter({40: 980, 60: 10, 70: 5, 80: 5})  # 1,000 scores; 1% = 10
    assert budget_threshold(bins) == -0.7  # bins 80 and 70: 10 scores; with 60 it would be 20
    assert budget_threshold(Counter({40: 50, 90: 500})) == -0.9  # the most anomalous bin alone, though it holds more
    assert budget_threshold(Counter()) is None


@pytest.mark.parametrize(("score", "expected"), [(-0.705, 70), (-0.7, 70), (-0.699, 69), (0.01, 0), (-1.2, 100)])
def test_a_score_falls_in_the_bin_of_its_hundredth_below(score, expected):
    assert score_bin(score) == expected


def test_alerts_per_day_count_only_days_the_version_scored():
    days = {1: DayStats(100, 3, Counter({40: 100})), 2: DayStats(0, 0), 3: DayStats(50, 1, Counter({40: 50}))}
    outcome = compare_version("challenger", "v2", [(True, -0.8), (False, -0.3)], days)
    assert outcome.alerts_per_day == 2.0 and outcome.days == 2 and outcome.scored == 150
    assert outcome.roc_auc == 1.0 and outcome.precision_at_budget == 1.0  # -0.8 is past -0.4
