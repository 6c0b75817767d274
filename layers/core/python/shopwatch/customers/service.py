"""Customers for analysts: the list (most recently active first), one customer's profile with recent
alerts and transactions, and the per-metric anomaly view with chart data and drill-down rows (seed 001)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shopwatch.customers.anomalies import AnomalyView, Metric, anomaly_view
from shopwatch.domain.alert import Alert
from shopwatch.domain.clock import utcnow
from shopwatch.domain.transaction import Transaction
from shopwatch.errors import NotFound
from shopwatch.pagination import decode_token, encode_token, scope_of
from shopwatch.storage.alerts import AlertFilter, AlertRepository
from shopwatch.storage.customers import CustomerRepository
from shopwatch.storage.state import StateRepository
from shopwatch.triage.service import EARLIEST

RECENT = 20
ANOMALY_WINDOW = 200  # transactions in the anomaly view


@dataclass(frozen=True)
class CustomerProfile:
    """A customer's running profile. `first_seen`/`last_seen` stay the RFC 3339 text the profile stores."""

    customer_id: str
    customer_name: str | None
    transactions: int
    approved: int
    failed: int
    mean_amount: Decimal | None  # to the cent; None before the first transaction
    countries: list[str]
    first_seen: str | None
    last_seen: str | None

    @classmethod
    def from_item(cls, customer_id: str, item: dict[str, Any]) -> CustomerProfile:
        transactions = int(item.get("transactions", 0))
        amount_sum = Decimal(item.get("amount_sum", 0))
        return cls(
            customer_id=customer_id,
            customer_name=item.get("customer_name"),
            transactions=transactions,
            approved=int(item.get("approved", 0)),
            failed=int(item.get("failed", 0)),
            mean_amount=(amount_sum / transactions).quantize(Decimal("0.01")) if transactions else None,
            countries=sorted(item.get("countries", ())),
            first_seen=item.get("first_seen"),
            last_seen=item.get("last_seen"),
        )


@dataclass(frozen=True)
class CustomersPage:
    customers: list[CustomerProfile]
    next_token: str | None


@dataclass(frozen=True)
class CustomerView:
    """One customer for an analyst: the profile, the newest alerts and the newest transactions."""

    profile: CustomerProfile
    recent_alerts: list[Alert]
    recent_transactions: list[Transaction]


class CustomerService:
    def __init__(self, customers: CustomerRepository, state: StateRepository, alerts: AlertRepository) -> None:
        self.customers = customers
        self.state = state
        self.alerts = alerts

    def list(self, limit: int, next_token: str | None) -> CustomersPage:
        scope = scope_of(list="customers")
        items, cursor = self.customers.page(decode_token(next_token, scope), limit)
        return CustomersPage(
            [CustomerProfile.from_item(i["pk"].removeprefix("CUST#"), i) for i in items],
            encode_token(cursor, scope) if cursor else None,
        )

    def _recent_alerts(self, customer_id: str, limit: int) -> builtins.list[Alert]:  # `list` is a method here
        alerts, _ = self.alerts.page(AlertFilter(EARLIEST, utcnow(), customer_id=customer_id), None, limit)
        return alerts

    def detail(self, customer_id: str) -> CustomerView:
        item = self.state.get_profile_item(customer_id)
        if item is None:
            raise NotFound(f"no customer {customer_id}", {"customer_id": customer_id})
        return CustomerView(
            CustomerProfile.from_item(customer_id, item),
            self._recent_alerts(customer_id, RECENT),
            self.customers.recent_transactions(customer_id, RECENT),
        )

    def anomalies(self, customer_id: str, metric: Metric) -> AnomalyView:
        transactions = self.customers.recent_transactions(customer_id, ANOMALY_WINDOW)
        if not transactions and self.state.get_profile_item(customer_id) is None:
            raise NotFound(f"no customer {customer_id}", {"customer_id": customer_id})
        alerted: dict[str, list[str]] = {}
        for alert in self._recent_alerts(customer_id, 100):
            for tid in alert.transaction_ids:
                alerted.setdefault(tid, []).append(alert.alert_id)
        return anomaly_view(metric, transactions, alerted)
