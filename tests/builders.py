"""Small builders for test data, so each test states only what matters to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from shopwatch.detectors.history import (
    CatalogEntry,
    CustomerHistory,
    DetectionInput,
    RecentTransaction,
    SkuHistory,
    apply_customer_delta,
    apply_sku_delta,
    customer_delta,
    sku_deltas,
)
from shopwatch.domain.transaction import LineItem, Transaction

T0 = datetime(2025, 9, 16, 16, 0, 0, tzinfo=UTC)


def item(sku: str = "SKU-1", quantity: int = 1, price: str = "10.00", name: str | None = None) -> LineItem:
    return LineItem(sku, quantity, Decimal(price), name)


def tx(
    transaction_id: str = "t1",
    customer_id: str = "c1",
    *,
    at: datetime = T0,
    status: str = "approved",
    amount: str | None = None,
    currency: str = "USD",
    items: tuple[LineItem, ...] = (),
    country: str | None = "GB",
    customer_name: str | None = None,
) -> Transaction:
    value = (
        Decimal(amount)
        if amount is not None
        else abs(sum((Decimal(i.quantity) * i.unit_price for i in items), Decimal(0)))
    )
    return Transaction(
        transaction_id=transaction_id,
        customer_id=customer_id,
        timestamp=at,
        received_at=at,
        status=status,
        amount=value,
        currency=currency,
        items=items,
        country=country,
        customer_name=customer_name,
    )


def history_of(
    transactions: list[Transaction], failed: frozenset[str] = frozenset({"failed", "denied"})
) -> tuple[CustomerHistory, dict[str, SkuHistory]]:
    """The customer and SKU history these transactions would leave, via the production delta functions."""
    customer = CustomerHistory()
    skus: dict[str, SkuHistory] = {}
    for t in transactions:
        customer = apply_customer_delta(customer, customer_delta(t, failed))
        for d in sku_deltas(t):
            skus[d.sku] = apply_sku_delta(skus.get(d.sku, SkuHistory()), d)
    return customer, skus


def detection_input(
    current: Transaction,
    past: list[Transaction] = (),  # type: ignore[assignment]
    *,
    catalog: dict[str, CatalogEntry] | None = None,
    **overrides: Any,
) -> DetectionInput:
    customer, skus = history_of(list(past))
    recent = tuple(RecentTransaction(p.transaction_id, p.timestamp, p.status) for p in past)
    return DetectionInput(
        tx=current,
        customer=overrides.get("customer", customer),
        skus=overrides.get("skus", skus),
        catalog=catalog or {},
        recent=overrides.get("recent", recent),
    )


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def stored_alert(
    customer_id: str = "c1",
    *,
    minute: int = 0,
    detector: str = "price",
    severity: str = "high",
    status: str = "open",
    transaction_id: str | None = None,
):
    """An alert as DetectFunction would store it, created `minute` minutes after T0, in `status`."""
    from dataclasses import replace

    from shopwatch.detectors.findings import Finding, Reason
    from shopwatch.domain.alert import AlertStatus, open_alert
    from shopwatch.domain.severity import Severity

    level = Severity.parse(severity)
    found = Finding(detector, level, (Reason("r", "a reason"),), f"{customer_id} did something")
    at = T0 + timedelta(minutes=minute)
    purchase = tx(transaction_id or f"t-{customer_id}-{minute}", customer_id, at=at, amount="10.00")
    alert = open_alert(found, level, Decimal(80), purchase, 3600, at)
    return replace(alert, status=AlertStatus(status))
