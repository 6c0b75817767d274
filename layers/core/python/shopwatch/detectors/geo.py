"""Geo: a customer buying from a country they never used (seed 001's UnusualDestination).

Only once the customer has history: a first purchase has no "usual" country yet.
"""

from __future__ import annotations

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import Finding, Reason
from shopwatch.detectors.history import DetectionInput
from shopwatch.domain.geography import country_name
from shopwatch.domain.money import format_money
from shopwatch.domain.severity import Severity

DETECTOR = "geo"


def detect(data: DetectionInput, settings: DetectionSettings) -> Finding | None:
    tx, customer = data.tx, data.customer
    if tx.country is None or not customer.countries or customer.approved < settings.geo_min_history:
        return None
    if tx.country in customer.countries:
        return None
    usual = ", ".join(country_name(c) for c in sorted(customer.countries))
    return Finding(
        detector=DETECTOR,
        severity=Severity.MEDIUM,
        reasons=(
            Reason(
                code="new_country",
                message=f"first transaction from {country_name(tx.country)} after {customer.approved} "
                f"approved purchases from {usual}",
                value=tx.country,
                expected=",".join(sorted(customer.countries)),
            ),
        ),
        description=f"Transaction {tx.transaction_id}: {tx.customer_label} paid {format_money(tx.amount)} "
        f"{tx.currency} from {country_name(tx.country)}, a country never used before (usually {usual})",
    )
