"""Ranking metrics (pure Python) against scikit-learn's."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from shopwatch.analytics.ranking import auc_standard_error, average_precision, precision_at_top, roc_auc


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_roc_auc_and_average_precision_equal_scikit_learns_ties_included(seed):
    rng = random.Random(seed)
    labels = [int(rng.random() < 0.1) for _ in range(2000)]
    scores = [round(rng.random() + 0.3 * y, 1) for y in labels]  # rounded: many ties
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert average_precision(labels, scores) == pytest.approx(average_precision_score(labels, scores), abs=1e-12)


def test_one_class_has_no_auc():
    with pytest.raises(ValueError, match="both classes"):
        roc_auc([0, 0, 0], [0.1, 0.2, 0.3])


def test_the_standard_error_shrinks_with_more_labels_and_matches_hanley_mcneil():
    # Hanley & McNeil (1982) by hand, A = 0.9 on 50 + 50: Q1 = 0.9 / 1.1, Q2 = 1.62 / 1.9,
    # var = (0.09 + 49 (Q1 - 0.81) + 49 (Q2 - 0.81)) / 2500 = 0.0010319
    assert auc_standard_error(0.9, 50, 50) == pytest.approx(0.03212, abs=1e-4)
    assert auc_standard_error(0.7, 500, 5000) < auc_standard_error(0.7, 50, 500)


def test_precision_at_the_paging_budget():
    labels = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    scores = [0.9, 0.8, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]
    assert precision_at_top(labels, scores, 0.2) == 0.5
    assert precision_at_top(labels, scores, 0.05) is None
