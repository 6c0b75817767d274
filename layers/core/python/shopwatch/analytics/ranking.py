"""How well a score ranks labelled transactions: ROC AUC, average precision and the AUC's standard error.

Pure Python (no numpy): the API's model comparison and training both use it, and ApiFunction has no numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """P(a random fraud scores above a random legitimate one), ties counting half (Mann-Whitney U with
    average ranks). Raises when either class is missing: an AUC of nothing is not 0.5."""
    positives = sum(1 for y in labels if y)
    negatives = len(labels) - positives
    if not positives or not negatives:
        raise ValueError(f"ROC AUC needs both classes: {positives} positive, {negatives} negative")
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        average_rank = (start + end) / 2 + 1
        rank_sum += average_rank * sum(1 for i in order[start : end + 1] if labels[i])
        start = end + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def average_precision(labels: Sequence[int], scores: Sequence[float]) -> float:
    """The area under the precision-recall curve as scikit-learn's `average_precision_score` (ties as one step)."""
    positives = sum(1 for y in labels if y)
    if not positives:
        raise ValueError("average precision needs at least one positive")
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    seen = hits = 0
    area = previous_recall = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        group = order[start : end + 1]
        seen += len(group)
        hits += sum(1 for i in group if labels[i])
        recall = hits / positives
        area += (recall - previous_recall) * (hits / seen)
        previous_recall = recall
        start = end + 1
    return area


def auc_standard_error(auc: float, positives: int, negatives: int) -> float:
    """Hanley & McNeil (1982): the standard error of an AUC measured on this many positives and negatives; what
    a difference between two scores on the same holdout must exceed before it is more than noise."""
    if positives < 1 or negatives < 1:
        return math.inf
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives
    )
    return math.sqrt(max(variance, 0.0))


def precision_at_top(labels: Sequence[int], scores: Sequence[float], share: float) -> float | None:
    """Precision among the `share` highest-scored transactions (the shop's paging budget); None when none."""
    count = math.floor(len(scores) * share)
    if count < 1:
        return None
    top = sorted(range(len(scores)), key=lambda i: -scores[i])[:count]
    return sum(1 for i in top if labels[i]) / count
