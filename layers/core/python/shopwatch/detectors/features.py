"""The model's features of one transaction, from what the detectors see (one implementation, online and off).

DetectFunction computes them from the state it reads from DynamoDB; training computes them by replaying a
data set in time order through the same in-memory state (`shopwatch.detection.offline`). Both call this
function on a `DetectionInput`, so a model is scored on exactly the features it was trained on.

Numbers are floats (the model's world); money stays Decimal until here. "Never" (no earlier transaction) is
-1, a value real gaps cannot take, so the trees can tell a first purchase from a quick second one.
"""

from __future__ import annotations

import math
from decimal import Decimal

from shopwatch.detectors.history import DetectionInput

FEATURE_NAMES: tuple[str, ...] = (
    "amount",
    "log_amount",
    "items",
    "quantity",
    "hour",
    "weekday",
    "customer_transactions",
    "amount_zscore",
    "seconds_since_last",
    "days_since_first_seen",
    "countries",
    "unusual_country",
    "price_ratio",
    "failed",
    "reversed",
)
FEATURE_LABELS: dict[str, str] = {
    "amount": "amount",
    "log_amount": "amount (log scale)",
    "items": "distinct items",
    "quantity": "units",
    "hour": "hour of day",
    "weekday": "day of week",
    "customer_transactions": "customer's earlier transactions",
    "amount_zscore": "amount against the customer's usual (z-score)",
    "seconds_since_last": "seconds since the customer's last transaction",
    "days_since_first_seen": "days since the customer was first seen",
    "countries": "countries the customer used before",
    "unusual_country": "country new to the customer",
    "price_ratio": "price against its reference",
    "failed": "failed or denied",
    "reversed": "reversed",
}
NEVER = -1.0
_FAILED = frozenset({"failed", "denied"})


def _amount_zscore(amount: Decimal, data: DetectionInput) -> float:
    customer = data.customer
    if customer.approved < 2:
        return 0.0
    mean, std = customer.amount_stats()
    floor = max(abs(mean) * Decimal("0.05"), Decimal("0.01"))  # one-price customers: σ = 0
    return float((amount - mean) / max(std, floor))


def _price_ratio(data: DetectionInput) -> float:
    """The line price furthest (on a log scale) from its reference: the catalog price, else the SKU median."""
    worst = 1.0
    for item in data.tx.items:
        if item.quantity <= 0 or item.unit_price <= 0:
            continue
        entry = data.catalog.get(item.sku)
        reference: Decimal | None
        if entry is not None and entry.currency == data.tx.currency and entry.price > 0:
            reference = entry.price
        else:
            history = data.skus.get(item.sku)
            reference = history.median_price() if history is not None else None
        if not reference:
            continue
        ratio = float(item.unit_price / reference)
        if abs(math.log(ratio)) > abs(math.log(worst)):
            worst = ratio
    return worst


def transaction_features(data: DetectionInput) -> tuple[float, ...]:
    """One row of the model's input, in FEATURE_NAMES order."""
    tx, customer = data.tx, data.customer
    amount = tx.amount
    last, first = customer.last_seen, customer.first_seen
    return (
        float(amount),
        math.log1p(max(float(amount), 0.0)),
        float(len(tx.items)),
        float(sum(abs(i.quantity) for i in tx.items)),
        float(tx.timestamp.hour),
        float(tx.timestamp.weekday()),
        float(customer.transactions),
        _amount_zscore(amount, data),
        NEVER if last is None else max(0.0, (tx.timestamp - last).total_seconds()),
        NEVER if first is None else max(0.0, (tx.timestamp - first).total_seconds() / 86400),
        float(len(customer.countries)),
        float(bool(tx.country and customer.countries and tx.country not in customer.countries)),
        _price_ratio(data),
        float(tx.status in _FAILED),
        float(tx.status == "reversed"),
    )
