"""A customer's transactions seen through one metric (seed 001's anomaly view): the series for a chart, the
customer's own baseline, and which points stand out, by a z-score above 3 or because a detector alerted.

Pure: transactions and the ids alerts cover in, chart data and drill-down rows out.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shopwatch.domain.clock import to_iso
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


def anomaly_view(metric: Metric, transactions: list[Transaction], alerted: dict[str, list[str]]) -> dict[str, Any]:
    """The series, the baseline of all the customer's transactions (the chart's band), and each point's z-score
    against the others (`leave_one_out_z`)."""
    ordered = sorted(transactions, key=lambda t: (t.timestamp, t.transaction_id))
    values = metric_values(metric, ordered)
    numbers = [float(v) for v in values]
    mean = statistics.fmean(numbers) if numbers else 0.0
    std = statistics.pstdev(numbers) if len(numbers) > 1 else 0.0
    rows = []
    for tx, value, z in zip(ordered, values, leave_one_out_z(numbers), strict=True):
        unusual = metric is Metric.COUNTRY and value == 1
        flagged = abs(z) > Z_LIMIT or unusual or bool(alerted.get(tx.transaction_id))
        rows.append(
            {
                "transaction_id": tx.transaction_id,
                "timestamp": to_iso(tx.timestamp),
                "status": tx.status,
                "amount": str(tx.amount),
                "currency": tx.currency,
                "country": tx.country,
                "metric_value": str(value),
                "z_score": round(z, 2),
                "anomalous": flagged,
                "alert_ids": alerted.get(tx.transaction_id, []),
            }
        )
    return {
        "metric": metric.value,
        "baseline": {"mean": round(mean, 4), "std": round(std, 4), "transactions": len(rows)},
        "chart_data": {
            "transaction_id": [r["transaction_id"] for r in rows],
            "timestamp": [r["timestamp"] for r in rows],
            "value": [r["metric_value"] for r in rows],
            "anomalous": [r["anomalous"] for r in rows],
        },
        "anomaly_list": [r for r in rows if r["anomalous"]],
        "drill_down": rows,
    }
