"""Customers for analysts: the list (most recently active first), one customer's profile with recent
alerts and transactions, and the per-metric anomaly view with chart data and drill-down rows (seed 001)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shopwatch.customers.anomalies import Metric, anomaly_view
from shopwatch.domain.alert import Alert
from shopwatch.domain.clock import utcnow
from shopwatch.errors import NotFound
from shopwatch.pagination import decode_token, encode_token, scope_of
from shopwatch.storage.alerts import AlertFilter, AlertRepository
from shopwatch.storage.customers import CustomerRepository
from shopwatch.storage.state import StateRepository
from shopwatch.triage.service import EARLIEST
from shopwatch.triage.views import alert_json

RECENT = 20
ANOMALY_WINDOW = 200  # transactions in the anomaly view


def profile_json(customer_id: str, item: dict[str, Any]) -> dict[str, Any]:
    transactions = int(item.get("transactions", 0))
    amount_sum = Decimal(item.get("amount_sum", 0))
    return {
        "customer_id": customer_id,
        "customer_name": item.get("customer_name"),
        "transactions": transactions,
        "approved": int(item.get("approved", 0)),
        "failed": int(item.get("failed", 0)),
        "mean_amount": str((amount_sum / transactions).quantize(Decimal("0.01"))) if transactions else None,
        "countries": sorted(item.get("countries", ())),
        "first_seen": item.get("first_seen"),
        "last_seen": item.get("last_seen"),
    }


class CustomerService:
    def __init__(self, customers: CustomerRepository, state: StateRepository, alerts: AlertRepository) -> None:
        self.customers = customers
        self.state = state
        self.alerts = alerts

    def list(self, limit: int, next_token: str | None) -> dict[str, Any]:
        scope = scope_of(list="customers")
        items, cursor = self.customers.page(decode_token(next_token, scope), limit)
        return {
            "customers": [profile_json(i["pk"].removeprefix("CUST#"), i) for i in items],
            "next_token": encode_token(cursor, scope) if cursor else None,
        }

    def _recent_alerts(self, customer_id: str, limit: int) -> list[Alert]:
        alerts, _ = self.alerts.page(AlertFilter(EARLIEST, utcnow(), customer_id=customer_id), None, limit)
        return alerts

    def detail(self, customer_id: str) -> dict[str, Any]:
        item = self.state.get_profile_item(customer_id)
        if item is None:
            raise NotFound(f"no customer {customer_id}", {"customer_id": customer_id})
        return {
            "profile": profile_json(customer_id, item),
            "recent_alerts": [alert_json(a) for a in self._recent_alerts(customer_id, RECENT)],
            "recent_transactions": [t.to_item() for t in self.customers.recent_transactions(customer_id, RECENT)],
        }

    def anomalies(self, customer_id: str, metric: Metric) -> dict[str, Any]:
        transactions = self.customers.recent_transactions(customer_id, ANOMALY_WINDOW)
        if not transactions and self.state.get_profile_item(customer_id) is None:
            raise NotFound(f"no customer {customer_id}", {"customer_id": customer_id})
        alerted: dict[str, list[str]] = {}
        for alert in self._recent_alerts(customer_id, 100):
            for tid in alert.transaction_ids:
                alerted.setdefault(tid, []).append(alert.alert_id)
        return {"customer_id": customer_id} | anomaly_view(metric, transactions, alerted)
