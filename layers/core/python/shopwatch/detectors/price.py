"""Price: a unit price far below or above the catalog price, or the SKU's learned median (seed 000).

The catalog wins when it lists the SKU in the transaction's currency; otherwise the median learned from this
shop's approved sales of the SKU, once enough lines were seen. Returns are not priced.
"""

from __future__ import annotations

from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import Finding, Reason, percent
from shopwatch.detectors.history import DetectionInput
from shopwatch.domain.money import format_money
from shopwatch.domain.severity import Severity

DETECTOR = "price"


def _severity(deviation: Decimal, thresholds: dict[Severity, Decimal]) -> Severity | None:
    found = None
    for severity, limit in sorted(thresholds.items(), key=lambda kv: kv[0].rank):
        if abs(deviation) >= limit:
            found = severity
    return found


def detect(data: DetectionInput, settings: DetectionSettings) -> Finding | None:
    tx = data.tx
    reasons: list[Reason] = []
    phrases: list[str] = []
    worst: Severity | None = None
    worst_deviation = Decimal(0)
    for item in tx.items:
        if item.quantity <= 0:
            continue
        entry = data.catalog.get(item.sku)
        if entry is not None and entry.currency == tx.currency and entry.price > 0:
            reference, source = entry.price, "catalog price"
        else:
            history = data.skus.get(item.sku)
            usual = (
                history.usual_price_range() if history and history.priced_lines >= settings.price_min_history else None
            )
            if usual is None or usual[0] <= 0:
                continue
            low, high = usual
            if low <= item.unit_price <= high:
                continue  # within the prices this SKU usually sells at
            reference = low if item.unit_price < low else high
            source = "usual price" if low == high else f"usual {'lowest' if item.unit_price < low else 'highest'} price"
        deviation = (item.unit_price - reference) / reference
        severity = _severity(deviation, settings.price_thresholds)
        if severity is None:
            continue
        direction = "below" if deviation < 0 else "above"
        kind = "discount" if deviation < 0 else "markup"
        reasons.append(
            Reason(
                code=f"price_{kind}",
                message=f"{item.label} sold at {format_money(item.unit_price)} {tx.currency}, "
                f"{percent(deviation)} {direction} its {source} of {format_money(reference)} {tx.currency}",
                value=str(item.unit_price),
                expected=str(reference),
            )
        )
        phrases.append(
            f"{item.label} for {format_money(item.unit_price)} {tx.currency}, {percent(deviation)} {direction} "
            f"its {source} of {format_money(reference)} {tx.currency}"
        )
        if worst is None or severity > worst:
            worst = severity
        worst_deviation = max(worst_deviation, abs(deviation))
    if worst is None:
        return None
    return Finding(
        detector=DETECTOR,
        severity=worst,
        reasons=tuple(reasons),
        description=f"Transaction {tx.transaction_id}: {tx.customer_label} bought " + "; ".join(phrases),
        score=min(Decimal(1), worst_deviation),
    )
