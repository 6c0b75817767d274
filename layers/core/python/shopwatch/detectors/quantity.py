"""Quantity: a line quantity above the customer's or the SKU's mean + 3σ (seed 001's QuantitySpike).

Two guards keep it quiet on ordinary baskets: enough history, and a minimum ratio to the mean (a customer who
always buys exactly one unit has σ = 0, and two units is not a spike). σ is floored at one unit.
"""

from __future__ import annotations

from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import Finding, Reason
from shopwatch.detectors.history import DetectionInput
from shopwatch.domain.severity import Severity

DETECTOR = "quantity"


def _spike(quantity: int, mean: Decimal, std: Decimal, settings: DetectionSettings) -> Decimal | None:
    """The z-score of `quantity` when it is a spike, else None."""
    if mean <= 0:
        return None
    z = (Decimal(quantity) - mean) / max(std, Decimal(1))
    if z > settings.quantity_sigma and Decimal(quantity) >= settings.quantity_min_ratio * mean:
        return z
    return None


def _severity(z: Decimal, sigma: Decimal) -> Severity:
    if z >= 4 * sigma:
        return Severity.CRITICAL
    if z >= 2 * sigma:
        return Severity.HIGH
    return Severity.MEDIUM


def detect(data: DetectionInput, settings: DetectionSettings) -> Finding | None:
    tx, customer = data.tx, data.customer
    reasons: list[Reason] = []
    worst_z = Decimal(0)
    for item in tx.items:
        if item.quantity <= 0:
            continue
        baselines = []
        if customer.quantity_lines >= settings.quantity_customer_min_history:
            baselines.append(("customer", "this customer's", *customer.quantity_stats()))
        sku = data.skus.get(item.sku)
        if sku is not None and sku.lines >= settings.quantity_sku_min_history:
            baselines.append(("sku", f"{item.label}'s", *sku.quantity_stats()))
        for scope, whose, mean, std in baselines:
            z = _spike(item.quantity, mean, std, settings)
            if z is None:
                continue
            reasons.append(
                Reason(
                    code=f"quantity_above_{scope}_norm",
                    message=f"{item.quantity} x {item.label}, {z:.1f} standard deviations above {whose} "
                    f"usual {mean:.1f} units",
                    value=str(item.quantity),
                    expected=f"{mean:.1f} ± {std:.1f}",
                )
            )
            worst_z = max(worst_z, z)
    if not reasons:
        return None
    return Finding(
        detector=DETECTOR,
        severity=_severity(worst_z, settings.quantity_sigma),
        reasons=tuple(reasons),
        description=f"Transaction {tx.transaction_id}: {tx.customer_label} ordered "
        + "; ".join(r.message for r in reasons),
        score=min(Decimal(1), worst_z / (4 * settings.quantity_sigma)),
    )
