"""A customer's transactions seen through one metric (seed 001's anomaly view): the series for a chart, the
customer's own baseline, and which points stand out, by a z-score above 3 or because a detector alerted.

Pure: transactions and the ids alerts cover in, chart data and drill-down rows out.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from shopwatch.domain.transaction import Transaction

Z_LIMIT = 3.0
Z_CAP = 99.0  # what a point unlike every other reads (finite: it goes to JSON and a table cell)
STD_FLOOR_SHARE = 0.01  # the others' spread is taken as at least 1% of their mean: 101 among 100s is not a spike
FREQUENCY_WINDOW = timedelta(hours=1)


class Metric(StrEnum):
    AMOUNT = "amount"  # seed 001's TotalSpent
    QUANTITY = "quantity"  # QuantitySpike: units in the basket
    FREQUENCY = "frequency"  # HistFreq: the customer's transactions in the hour up to this one
    COUNTRY = "country"  # UnusualDestination: 1 when not the customer's usual country


def metric_values(metric: Metric, ordered: list[Transaction]) -> list[Decimal]:
    if metric is Metric.AMOUNT:
        return [tx.amount for tx in ordered]
    if metric is Metric.QUANTITY:
        return [Decimal(sum(abs(i.quantity) for i in tx.items)) for tx in ordered]
    if metric is Metric.FREQUENCY:
        return [
            Decimal(sum(1 for o in ordered[: i + 1] if tx.timestamp - o.timestamp < FREQUENCY_WINDOW))
            for i, tx in enumerate(ordered)
        ]
    usual = Counter(tx.country for tx in ordered if tx.country).most_common(1)
    home = usual[0][0] if usual else None
    return [Decimal(int(tx.country is not None and tx.country != home)) for tx in ordered]


def leave_one_out_z(numbers: list[float]) -> list[float]:
    """Each point's z-score against the customer's other points. Against all of them, a point judges itself: its
    own weight pulls the mean and widens the spread, so one purchase 20x the usual read z = 1.71 among 21 (never
    above sqrt(n - 1) whatever its size) and was not flagged. Needs two other points; 0 without them."""
    n = len(numbers)
    if n < 3:
        return [0.0] * n
    total, squares = math.fsum(numbers), math.fsum(x * x for x in numbers)
    scores = []
    for x in numbers:
        mean = (total - x) / (n - 1)
        std = math.sqrt(max((squares - x * x) / (n - 1) - mean * mean, 0.0))
        spread = max(std, STD_FLOOR_SHARE * abs(mean))
        if spread == 0:
            scores.append(0.0 if x == mean else math.copysign(Z_CAP, x - mean))
        else:
            scores.append(max(-Z_CAP, min(Z_CAP, (x - mean) / spread)))
    return scores


@dataclass(frozen=True)
class Point:
    """One transaction through the metric: its value, its z-score against the customer's other points, whether it
    stands out (by that score, an unusual country, or an alert) and the alerts that cover it."""

    transaction: Transaction
    value: Decimal
    z_score: float
    anomalous: bool
    alert_ids: list[str]


@dataclass(frozen=True)
class AnomalyView:
    """The points oldest first, and the baseline of all of them (the chart's band)."""

    metric: Metric
    mean: float
    std: float
    points: list[Point]

    @property
    def anomalies(self) -> list[Point]:
        return [p for p in self.points if p.anomalous]


def anomaly_view(metric: Metric, transactions: list[Transaction], alerted: dict[str, list[str]]) -> AnomalyView:
    """The series, the baseline of all the customer's transactions (the chart's band), and each point's z-score
    against the others (`leave_one_out_z`)."""
    ordered = sorted(transactions, key=lambda t: (t.timestamp, t.transaction_id))
    values = metric_values(metric, ordered)
    numbers = [float(v) for v in values]
    mean = statistics.fmean(numbers) if numbers else 0.0
    std = statistics.pstdev(numbers) if len(numbers) > 1 else 0.0
    points = []
    for tx, value, z in zip(ordered, values, leave_one_out_z(numbers), strict=True):
        unusual = metric is Metric.COUNTRY and value == 1
        flagged = abs(z) > Z_LIMIT or unusual or bool(alerted.get(tx.transaction_id))
        points.append(Point(tx, value, round(z, 2), flagged, alerted.get(tx.transaction_id, [])))
    return AnomalyView(metric, round(mean, 4), round(std, 4), points)
